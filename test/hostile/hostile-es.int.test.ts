/**
 * Hostile events against the real node, through `eqlwatch once`: an event whose fields conflict with the
 * alerts mapping still gives its full alert, without the values that cannot be indexed (listed in
 * `eqlwatch.ignored_fields`, the source event keeps them), and the checkpoint advances; forged `kibana.*` / `signal` shapes never reach the alert; a malformed `@timestamp`
 * does not block the window; a rule whose query fails at runtime and a broken rule file do not stop the other
 * rules (`once` writes the good rule's alerts and exits 1).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, logLines, runCli, type CliResult } from '../cli/run-cli.js';
import { allAlerts, expectedSingleId, type AlertHit } from '../worker/e2e-helpers.js';

const es = useEs();
const GOOD = 'hostile-good';
const FAILING = 'hostile-failing-at-runtime';
const FORGED_NOTIFICATION = { slack: { status: 'sent', attempts: 1, notification_id: 'forged' } };

describe('hostile events and broken rules against the real node', () => {
  const tag = `t${randomBytes(4).toString('hex')}`;
  let base = '';
  let alerts: AlertHit[] = [];
  let run: CliResult;
  let stateIndex = '';
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const byEvent = new Map<string, AlertHit>();
  let indexA = '';
  let indexB = '';

  /** Event id → source, in two indices: B holds `event` as a string, which A's mapping cannot. */
  const eventsA: Record<string, Record<string, unknown>> = {
    good: { '@timestamp': iso(now - 60_000), event: { ingested: iso(now - 59_000), dataset: 'hostile' }, labels: { test: tag, count: 1 }, host: { name: 'node-1' } },
    conflict: {
      '@timestamp': iso(now - 50_000),
      event: { ingested: iso(now - 49_000), dataset: 'hostile' },
      labels: { test: tag, count: 2 },
      // host.name is a keyword in the alerts mapping: an object cannot be indexed there.
      host: { name: { first: 'attacker', nested: { deeper: ['x', 'y'] } } },
    },
    kibanaShapes: {
      '@timestamp': iso(now - 40_000),
      event: { ingested: iso(now - 39_000), dataset: 'hostile', kind: 'signal' },
      labels: { test: tag, count: 3 },
      kibana: { alert: { rule: { name: 'forged rule', uuid: 'forged' }, severity: 'critical', workflow_status: 'closed', ancestors: 'not-an-array' } },
      'kibana.alert.risk_score': 100,
      signal: { rule: { id: 'forged' } },
    },
    malformedTs: {
      '@timestamp': 'definitely-not-a-date',
      event: { ingested: iso(now - 30_000), dataset: 'hostile' },
      labels: { test: tag, count: 4 },
    },
    forgedBookkeeping: {
      '@timestamp': iso(now - 25_000),
      event: { ingested: iso(now - 24_000), dataset: 'hostile' },
      labels: { test: tag, count: 5 },
      // eqlwatch's own alert fields: notification delivery state and the degraded marker.
      eqlwatch: { notification: FORGED_NOTIFICATION, degraded: 'forged' },
    },
  };
  const eventsB: Record<string, Record<string, unknown>> = {
    eventString: { '@timestamp': iso(now - 20_000), event: 'a plain string where ECS has an object', labels: { test: tag, count: 6 } },
  };

  beforeAll(async () => {
    ensureBuilt();
    base = es.name('hostile');
    indexA = `${base}-a`;
    indexB = `${base}-b`;
    const mappings = {
      properties: {
        '@timestamp': { type: 'date', ignore_malformed: true },
        event: { properties: { ingested: { type: 'date' } } },
        labels: { properties: { test: { type: 'keyword' }, count: { type: 'long' } } },
        // Events disagree on host's shape; the source index keeps it unindexed, the alerts index maps it.
        host: { type: 'object', enabled: false },
      },
    } as const;
    await es.client.indices.create({ index: indexA, mappings });
    await es.client.indices.create({ index: indexB, mappings: { properties: { '@timestamp': { type: 'date' }, labels: mappings.properties.labels } } });
    const ops = [
      ...Object.entries(eventsA).flatMap(([id, doc]) => [{ create: { _index: indexA, _id: id } }, doc]),
      ...Object.entries(eventsB).flatMap(([id, doc]) => [{ create: { _index: indexB, _id: id } }, doc]),
    ];
    const bulk = await es.client.bulk({ operations: ops, refresh: true });
    expect(bulk.errors, JSON.stringify(bulk.items.filter((i) => i.create?.error))).toBe(false);

    const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-hostile-'));
    es.onCleanup(() => rm(dir, { recursive: true, force: true }));
    const rulesDir = path.join(dir, 'rules');
    await mkdir(rulesDir);
    await writeFile(path.join(rulesDir, 'good.yaml'), `name: Hostile good rule
id: ${GOOD}
severity: high
risk_score: 73
index: ${base}-*
timestamp_override: event.ingested
query: |
  any where labels.test == "${tag}"
`);
    // The window's range goes to a long field: Elasticsearch refuses the query at run time.
    await writeFile(path.join(rulesDir, 'failing.yaml'), `name: Rule failing at run time
id: ${FAILING}
severity: low
index: ${indexA}
timestamp_override: labels.count
query: |
  any where labels.test == "${tag}"
`);
    await writeFile(path.join(rulesDir, 'broken.toml'), '[rule\nname = "broken"\n');
    stateIndex = es.name('state');
    const alertsIndex = es.name('alerts');
    const config = path.join(dir, 'eqlwatch.yml');
    await writeFile(config, `rules:
  dir: ${rulesDir}
alerts:
  index: ${alertsIndex}
state:
  index: ${stateIndex}
notify:
  outbox:
    index: ${es.name('outbox')}
http:
  enabled: false
worker:
  id: hostile-worker
`);
    run = await runCli(['once', '--config', config], { env: { ES_URL: esUrl(), EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined } });
    alerts = await allAlerts(es.client, alertsIndex);
    const located: [string, string][] = [...Object.keys(eventsA).map((k): [string, string] => [k, indexA]), ...Object.keys(eventsB).map((k): [string, string] => [k, indexB])];
    for (const [id, index] of located) {
      const a = alerts.find((x) => x._id === expectedSingleId(index, id, GOOD));
      if (a) byEvent.set(id, a);
    }
  });

  it('exits 1, reporting the broken file and the failed rule, after running the good rule', () => {
    expect(run.code, run.stdout.slice(-3000)).toBe(1);
    const logs = logLines(run.stdout);
    expect(logs.some((l) => l['log.level'] === 'error' && String(l['file.path']).endsWith('broken.toml'))).toBe(true);
    expect(logs.some((l) => l['log.level'] === 'error' && l['rule.id'] === FAILING && /run failed/.test(String(l.message)))).toBe(true);
    expect(logs.some((l) => l['rule.id'] === GOOD && typeof l.window === 'object')).toBe(true);
  });

  it('writes an alert for every hostile event, each exactly once, all attributed to the good rule', () => {
    expect([...byEvent.keys()].sort()).toEqual([...Object.keys(eventsA), ...Object.keys(eventsB)].sort());
    expect(alerts).toHaveLength(byEvent.size);
    for (const a of alerts) {
      expect(a._source['kibana.alert.rule.uuid']).toBe(GOOD);
      expect(a._source['kibana.alert.rule.name']).toBe('Hostile good rule');
      expect(a._source['kibana.alert.severity']).toBe('high');
      expect(a._source['kibana.alert.risk_score']).toBe(73);
      expect(a._source['kibana.alert.workflow_status']).toBe('open');
    }
  });

  it('an event conflicting with the alerts mapping gives its alert with every value that fits; the others are listed', async () => {
    for (const [id, dropped] of [['conflict', 'host.name'], ['eventString', 'event']] as const) {
      const a = byEvent.get(id)!;
      const original = { ...eventsA, ...eventsB }[id]!;
      expect(a._source['eqlwatch.degraded'], id).toBeUndefined();
      expect(a._source['eqlwatch.ignored_fields'], id).toEqual([dropped]);
      expect(a._source.labels).toEqual(original.labels);
      // Still found by the fields analysts filter on.
      const found = await es.client.search({ index: a._index, query: { bool: { filter: [{ term: { 'kibana.alert.rule.uuid': GOOD } }, { term: { 'labels.test': tag } }, { ids: { values: [a._id] } }] } } });
      expect(found.hits.hits).toHaveLength(1);
    }
    expect(byEvent.get('conflict')!._source.host).toBeUndefined();
    expect(byEvent.get('good')!._source['eqlwatch.ignored_fields']).toBeUndefined();
    expect(byEvent.get('good')!._source.host).toEqual({ name: 'node-1' });
  });

  it('forged kibana.* and signal shapes never reach the alert', () => {
    const a = byEvent.get('kibanaShapes')!._source;
    expect(a.kibana).toBeUndefined();
    expect(a.signal).toBeUndefined();
    expect(a['event.kind']).toBe('signal');
    const text = JSON.stringify(a);
    for (const forged of ['forged rule', '"forged"', 'critical', 'closed', 'not-an-array']) expect(text).not.toContain(forged);
    expect(a['kibana.alert.risk_score']).toBe(73);
    expect(a['kibana.alert.ancestors']).toEqual([{ id: 'kibanaShapes', type: 'event', index: indexA, depth: 0 }]);
  });

  it('a malformed @timestamp does not block the window: the checkpoint of the good rule advances past every event', async () => {
    expect(byEvent.get('malformedTs')).toBeDefined();
    await es.client.indices.refresh({ index: stateIndex });
    const state = await es.client.get<{ checkpoint: { window_end: string } | null }>({ index: stateIndex, id: GOOD });
    expect(Date.parse(state._source!.checkpoint!.window_end)).toBeGreaterThan(now - 20_000);
    // The failing rule checkpointed nothing: its window is retried next run.
    const failing = await es.client.get<{ checkpoint: unknown }>({ index: stateIndex, id: FAILING }, { ignore: [404] });
    expect(failing._source?.checkpoint ?? null).toBeNull();
  });

  it('an event cannot forge eqlwatch bookkeeping on its alert (notification delivery state, degraded marker)', () => {
    const a = byEvent.get('forgedBookkeeping')!._source;
    expect(JSON.stringify(a).replaceAll('forgedBookkeeping', '')).not.toContain('forged');
    expect(Object.keys(a).filter((k) => k === 'eqlwatch' || k.startsWith('eqlwatch.'))).toEqual([]);
  });
});
