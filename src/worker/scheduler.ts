/**
 * Runs each rule on its own interval. One node-cron task ticks every second and starts the rules that are
 * due, at most `concurrency` at once, and a run that ends starts the next due rule at once (a queued rule
 * does not wait for the next tick). A rule keeps its cadence: it is next due one interval after it was due,
 * not after it started, so waiting for a slot does not stretch every interval (detection latency at
 * `worker.interval: 5s`); one that fell a whole interval behind starts a fresh cadence. A rule never
 * overlaps itself: a run longer than its interval delays the next one, which then catches up through the
 * checkpoint. `stop()` aborts the current runs at a safe point (no window is checkpointed unless its alerts
 * are durable) and waits for them.
 */
import cron, { type ScheduledTask } from 'node-cron';

export interface ScheduledRule {
  id: string;
  intervalMs: number;
}

export interface SchedulerOptions {
  rules: ScheduledRule[];
  concurrency: number;
  /** Runs one rule; rejects on failure (logged by the caller), resolves otherwise. */
  run: (ruleId: string, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

export class Scheduler {
  private readonly next = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private task: ScheduledTask | null = null;

  constructor(private readonly opts: SchedulerOptions) {
    const now = this.now();
    // Every rule runs once at start-up (catching up from its checkpoint), then on its interval.
    for (const r of opts.rules) this.next.set(r.id, now);
  }

  start(): void {
    this.tick();
    this.task = cron.schedule('* * * * * *', () => this.tick(), { noOverlap: true, name: 'eqlwatch-scheduler' });
  }

  /** Stops scheduling, aborts running rules at their next safe point and waits for them to settle. */
  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
    this.abort.abort();
    await Promise.allSettled(this.running.values());
  }

  get active(): string[] {
    return [...this.running.keys()];
  }

  /** Starts every due rule that fits in the concurrency limit, most overdue first. */
  tick(): void {
    if (this.abort.signal.aborted) return;
    const now = this.now();
    const due = this.opts.rules
      .filter((r) => !this.running.has(r.id) && (this.next.get(r.id) ?? 0) <= now)
      .sort((a, b) => (this.next.get(a.id) ?? 0) - (this.next.get(b.id) ?? 0));
    for (const r of due) {
      if (this.running.size >= this.opts.concurrency) break;
      // On its cadence when the wait for a slot was shorter than an interval; a rule a whole interval behind
      // starts a fresh cadence instead of running back to back.
      const cadence = (this.next.get(r.id) ?? now) + r.intervalMs;
      this.next.set(r.id, cadence > now ? cadence : now + r.intervalMs);
      const p = this.opts
        .run(r.id, this.abort.signal)
        .catch(() => undefined)
        .finally(() => {
          this.running.delete(r.id);
          this.tick();
        });
      this.running.set(r.id, p);
    }
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }
}
