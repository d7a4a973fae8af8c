/**
 * A sequence whose first event is read by one run and whose second event only by the next run gives exactly
 * one alert group: the pending partial sequence travels in the rule's state document. Deterministic cases:
 * the first event already released to the matcher (old timestamp); the first event held back by the reorder
 * slack (timestamp near the window end); and the inverted ingest order (second event read first, held).
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getPath } from '../../src/alerts/paths.js';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { allAlerts, createEventIndices, expectedSequenceIds, workerEnv, type EventIndices, type WorkerEnv } from './e2e-helpers.js';

const es = useEs();
const RULE_ID = 'split-sequence-test';

function ruleYaml(indices: EventIndices): string {
  return `name: Download then execute on one host
id: ${RULE_ID}
severity: high
index: ${indices.process}*
timestamp_override: event.ingested
query: |
  sequence by host.id with maxspan=10m
    [process where process.name == "curl"]
    [process where process.name == "chmod"]
`;
}

function event(name: string, tsMs: number, ingestedMs: number): Record<string, unknown> {
  return {
    '@timestamp': new Date(tsMs).toISOString(),
    event: { category: ['process'], type: ['start'], action: 'exec', ingested: new Date(ingestedMs).toISOString() },
    host: { id: 'host-split-1', name: 'node-1', os: { type: 'linux' } },
    process: { name, args: [name], pid: 4242 },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('a sequence split across two consecutive runs (real Elasticsearch)', () => {
  // Each case has its own event index: a first run reads everything of the last 6 minutes.
  let indices: EventIndices;
  beforeAll(() => ensureBuilt());
  beforeEach(async () => {
    indices = await createEventIndices(es);
  });

  const once = (env: WorkerEnv) => runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl() } });
  const put = async (id: string, doc: Record<string, unknown>) =>
    es.client.index({ index: indices.process, id, document: doc, refresh: true });
  const state = async (env: WorkerEnv) =>
    (await es.client.get<{ checkpoint: { window_end: string } | null; pending: { held: { _id: string }[]; matcher: unknown } }>({ index: env.state, id: RULE_ID }))._source!;

  async function expectOneGroup(env: WorkerEnv, ids: [string, string]): Promise<void> {
    const alerts = await allAlerts(es.client, env.alerts);
    const expected = expectedSequenceIds(ids.map((id) => ({ id, index: indices.process })), RULE_ID);
    expect(alerts.map((a) => a._id).sort()).toEqual([expected.shell, ...expected.blocks].sort());
    const shell = alerts.find((a) => a._id === expected.shell)!;
    expect((getPath(shell._source, 'kibana.alert.ancestors') as { id: string }[]).filter((_, i) => i % 2 === 0).map((x) => x.id)).toEqual(ids);
  }

  it('first event released to the matcher in run 1, second event read by run 2: one alert group', async () => {
    const slackMs = 5_000;
    const env = await workerEnv(es, { 'split.yaml': ruleYaml(indices) }, `  reorderSlack: ${slackMs / 1000}s\n`);
    const t = Date.now();
    await put('split-a1', event('curl', t - 120_000, t - 119_000));
    const run1 = await once(env);
    expect(run1.code).toBe(0);
    expect(await allAlerts(es.client, env.alerts)).toHaveLength(0);
    const s1 = await state(env);
    expect(s1.checkpoint).not.toBeNull();
    expect(s1.pending.held).toEqual([]);
    // The partial sequence (curl on host-split-1) is in the saved matcher state.
    expect(JSON.stringify(s1.pending.matcher)).toContain('host-split-1');

    // The second event is ingested after run 1's window ended, so only run 2 can read it. It is stamped just
    // inside the tolerated disorder: after run 1's watermark (window end - slack), before run 2's.
    const now = Date.now();
    expect(now).toBeGreaterThan(Date.parse(s1.checkpoint!.window_end));
    await put('split-a2', event('chmod', now - slackMs - 1, now));
    const run2 = await once(env);
    expect(run2.code).toBe(0);
    await expectOneGroup(env, ['split-a1', 'split-a2']);

    const run3 = await once(env);
    expect(run3.code).toBe(0);
    await expectOneGroup(env, ['split-a1', 'split-a2']);
  });

  it('first event held back by the reorder slack in run 1, second event read by run 2: one alert group', async () => {
    const slackMs = 10_000;
    const env = await workerEnv(es, { 'split.yaml': ruleYaml(indices) }, `  reorderSlack: ${slackMs / 1000}s\n`);
    const t = Date.now();
    // Stamped 2 s ago: within the slack of run 1's window end for any run 1 that starts within 8 s.
    await put('split-b1', event('curl', t - 2_000, t - 1_000));
    const run1 = await once(env);
    expect(run1.code).toBe(0);
    const s1 = await state(env);
    expect(s1.pending.held.map((h) => h._id)).toEqual(['split-b1']);
    expect(await allAlerts(es.client, env.alerts)).toHaveLength(0);

    const now = Date.now();
    const bTs = t - 1_000;
    await put('split-b2', event('chmod', bTs, now));
    // Run 2 must end its window past both events' slack so they are released (a wait, not a timing assertion).
    await sleep(bTs + slackMs + 500 - Date.now());
    const run2 = await once(env);
    expect(run2.code).toBe(0);
    await expectOneGroup(env, ['split-b1', 'split-b2']);
    expect((await state(env)).pending.held).toEqual([]);

    const run3 = await once(env);
    expect(run3.code).toBe(0);
    await expectOneGroup(env, ['split-b1', 'split-b2']);
  });

  it('second event read first (ingested earlier) and held, first event read by the next run: one alert group', async () => {
    // Sequence key narrowing must not filter out the young later-stage event before its first stage is seen.
    const slackMs = 10_000;
    const env = await workerEnv(es, { 'split.yaml': ruleYaml(indices) }, `  reorderSlack: ${slackMs / 1000}s\n`);
    const t = Date.now();
    await put('split-c2', event('chmod', t - 1_000, t - 500));
    const run1 = await once(env);
    expect(run1.code).toBe(0);
    expect((await state(env)).pending.held.map((h) => h._id)).toEqual(['split-c2']);

    // The first-stage event, stamped earlier, comes from a slower shipper: ingested only after run 1.
    await put('split-c1', event('curl', t - 2_000, Date.now()));
    await sleep(t - 1_000 + slackMs + 500 - Date.now());
    const run2 = await once(env);
    expect(run2.code).toBe(0);
    await expectOneGroup(env, ['split-c1', 'split-c2']);
  });
});
