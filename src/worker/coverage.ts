/**
 * The audit of what a rule has already read: each processed stretch of its read field (a window), with
 * the number of candidate documents Elasticsearch held in it when it was read. Every run counts the same
 * stretches again in the run's point in time (one aggregation request); a stretch whose count rose holds
 * documents that became searchable after it was read (refresh lag, a shipper's backlog, a node that was
 * down): the run reads that stretch again. So a document is never lost because it arrived late, up to the
 * audit horizon, and beyond the horizon its arrival is still seen (the `older` count) and reported.
 *
 * Counts are only comparable under the same candidate filter: when the filter changes (a mapping change
 * alters the pushdown, a rule edit), the counts are taken afresh as the new baseline.
 *
 * Pure: the worker supplies the counts (src/es/snapshot.ts) and acts on the result.
 */

export interface CoveredRange {
  from: number;
  to: number;
  /** Candidate documents in [from, to) when last read. */
  count: number;
}

export interface Coverage {
  /** Identifies the candidate filter and read field the counts were taken with. */
  filterId: string;
  /** Candidates older than the first range (beyond the audit horizon), as last counted. */
  older: number;
  /** Contiguous, ascending; the last `to` is the rule's read frontier. */
  ranges: CoveredRange[];
  /** When the counts were last taken. */
  auditedAt: number;
}

/** What the counts of one run say. */
export interface Audit {
  /** Ranges holding more candidates than when they were read: to be read again. */
  grown: (CoveredRange & { added: number })[];
  /** New candidates older than the audit horizon (not read again: reported). */
  olderAdded: number;
  /** Candidates that disappeared (deleted, index removed); informational. */
  removed: number;
  /** The filter changed since the counts were taken: this run's counts are the new baseline. */
  rebaselined: boolean;
}

export interface CoverageLimits {
  /** Ranges older than this (by `to`, before `now`) leave the audit; their count joins `older`. */
  horizonMs: number;
  /** Upper bound of ranges kept: older adjacent ranges are merged beyond it. */
  maxRanges: number;
  /** Ranges this recent are never merged (re-reading them after a refresh lag stays small). */
  fineMs: number;
}

export const DEFAULT_MAX_RANGES = 48;

export const emptyCoverage = (filterId: string, older = 0, now = 0): Coverage => ({ filterId, older, ranges: [], auditedAt: now });

/**
 * Compares fresh counts (`older`, then one per range, as `auditBuckets` lists them) with the stored ones.
 * Returns the audit and the coverage with the fresh counts (the grown ranges are about to be read again
 * in the same point in time, so their fresh counts are what will have been read).
 */
export function compareCounts(c: Coverage, filterId: string, older: number, counts: readonly number[], now: number): { audit: Audit; coverage: Coverage } {
  if (counts.length !== c.ranges.length) throw new Error(`expected ${c.ranges.length} counts, got ${counts.length}`);
  const ranges = c.ranges.map((r, i) => ({ ...r, count: counts[i]! }));
  const coverage: Coverage = { filterId, older, ranges, auditedAt: now };
  if (filterId !== c.filterId) return { audit: { grown: [], olderAdded: 0, removed: 0, rebaselined: true }, coverage };
  const grown: Audit['grown'] = [];
  let removed = 0;
  c.ranges.forEach((r, i) => {
    const d = counts[i]! - r.count;
    if (d > 0) grown.push({ ...ranges[i]!, added: d });
    else removed -= d;
  });
  const olderDelta = older - c.older;
  if (olderDelta < 0) removed -= olderDelta;
  return { audit: { grown, olderAdded: Math.max(0, olderDelta), removed, rebaselined: false }, coverage };
}

/** Appends a newly read window (it must start where coverage ends, or coverage must be empty). */
export function addRange(c: Coverage, r: CoveredRange): Coverage {
  const last = c.ranges[c.ranges.length - 1];
  if (last && r.from !== last.to) throw new Error(`coverage must stay contiguous: ${r.from} after ${last.to}`);
  if (r.to <= r.from) return c;
  return { ...c, ranges: [...c.ranges, r] };
}

/**
 * Keeps the coverage bounded: ranges that ended before `now - horizonMs` leave it (their count joins
 * `older`); beyond `maxRanges`, the adjacent pair of not-recent ranges spanning the least time is merged.
 */
export function compact(c: Coverage, now: number, limits: CoverageLimits): Coverage {
  let older = c.older;
  let ranges = c.ranges;
  const cut = now - limits.horizonMs;
  let drop = 0;
  // Always keep the last range: it carries the frontier.
  while (drop < ranges.length - 1 && ranges[drop]!.to <= cut) older += ranges[drop++]!.count;
  if (drop > 0) ranges = ranges.slice(drop);
  if (ranges.length > limits.maxRanges) {
    ranges = [...ranges];
    const fine = now - limits.fineMs;
    while (ranges.length > limits.maxRanges) {
      let best = -1;
      let bestSpan = Infinity;
      for (let i = 0; i + 1 < ranges.length; i++) {
        if (ranges[i + 1]!.to > fine) break;
        const span = ranges[i + 1]!.to - ranges[i]!.from;
        if (span < bestSpan) {
          bestSpan = span;
          best = i;
        }
      }
      // Everything recent: merge the two oldest regardless (the bound is what keeps the state small).
      if (best < 0) best = 0;
      const a = ranges[best]!;
      const b = ranges[best + 1]!;
      ranges.splice(best, 2, { from: a.from, to: b.to, count: a.count + b.count });
    }
  }
  return { ...c, older, ranges };
}
