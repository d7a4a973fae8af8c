/**
 * Reading one stretch of a rule's read field from a run's snapshot on the rule's own (what a group's shared
 * reads fall back to, see group-run.ts) with its fallbacks, and the fresh evaluation of a stretch (late
 * arrivals, repairs, rescans).
 *
 * A query the cluster rejects never blocks a rule: the read is retried with the next, broader query of
 * its ladder (narrowed ► all candidates ► the whole stretch, evaluated locally), which is counted and
 * logged by the caller. A read that is incomplete for any other reason throws: the run fails and the
 * window is read again by the next run.
 */
import { MATCH_ALL, type QueryDsl } from '../eql/pushdown.js';
import { QueryRejectedError, type Hit, type ReadSnapshot } from '../es/snapshot.js';
import { newEngine, type PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleMatch } from './rule-engine.js';
import { windowed, type ReadField, type RuleFilters } from './rule-reads.js';

export interface ReadContext {
  snapshot: ReadSnapshot;
  field: ReadField;
  filters: RuleFilters;
  prepared: PreparedRule;
  pageSize: number;
  maxPendingSequences: number;
  /** A query was rejected and a broader one used instead. */
  onFallback: (what: string, reason: string) => void;
}

export interface Stretch {
  from: number;
  to: number;
}

export interface WindowOutcome {
  /** At most `limit` matches, earliest first. */
  matches: RuleMatch[];
  /** Every match found (beyond `limit` only counted). */
  totalMatches: number;
  eventsRead: number;
}

const stripSort = (h: Hit): EngineHit => ({ _index: h._index, _id: h._id, _source: h._source });

/** Pages of `[from, to)` under the first filter of `ladder` the cluster accepts. */
export async function* readStretch(
  ctx: ReadContext,
  s: { from: number | null; to: number },
  ladder: { name: string; filter: QueryDsl }[],
  sourceFields?: string[],
): AsyncGenerator<Hit[]> {
  for (let i = 0; i < ladder.length; i++) {
    const step = ladder[i]!;
    let yielded = false;
    try {
      const pages = ctx.snapshot.read({
        query: windowed(ctx.field, s.from, s.to, step.filter),
        sort: ctx.field.sort,
        pageSize: ctx.pageSize,
        ...(sourceFields ? { sourceFields } : {}),
      });
      for await (const page of pages) {
        yielded = true;
        yield page;
      }
      return;
    } catch (e) {
      // A rejection is decided when the query is first parsed on each shard, i.e. before the first page;
      // one later on cannot be retried without re-reading what was already evaluated.
      if (!(e instanceof QueryRejectedError) || yielded || i === ladder.length - 1) throw e;
      ctx.onFallback(`${step.name} → ${ladder[i + 1]!.name}`, e.reason);
    }
  }
}

const candidatesLadder = (f: RuleFilters) => [
  { name: 'pushed-down filter', filter: f.all },
  { name: 'time range only', filter: MATCH_ALL },
];

class Collector {
  readonly matches: RuleMatch[] = [];
  total = 0;
  add(found: RuleMatch[]): void {
    this.total += found.length;
    this.matches.push(...found);
  }
}

/** Above this many distinct join keys a window is read without key narrowing. */
export const MAX_NARROWING_KEYS = 10_000;

/** Upper bound of events one fresh evaluation (late arrivals, repairs) reads. */
export const FRESH_MAX_EVENTS = 100_000;

/**
 * A fresh evaluation of `[from, to)` with a new engine (no stored state): what `replay` would find over
 * those events. `complete` is false when the read stopped at FRESH_MAX_EVENTS.
 */
export async function evaluateFresh(ctx: ReadContext, s: Stretch): Promise<WindowOutcome & { complete: boolean }> {
  const engine = newEngine(ctx.prepared, { maxPendingPerStage: ctx.maxPendingSequences });
  const out = new Collector();
  let eventsRead = 0;
  let complete = true;
  for await (const page of readStretch(ctx, s, candidatesLadder(ctx.filters))) {
    eventsRead += page.length;
    out.add(engine.consume(page.map(stripSort)));
    if (eventsRead >= FRESH_MAX_EVENTS) {
      complete = false;
      break;
    }
  }
  out.add(engine.flush());
  return { matches: out.matches, totalMatches: out.total, eventsRead, complete };
}
