/**
 * Batch evaluation of a compiled query over a finite set of events (tests, `replay`, conformance):
 * orders events as Elasticsearch does, runs the event filter / sequence matcher / sampler and
 * applies the `head`/`tail` pipes and the search API's `size` the way ES does.
 *
 * `size`: the ES API defaults to 10 (`ES_DEFAULT_SIZE`) and Kibana sends `max_signals`; this
 * function applies no size limit unless given one, so callers state what they emulate.
 * `resultPosition` (ES `result_position`, default `tail`): which matches survive `size` for event
 * and sequence queries (most recent vs earliest); results stay in ascending order either way.
 * Samples ignore it: ES stops after the first `size` samples.
 */
import type { Pipe } from './ast.js';
import type { CompiledQuery, EqlEvent } from './compiled.js';
import { compareOrdinal } from './ordering.js';
import { runSample, type SampleMatch } from './sample.js';
import { SequenceMatcher, type SequenceMatch, type SequenceStats } from './sequence.js';

/** Elasticsearch's default `size` for the EQL search API. */
export const ES_DEFAULT_SIZE = 10;

export interface EvaluateOptions {
  /** ES API `size` (no limit when absent; pass `ES_DEFAULT_SIZE` to emulate a bare API call). */
  size?: number;
  /** ES API `result_position`; default `tail`. */
  resultPosition?: 'head' | 'tail';
  /** ES `max_samples_per_key` for sample queries (default 1). */
  maxSamplesPerKey?: number;
  /** Passed to the sequence matcher (default 10 000 pending keys per stage). */
  maxPendingPerStage?: number;
}

export type EvalResult =
  | { kind: 'events'; events: EqlEvent[] }
  | { kind: 'sequences'; sequences: SequenceMatch[]; stats: SequenceStats }
  | { kind: 'samples'; samples: SampleMatch[] };

/**
 * Events in ES ordinal order: timestamp ascending (absent/unparseable timestamps last), equal
 * timestamps by tiebreaker (non-null before null), then input order (stable).
 */
export function sortByOrdinal(compiled: CompiledQuery, events: Iterable<EqlEvent>): EqlEvent[] {
  const rows: { ts: number; tb: unknown; i: number; e: EqlEvent }[] = [];
  let i = 0;
  for (const e of events) {
    const ts = compiled.timestampOf(e);
    const tb = compiled.tiebreakerOf(e);
    rows.push({ ts: Number.isFinite(ts) ? ts : Infinity, tb: tb === undefined ? null : tb, i: i++, e });
  }
  rows.sort((a, b) => {
    if (a.ts === Infinity || b.ts === Infinity) {
      if (a.ts !== b.ts) return a.ts === Infinity ? 1 : -1;
      return a.i - b.i;
    }
    return compareOrdinal(a.ts, a.tb, a.i, b.ts, b.tb, b.i);
  });
  return rows.map((r) => r.e);
}

/** Apply `head`/`tail` pipes in order, then `size` from the chosen end. */
export function applyLimits<T>(items: T[], pipes: readonly Pipe[], size: number | undefined, position: 'head' | 'tail'): T[] {
  let out = items;
  for (const p of pipes) out = p.kind === 'head' ? out.slice(0, Math.max(0, p.count)) : takeLast(out, p.count);
  if (size !== undefined) out = position === 'head' ? out.slice(0, Math.max(0, size)) : takeLast(out, size);
  return out;
}

function takeLast<T>(items: T[], n: number): T[] {
  if (n <= 0) return [];
  return items.length <= n ? items : items.slice(items.length - n);
}

export function evaluate(compiled: CompiledQuery, events: Iterable<EqlEvent>, opts: EvaluateOptions = {}): EvalResult {
  const position = opts.resultPosition ?? 'tail';
  if (compiled.kind === 'sample') {
    const all = runSample(compiled, events, { maxSamplesPerKey: opts.maxSamplesPerKey ?? 1 });
    let samples = applyLimits(all, compiled.pipes, undefined, 'head');
    if (opts.size !== undefined) samples = samples.slice(0, Math.max(0, opts.size));
    return { kind: 'samples', samples };
  }
  const ordered = sortByOrdinal(compiled, events);
  if (compiled.kind === 'event') {
    const predicate = compiled.predicate;
    if (predicate === undefined) throw new Error('Compiled event query has no predicate');
    // Events without a usable timestamp are kept, sorted last (UNCONFIRMED how ES treats them).
    const matched = ordered.filter(predicate);
    return { kind: 'events', events: applyLimits(matched, compiled.pipes, opts.size, position) };
  }
  // A leading `head N` lets the matcher stop early (ES head mode); the result is the same.
  const first = compiled.pipes[0];
  const headLimit = first !== undefined && first.kind === 'head' ? first.count : null;
  const matcher = new SequenceMatcher(compiled, {
    headLimit,
    ...(opts.maxPendingPerStage !== undefined ? { maxPendingPerStage: opts.maxPendingPerStage } : {}),
  });
  for (const e of ordered) {
    matcher.push(e);
    if (matcher.isDone) break;
  }
  matcher.flush();
  const sequences = applyLimits(matcher.drain(), compiled.pipes, opts.size, position);
  return { kind: 'sequences', sequences, stats: { ...matcher.stats } };
}
