/**
 * Several workers on one cluster (subprocesses against the real node): two `eqlwatch run` with different
 * `worker.id` sharing one state index, the same rules and data. Leases split each rule's runs between them:
 * every window of a rule is checkpointed by exactly one worker (the windows of both chain with no overlap and
 * no gap), every expected alert exists exactly once and was created once. And a worker killed while holding a
 * lease (SIGKILL between its alert write and its checkpoint) keeps the rule until `worker.leaseTtl`, then the
 * other worker takes it over and finishes the work with no loss and no duplicate.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { API_RULE_ID, EXEC_RULE_ID } from '../worker/attack-scenario.js';
import { allAlerts, createEventIndices, indexEvents } from '../worker/e2e-helpers.js';
import { chainProblems, expectedAlertIds, fastSeedRules, loggedWindows, opsEnv, scenarioBatch } from './env.js';
import { isProgress, startWorker, type LogRecord, type WorkerProcess } from './worker-process.js';

const es = useEs();
const RULES = [EXEC_RULE_ID, API_RULE_ID];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Polls the alerts alias until it holds `n` documents (bounded). */
async function untilAlerts(alias: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await allAlerts(es.client, alias)).length >= n) return;
    await sleep(500);
  }
}

interface StateDoc {
  rule_id: string;
  checkpoint: { window_end: string } | null;
  lease: { owner: string; expires_at: string } | null;
}

async function stateDocs(index: string): Promise<StateDoc[]> {
  await es.client.indices.refresh({ index });
  const res = await es.client.search<StateDoc>({ index, size: 100, query: { match_all: {} } });
  return res.hits.hits.map((h) => h._source!);
}

describe('two workers sharing one cluster (real Elasticsearch)', () => {
  beforeAll(() => {
    ensureBuilt();
  });

  it('split the rules through leases: every window checkpointed once, every alert exactly once', async () => {
    const indices = await createEventIndices(es);
    const rules = await fastSeedRules(indices, '1s');
    const t0 = Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000;
    const first = scenarioBatch(t0, 'b1-', { lagMs: 1_500 });
    await indexEvents(es.client, indices, first.events);
    const a = await opsEnv(es, { rules, worker: { id: 'worker-a' } });
    const b = await opsEnv(es, { rules, worker: { id: 'worker-b' }, shareWith: a });
    const workers: [string, WorkerProcess][] = [
      ['worker-a', startWorker(['run', '--config', a.configFile], { ES_URL: esUrl() })],
      ['worker-b', startWorker(['run', '--config', b.configFile], { ES_URL: esUrl() })],
    ];
    const expected = expectedAlertIds(first.events, first.expected, indices);
    try {
      await untilAlerts(a.alerts, expected.size, 30_000);
      // A second, live batch while both run: the attack's first steps, the sequence happening now, all
      // ingested 2 s from now (after every window read so far, as a shipper's next bulk would be).
      const live = scenarioBatch(Date.now() - 10_400, 'b2-', { at: Date.now() + 2_000 });
      const keep = new Set(['b2-p-a1', 'b2-p-a3', 'b2-k-a1']);
      const second = { events: live.events.filter((e) => keep.has(e.id)), expected: { exec: ['b2-p-a1'], api: [['b2-p-a3', 'b2-k-a1']] } };
      await indexEvents(es.client, indices, second.events);
      for (const [id, d] of expectedAlertIds(second.events, second.expected, indices)) expected.set(id, d);
      await untilAlerts(a.alerts, expected.size, 30_000);
      // Let both keep competing for a few more runs.
      await sleep(4_000);
    } finally {
      for (const [, w] of workers) {
        const exit = await w.stop('SIGTERM');
        expect(exit).toMatchObject({ code: 0, killedAfterGrace: false });
      }
    }
    const windows = workers.flatMap(([id, w]) => loggedWindows(w.logs, id));
    expect(chainProblems(windows)).toEqual([]);
    const alerts = await allAlerts(es.client, a.alerts);
    expect(alerts).toHaveLength(expected.size);
    expect(new Set(alerts.map((x) => x._id))).toEqual(new Set(expected.keys()));
    // No window was evaluated twice: every alert was created once, none was found already present.
    expect(windows.reduce((n, w) => n + w.alerts, 0)).toBe(expected.size);
    expect(windows.reduce((n, w) => n + w.duplicates, 0)).toBe(0);
    // The state: one document per rule, its checkpoint where the last logged window ended, no lease left.
    const docs = await stateDocs(a.state);
    expect(docs.map((d) => d.rule_id).sort()).toEqual([...RULES].sort());
    for (const d of docs) {
      const last = Math.max(...windows.filter((w) => w.rule === d.rule_id).map((w) => w.to));
      expect(Date.parse(d.checkpoint!.window_end)).toBe(last);
      expect(d.lease).toBeNull();
    }
    const skipped = workers.flatMap(([, w]) => w.logs.filter((r) => /skipped \(lease held by worker-[ab]/.test(String(r.message))));
    const split = Object.fromEntries(workers.map(([id]) => [id, windows.filter((w) => w.worker === id).length]));
    console.info(`[multi-worker] windows checkpointed per worker ${JSON.stringify(split)}, runs skipped on a held lease: ${skipped.length}`);
    // Both workers did work (runs every second for ~15 s each): the rules were shared, not owned by one.
    expect(Object.values(split).every((n) => n > 0)).toBe(true);
  });

  it('a worker killed while holding a lease: the other takes over after leaseTtl, no loss, no duplicate', async () => {
    const indices = await createEventIndices(es);
    const rules = await fastSeedRules(indices, '1s');
    const batch = scenarioBatch(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000, 'k-', { lagMs: 1_500 });
    await indexEvents(es.client, indices, batch.events);
    const expected = expectedAlertIds(batch.events, batch.expected, indices);
    const a = await opsEnv(es, { rules, worker: { id: 'doomed-a', leaseTtl: '10s' } });
    const b = await opsEnv(es, { rules, worker: { id: 'survivor-b', leaseTtl: '10s' }, shareWith: a });

    // Worker A dies (SIGKILL, from the test fault hook) right after writing its first window's alerts.
    const doomed = startWorker(['run', '--config', a.configFile], { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: '1' });
    const died = await Promise.race([doomed.exited, sleep(30_000).then(() => null)]);
    if (died === null) await doomed.stop('SIGKILL');
    expect(died).toMatchObject({ signal: 'SIGKILL' });
    const held = (await stateDocs(a.state)).filter((d) => d.lease?.owner === 'doomed-a');
    // It held at least the lease of the rule it was running, and checkpointed nothing of it.
    expect(held.length).toBeGreaterThan(0);
    for (const d of held) expect(d.checkpoint).toBeNull();

    const survivor = startWorker(['run', '--config', b.configFile], { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined });
    try {
      for (const d of held) {
        const skip = await survivor.waitForLog((r) => r['rule.id'] === d.rule_id && /skipped \(lease held by doomed-a/.test(String(r.message)), 15_000, `a skipped run of ${d.rule_id}`);
        // Taken over only once the dead worker's lease expired, then its whole backlog is read.
        const took = await survivor.waitForLog((r: LogRecord) => isProgress(r) && r['rule.id'] === d.rule_id, 30_000, `a window of ${d.rule_id} by the survivor`);
        expect(Date.parse(took['@timestamp'] as string)).toBeGreaterThanOrEqual(Date.parse(d.lease!.expires_at));
        expect(Date.parse(skip['@timestamp'] as string)).toBeLessThan(Date.parse(d.lease!.expires_at));
      }
      await untilAlerts(a.alerts, expected.size, 20_000);
      // One more run of each rule after the takeover, so the state below is settled.
      const mark = survivor.logs.length;
      await Promise.all(RULES.map((id) => survivor.waitForLog((r) => isProgress(r) && r['rule.id'] === id && survivor.logs.indexOf(r) >= mark, 15_000, `a later run of ${id}`)));
    } finally {
      const exit = await survivor.stop('SIGTERM');
      expect(exit).toMatchObject({ code: 0, killedAfterGrace: false });
    }
    const alerts = await allAlerts(es.client, a.alerts);
    expect(alerts).toHaveLength(expected.size);
    expect(new Set(alerts.map((x) => x._id))).toEqual(new Set(expected.keys()));
    const windows = loggedWindows(survivor.logs, 'survivor-b');
    expect(chainProblems(windows)).toEqual([]);
    // What the dead worker wrote before dying is found again as duplicates, never as second documents.
    expect(windows.reduce((n, w) => n + w.alerts + w.duplicates, 0)).toBeGreaterThanOrEqual(expected.size);
    expect(windows.reduce((n, w) => n + w.alerts, 0)).toBeLessThan(expected.size + 1);
    for (const d of await stateDocs(a.state)) expect(d.lease?.owner).not.toBe('doomed-a');
  });
});
