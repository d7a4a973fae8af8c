/**
 * Reading one stretch of a rule's read field from a run's snapshot and evaluating it: the candidate read
 * with its fallbacks, the keys pass and key-narrowed read of sequences, and the fresh evaluation of a
 * stretch (late arrivals, repairs).
 *
 * A query the cluster rejects never blocks a rule: the read is retried with the next, broader query of
 * its ladder (narrowed ► all candidates ► the whole stretch, evaluated locally), which is counted and
 * logged by the caller. A read that is incomplete for any other reason throws: the run fails and the
 * window is read again by the next run.
 */
import type { KeyTuple } from '../eql/compiled.js';
import { MATCH_ALL, type QueryDsl } from '../eql/pushdown.js';
import { QueryRejectedError, type Hit, type ReadSnapshot } from '../es/snapshot.js';
import { newEngine, type PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleEngine, RuleMatch } from './rule-engine.js';
import { narrowedFilter, windowed, type ReadField, type RuleFilters } from './rule-reads.js';

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
  constructor(private readonly limit: number) {}
  add(found: RuleMatch[]): void {
    this.total += found.length;
    for (const m of found) if (this.matches.length < this.limit) this.matches.push(m);
  }
}

/** A single-event rule's window: every candidate, matched one by one. */
export async function evaluateEventWindow(ctx: ReadContext, engine: RuleEngine, w: Stretch, limit: number): Promise<WindowOutcome> {
  const out = new Collector(limit);
  let eventsRead = 0;
  for await (const page of readStretch(ctx, w, candidatesLadder(ctx.filters))) {
    eventsRead += page.length;
    out.add(engine.consume(page.map(stripSort)));
  }
  return { matches: out.matches, totalMatches: out.total, eventsRead };
}

/** Above this many distinct join keys a window is read without key narrowing. */
export const MAX_NARROWING_KEYS = 10_000;

/**
 * A sequence rule's window, in `@timestamp` order. With join keys, a keys-only first pass collects the
 * keys that can start a sequence here; with the keys of sequences still pending, they narrow the later
 * stages so Elasticsearch returns only events that can join (a sound superset).
 */
export async function evaluateSequenceWindow(ctx: ReadContext, engine: RuleEngine, w: Stretch, limit: number): Promise<WindowOutcome> {
  const out = new Collector(limit);
  let eventsRead = 0;
  const ladder = candidatesLadder(ctx.filters);
  const n = ctx.filters.narrowing;
  if (n) {
    const keys = await joinKeysOf(ctx, engine, w);
    if (keys !== null) ladder.unshift({ name: 'key-narrowed filter', filter: narrowedFilter(ctx.filters, keys) });
  }
  for await (const page of readStretch(ctx, w, ladder)) {
    eventsRead += page.length;
    out.add(engine.consume(page.map(stripSort)));
  }
  out.add(engine.complete(w.to));
  return { matches: out.matches, totalMatches: out.total, eventsRead };
}

/** Keys of pending sequences and of this window's first-stage candidates; null: do not narrow. */
async function joinKeysOf(ctx: ReadContext, engine: RuleEngine, w: Stretch): Promise<KeyTuple[] | null> {
  const n = ctx.filters.narrowing!;
  const first = ctx.prepared.compiled.stages[0]!;
  const keys = new Map<string, KeyTuple>();
  const add = (tuples: readonly KeyTuple[]) => {
    for (const t of tuples) keys.set(JSON.stringify(t), t);
  };
  add(engine.pendingJoinKeys());
  try {
    const fields = [...n.firstKeyFields, ctx.prepared.rule.eventCategoryField];
    for await (const page of readStretch(ctx, w, [{ name: 'first-stage keys', filter: n.first }], fields)) {
      for (const h of page) add(first.keys(h._source));
      if (keys.size > MAX_NARROWING_KEYS) return null;
    }
  } catch (e) {
    if (!(e instanceof QueryRejectedError)) throw e;
    ctx.onFallback('first-stage keys → no key narrowing', e.reason);
    return null;
  }
  return [...keys.values()];
}

/** Upper bound of events one fresh evaluation (late arrivals, repairs) reads. */
export const FRESH_MAX_EVENTS = 100_000;

/**
 * A fresh evaluation of `[from, to)` with a new engine (no stored state): what `replay` would find over
 * those events. Returns null matches... never: `complete` is false when the read stopped at FRESH_MAX_EVENTS.
 */
export async function evaluateFresh(ctx: ReadContext, s: Stretch): Promise<WindowOutcome & { complete: boolean }> {
  const engine = newEngine(ctx.prepared, { maxPendingPerStage: ctx.maxPendingSequences });
  const out = new Collector(Infinity);
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
