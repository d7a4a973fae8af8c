/**
 * The late-arrival audit's bookkeeping (pure): which stretches grew since they were read, what left the
 * horizon, and that the stored coverage stays bounded and contiguous whatever the schedule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addRange, compact, compareCounts, emptyCoverage, type Coverage } from '../../src/worker/coverage.js';

const MIN = 60_000;
const limits = { horizonMs: 60 * MIN, maxRanges: 8, fineMs: 10 * MIN };

function covered(ranges: [number, number, number][], older = 0): Coverage {
  let c = emptyCoverage('f', older, 0);
  for (const [from, to, count] of ranges) c = addRange(c, { from, to, count });
  return c;
}

describe('compareCounts', () => {
  it('reports the stretches that grew, by how much, and takes the fresh counts', () => {
    const c = covered([[0, 10, 5], [10, 20, 0], [20, 30, 2]], 7);
    const { audit, coverage } = compareCounts(c, 'f', 9, [5, 3, 1], 100);
    expect(audit.grown).toEqual([{ from: 10, to: 20, count: 3, added: 3 }]);
    expect(audit.olderAdded).toBe(2);
    expect(audit.removed).toBe(1);
    expect(audit.rebaselined).toBe(false);
    expect(coverage.ranges.map((r) => r.count)).toEqual([5, 3, 1]);
    expect(coverage.older).toBe(9);
    expect(coverage.auditedAt).toBe(100);
  });

  it('a changed candidate filter makes the fresh counts the new baseline, with nothing reported as late', () => {
    const c = covered([[0, 10, 5]]);
    const { audit } = compareCounts(c, 'other-filter', 50, [500], 1);
    expect(audit).toEqual({ grown: [], olderAdded: 0, removed: 0, rebaselined: true });
  });
});

describe('coverage bounds', () => {
  it('stays contiguous: a range must start where the last ended', () => {
    expect(() => addRange(covered([[0, 10, 1]]), { from: 11, to: 20, count: 0 })).toThrow(/contiguous/);
  });

  it('ranges past the horizon leave the audit and their counts join `older`; the frontier range always stays', () => {
    const c = covered([[0, MIN, 3], [MIN, 2 * MIN, 4], [2 * MIN, 3 * MIN, 5]], 1);
    const out = compact(c, 2 * MIN + 60 * MIN, limits);
    expect(out.ranges).toEqual([{ from: 2 * MIN, to: 3 * MIN, count: 5 }]);
    expect(out.older).toBe(1 + 3 + 4);
    const all = compact(c, 1000 * MIN, limits);
    expect(all.ranges).toHaveLength(1);
  });

  it('property: any schedule keeps at most maxRanges contiguous ranges whose counts sum to what was read', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ len: fc.integer({ min: 1, max: 5 * MIN }), count: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 200 }), (windows) => {
        let c = emptyCoverage('f');
        let t = 0;
        let total = 0;
        for (const w of windows) {
          c = compact(addRange(c, { from: t, to: t + w.len, count: w.count }), t + w.len, { ...limits, horizonMs: 1e12 });
          t += w.len;
          total += w.count;
        }
        expect(c.ranges.length).toBeLessThanOrEqual(limits.maxRanges);
        for (let i = 1; i < c.ranges.length; i++) expect(c.ranges[i]!.from).toBe(c.ranges[i - 1]!.to);
        expect(c.ranges[0]!.from).toBe(0);
        expect(c.ranges.at(-1)!.to).toBe(t);
        expect(c.ranges.reduce((n, r) => n + r.count, 0) + c.older).toBe(total);
      }),
    );
  });
});
