/**
 * A mapping no event can poison, on the real node: alerts built from hostile events (an object where ECS has a
 * keyword, numbers where it has keywords, 100,000-element arrays, deep nesting, strings where ECS has objects)
 * are written first, then normal alerts. Every alert is indexed, each with every value that fits, and
 * host.name, user.name, container.name and orchestrator.resource.name stay keyword fields that find the normal
 * alerts by term, whatever came before. An index poisoned by an older, dynamically mapped eqlwatch is rolled
 * over by setup/start to one with the ECS mapping.
 */
import { describe, expect, it } from 'vitest';
import { buildEventAlert } from '../../src/alerts/build.js';
import { ensureAlertsIndex, initialAlertsIndex } from '../../src/es/alerts-template.js';
import { createLogger } from '../../src/ops/logger.js';
import { loadRuleText } from '../../src/rules/load.js';
import { writeAlertBatch } from '../../src/worker/alert-sink.js';
import { useEs } from '../helpers/es.js';

const es = useEs();
const KEYWORDS = ['host.name', 'user.name', 'container.name', 'orchestrator.resource.name'] as const;

function deep(levels: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: 'bottom' };
  for (let i = 0; i < levels; i++) o = { d: o };
  return o;
}

const r = loadRuleText('h.yaml', 'name: Hostile mapping rule\nid: hostile-mapping\nseverity: high\nquery: |\n  any where true\n');
if (r.kind !== 'rule') throw new Error('rule did not load');
const rule = r.rule;
const ctx = { now: new Date('2026-01-20T10:05:00Z'), spaceId: 'default', executionId: 'x', kibanaUrl: null };

const HOSTILE: Record<string, Record<string, unknown>> = {
  objectWhereKeyword: {
    host: { name: { first: 'attacker', nested: { deeper: ['x'] } } },
    user: { name: { id: 0 } },
    container: { name: { a: 1 } },
    orchestrator: { resource: { name: { forged: true } } },
  },
  numberWhereKeyword: { host: { name: 42 }, user: { name: 1.5 }, container: { name: 7 }, orchestrator: { resource: { name: 1234567890 } } },
  hugeArrays: {
    host: { name: Array.from({ length: 100_000 }, (_, i) => `h${i}`) },
    process: { args: Array.from({ length: 100_000 }, (_, i) => `arg${i}`) },
    user: { name: 'array-user' },
  },
  deepNesting: { custom: deep(300), host: { name: 'deep-host', os: deep(50) } },
  stringsWhereObjects: { host: 'just a string', user: ['a', 'b'], container: 5, orchestrator: { resource: 'pod' }, event: 'not an object' },
  dottedBelowLeaf: { 'host.name.first': 'x', 'user.name': 'dotted-user', 'container.name.x.y': { z: 1 } },
};
const NORMAL = (i: number) => ({
  host: { name: `worker-${i}` },
  user: { name: `user-${i}` },
  container: { name: `api-${i}` },
  orchestrator: { resource: { name: `api-6d8f9b7c5-${i}` } },
  process: { name: 'sh', pid: 100 + i },
});

describe('the alerts mapping against hostile events on the real node', () => {
  it('indexes every alert, hostile ones first, and the ECS keyword fields still find the normal ones', async () => {
    const alias = es.name('alerts-hostile-map');
    await ensureAlertsIndex(es.client, { alias });
    const logger = createLogger({ level: 'silent' });
    const hit = (id: string, source: Record<string, unknown>) => ({ _index: 'logs-hostile', _id: id, _source: { '@timestamp': '2026-01-20T10:00:00.000Z', ...source } });
    // One bulk per hostile alert, in order, so a first odd document would have decided a dynamic mapping.
    const hostile = Object.entries(HOSTILE).map(([id, source]) => buildEventAlert(rule, hit(id, source), ctx)!);
    for (const a of hostile) expect(await writeAlertBatch({ client: es.client, logger, alertsIndex: alias }, [a])).toMatchObject({ created: 1, failed: [] });
    const normal = [1, 2, 3].map((i) => buildEventAlert(rule, hit(`normal-${i}`, NORMAL(i)), ctx)!);
    expect(await writeAlertBatch({ client: es.client, logger, alertsIndex: alias }, normal)).toMatchObject({ created: 3, failed: [] });
    await es.client.indices.refresh({ index: alias });

    // Every alert is there, none in the degraded form.
    const all = await es.client.search<Record<string, unknown>>({ index: alias, size: 20 });
    expect(all.hits.hits.map((h) => h._id).sort()).toEqual([...hostile, ...normal].map((a) => a.id).sort());
    for (const h of all.hits.hits) expect(h._source!['eqlwatch.degraded'], h._id).toBeUndefined();

    // The four fields are keywords, and a term query finds exactly the normal alert with that value.
    const mapping = await es.client.indices.getFieldMapping({ index: alias, fields: [...KEYWORDS] });
    const fields = Object.values(mapping)[0]!.mappings;
    for (const f of KEYWORDS) expect((fields[f]!.mapping[f.split('.').pop()!] as { type: string }).type, f).toBe('keyword');
    const values = { 'host.name': 'worker-2', 'user.name': 'user-2', 'container.name': 'api-2', 'orchestrator.resource.name': 'api-6d8f9b7c5-2' };
    for (const [f, v] of Object.entries(values)) {
      const res = await es.client.search({ index: alias, query: { term: { [f]: v } } });
      expect(res.hits.hits.map((h) => h._id), f).toEqual([normal[1]!.id]);
    }
    // Numbers in keyword fields are kept and searchable as strings; huge arrays are searchable too.
    expect((await es.client.search({ index: alias, query: { term: { 'orchestrator.resource.name': '1234567890' } } })).hits.hits.map((h) => h._id)).toEqual([hostile[1]!.id]);
    expect((await es.client.search({ index: alias, query: { term: { 'host.name': 'h99999' } } })).hits.hits.map((h) => h._id)).toEqual([hostile[2]!.id]);
    expect((await es.client.search({ index: alias, query: { term: { 'user.name': 'dotted-user' } } })).hits.hits.map((h) => h._id)).toEqual([hostile[5]!.id]);

    // The values that did not fit are listed on their alert; everything else of the event is kept.
    const byId = new Map(all.hits.hits.map((h) => [h._id, h._source!]));
    expect(byId.get(hostile[0]!.id)!['eqlwatch.ignored_fields']).toEqual(['host.name', 'user.name', 'container.name', 'orchestrator.resource.name']);
    expect(byId.get(hostile[3]!.id)!.host).toMatchObject({ name: 'deep-host' });
    expect(byId.get(hostile[4]!.id)!['eqlwatch.ignored_fields']).toEqual(['host', 'user', 'container', 'orchestrator.resource', 'event']);
    // Nothing outside ECS and eqlwatch's/Kibana's own fields was mapped by any document.
    const props = (Object.values(await es.client.indices.getMapping({ index: alias }))[0]!.mappings.properties ?? {}) as Record<string, unknown>;
    expect(props.custom).toBeUndefined();
  });

  it('an index poisoned by a dynamically mapped eqlwatch (numeric pod name mapped long) is rolled over to the ECS mapping', async () => {
    const alias = es.name('alerts-poisoned');
    const old = initialAlertsIndex(alias);
    await es.client.indices.create({ index: old, aliases: { [alias]: { is_write_index: true } }, mappings: { dynamic: true } });
    await es.client.index({ index: alias, id: 'old', document: { orchestrator: { resource: { name: 12345 } } }, refresh: true });
    const oldType = Object.values(await es.client.indices.getFieldMapping({ index: old, fields: ['orchestrator.resource.name'] }))[0]!.mappings['orchestrator.resource.name']!.mapping.name as { type: string };
    expect(oldType.type).toBe('long');

    const ensured = await ensureAlertsIndex(es.client, { alias });
    expect(ensured.writeIndex).not.toBe(old);
    const logger = createLogger({ level: 'silent' });
    const a = buildEventAlert(rule, { _index: 'l', _id: 'pod', _source: { orchestrator: { resource: { name: 'api-0' } } } }, ctx)!;
    expect(await writeAlertBatch({ client: es.client, logger, alertsIndex: alias }, [a])).toMatchObject({ created: 1 });
    await es.client.indices.refresh({ index: alias });
    expect((await es.client.search({ index: alias, query: { term: { 'orchestrator.resource.name': 'api-0' } } })).hits.hits.map((h) => h._id)).toEqual([a.id]);
    // Idempotent: a second start keeps the new write index.
    expect((await ensureAlertsIndex(es.client, { alias })).writeIndex).toBe(ensured.writeIndex);
  });
});
