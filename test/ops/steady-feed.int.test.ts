/**
 * With default settings, a steady feed of attacks loses nothing: `eqlwatch run` (the real CLI, real clock)
 * with both seed rules every second, and every second an interactive exec plus a curl to the API server and
 * its audit event, stamped with `event.ingested` = the time they are sent (what an integration's ingest
 * pipeline writes; the test node's distribution has no `ingest-common` module, so the sender stamps them
 * just before the bulk request), into indices refreshed on Elasticsearch's default one-second schedule. Single
 * events are alerted within seconds; sequences once the one-minute lateness tolerance has passed. The
 * alerts equal what `replay` finds over every document, each exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/run-cli.js';
import { esUrl, useEs } from '../helpers/es.js';
import { DEFAULT_TEST_SETTINGS, exportDocs } from '../helpers/worker-harness.js';
import { loadRuleFile } from '../../src/rules/load.js';
import { replayRule } from '../../src/worker/replay-rule.js';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import { attackScenario, type ScenarioEvent } from '../worker/attack-scenario.js';
import { allAlerts, createEventIndices, EXEC_RULE_FILE, API_RULE_FILE, testEnv, type EventIndices } from '../worker/e2e-helpers.js';
import { fastSeedRules } from './env.js';
import { startWorker } from './worker-process.js';

const es = useEs();
const TICKS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

describe('a steady feed of attacks with default settings (real clock, 1 s rule interval, default refresh)', () => {
  let indices: EventIndices;
  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
  });

  /** One attack stamped just before `now`: the entry-leader shell, the curl and, 400 ms later, its audit event. */
  function tick(i: number, now: number): ScenarioEvent[] {
    const s = attackScenario(now - 10_400);
    return ['p-a1', 'p-a3', 'k-a1'].map((id) => {
      const e = structuredClone(s.events.find((x) => x.id === id)!);
      (e.source.event as Record<string, unknown>).ingested = new Date(now).toISOString();
      return { ...e, id: `t${i}-${id}` };
    });
  }

  it('loses no alert: every exec and every API-request sequence is alerted once, as replay finds', async () => {
    const rules = await fastSeedRules(indices, '1s');
    const env = await testEnv(es, { rules, writer: 'steady feed test', http: false, workerYaml: '  id: steady-feed\n' });
    const w = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
    try {
      const started = Date.now();
      let last = started;
      for (let i = 0; i < TICKS; i++) {
        await sleep(started + i * 1_000 - Date.now());
        last = Date.now();
        const events = tick(i, last);
        // No refresh: documents become searchable on the index's own one-second refresh.
        const res = await es.client.bulk({ operations: events.flatMap((e) => [{ create: { _index: indices[e.index], _id: e.id } }, e.source]) });
        expect(res.errors).toBe(false);
      }
      // Sequences are evaluated once the default one-minute tolerance has passed their time.
      const expected = TICKS * (1 + 3);
      const deadline = last + DEFAULT_TEST_SETTINGS.latenessMs + 30_000;
      let alerts = await allAlerts(es.client, env.alerts);
      while (alerts.length < expected && Date.now() < deadline) {
        await sleep(1_000);
        alerts = await allAlerts(es.client, env.alerts);
      }
      // A few more runs: nothing further may appear.
      await sleep(3_000);
      alerts = await allAlerts(es.client, env.alerts);
      const docs = await exportDocs(es.client, [indices.process, indices.audit]);
      const replay: string[] = [];
      for (const file of [EXEC_RULE_FILE, API_RULE_FILE]) {
        const loaded = await loadRuleFile(`${env.rulesDir}/${file}`);
        if (loaded.kind !== 'rule') throw new Error(file);
        const schema = await fetchIndexSchema(es.client, loaded.rule.index);
        const ctx = { now: new Date(), spaceId: 'default', executionId: 'x', kibanaUrl: null, alertsIndex: env.alerts };
        replay.push(...replayRule(loaded.rule, docs, { schema: schema.fieldSchema, maxPendingSequences: 10_000, ctx }).alerts.map((a) => a.id));
      }
      expect(replay).toHaveLength(expected);
      expect(alerts.map((a) => a._id).sort()).toEqual(replay.sort());
    } finally {
      await w.stop('SIGTERM');
    }
  }, 150_000);
});
