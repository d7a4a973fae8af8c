/**
 * A sequence whose first event is evaluated by one run and whose second event only by a later run gives
 * exactly one alert group: the pending partial sequence travels in the rule's state document, as a reference
 * to its event, and the alert still carries the whole event (fetched again when the sequence completes).
 * Also the inverted arrival: the second event searchable first, its partner (stamped earlier) later, within
 * the lateness tolerance. The worker in-process on a test clock (test/helpers/worker-harness.ts).
 */
import { describe, expect, it } from 'vitest';
import { getPath } from '../../src/alerts/paths.js';
import { useEs } from '../helpers/es.js';
import { DEFAULT_TEST_SETTINGS, ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';
import { allAlerts, expectedSequenceIds } from './e2e-helpers.js';

const es = useEs();
const RULE_ID = 'split-sequence-test';
const T0 = Date.parse('2026-04-01T08:00:00.000Z');
const L = 30_000;

async function setUp(): Promise<{ index: string; h: WorkerHarness }> {
  const index = es.name('split');
  await es.client.indices.create({
    index,
    settings: { 'index.refresh_interval': '-1' },
    mappings: { properties: { '@timestamp': { type: 'date' }, host: { properties: { id: { type: 'keyword' } } }, process: { properties: { name: { type: 'keyword' }, args: { type: 'keyword' } } } } },
  });
  const rule = ruleFrom('split.yaml', `name: Download then execute on one host
id: ${RULE_ID}
severity: high
index: [${index}]
timestamp_override: event.ingested
query: |
  sequence by host.id with maxspan=10m
    [process where process.name == "curl"]
    [process where process.name == "chmod"]
`);
  return { index, h: new WorkerHarness(es, [rule], { ...DEFAULT_TEST_SETTINGS, latenessMs: L }) };
}

const event = (name: string, tsMs: number, ingestedMs: number) => ({
  '@timestamp': new Date(tsMs).toISOString(),
  event: { category: ['process'], type: ['start'], action: 'exec', ingested: new Date(ingestedMs).toISOString() },
  host: { id: 'host-split-1', name: 'node-1', os: { type: 'linux' } },
  process: { name, args: [name, '--the-whole-event'], pid: 4242 },
});

describe('a sequence split across runs (real Elasticsearch)', () => {
  it('first event evaluated in run 1, second in run 2: one alert group whose building blocks carry the whole events', async () => {
    const { index, h } = await setUp();
    await es.client.index({ index, id: 'a1', document: event('curl', T0 - 120_000, T0 - 119_000), refresh: true });
    await h.run(T0);
    expect(await h.alertIds()).toHaveLength(0);
    // The partial sequence is stored as a reference: the state holds the event's id, not its document.
    const state = JSON.stringify((await h.stateDoc(RULE_ID)).doc);
    expect(state).toContain('a1');
    expect(state).not.toContain('--the-whole-event');
    await es.client.index({ index, id: 'a2', document: event('chmod', T0 + 10_000, T0 + 10_500), refresh: true });
    await h.run(T0 + 10_000 + L + 1_000);
    const alerts = await allAlerts(es.client, h.alertsIndex);
    const ids = expectedSequenceIds([{ id: 'a1', index }, { id: 'a2', index }], RULE_ID);
    expect(alerts.map((a) => a._id).sort()).toEqual([ids.shell, ...ids.blocks].sort());
    const first = alerts.find((a) => a._id === ids.blocks[0])!;
    expect(getPath(first._source, 'process.args')).toEqual(['curl', '--the-whole-event']);
    expect(getPath(first._source, 'kibana.alert.original_time')).toBe(new Date(T0 - 120_000).toISOString());
    expect(await h.alertIds()).toEqual(await h.replayIds([index]));
    await h.run(T0 + 60_000 + L);
    expect(alerts).toHaveLength((await h.alertIds()).length);
  });

  it('second event searchable first, its earlier-stamped partner only later (within the tolerance): one alert group', async () => {
    const { index, h } = await setUp();
    await es.client.index({ index, id: 'c2', document: event('chmod', T0 - 1_000, T0 - 500), refresh: true });
    await h.run(T0);
    // The first-stage event, stamped earlier, comes from a slower shipper: searchable only after run 1.
    await es.client.index({ index, id: 'c1', document: event('curl', T0 - 2_000, T0 + 5_000), refresh: true });
    await h.run(T0 + 10_000);
    await h.run(T0 + L + 5_000);
    const ids = expectedSequenceIds([{ id: 'c1', index }, { id: 'c2', index }], RULE_ID);
    expect(await h.alertIds()).toEqual([ids.shell, ...ids.blocks].sort());
    expect(await h.alertIds()).toEqual(await h.replayIds([index]));
    expect(h.logsOf('warn', /searchable after/)).toHaveLength(0);
  });
});
