/**
 * Which time windows a rule run reads. Windows are half-open `[from, to)` on the rule's window field and
 * chained by the checkpoint, so every event is read by exactly one window; a run that fell behind catches
 * up in bounded chunks, and a backlog beyond `maxCatchupMs` is skipped and reported as a gap (as Kibana does).
 */
export interface Window {
  from: number;
  to: number;
}

export interface WindowPlan {
  windows: Window[];
  /** Time that will never be read because the backlog exceeded `maxCatchupMs`. */
  gap: Window | null;
}

export interface PlanInput {
  now: number;
  /** Lookback of a first run (the rule's `from`, e.g. now-6m). */
  lookbackMs: number;
  /** End of the last durable window, or null on a first run. */
  checkpoint: number | null;
  /** Events younger than this are left for the next run (ingest latency). */
  ingestDelayMs: number;
  /** Largest single window; longer backlogs are split. */
  maxWindowMs: number;
  /** Largest backlog caught up; older time is reported as a gap. */
  maxCatchupMs: number;
}

export function planWindows(p: PlanInput): WindowPlan {
  const to = p.now - p.ingestDelayMs;
  let from = p.checkpoint ?? to - p.lookbackMs;
  let gap: Window | null = null;
  if (to - from > p.maxCatchupMs) {
    gap = { from, to: to - p.maxCatchupMs };
    from = gap.to;
  }
  const windows: Window[] = [];
  for (let start = from; start < to; start += p.maxWindowMs) {
    windows.push({ from: start, to: Math.min(to, start + p.maxWindowMs) });
  }
  return { windows, gap };
}
