/** planWindows: which half-open windows a rule run reads, from its checkpoint, in bounded chunks. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planWindows, type PlanInput } from '../../src/worker/windows.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const base: PlanInput = { now: 1_000 * HOUR, lookbackMs: 6 * MIN, checkpoint: null, ingestDelayMs: 0, maxWindowMs: HOUR, maxCatchupMs: 24 * HOUR };

describe('planWindows', () => {
  it('first run: one window of the rule lookback ending now', () => {
    expect(planWindows(base)).toEqual({ windows: [{ from: base.now - 6 * MIN, to: base.now }], gap: null });
  });

  it('the ingest delay moves the end back', () => {
    const p = planWindows({ ...base, ingestDelayMs: 30_000 });
    expect(p.windows).toEqual([{ from: base.now - 30_000 - 6 * MIN, to: base.now - 30_000 }]);
  });

  it('later runs start exactly at the checkpoint, whatever the lookback', () => {
    const checkpoint = base.now - 5 * MIN;
    expect(planWindows({ ...base, checkpoint }).windows).toEqual([{ from: checkpoint, to: base.now }]);
    // A checkpoint older than the lookback is still honoured: nothing between is skipped.
    expect(planWindows({ ...base, checkpoint: base.now - 50 * MIN }).windows).toEqual([{ from: base.now - 50 * MIN, to: base.now }]);
  });

  it('a backlog is read in chunks of maxWindow, the last one shorter', () => {
    const checkpoint = base.now - 150 * MIN;
    expect(planWindows({ ...base, checkpoint }).windows).toEqual([
      { from: checkpoint, to: checkpoint + HOUR },
      { from: checkpoint + HOUR, to: checkpoint + 2 * HOUR },
      { from: checkpoint + 2 * HOUR, to: base.now },
    ]);
  });

  it('a backlog beyond maxCatchup is reported as a gap and the rest is read', () => {
    const checkpoint = base.now - 30 * HOUR;
    const p = planWindows({ ...base, checkpoint, maxCatchupMs: 2 * HOUR });
    expect(p.gap).toEqual({ from: checkpoint, to: base.now - 2 * HOUR });
    expect(p.windows).toEqual([
      { from: base.now - 2 * HOUR, to: base.now - HOUR },
      { from: base.now - HOUR, to: base.now },
    ]);
  });

  it('nothing to read when the checkpoint is at or past the end (clock step back, bigger ingest delay)', () => {
    expect(planWindows({ ...base, checkpoint: base.now })).toEqual({ windows: [], gap: null });
    expect(planWindows({ ...base, checkpoint: base.now + MIN })).toEqual({ windows: [], gap: null });
  });

  it('property: windows are contiguous, half-open, bounded, and with the gap cover [start, end) exactly', () => {
    fc.assert(
      fc.property(
        fc.record({
          now: fc.integer({ min: 10 * 24 * HOUR, max: 20 * 24 * HOUR }),
          lookbackMs: fc.integer({ min: 1, max: 3 * HOUR }),
          back: fc.option(fc.integer({ min: -HOUR, max: 3 * 24 * HOUR }), { nil: null }),
          ingestDelayMs: fc.integer({ min: 0, max: 10 * MIN }),
          maxWindowMs: fc.integer({ min: 5 * MIN, max: 2 * HOUR }),
          maxCatchupMs: fc.integer({ min: 1_000, max: 48 * HOUR }),
        }),
        (r) => {
          const input: PlanInput = { ...r, checkpoint: r.back === null ? null : r.now - r.back };
          const { windows, gap } = planWindows(input);
          const end = r.now - r.ingestDelayMs;
          const start = input.checkpoint ?? end - r.lookbackMs;
          if (start >= end) return windows.length === 0 && gap === null;
          let at = start;
          if (gap) {
            expect(gap.from).toBe(start);
            expect(end - gap.to).toBe(r.maxCatchupMs);
            at = gap.to;
          } else {
            expect(end - start).toBeLessThanOrEqual(r.maxCatchupMs);
          }
          for (const w of windows) {
            expect(w.from).toBe(at);
            expect(w.to).toBeGreaterThan(w.from);
            expect(w.to - w.from).toBeLessThanOrEqual(r.maxWindowMs);
            at = w.to;
          }
          expect(at).toBe(end);
          return true;
        },
      ),
      { numRuns: 200 },
    );
  });
});
