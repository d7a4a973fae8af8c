/**
 * Issue 2 acceptance, end to end against the real node: the attack scenario among benign noise, the two seed
 * rules, `eqlwatch once` as a subprocess; a second run writes nothing; a SIGKILL between the alert write and
 * the checkpoint loses nothing and duplicates nothing; `eqlwatch replay` of the exported events gives the same
 * alert documents.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getPath } from '../../src/alerts/paths.js';
import { useEs, esUrl } from '../helpers/es.js';
import { ensureBuilt, logLines, runCli } from '../cli/run-cli.js';
import { API_RULE_ID, API_RULE_NAME, attackScenario, EXEC_RULE_ID, EXEC_RULE_NAME, type ScenarioEvent } from './attack-scenario.js';
import {
  allAlerts, API_RULE_FILE, createEventIndices, EXEC_RULE_FILE, expectedSequenceIds, expectedSingleId, indexEvents,
  seedRuleFor, workerEnv, type AlertHit, type EventIndices, type WorkerEnv,
} from './e2e-helpers.js';

const es = useEs();
const f = (a: AlertHit, p: string): unknown => getPath(a._source, p);

describe('eqlwatch once: seed rules on an attack scenario (real Elasticsearch)', () => {
  let indices: EventIndices;
  let events: ScenarioEvent[];
  let expected: ReturnType<typeof attackScenario>['expected'];
  let rules: Record<string, string>;
  /** Every alert id the scenario must produce, by rule. */
  let expectedIds: Map<string, string>;
  let firstRun: AlertHit[] = [];
  let env1: WorkerEnv;

  const once = (env: WorkerEnv, extraEnv: Record<string, string | undefined> = {}) =>
    runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined, ...extraEnv } });

  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
    // Four minutes ago: inside the rules' first window (now-6m), well before the reorder slack.
    const scenario = attackScenario(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000);
    events = scenario.events;
    expected = scenario.expected;
    await indexEvents(es.client, indices, events);
    rules = { [EXEC_RULE_FILE]: await seedRuleFor(EXEC_RULE_FILE, indices), [API_RULE_FILE]: await seedRuleFor(API_RULE_FILE, indices) };
    const where = (id: string) => ({ id, index: events.find((e) => e.id === id)!.index === 'process' ? indices.process : indices.audit });
    expectedIds = new Map();
    for (const id of expected.exec) expectedIds.set(expectedSingleId(indices.process, id, EXEC_RULE_ID), `exec ${id}`);
    for (const seq of expected.api) {
      const ids = expectedSequenceIds(seq.map(where), API_RULE_ID);
      expectedIds.set(ids.shell, `shell ${seq.join('+')}`);
      ids.blocks.forEach((b, i) => expectedIds.set(b, `block ${i} of ${seq.join('+')}`));
    }
    env1 = await workerEnv(es, rules);
  });

  it('writes exactly the expected alerts of both seed rules', async () => {
    const run = await once(env1);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    firstRun = await allAlerts(es.client, env1.alerts);
    // 2 exec alerts + 2 sequences × (shell + 2 building blocks).
    expect(firstRun).toHaveLength(8);
    expect(new Set(firstRun.map((a) => a._id))).toEqual(new Set(expectedIds.keys()));

    const exec = firstRun.filter((a) => f(a, 'kibana.alert.rule.uuid') === EXEC_RULE_ID);
    expect(exec.map((a) => (f(a, 'kibana.alert.ancestors') as { id: string }[])[0]!.id).sort()).toEqual([...expected.exec].sort());
    for (const a of exec) {
      const event = events.find((e) => e.id === (f(a, 'kibana.alert.ancestors') as { id: string }[])[0]!.id)!;
      expect(a._id).toBe(f(a, 'kibana.alert.uuid'));
      expect(f(a, 'kibana.alert.rule.rule_id')).toBe(EXEC_RULE_ID);
      expect(f(a, 'kibana.alert.rule.name')).toBe(EXEC_RULE_NAME);
      expect(f(a, 'kibana.alert.rule.severity')).toBe('low');
      expect(f(a, 'kibana.alert.severity')).toBe('low');
      expect(f(a, 'kibana.alert.rule.risk_score')).toBe(21);
      expect(f(a, 'kibana.alert.risk_score')).toBe(21);
      expect(f(a, 'kibana.alert.rule.tags')).toEqual(expect.arrayContaining(['Domain: Container', 'Tactic: Execution']));
      expect(f(a, 'kibana.alert.rule.threat')).toEqual([
        { framework: 'MITRE ATT&CK', tactic: { id: 'TA0002', name: 'Execution', reference: 'https://attack.mitre.org/tactics/TA0002/' } },
      ]);
      expect(f(a, 'kibana.alert.original_time')).toBe(event.source['@timestamp']);
      expect(f(a, 'kibana.alert.workflow_status')).toBe('open');
      expect(f(a, 'kibana.alert.status')).toBe('active');
      expect(f(a, 'kibana.alert.depth')).toBe(1);
      expect(f(a, 'kibana.alert.ancestors')).toEqual([{ id: event.id, type: 'event', index: indices.process, depth: 0 }]);
      expect(f(a, 'kibana.alert.building_block_type')).toBeUndefined();
      expect(f(a, 'kibana.alert.group.id')).toBeUndefined();
      expect(f(a, 'event.kind')).toBe('signal');
      expect(f(a, 'kibana.alert.original_event.kind')).toBe('event');
      expect(f(a, 'kibana.space_ids')).toEqual(['default']);
      // Source fields are copied; the reason follows Kibana's template.
      const pod = getPath(event.source, 'orchestrator.resource.name');
      expect(f(a, 'orchestrator.resource.name')).toBe(pod);
      const name = getPath(event.source, 'process.name');
      const host = getPath(event.source, 'host.name');
      expect(f(a, 'kibana.alert.reason')).toBe(`process event with process ${name}, parent process runc, by root on ${host} created low alert ${EXEC_RULE_NAME}.`);
    }

    const api = firstRun.filter((a) => f(a, 'kibana.alert.rule.uuid') === API_RULE_ID);
    expect(api).toHaveLength(6);
    const shells = api.filter((a) => f(a, 'kibana.alert.building_block_type') === undefined);
    const blocks = api.filter((a) => f(a, 'kibana.alert.building_block_type') === 'default');
    expect(shells).toHaveLength(2);
    expect(blocks).toHaveLength(4);
    for (const shell of shells) {
      expect(f(shell, 'kibana.alert.group.id')).toBe(shell._id);
      expect(f(shell, 'kibana.alert.group.index')).toBeUndefined();
      expect(f(shell, 'kibana.alert.depth')).toBe(2);
      expect(f(shell, 'kibana.alert.rule.name')).toBe(API_RULE_NAME);
      expect(f(shell, 'kibana.alert.severity')).toBe('medium');
      expect(f(shell, 'kibana.alert.risk_score')).toBe(47);
      expect((f(shell, 'kibana.alert.rule.threat') as { tactic: { id: string } }[]).map((t) => t.tactic.id)).toEqual(['TA0002', 'TA0007']);
      expect(f(shell, 'kibana.alert.workflow_status')).toBe('open');
      expect(f(shell, 'kibana.alert.reason')).toMatch(new RegExp(`created medium alert ${API_RULE_NAME}\\.$`));
      const ancestors = f(shell, 'kibana.alert.ancestors') as { id: string; type: string; index: string; depth: number }[];
      expect(ancestors.map((x) => x.type)).toEqual(['event', 'signal', 'event', 'signal']);
      const pair = [ancestors[0]!.id, ancestors[2]!.id];
      expect(expected.api).toContainEqual(pair);
      const mine = blocks.filter((b) => f(b, 'kibana.alert.group.id') === shell._id);
      expect(mine).toHaveLength(2);
      expect(ancestors.filter((x) => x.type === 'signal').map((x) => x.id)).toEqual(
        [...mine].sort((x, y) => (f(x, 'kibana.alert.group.index') as number) - (f(y, 'kibana.alert.group.index') as number)).map((b) => b._id),
      );
      for (const b of mine) {
        const i = f(b, 'kibana.alert.group.index') as number;
        const event = events.find((e) => e.id === pair[i])!;
        expect(f(b, 'kibana.alert.ancestors')).toEqual([
          { id: event.id, type: 'event', index: event.index === 'process' ? indices.process : indices.audit, depth: 0 },
        ]);
        expect(f(b, 'kibana.alert.original_time')).toBe(event.source['@timestamp']);
        expect(f(b, 'kibana.alert.rule.uuid')).toBe(API_RULE_ID);
      }
      // The shell's original time is the first event's.
      expect(f(shell, 'kibana.alert.original_time')).toBe(events.find((e) => e.id === pair[0])!.source['@timestamp']);
    }
    // The progress line of each window: rule, window, events read, alerts.
    const progress = logLines(run.stdout).filter((l) => typeof l.window === 'object');
    expect(progress.map((l) => l['rule.id']).sort()).toEqual([API_RULE_ID, EXEC_RULE_ID].sort());
    expect(progress.find((l) => l['rule.id'] === EXEC_RULE_ID)).toMatchObject({ alerts: 2 });
    expect(progress.find((l) => l['rule.id'] === API_RULE_ID)).toMatchObject({ alerts: 6 });
  });

  it('writes nothing new when run again', async () => {
    expect(firstRun).toHaveLength(8);
    const run = await once(env1);
    expect(run.code).toBe(0);
    const after = await allAlerts(es.client, env1.alerts);
    expect(after.map((a) => a._id).sort()).toEqual(firstRun.map((a) => a._id).sort());
    const progress = logLines(run.stdout).filter((l) => typeof l.window === 'object');
    expect(progress.length).toBeGreaterThan(0);
    for (const l of progress) expect(l.alerts).toBe(0);
  });

  it('loses nothing and duplicates nothing when killed between the alert write and the checkpoint', async () => {
    const env = await workerEnv(es, rules);
    const crashed = await once(env, { EQLWATCH_TEST_CRASH_AFTER_ALERTS: '1' });
    expect(crashed.signal).toBe('SIGKILL');
    const partial = await allAlerts(es.client, env.alerts);
    // The first rule's alerts were written, the run died before any checkpoint was saved.
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(8);
    await es.client.indices.refresh({ index: env.state });
    const state = await es.client.search<{ rule_id: string; checkpoint: unknown }>({ index: env.state, query: { match_all: {} } });
    expect(state.hits.hits.length).toBeGreaterThan(0);
    for (const h of state.hits.hits) expect(h._source!.checkpoint).toBeNull();

    const rerun = await once(env);
    expect(rerun.code).toBe(0);
    const after = await allAlerts(es.client, env.alerts);
    // One document per expected id: none lost, none twice.
    expect(after).toHaveLength(8);
    expect(new Set(after.map((a) => a._id))).toEqual(new Set(expectedIds.keys()));
    const dupes = logLines(rerun.stdout).filter((l) => typeof l.window === 'object').reduce((n, l) => n + Number(l.duplicates ?? 0), 0);
    expect(dupes).toBe(partial.length);
    // Every rule now has a checkpoint.
    await es.client.indices.refresh({ index: env.state });
    const saved = await es.client.search<{ checkpoint: { window_end: string } | null }>({ index: env.state, query: { match_all: {} } });
    expect(saved.hits.hits).toHaveLength(2);
    for (const h of saved.hits.hits) expect(h._source!.checkpoint?.window_end).toEqual(expect.any(String));
  });

  it('after a crash, another worker takes the rules over once the dead worker\'s lease expires: still exactly once', async () => {
    const env = await workerEnv(es, rules, '  leaseTtl: 2s\n');
    const crashed = await once(env, { EQLWATCH_TEST_CRASH_AFTER_ALERTS: '1', EQLWATCH_WORKER_ID: 'worker-that-dies' });
    expect(crashed.signal).toBe('SIGKILL');
    const partial = await allAlerts(es.client, env.alerts);
    expect(partial.length).toBeGreaterThan(0);
    // The dead worker's lease still holds the rule it was running (so no other worker starts it at once).
    await es.client.indices.refresh({ index: env.state });
    const leases = (await es.client.search<{ lease: { owner: string; expires_at: string } | null }>({ index: env.state, query: { match_all: {} } }))
      .hits.hits.map((h) => h._source!.lease).filter((l) => l !== null);
    expect(leases.map((l) => l!.owner)).toEqual(['worker-that-dies']);
    // Once it has expired (a wait, not a timing assertion), worker-b runs every rule.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(leases[0]!.expires_at) + 250 - Date.now())));
    const later = await once(env, { EQLWATCH_WORKER_ID: 'worker-b' });
    expect(later.code).toBe(0);
    const after = await allAlerts(es.client, env.alerts);
    expect(after).toHaveLength(8);
    expect(new Set(after.map((a) => a._id))).toEqual(new Set(expectedIds.keys()));
  });

  it('replay of the exported events gives the same alert documents as the Elasticsearch path', async () => {
    expect(firstRun).toHaveLength(8);
    const res = await es.client.search<Record<string, unknown>>({ index: [indices.process, indices.audit], size: 1000, query: { match_all: {} } });
    expect(res.hits.hits).toHaveLength(events.length);
    const ndjson = res.hits.hits.map((h) => JSON.stringify({ _index: h._index, _id: h._id, _source: h._source })).join('\n');
    const file = path.join(env1.dir, 'events.ndjson');
    await writeFile(file, `${ndjson}\n`);
    const run = await runCli(['replay', '--rules', env1.rulesDir, '--config', env1.configFile, file]);
    expect(run.code).toBe(0);
    const replayed = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as AlertHit);
    expect(replayed).toHaveLength(firstRun.length);
    const byId = new Map(replayed.map((a) => [a._id, a]));
    for (const a of firstRun) {
      const r = byId.get(a._id);
      expect(r, `replay lacks alert ${a._id}`).toBeDefined();
      expect(r!._index).toBe(env1.alerts);
      expect(comparable(r!._source)).toEqual(comparable(a._source));
    }
  });
});

/** Alert fields that record when and in which execution a document was built differ between runs. */
const TIME_OF_WRITING = [
  '@timestamp', 'kibana.alert.start', 'kibana.alert.last_detected', 'kibana.alert.intended_timestamp',
  'kibana.alert.rule.execution.uuid', 'kibana.alert.rule.execution.timestamp',
];

function comparable(doc: Record<string, unknown>): Record<string, unknown> {
  const out = { ...doc };
  for (const k of TIME_OF_WRITING) delete out[k];
  return out;
}
