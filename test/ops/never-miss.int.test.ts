/**
 * Never miss what Elasticsearch holds, under real ingest timing: the worker in-process against the real node
 * on a clock the test controls (test/helpers/worker-harness.ts), indices with `refresh_interval: -1` so a
 * test decides exactly when a document becomes searchable. Each case asserts the alerts the worker writes
 * equal those `replay` gives over all the documents, and that what happened is logged and counted.
 */
import { describe, expect, it } from 'vitest';
import { useEs } from '../helpers/es.js';
import { DEFAULT_TEST_SETTINGS, ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const T0 = Date.parse('2026-03-02T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A process-event index whose documents become searchable only when the test refreshes it. */
async function manualIndex(prefix: string, properties: Record<string, unknown> = {}, settings: Record<string, unknown> = {}): Promise<string> {
  const index = es.name(prefix);
  await es.client.indices.create({
    index,
    settings: { 'index.refresh_interval': '-1', ...settings },
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        event: { properties: { ingested: { type: 'date' }, category: { type: 'keyword' } } },
        host: { properties: { id: { type: 'keyword' }, name: { type: 'keyword' } } },
        process: { properties: { name: { type: 'keyword' }, pid: { type: 'long' } } },
        ...properties,
      },
    },
  });
  return index;
}

const put = (index: string, id: string, doc: Record<string, unknown>) => es.client.index({ index, id, document: doc });
const refresh = (index: string | string[]) => es.client.indices.refresh({ index });
const proc = (name: string, ts: number, extra: Record<string, unknown> = {}) => ({
  '@timestamp': iso(ts),
  event: { category: 'process', ...((extra.event as object) ?? {}) },
  host: { id: 'h1', name: 'node-1' },
  process: { name },
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'event')),
});
const metric = (h: WorkerHarness, name: string, labels: Record<string, string>) => h.metrics.value(name, labels);

describe('single-event rules: a document searchable only after its window was read is still alerted, once', () => {
  it('refresh lag with default settings: the next run reads the stretch again and alerts it (within tolerance, not a warning)', async () => {
    const index = await manualIndex('nm-refresh');
    const rule = ruleFrom('r.yaml', `id: nm-refresh\nname: curl\nindex: [${index}]\ntimestamp_override: event.ingested\nquery: process where process.name == "curl"\n`);
    const h = new WorkerHarness(es, [rule]);
    await put(index, 'early', proc('curl', T0 - 10_000, { event: { ingested: iso(T0 - 9_000) } }));
    await refresh(index);
    // Ingested half a second before the run, but the index is not refreshed yet: invisible to run 1.
    await put(index, 'lagging', proc('curl', T0 - 600, { event: { ingested: iso(T0 - 500) } }));
    await h.run(T0);
    expect(await h.alertIds()).toHaveLength(1);
    await refresh(index);
    const [r2] = await h.run(T0 + 1_000);
    expect(await h.alertIds()).toEqual(await h.replayIds([index]));
    expect(await h.alertIds()).toHaveLength(2);
    expect(r2!.status === 'ok' && r2!.late).toMatchObject({ events: 1, beyondTolerance: 0, alertsCreated: 1 });
    expect(metric(h, 'eqlwatch_late_events_total', { rule_id: 'nm-refresh', rule_name: 'curl', tolerance: 'within' })).toBe(1);
    expect(h.logsOf('warn', /searchable after/)).toHaveLength(0);
    // Nothing more to find: a further run writes nothing and finds nothing late.
    const [r3] = await h.run(T0 + 2_000);
    expect(r3!.status === 'ok' && r3!.late.events).toBe(0);
    expect(await h.alertIds()).toHaveLength(2);
  });

  it('a rule without timestamp_override (windows on @timestamp) alerts an event shipped minutes late, and warns that it was late', async () => {
    const index = await manualIndex('nm-shipped-late');
    const rule = ruleFrom('r.yaml', `id: nm-late\nname: curl late\nindex: [${index}]\nquery: process where process.name == "curl"\n`);
    const h = new WorkerHarness(es, [rule]);
    await h.run(T0);
    // A shipper's backlog: stamped 3 minutes before run 1, searchable only after it.
    await put(index, 'backlog', proc('curl', T0 - 180_000));
    await refresh(index);
    const [r2] = await h.run(T0 + 5_000);
    expect(await h.alertIds()).toEqual(await h.replayIds([index]));
    expect(await h.alertIds()).toHaveLength(1);
    expect(r2!.status === 'ok' && r2!.late).toMatchObject({ events: 1, beyondTolerance: 1, alertsCreated: 1 });
    expect(metric(h, 'eqlwatch_late_events_total', { rule_id: 'nm-late', rule_name: 'curl late', tolerance: 'beyond' })).toBe(1);
    const warning = h.logsOf('warn', /became searchable after their window/)[0];
    expect(warning).toBeDefined();
    expect(warning!.message).toMatch(/later than worker\.lateness=1m/);
  });

  it('a document older than the audit horizon is reported with how to recover it, not silently ignored', async () => {
    const index = await manualIndex('nm-horizon');
    const rule = ruleFrom('r.yaml', `id: nm-horizon\nname: curl old\nindex: [${index}]\nquery: process where process.name == "curl"\n`);
    const h = new WorkerHarness(es, [rule], { ...DEFAULT_TEST_SETTINGS, auditHorizonMs: 10 * 60_000 });
    await h.run(T0);
    await h.run(T0 + 20 * 60_000);
    await put(index, 'ancient', proc('curl', T0 - 3_600_000));
    await refresh(index);
    const [r] = await h.run(T0 + 20 * 60_000 + 5_000);
    expect(r!.status === 'ok' && r!.late.olderThanHorizon).toBe(1);
    expect(metric(h, 'eqlwatch_late_events_total', { rule_id: 'nm-horizon', rule_name: 'curl old', tolerance: 'beyond_audit_horizon' })).toBe(1);
    expect(h.logsOf('error', /older than the late-arrival audit horizon/)[0]?.message).toMatch(/eqlwatch rescan --rule nm-horizon/);
    expect(await h.alertIds()).toHaveLength(0);
    // The recovery the message names: a rescan of the stretch alerts it, and a second rescan writes nothing new.
    const first = await h.rescan('nm-horizon', T0 - 2 * 3_600_000, T0);
    expect(first).toMatchObject({ matches: 1, alertsCreated: 1, complete: true });
    expect(await h.alertIds()).toEqual(await h.replayIds([index]));
    expect(await h.rescan('nm-horizon', T0 - 2 * 3_600_000, T0)).toMatchObject({ alertsCreated: 0, alertsDuplicate: 1 });
  });
});

describe('sequence rules: partners that become searchable in different windows', () => {
  const seq = (index: string, id: string) =>
    ruleFrom('s.yaml', `id: ${id}\nname: curl then chmod\nindex: [${index}]\ntimestamp_override: event.ingested\nquery: |\n  sequence by host.id with maxspan=1s\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);

  it('the later event searchable a window after its partner, within the tolerance: one alert group, as replay finds', async () => {
    const index = await manualIndex('nm-seq-within');
    const h = new WorkerHarness(es, [seq(index, 'nm-seq-within')]);
    await put(index, 'c1', proc('curl', T0 - 30_000, { event: { ingested: iso(T0 - 29_000) } }));
    await refresh(index);
    await h.run(T0);
    // The audit log of the same host arrives 10 s after run 1 (40 s after its time, inside the 1 m tolerance).
    await put(index, 'm1', proc('chmod', T0 - 29_500, { event: { ingested: iso(T0 + 10_000) } }));
    await refresh(index);
    await h.run(T0 + 15_000);
    await h.run(T0 + 45_000);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(3);
    expect(ids).toEqual(await h.replayIds([index]));
    expect(h.logsOf('warn', /searchable after/)).toHaveLength(0);
  });

  it('the later event searchable after the matcher had passed its time: still alerted once, logged and counted as beyond tolerance', async () => {
    const index = await manualIndex('nm-seq-beyond');
    const h = new WorkerHarness(es, [seq(index, 'nm-seq-beyond')]);
    await put(index, 'c1', proc('curl', T0 - 120_000, { event: { ingested: iso(T0 - 119_000) } }));
    await refresh(index);
    await h.run(T0);
    await put(index, 'm1', proc('chmod', T0 - 119_500, { event: { ingested: iso(T0 + 1_000) } }));
    await refresh(index);
    const [r] = await h.run(T0 + 5_000);
    expect(r!.status === 'ok' && r!.late).toMatchObject({ events: 1, beyondTolerance: 1, alertsCreated: 3 });
    const ids = await h.alertIds();
    expect(ids).toHaveLength(3);
    expect(ids).toEqual(await h.replayIds([index]));
    expect(h.logsOf('warn', /became searchable after their window/)).toHaveLength(1);
    await h.run(T0 + 10_000);
    expect(await h.alertIds()).toEqual(ids);
  });
});
