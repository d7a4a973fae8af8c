/**
 * Sequence rules evaluate events in `@timestamp` order once the lateness tolerance has passed; an event that
 * becomes searchable later than that (a shipper's backlog after an outage) cannot join the streaming matcher
 * any more. The late-arrival audit finds it and the worker re-evaluates it with the events around them, so
 * the sequence is still detected, exactly once, and the run reports the late events (a warning naming the
 * rule and the count). Through the real CLI (`eqlwatch once`) and the real clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, logLines, runCli } from '../cli/run-cli.js';
import { API_RULE_ID, attackScenario } from '../worker/attack-scenario.js';
import { allAlerts, API_RULE_FILE, createEventIndices, expectedSequenceIds, indexEvents, seedRuleFor, type EventIndices } from '../worker/e2e-helpers.js';
import { opsEnv } from './env.js';

const es = useEs();

describe('events too late for the streaming matcher are re-evaluated and reported, not silently dropped', () => {
  let indices: EventIndices;
  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
  });

  it('detects the late sequence once and warns with the rule and the number of late events', async () => {
    const env = await opsEnv(es, { rules: { [API_RULE_FILE]: await seedRuleFor(API_RULE_FILE, indices) }, worker: { lateness: '3s' } });
    const once = () => runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined } });
    // A first run with nothing to read moves the rule's matcher up to (now - 3 s).
    const first = await once();
    expect(first.code, first.stderr).toBe(0);
    // Then a backlog arrives: the attack's curl and its audit event, stamped 2 minutes ago, ingested now.
    const ingested = Date.now();
    const s = attackScenario(ingested - 120_000 - 10_000);
    const late = ['p-a3', 'k-a1'].map((id) => {
      const e = structuredClone(s.events.find((x) => x.id === id)!);
      (e.source.event as Record<string, unknown>).ingested = new Date(ingested).toISOString();
      return e;
    });
    await indexEvents(es.client, indices, late);
    const second = await once();
    expect(second.code, second.stderr).toBe(0);
    const logs = logLines(second.stdout);
    const warning = logs.find((l) => l['rule.id'] === API_RULE_ID && l['log.level'] === 'warn' && /searchable after their window/.test(String(l.message)));
    expect(warning, 'no warning about late events').toBeDefined();
    expect(warning!.late_events).toBe(2);
    expect(warning!.beyond_tolerance).toBe(2);
    // The sequence made of the two late events is alerted (shell + two building blocks) ...
    const expected = expectedSequenceIds([{ id: 'p-a3', index: indices.process }, { id: 'k-a1', index: indices.audit }], API_RULE_ID);
    const ids = () => allAlerts(es.client, env.alerts).then((a) => a.map((x) => x._id).sort());
    expect(await ids()).toEqual([expected.shell, ...expected.blocks].sort());
    // ... and only once: a further run writes nothing new.
    const third = await once();
    expect(third.code, third.stderr).toBe(0);
    expect(await ids()).toEqual([expected.shell, ...expected.blocks].sort());
  });
});
