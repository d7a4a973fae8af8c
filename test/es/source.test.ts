/**
 * readWindow against a real node: the half-open window on `event.ingested` with the `@timestamp`
 * fallback, ordering by `@timestamp`, and PIT + search_after paging across many pages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countWindow, readWindow, type Hit, type WindowOptions } from '../../src/es/source.js';
import { cloudDefendProcessMapping } from '../fixtures/mappings.js';
import { useEs } from '../helpers/es.js';

const es = useEs();

async function readAll(o: WindowOptions): Promise<{ hits: Hit[]; pages: number }> {
  const hits: Hit[] = [];
  let pages = 0;
  for await (const page of readWindow(es.client, o)) {
    pages++;
    hits.push(...page);
  }
  return { hits, pages };
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('readWindow: window bounds and timestamp_override fallback', () => {
  const index = es.name('source-window');
  const from = new Date(T0 + 60_000);
  const to = new Date(T0 + 120_000);
  // id → (@timestamp, event.ingested | undefined), and whether [from,to) on ingested-else-@timestamp holds
  const docs: { id: string; ts?: number; ingested?: number; inWindow: boolean }[] = [
    { id: 'on-from', ts: T0 + 60_000, ingested: T0 + 60_000, inWindow: true },
    { id: 'on-to', ts: T0 + 119_000, ingested: T0 + 120_000, inWindow: false },
    { id: 'just-before-to', ts: T0 + 119_000, ingested: T0 + 119_999, inWindow: true },
    // ingested late: happened before the window, arrived inside it → read (by ingestion time)
    { id: 'late', ts: T0 + 10_000, ingested: T0 + 90_000, inWindow: true },
    // happened inside but ingested after the window → not this window
    { id: 'ingested-after', ts: T0 + 70_000, ingested: T0 + 130_000, inWindow: false },
    // no event.ingested → falls back to @timestamp
    { id: 'no-ingested-in', ts: T0 + 80_000, inWindow: true },
    { id: 'no-ingested-on-from', ts: T0 + 60_000, inWindow: true },
    { id: 'no-ingested-on-to', ts: T0 + 120_000, inWindow: false },
    { id: 'no-ingested-before', ts: T0 + 59_999, inWindow: false },
    // no @timestamp: windowed by ingestion, sorted last
    { id: 'no-timestamp', ingested: T0 + 100_000, inWindow: true },
  ];

  beforeAll(async () => {
    await es.client.indices.create({ index, mappings: cloudDefendProcessMapping() });
    await es.client.bulk({
      refresh: true,
      operations: docs.flatMap((d) => [
        { index: { _index: index, _id: d.id } },
        {
          ...(d.ts !== undefined ? { '@timestamp': iso(d.ts) } : {}),
          event: { category: 'process', ...(d.ingested !== undefined ? { ingested: iso(d.ingested) } : {}) },
        },
      ]),
    });
  });

  it('reads [from, to) on event.ingested, falling back to @timestamp only where event.ingested is missing', async () => {
    const { hits } = await readAll({ index: [index], from, to, timestampOverride: 'event.ingested' });
    const got = hits.map((h) => h._id).sort();
    expect(got).toEqual(docs.filter((d) => d.inWindow).map((d) => d.id).sort());
    expect(await countWindow(es.client, { index: [index], from, to, timestampOverride: 'event.ingested' })).toBe(got.length);
  });

  it('consecutive windows partition the events: each is read exactly once', async () => {
    const bounds = [T0, T0 + 60_000, T0 + 90_000, T0 + 120_000, T0 + 200_000];
    const seen: string[] = [];
    for (let i = 0; i + 1 < bounds.length; i++) {
      const { hits } = await readAll({
        index: [index],
        from: new Date(bounds[i]!),
        to: new Date(bounds[i + 1]!),
        timestampOverride: 'event.ingested',
        pageSize: 2,
      });
      seen.push(...hits.map((h) => h._id));
    }
    expect(seen.sort()).toEqual(docs.map((d) => d.id).sort());
  });

  it('orders by @timestamp (not by the override), events without @timestamp last', async () => {
    const { hits } = await readAll({ index: [index], from, to, timestampOverride: 'event.ingested' });
    const ts = hits.map((h) => (h._source['@timestamp'] as string | undefined) ?? null);
    expect(ts[ts.length - 1]).toBeNull();
    const dated = ts.filter((t): t is string => t !== null);
    expect(dated).toEqual([...dated].sort());
    expect(hits[0]!._id).toBe('late');
  });

  it('without an override the window is on @timestamp', async () => {
    const { hits } = await readAll({ index: [index], from, to });
    const expected = docs.filter((d) => d.ts !== undefined && d.ts >= from.getTime() && d.ts < to.getTime()).map((d) => d.id);
    expect(hits.map((h) => h._id).sort()).toEqual(expected.sort());
  });

  it('applies the filter and returns only the requested _source fields', async () => {
    const { hits } = await readAll({
      index: [index],
      from,
      to,
      timestampOverride: 'event.ingested',
      filter: { exists: { field: '@timestamp' } },
      sourceFields: ['@timestamp'],
    });
    expect(hits.map((h) => h._id)).not.toContain('no-timestamp');
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) expect(Object.keys(h._source)).toEqual(['@timestamp']);
  });

  it('tolerates missing indices and patterns that match nothing', async () => {
    const { hits } = await readAll({ index: [`${index}-missing`, 'eqlwatch-test-nothing-*', index], from, to });
    expect(hits.length).toBeGreaterThan(0);
    const none = await readAll({ index: ['eqlwatch-test-nothing-*'], from, to });
    expect(none.hits).toEqual([]);
  });

  it('stops with an error when aborted between pages, still closing its point in time', async () => {
    const closed: string[] = [];
    const client = new Proxy(es.client, {
      get(target, prop, receiver) {
        if (prop === 'closePointInTime') {
          return async (...args: Parameters<typeof target.closePointInTime>) => {
            closed.push((args[0] as { id: string }).id);
            return target.closePointInTime(...args);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    const ac = new AbortController();
    const pages: number[] = [];
    await expect(
      (async () => {
        for await (const page of readWindow(client, { index: [index], from, to, pageSize: 1, signal: ac.signal })) {
          pages.push(page.length);
          ac.abort();
        }
      })(),
    ).rejects.toThrow();
    expect(pages).toEqual([1]);
    expect(closed).toHaveLength(1);
  });

  it('closes its point in time when the consumer stops early', async () => {
    // Record the PIT ids the reader opens and closes (the real client does the work).
    const opened: string[] = [];
    const closed: string[] = [];
    const client = new Proxy(es.client, {
      get(target, prop, receiver) {
        if (prop === 'openPointInTime') {
          return async (...args: Parameters<typeof target.openPointInTime>) => {
            const r = await target.openPointInTime(...args);
            opened.push(r.id);
            return r;
          };
        }
        if (prop === 'closePointInTime') {
          return async (...args: Parameters<typeof target.closePointInTime>) => {
            closed.push((args[0] as { id: string }).id);
            return target.closePointInTime(...args);
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    for await (const page of readWindow(client, { index: [index], from, to, pageSize: 1 })) {
      expect(page).toHaveLength(1);
      break;
    }
    expect(opened).toHaveLength(1);
    expect(closed).toHaveLength(1);
    // The PIT is really gone: searching it fails.
    await expect(es.client.search({ pit: { id: closed[0]! }, size: 1 })).rejects.toThrow();
  });
});

describe('readWindow: 25k events across many PIT pages', () => {
  const index = es.name('source-bulk');
  const N = 25_000;
  const from = new Date(T0);
  const to = new Date(T0 + N * 10);

  beforeAll(async () => {
    await es.client.indices.create({
      index,
      settings: { number_of_shards: 2, number_of_replicas: 0, refresh_interval: '-1' },
      mappings: cloudDefendProcessMapping(),
    });
    // Several events share each @timestamp, so the _shard_doc tiebreaker matters across pages.
    const chunk = 5_000;
    for (let start = 0; start < N; start += chunk) {
      const operations: unknown[] = [];
      for (let i = start; i < Math.min(N, start + chunk); i++) {
        operations.push({ index: { _index: index, _id: `e${i}` } });
        operations.push({
          '@timestamp': iso(T0 + Math.floor(i / 3) * 30),
          event: { category: 'process', ingested: iso(T0 + i * 10), sequence: i },
        });
      }
      const res = await es.client.bulk({ operations });
      expect(res.errors).toBe(false);
    }
    await es.client.indices.refresh({ index });
  });

  it('returns every event exactly once, in @timestamp order, page by page', async () => {
    const pageSize = 1000;
    const ids = new Set<string>();
    let total = 0;
    let pages = 0;
    let lastTs = -Infinity;
    let maxPage = 0;
    for await (const page of readWindow(es.client, {
      index: [index],
      from,
      to,
      timestampOverride: 'event.ingested',
      pageSize,
      sourceFields: ['@timestamp'],
    })) {
      pages++;
      maxPage = Math.max(maxPage, page.length);
      for (const h of page) {
        const ts = Date.parse(h._source['@timestamp'] as string);
        expect(ts).toBeGreaterThanOrEqual(lastTs);
        lastTs = ts;
        ids.add(h._id);
        total++;
      }
    }
    expect(total).toBe(N);
    expect(ids.size).toBe(N);
    expect(maxPage).toBe(pageSize);
    expect(pages).toBe(N / pageSize);
  });

  it('a sub-window reads exactly its slice of ingestion times', async () => {
    const { hits } = await readAll({
      index: [index],
      from: new Date(T0 + 1000 * 10),
      to: new Date(T0 + 3500 * 10),
      timestampOverride: 'event.ingested',
      pageSize: 700,
    });
    const seqs = hits.map((h) => (h._source.event as { sequence: number }).sequence).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 2500 }, (_, k) => 1000 + k));
  });
});

describe('readWindow over date_nanos timestamps', () => {
  const index = es.name('source-nanos');
  const N = 300;

  beforeAll(async () => {
    await es.client.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date_nanos' }, n: { type: 'long' } } } });
    // Distinct nanosecond timestamps within a few milliseconds: their sort values exceed a double's precision.
    await es.client.bulk({
      refresh: true,
      operations: Array.from({ length: N }, (_, k) => [
        { index: { _index: index, _id: `n${k}` } },
        { '@timestamp': `2026-01-01T00:00:00.00${Math.floor(k / 100)}${String(k % 100).padStart(2, '0')}1234Z`, n: k },
      ]).flat(),
    });
  });

  it('pages through every document exactly once (sort values kept exact across pages)', async () => {
    const { hits, pages } = await readAll({ index: [index], from: new Date(T0), to: new Date(T0 + 1000), pageSize: 7 });
    expect(pages).toBeGreaterThan(40);
    expect(hits.map((h) => h._source.n)).toEqual(Array.from({ length: N }, (_, k) => k));
  });
});
