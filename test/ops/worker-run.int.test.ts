/**
 * `eqlwatch run` as the service it is (subprocess against the real node): `/healthz`, Prometheus `/metrics`
 * and its JSON logs after real runs; and graceful shutdown on SIGTERM and SIGINT that loses no window:
 * stopped right after its first progress line and restarted, the worker's checkpointed windows chain with no
 * gap and no overlap, and every expected alert exists exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt } from '../cli/run-cli.js';
import { API_RULE_ID, API_RULE_NAME, EXEC_RULE_ID, EXEC_RULE_NAME } from '../worker/attack-scenario.js';
import { allAlerts, createEventIndices, indexEvents, type EventIndices } from '../worker/e2e-helpers.js';
import { chainProblems, expectedAlertIds, fastSeedRules, loggedWindows, opsEnv, scenarioBatch } from './env.js';
import { parseExposition, sampleValue } from './prometheus.js';
import { isProgress, opsUrl, startWorker, type LogRecord, type WorkerProcess } from './worker-process.js';

const es = useEs();
const RULES = [EXEC_RULE_ID, API_RULE_ID];

/** Waits until every rule has logged a progress line with `pred`. */
const progressForEachRule = (w: WorkerProcess, pred: (r: LogRecord) => boolean, timeoutMs: number) =>
  Promise.all(RULES.map((id) => w.waitForLog((r) => isProgress(r) && r['rule.id'] === id && pred(r), timeoutMs, `progress of ${id}`)));

describe('eqlwatch run: health, metrics and logs (real Elasticsearch)', () => {
  let indices: EventIndices;
  let rules: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
    rules = await fastSeedRules(indices);
  });

  it('serves /healthz and valid Prometheus /metrics, and logs one ECS JSON object per line with a progress line per window', async () => {
    const batch = scenarioBatch(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000, 'm-', { lagMs: 1_500 });
    await indexEvents(es.client, indices, batch.events);
    const expected = expectedAlertIds(batch.events, batch.expected, indices);
    const env = await opsEnv(es, { rules, worker: { id: 'ops-metrics-worker' } });
    const w = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
    try {
      const url = await opsUrl(w);
      // Runs happen every 2 s; the first reads the whole scenario. Scrape until every rule has completed a
      // second run: the counters then include the whole scenario (later runs read nothing new).
      let text = '';
      for (let i = 0; i < 90; i++) {
        text = await (await fetch(`${url}/metrics`)).text();
        const e = parseExposition(text);
        if (RULES.every((id) => (sampleValue(e, 'eqlwatch_rule_runs_total', { rule_id: id, outcome: 'ok' }) ?? 0) >= 2)) break;
        await new Promise((r) => setTimeout(r, 500));
      }

      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('content-type')).toMatch(/application\/json/);
      expect(await health.json()).toMatchObject({ healthy: true, rules: 2, workerId: 'ops-metrics-worker', running: expect.any(Array) });

      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const m = parseExposition(text);
      expect(parseExposition(await res.text()).types).toEqual(m.types);
      for (const name of ['eqlwatch_rule_runs_total', 'eqlwatch_events_read_total', 'eqlwatch_alerts_written_total', 'eqlwatch_errors_total']) {
        expect(m.types.get(name), name).toBe('counter');
      }
      expect(m.types.get('eqlwatch_rule_lag_seconds')).toBe('gauge');
      const windows = loggedWindows(w.logs, 'w');
      const names: Record<string, string> = { [EXEC_RULE_ID]: EXEC_RULE_NAME, [API_RULE_ID]: API_RULE_NAME };
      for (const id of RULES) {
        const labels = { rule_id: id, rule_name: names[id]! };
        expect(sampleValue(m, 'eqlwatch_rule_runs_total', { ...labels, outcome: 'ok' }), `runs of ${id}`).toBeGreaterThanOrEqual(2);
        // The metrics count exactly what the progress lines reported, for every rule.
        const mine = windows.filter((x) => x.rule === id);
        // Progress lines logged after the scrape belong to runs that read nothing new.
        const logsAtScrape = w.logs.filter((r) => isProgress(r) && r['rule.id'] === id);
        const eventsLogged = logsAtScrape.reduce((n, r) => n + Number(r.events), 0);
        expect(sampleValue(m, 'eqlwatch_events_read_total', labels), `events of ${id}`).toBe(eventsLogged);
        expect(eventsLogged).toBeGreaterThan(0);
        expect(sampleValue(m, 'eqlwatch_alerts_written_total', labels), `alerts of ${id}`).toBe(mine.reduce((n, x) => n + x.alerts, 0));
        const lag = sampleValue(m, 'eqlwatch_rule_lag_seconds', labels);
        expect(lag).toBeGreaterThanOrEqual(0);
        // Caught up: the checkpoint is within a couple of intervals of now, not minutes behind.
        expect(lag!).toBeLessThan(60);
      }
      expect(sampleValue(m, 'eqlwatch_alerts_written_total', { rule_id: EXEC_RULE_ID })).toBe(2);
      expect(sampleValue(m, 'eqlwatch_alerts_written_total', { rule_id: API_RULE_ID })).toBe(6);

      expect((await fetch(`${url}/nope`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);

      const alerts = await allAlerts(es.client, env.alerts);
      expect(new Set(alerts.map((a) => a._id))).toEqual(new Set(expected.keys()));
      expect(alerts).toHaveLength(expected.size);
    } finally {
      const exit = await w.stop('SIGTERM');
      expect(exit).toMatchObject({ code: 0, killedAfterGrace: false });
    }

    // Every stdout line is one JSON object in ECS shape.
    const lines = w.stdout().split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      const rec = JSON.parse(line) as LogRecord;
      expect(typeof rec).toBe('object');
      expect(Number.isNaN(Date.parse(rec['@timestamp'] as string))).toBe(false);
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).toContain(rec['log.level']);
      expect(typeof rec.message).toBe('string');
    }
    expect(w.stderr()).toBe('');
    const progress = w.logs.filter(isProgress);
    for (const p of progress) {
      expect(p).toMatchObject({
        'rule.id': expect.any(String),
        'rule.name': expect.any(String),
        window: { from: expect.any(String), to: expect.any(String) },
        events: expect.any(Number),
        alerts: expect.any(Number),
        'event.duration': expect.any(Number),
      });
    }
    expect(w.logs.some((r) => r.message === 'eqlwatch worker stopped')).toBe(true);
  });

  for (const [signal, resumeSignal] of [['SIGTERM', 'SIGINT'], ['SIGINT', 'SIGTERM']] as const) {
    it(`stops on ${signal} right after its first progress line, exits 0, and a restart loses no window`, async () => {
      // Its own indices: the windows of this worker must account for exactly this batch. Ingest order follows
      // event order here: inverted ingest order across a window boundary is a separate bug (ingest-order test).
      const own = await createEventIndices(es);
      const ownRules = await fastSeedRules(own);
      const batch = scenarioBatch(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000, `g${signal.toLowerCase()}-`, { lagMs: 1_500 });
      await indexEvents(es.client, own, batch.events);
      const expected = expectedAlertIds(batch.events, batch.expected, own);
      // 10 s windows: a first run reads 36 windows per rule, so the signal lands in the middle of the work.
      const env = await opsEnv(es, { rules: ownRules, worker: { id: `ops-shutdown-${signal}`, maxWindow: '10s' } });

      const first = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
      await first.waitForLog(isProgress, 30_000, 'the first progress line');
      const stopped = await first.stop(signal);
      expect(stopped, first.stdout().slice(-2000)).toMatchObject({ code: 0, signal: null, killedAfterGrace: false });
      expect(first.logs.some((r) => r.signal === signal && String(r.message).startsWith(`${signal} received`))).toBe(true);
      expect(first.logs.at(-1)?.message).toBe('eqlwatch worker stopped');
      const before = loggedWindows(first.logs, 'first');
      expect(before.length).toBeGreaterThan(0);

      const second = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
      try {
        // Until every rule has caught up to (at least) the restart time: all of the batch has been read.
        const restartedAt = Date.now();
        await progressForEachRule(second, (r) => Date.parse((r.window as { to: string }).to) >= restartedAt, 45_000);
      } finally {
        const exit = await second.stop(resumeSignal);
        expect(exit).toMatchObject({ code: 0, killedAfterGrace: false });
      }
      const after = loggedWindows(second.logs, 'second');
      const all = [...before, ...after];
      expect(chainProblems(all)).toEqual([]);
      // The second process starts exactly where the first one's checkpoint ended, for each rule.
      for (const id of RULES) {
        const lastBefore = before.filter((x) => x.rule === id).sort((a, b) => b.to - a.to)[0];
        const firstAfter = after.filter((x) => x.rule === id).sort((a, b) => a.from - b.from)[0]!;
        if (lastBefore) expect(firstAfter.from).toBe(lastBefore.to);
      }
      const alerts = await allAlerts(es.client, env.alerts);
      expect(alerts).toHaveLength(expected.size);
      expect(new Set(alerts.map((a) => a._id))).toEqual(new Set(expected.keys()));
      // Each alert was created by exactly one checkpointed window.
      expect(all.reduce((n, x) => n + x.alerts, 0)).toBe(expected.size);
    });
  }
});
