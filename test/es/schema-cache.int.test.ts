/**
 * The worker's mappings cache (SchemaCache, worker.mappingsRefresh) on the real node: within its TTL it answers
 * without fetching the mappings again, but a new index of the pattern (a rollover, a new namespace) is in the
 * very next answer, before any read runs with mappings that miss it. The `_mapping` requests are counted at a
 * proxy in front of the node.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaCache } from '../../src/worker/rule-view.js';
import { startEsProxy, type EsProxy } from '../helpers/es-proxy.js';
import { useEs } from '../helpers/es.js';

const es = useEs();

describe('SchemaCache (real node)', () => {
  let proxy: EsProxy;
  let client: Client;
  const paths: string[] = [];
  beforeAll(async () => {
    proxy = await startEsProxy(process.env.ES_URL!, { onExchange: (e) => paths.push(`${e.method} ${e.path}`) });
    client = new Client({ node: proxy.url });
  });
  afterAll(async () => {
    await client?.close();
    await proxy?.close();
  });
  const mappingFetches = () => paths.filter((p) => /\/_mapping\b/.test(p.split('?')[0]!)).length;

  it('serves cached mappings within the TTL and fetches them again at once when a new index matches the pattern', async () => {
    const base = es.name('cache');
    const pattern = `${base}-*`;
    await es.client.indices.create({ index: `${base}-a`, mappings: { properties: { 'user.name': { type: 'keyword' } } } });
    const cache = new SchemaCache(60_000);

    const first = await cache.get(client, [pattern]);
    expect(first.indexNames).toEqual([`${base}-a`]);
    expect(mappingFetches()).toBe(1);

    const again = await cache.get(client, [pattern]);
    expect(again).toBe(first);
    expect(mappingFetches()).toBe(1);

    // A new index of the pattern maps the field differently, with ignore_above: it must be known at once.
    await es.client.indices.create({ index: `${base}-b`, mappings: { properties: { 'user.name': { type: 'keyword', ignore_above: 16 } } } });
    const fresh = await cache.get(client, [pattern]);
    expect(fresh.indexNames.sort()).toEqual([`${base}-a`, `${base}-b`]);
    expect(mappingFetches()).toBe(2);

    // A closed index is not read (the point in time opens only open ones): it does not force a fetch.
    await es.client.indices.create({ index: `${base}-c` });
    await es.client.indices.close({ index: `${base}-c` });
    expect(await cache.get(client, [pattern])).toBe(fresh);
    expect(mappingFetches()).toBe(2);
  });

  it('sees the backing indices behind an alias of the pattern', async () => {
    const base = es.name('cachealias');
    await es.client.indices.create({ index: `${base}-000001`, aliases: { [`${base}-logs`]: {} } });
    const cache = new SchemaCache(60_000);
    const before = mappingFetches();
    const first = await cache.get(client, [`${base}-logs`]);
    expect(first.indexNames).toEqual([`${base}-000001`]);
    await es.client.indices.create({ index: `${base}-000002`, aliases: { [`${base}-logs`]: {} } });
    const fresh = await cache.get(client, [`${base}-logs`]);
    expect(fresh.indexNames.sort()).toEqual([`${base}-000001`, `${base}-000002`]);
    expect(mappingFetches() - before).toBe(2);
  });
});
