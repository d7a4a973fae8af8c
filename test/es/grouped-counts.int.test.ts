/**
 * The late-arrival audit's counts in one request (ReadSnapshot.groupedCounts): each group's filter evaluated once
 * as a `filter` aggregation, its buckets over what it matched, must give exactly the counts of one flat bucket
 * per `filter AND bucket` (what `counts` gives), including empty groups and a pattern matching no index.
 */
import { describe, expect, it } from 'vitest';
import { and, type QueryDsl } from '../../src/eql/pushdown.js';
import { ReadSnapshot } from '../../src/es/snapshot.js';
import { useEs } from '../helpers/es.js';

const es = useEs();
const T0 = Date.parse('2026-07-01T10:00:00.000Z');
const range = (from: number, to: number): QueryDsl => ({ range: { '@timestamp': { gte: new Date(from).toISOString(), lt: new Date(to).toISOString() } } });

describe('ReadSnapshot.groupedCounts (real node)', () => {
  it('equals the flat counts of filter AND bucket, group by group', async () => {
    const index = es.name('gcounts');
    await es.client.indices.create({ index, mappings: { properties: { '@timestamp': { type: 'date' }, process: { properties: { name: { type: 'keyword' }, args: { type: 'keyword' } } } } } });
    const names = ['curl', 'wget', 'sh', 'nc'];
    const docs = Array.from({ length: 200 }, (_, i) => ({ '@timestamp': new Date(T0 + i * 1000).toISOString(), process: { name: names[i % 4], args: [`--x${i % 7}`, 'aws_access_key_id'.slice(0, 3 + (i % 15))] } }));
    const res = await es.client.bulk({ refresh: true, operations: docs.flatMap((d, i) => [{ create: { _index: index, _id: `d${i}` } }, d]) });
    expect(res.errors).toBe(false);
    const groups = [
      { filter: { terms: { 'process.name': ['curl', 'wget'] } }, buckets: [range(T0, T0 + 50_000), range(T0 + 50_000, T0 + 120_000), range(T0 - 10_000, T0)] },
      { filter: { wildcard: { 'process.args': { value: '*access_key*' } } }, buckets: [range(T0, T0 + 200_000), range(T0 + 100_000, T0 + 101_000)] },
      { filter: { term: { 'process.name': 'sh' } }, buckets: [] },
      { filter: { match_all: {} }, buckets: [range(T0, T0 + 30_000)] },
    ];
    const snapshot = await ReadSnapshot.open(es.client, [index]);
    try {
      const grouped = await snapshot.groupedCounts(groups);
      const flat = await snapshot.counts({ match_all: {} }, groups.flatMap((g) => g.buckets.map((b) => and([g.filter, b]))));
      expect(grouped.flat()).toEqual(flat);
      expect(grouped.map((g) => g.length)).toEqual([3, 2, 0, 1]);
      expect(grouped[0]).toEqual([26, 34, 0]);
      expect(grouped[3]).toEqual([30]);
      expect(grouped[1]![0]).toBeGreaterThan(0);
    } finally {
      await snapshot.close();
    }
    const none = await ReadSnapshot.open(es.client, [`${index}-nothing-*`]);
    try {
      expect(await none.groupedCounts(groups)).toEqual([[0, 0, 0], [0, 0], [], [0]]);
    } finally {
      await none.close();
    }
  });
});
