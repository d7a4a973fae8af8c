/**
 * Real-world mappings against the real node: one index pattern over indices whose mappings differ
 * (`ip` / `keyword`, `date` / `date_nanos`, a field beyond the total-fields limit, `dynamic: false`), values
 * `ignore_malformed` kept in `_source`, an index with an unavailable shard, and a query over the node's
 * clause limit. In every case the window is complete or not checkpointed, and the alerts equal replay's.
 */
import { describe, expect, it } from 'vitest';
import { IncompleteReadError } from '../../src/es/snapshot.js';
import { useEs } from '../helpers/es.js';
import { DEFAULT_TEST_SETTINGS, ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const T0 = Date.parse('2026-03-02T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const t = T0 - 5 * 60_000;

/** Creates `name` exactly (names under a prefix from `es.name` are removed with it). */
async function create(name: string, mappings: Record<string, unknown>, settings: Record<string, unknown> = {}): Promise<string> {
  await es.client.indices.create({ index: name, settings: { 'index.number_of_replicas': 0, ...settings }, mappings, wait_for_active_shards: 0 });
  return name;
}

async function bulk(docs: [string, string, Record<string, unknown>][]): Promise<void> {
  const res = await es.client.bulk({ refresh: true, operations: docs.flatMap(([index, id, d]) => [{ create: { _index: index, _id: id } }, d]) });
  if (res.errors) throw new Error(JSON.stringify(res.items.find((i) => i.create?.error)));
}

const base = (extra: Record<string, unknown> = {}) => ({
  '@timestamp': { type: 'date' },
  event: { properties: { category: { type: 'keyword' } } },
  process: { properties: { name: { type: 'keyword' } } },
  ...extra,
});

const ev = (name: string, ts: number, extra: Record<string, unknown> = {}) => ({ '@timestamp': iso(ts), event: { category: 'process' }, process: { name }, ...extra });

describe('join keys Elasticsearch cannot query on some index', () => {
  it('a key value an ip field cannot hold (ignore_malformed) never blocks the rule; ip and keyword indices of one pattern both join', async () => {
    const prefix = es.name('nm-ip');
    const ipIndex = await create(`${prefix}-ip`, { properties: base({ source: { properties: { ip: { type: 'ip' } } } }) }, { 'index.mapping.ignore_malformed': true });
    const kwIndex = await create(`${prefix}-kw`, { properties: base({ source: { properties: { ip: { type: 'keyword' } } } }) });
    const rule = ruleFrom('ip.yaml', `id: nm-ip\nname: by source ip\nindex: ["${prefix}-*"]\nquery: |\n  sequence by source.ip with maxspan=1m\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);
    await bulk([
      // The attacker-controlled value: kept in _source by ignore_malformed, listed in _ignored.
      [ipIndex, 'bad-c', ev('curl', t, { source: { ip: 'x' } })],
      [ipIndex, 'bad-m', ev('chmod', t + 1_000, { source: { ip: 'x' } })],
      [ipIndex, 'ok-c', ev('curl', t + 2_000, { source: { ip: '10.0.0.1' } })],
      [ipIndex, 'ok-m', ev('chmod', t + 3_000, { source: { ip: '10.0.0.1' } })],
      [kwIndex, 'kw-c', ev('curl', t + 4_000, { source: { ip: 'x' } })],
      [kwIndex, 'kw-m', ev('chmod', t + 5_000, { source: { ip: 'x' } })],
    ]);
    const h = new WorkerHarness(es, [rule]);
    const [r] = await h.run(T0);
    expect(r!.status).toBe('ok');
    const ids = await h.alertIds();
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ids).toEqual(await h.replayIds([ipIndex, kwIndex]));
    // Checkpointed: the next run starts where this one ended.
    const [r2] = await h.run(T0 + 5_000);
    expect(r2!.status === 'ok' && r2!.windows[0]!.from).toBe(r!.status === 'ok' && r!.windows[0]!.to);
  });
});

describe('one pattern, differing mappings', () => {
  it('@timestamp date in one index and date_nanos in another: a cross-index sequence over many pages is found', async () => {
    const prefix = es.name('nm-nanos');
    const ms = await create(`${prefix}-ms`, { properties: base({ host: { properties: { id: { type: 'keyword' } } } }) });
    const ns = await create(`${prefix}-ns`, { properties: base({ '@timestamp': { type: 'date_nanos' }, host: { properties: { id: { type: 'keyword' } } } }) });
    const rule = ruleFrom('n.yaml', `id: nm-nanos\nname: nanos\nindex: ["${prefix}-*"]\nmax_signals: 1000\nquery: |\n  sequence by host.id with maxspan=500ms\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);
    const docs: [string, string, Record<string, unknown>][] = [];
    for (let i = 0; i < 60; i++) {
      // First stage in the date_nanos index, second 100 ms later in the date index.
      docs.push([ns, `c${i}`, ev('curl', t + i * 1_000, { host: { id: `h${i % 7}` } })], [ms, `m${i}`, ev('chmod', t + i * 1_000 + 100, { host: { id: `h${i % 7}` } })]);
    }
    await bulk(docs);
    const h = new WorkerHarness(es, [rule], { ...DEFAULT_TEST_SETTINGS, pageSize: 10 });
    const [r] = await h.run(T0);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(180);
    expect(ids).toEqual(await h.replayIds([ms, ns]));
    expect(r!.status === 'ok' && r!.health.outOfOrder).toBe(0);
  });

  it('values Elasticsearch cannot see in some index (beyond its total-fields limit, or unmapped under dynamic: false) are still read', async () => {
    const prefix = es.name('nm-unseen');
    const mapped = await create(`${prefix}-a`, { properties: base({ process: { properties: { name: { type: 'keyword' }, command_line: { type: 'keyword', ignore_above: 64 } } } }) });
    // Five fields fill the limit: process.command_line is kept in _source only and listed in _ignored.
    const full = await create(`${prefix}-b`, { properties: base() }, { 'index.mapping.total_fields.limit': 5, 'index.mapping.total_fields.ignore_dynamic_beyond_limit': true });
    const strictish = await create(`${prefix}-c`, { dynamic: false, properties: base() });
    const rule = ruleFrom('u.yaml', `id: nm-unseen\nname: unseen\nindex: ["${prefix}-*"]\nquery: process where process.command_line == "curl -s http://x"\n`);
    await bulk([
      [mapped, 'a', ev('curl', t, { process: { name: 'curl', command_line: 'curl -s http://x' } })],
      [full, 'b', ev('curl', t + 1, { process: { name: 'curl', command_line: 'curl -s http://x' } })],
      [strictish, 'c', ev('curl', t + 2, { process: { name: 'curl', command_line: 'curl -s http://x' } })],
    ]);
    const ignored = await es.client.search({ index: full, query: { term: { _ignored: 'process.command_line' } } });
    expect(ignored.hits.hits).toHaveLength(1);
    const h = new WorkerHarness(es, [rule]);
    await h.run(T0);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(3);
    expect(ids).toEqual(await h.replayIds([mapped, full, strictish]));
  });
});

describe('a window is complete or not checkpointed', () => {
  it('while a shard of the pattern is unavailable the run fails and nothing advances; once it is back, its events are alerted', async () => {
    const prefix = es.name('nm-red');
    const green = await create(`${prefix}-a`, { properties: base() });
    // The second index's only shard cannot be allocated (no such node): the pattern has an unavailable shard.
    const red = await create(`${prefix}-b`, { properties: base() }, { 'index.routing.allocation.require._name': 'no-such-node' });
    expect((await es.client.cluster.health({ index: red })).status).toBe('red');
    await bulk([[green, 'g', ev('curl', t)]]);
    const rule = ruleFrom('r.yaml', `id: nm-red\nname: red\nindex: ["${prefix}-*"]\nquery: process where process.name == "curl"\n`);
    const h = new WorkerHarness(es, [rule]);
    await expect(h.run(T0)).rejects.toBeInstanceOf(IncompleteReadError);
    await expect(h.run(T0 + 5_000)).rejects.toBeInstanceOf(IncompleteReadError);
    expect(await h.alertIds()).toHaveLength(0);
    expect(h.metrics.value('eqlwatch_errors_total', { kind: 'incomplete_read' })).toBe(2);
    const state = await es.client.get<{ checkpoint: unknown }>({ index: h.store.index, id: 'nm-red' }, { ignore: [404] });
    expect(state.found ? state._source?.checkpoint : null).toBeNull();
    await es.client.indices.putSettings({ index: red, settings: { 'index.routing.allocation.require._name': null } });
    await es.client.cluster.health({ index: red, wait_for_status: 'green', timeout: '30s' });
    await bulk([[red, 'r', ev('curl', t + 1)]]);
    await h.run(T0 + 10_000);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(2);
    expect(ids).toEqual(await h.replayIds([green, red]));
  });

  it('a query over the node\'s clause limit falls back to a broader read, logged and counted, instead of stalling the rule', async () => {
    const idx = await create(es.name('nm-clauses'), { properties: base() });
    const patterns = Array.from({ length: 12_000 }, (_, i) => `"tool${i}*"`).join(', ');
    const rule = ruleFrom('c.yaml', `id: nm-clauses\nname: many patterns\nindex: [${idx}]\nquery: |\n  process where process.name : (${patterns}, "curl")\n`);
    await bulk([
      [idx, 'hit', ev('curl', t)],
      [idx, 'miss', ev('bash', t + 1)],
    ]);
    const h = new WorkerHarness(es, [rule]);
    const [r] = await h.run(T0);
    expect(r!.status === 'ok' && r!.health.fallbacks).toBeGreaterThanOrEqual(1);
    expect(h.metrics.value('eqlwatch_query_fallbacks_total', { rule_id: 'nm-clauses', rule_name: 'many patterns' })).toBeGreaterThanOrEqual(1);
    expect(h.logsOf('warn', /rejected a query/)[0]?.message).toMatch(/clause/i);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(1);
    expect(ids).toEqual(await h.replayIds([idx]));
  });
});
