/** Scheduler: each rule on its interval, never overlapping itself, at most `concurrency` at once; stop() aborts and waits. */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/worker/scheduler.js';

interface Run {
  id: string;
  signal: AbortSignal;
  finish: () => void;
}

function harness(rules: { id: string; intervalMs: number }[], concurrency: number) {
  let now = 0;
  const runs: Run[] = [];
  const scheduler = new Scheduler({
    rules,
    concurrency,
    now: () => now,
    run: (id, signal) =>
      new Promise<void>((resolve) => {
        runs.push({ id, signal, finish: resolve });
      }),
  });
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return { scheduler, runs, setNow: (t: number) => (now = t), settle };
}

describe('Scheduler', () => {
  it('starts every rule at once up to the concurrency limit, the rest when a slot frees', async () => {
    const h = harness([{ id: 'a', intervalMs: 10_000 }, { id: 'b', intervalMs: 10_000 }, { id: 'c', intervalMs: 10_000 }], 2);
    h.scheduler.tick();
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b']);
    h.scheduler.tick();
    expect(h.runs).toHaveLength(2);
    h.runs[0]!.finish();
    await h.settle();
    h.scheduler.tick();
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('never overlaps a rule with itself; a late run starts on the first tick after it ends', async () => {
    const h = harness([{ id: 'a', intervalMs: 1_000 }], 4);
    h.scheduler.tick();
    h.setNow(5_000);
    h.scheduler.tick();
    h.scheduler.tick();
    expect(h.runs).toHaveLength(1);
    h.runs[0]!.finish();
    await h.settle();
    h.scheduler.tick();
    expect(h.runs).toHaveLength(2);
    // Next due one interval after that start, not before.
    h.runs[1]!.finish();
    await h.settle();
    h.setNow(5_500);
    h.scheduler.tick();
    expect(h.runs).toHaveLength(2);
    h.setNow(6_000);
    h.scheduler.tick();
    expect(h.runs).toHaveLength(3);
  });

  it('a run that ends starts the next due rule at once, without waiting for a tick', async () => {
    const h = harness([{ id: 'a', intervalMs: 10_000 }, { id: 'b', intervalMs: 10_000 }], 1);
    h.scheduler.tick();
    expect(h.runs.map((r) => r.id)).toEqual(['a']);
    h.runs[0]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('keeps each rule on its cadence: a run that waited for a slot is next due one interval after it was due', async () => {
    const h = harness([{ id: 'a', intervalMs: 5_000 }, { id: 'b', intervalMs: 5_000 }], 1);
    h.scheduler.tick();
    h.setNow(2_000);
    h.runs[0]!.finish();
    await h.settle();
    // b was due at 0 and started at 2,000: it is due again at 5,000, not 7,000.
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b']);
    h.runs[1]!.finish();
    await h.settle();
    h.setNow(4_999);
    h.scheduler.tick();
    expect(h.runs).toHaveLength(2);
    h.setNow(5_000);
    h.scheduler.tick();
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b', 'a']);
    h.runs[2]!.finish();
    await h.settle();
    expect(h.runs.map((r) => r.id)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('a failing run does not stop the rule from being scheduled again', async () => {
    let calls = 0;
    let now = 0;
    const s = new Scheduler({ rules: [{ id: 'x', intervalMs: 100 }], concurrency: 1, now: () => now, run: async () => { calls++; throw new Error('boom'); } });
    s.tick();
    await new Promise((r) => setTimeout(r, 0));
    now = 100;
    s.tick();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(2);
  });

  it('stop() aborts the running rules\' signal, waits for them, and starts nothing more', async () => {
    const h = harness([{ id: 'a', intervalMs: 1_000 }], 1);
    h.scheduler.tick();
    let stopped = false;
    const stopping = h.scheduler.stop().then(() => (stopped = true));
    await h.settle();
    expect(h.runs[0]!.signal.aborted).toBe(true);
    expect(stopped).toBe(false);
    h.runs[0]!.finish();
    await stopping;
    h.setNow(10_000);
    h.scheduler.tick();
    expect(h.runs).toHaveLength(1);
  });
});
