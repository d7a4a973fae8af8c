/**
 * Windows are on `event.ingested` (the seed rules' timestamp_override) and sequences are ordered by
 * `@timestamp`: a Kubernetes audit event is typically ingested faster than the process event that caused it.
 * When a window boundary falls between the two ingest times, the later-stage event (audit) is read by one run
 * and the first-stage event (process) by the next. The reorder slack exists for exactly this (the audit
 * event is young, so it is held for the next window); the sequence must give its alerts exactly once.
 * Found by the graceful-shutdown test (10 s windows), reproduced here deterministically with two `once` runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, logLines, runCli } from '../cli/run-cli.js';
import { API_RULE_ID, attackScenario } from '../worker/attack-scenario.js';
import { allAlerts, API_RULE_FILE, createEventIndices, expectedSequenceIds, indexEvents, seedRuleFor, type EventIndices } from '../worker/e2e-helpers.js';
import { opsEnv } from './env.js';

const es = useEs();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('a sequence whose second event is ingested (and read) one run before its first event', () => {
  let indices: EventIndices;
  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
  });

  it('still gives one shell and two building blocks (both events within the reorder slack when read)', async () => {
    const now = Date.now();
    // p-a3 (interactive curl in pod A) at T, its audit event k-a1 at T + 400 ms: both recent.
    const T = now - 500;
    const s = attackScenario(T - 10_000);
    const curl = structuredClone(s.events.find((e) => e.id === 'p-a3')!);
    const audit = structuredClone(s.events.find((e) => e.id === 'k-a1')!);
    expect(curl.source['@timestamp']).toBe(new Date(T).toISOString());
    // The audit event is already ingested; the process event only arrives in 6 s (a slower shipper).
    (audit.source.event as Record<string, unknown>).ingested = new Date(now - 200).toISOString();
    const curlIngested = now + 6_000;
    (curl.source.event as Record<string, unknown>).ingested = new Date(curlIngested).toISOString();
    await indexEvents(es.client, indices, [curl, audit]);

    const env = await opsEnv(es, { rules: { [API_RULE_FILE]: await seedRuleFor(API_RULE_FILE, indices) }, worker: { maxWindow: '1h', reorderSlack: '3s' } });
    const once = () => runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined } });
    const first = await once();
    expect(first.code, first.stderr).toBe(0);
    const firstProgress = logLines(first.stdout).find((l) => typeof l.window === 'object')!;
    const firstWindow = firstProgress.window as { to: string };
    // The premise: the first run's window ended between the two ingest times, and the audit event was young
    // enough (within the 3 s slack of the window end) to be held for the next window, not dropped.
    expect(Date.parse(firstWindow.to)).toBeLessThan(curlIngested);
    expect(Date.parse(audit.source['@timestamp'] as string)).toBeGreaterThanOrEqual(Date.parse(firstWindow.to) - 3_000);
    expect((await allAlerts(es.client, env.alerts)).length).toBe(0);

    await sleep(curlIngested + 500 - Date.now());
    const second = await once();
    expect(second.code, second.stderr).toBe(0);
    const alerts = await allAlerts(es.client, env.alerts);
    const ids = expectedSequenceIds([{ id: 'p-a3', index: indices.process }, { id: 'k-a1', index: indices.audit }], API_RULE_ID);
    expect(new Set(alerts.map((a) => a._id))).toEqual(new Set([ids.shell, ...ids.blocks]));
    expect(alerts).toHaveLength(3);
  });
});
