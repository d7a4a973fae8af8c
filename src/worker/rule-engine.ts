/**
 * Evaluates one rule over the candidate events of its windows: the piece shared by the Elasticsearch worker
 * and `replay`, so both produce the same matches. Pure (no I/O).
 *
 * Single-event rules match event by event, in any order. Sequence rules need events in `@timestamp`
 * (ordinal) order; the worker reads each window sorted by `@timestamp` and only after the rule's
 * lateness tolerance has passed (see execute.ts), so Elasticsearch itself is the reorder buffer and the
 * engine never holds events across windows. Within one read, rows stamped with a page's last timestamp
 * wait for the next page, so equal timestamps are ordered here (tiebreaker, then index and id), exactly
 * as `replay` orders them, whatever shard order Elasticsearch returned them in.
 *
 * The state (pending partial sequences) is a plain JSON object the worker stores with the checkpoint. It
 * is kept small and bounded: events are stored as references (index and id) and their documents fetched
 * again only for the rare sequence that completes with them after a restart (see hydrate.ts), and the
 * state's size is capped (`maxStateBytes`, oldest pending sequences evicted, counted and logged).
 */
import type { CompiledQuery, EqlEvent, KeyTuple } from '../eql/compiled.js';
import { compareOrdinal } from '../eql/ordering.js';
import { SequenceMatcher, type SequenceState, type SequenceStats } from '../eql/sequence.js';

export interface EngineHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

export type RuleMatch = { kind: 'event'; hit: EngineHit } | { kind: 'sequence'; hits: EngineHit[] };

/**
 * Key under which a hit's identity travels inside its `_source` through the sequence matcher (and its
 * serialised state). The NUL prefix keeps it out of reach of any EQL field path; it is always overwritten,
 * so an event cannot forge it, and alerts never carry it (alerts/build.ts `cleanSource` drops NUL-prefixed keys).
 */
export const HIT_REF = '\u0000eqlwatch.hit';
/** Marks a stored event reduced to its reference: its document must be fetched before it is alerted. */
export const SLIM = '\u0000eqlwatch.slim';

export interface RuleEngineState {
  version: 2;
  matcher: SequenceState | null;
}

export interface RuleEngineOptions {
  /** Pending partial sequences kept per stage (oldest evicted beyond it). */
  maxPendingPerStage: number;
  /** Largest serialised state; beyond it the oldest pending sequences are evicted. */
  maxStateBytes?: number;
}

export const DEFAULT_MAX_STATE_BYTES = 8 * 1024 * 1024;

export interface RuleEngineStats {
  eventsRead: number;
  excluded: number;
  /**
   * Events Elasticsearch returned after an event stamped later had been evaluated (a multi-valued or
   * unparseable `@timestamp`, or a date format the engine reads differently): evaluated, but possibly
   * out of order. Logged by the worker.
   */
  outOfOrder: number;
  /** Pending sequences evicted to keep the state under `maxStateBytes`. */
  evictedForSize: number;
  /** The same document returned twice at one timestamp (a page boundary): evaluated once. */
  repeated: number;
  sequence: SequenceStats | null;
}

interface Row {
  h: EngineHit;
  ts: number;
  tb: unknown;
}

export class RuleEngine {
  private readonly matcher: SequenceMatcher | null;
  private held: Row[] = [];
  private excluded = 0;
  private eventsRead = 0;
  private outOfOrder = 0;
  private evictedForSize = 0;
  /** Timestamp of the last row handed to the matcher in this engine's life, and the documents at it. */
  private released = -Infinity;
  private releasedIds = new Set<string>();
  private repeated = 0;

  constructor(
    private readonly compiled: CompiledQuery,
    /** Exception predicates: an event matching any of them is ignored entirely (Kibana semantics). */
    private readonly exceptions: ((event: EqlEvent) => boolean)[],
    private readonly options: RuleEngineOptions,
    state?: RuleEngineState | null,
  ) {
    if (compiled.kind === 'sample') throw new Error('sample queries are evaluated per window, not by the streaming engine');
    if (compiled.kind === 'sequence') {
      const matcherOptions = { maxPendingPerStage: options.maxPendingPerStage };
      this.matcher = state?.matcher
        ? SequenceMatcher.restore(compiled, state.matcher, matcherOptions)
        : new SequenceMatcher(compiled, matcherOptions);
    } else {
      this.matcher = null;
    }
  }

  /**
   * One page of a window's candidates, in Elasticsearch's `@timestamp` order (any order for single-event
   * rules, and for a whole stream followed by `flush`). Returns the matches that are final.
   */
  consume(hits: EngineHit[]): RuleMatch[] {
    const kept = this.admit(hits);
    if (this.matcher === null) {
      const predicate = this.compiled.predicate!;
      return this.sorted(kept.filter((h) => predicate(h._source))).map(({ h }) => ({ kind: 'event', hit: h }));
    }
    const rows = this.sorted([...this.held.map((r) => r.h), ...kept]);
    // The next page starts at this page's last timestamp at the earliest: rows stamped with it wait.
    let last = -Infinity;
    for (const r of rows) if (Number.isFinite(r.ts) && r.ts > last) last = r.ts;
    const release: Row[] = [];
    this.held = [];
    for (const r of rows) {
      if (Number.isFinite(r.ts) && r.ts === last) this.held.push(r);
      else release.push(r);
    }
    this.push(release);
    return this.drain();
  }

  /**
   * Every candidate stamped before `upTo` has been consumed (the end of a window's read): releases what
   * waited for the next page and lets time pass, deciding trailing missing-event checks and expiring
   * sequences that can no longer complete.
   */
  complete(upTo: number): RuleMatch[] {
    if (this.matcher === null) return [];
    this.push(this.held);
    this.held = [];
    // `advanceTo(t)` promises every event at or before t; the next window starts at `upTo` itself.
    this.matcher.advanceTo(upTo - 0.001);
    return this.drain();
  }

  /** End of the stream (`replay`, a rescan): everything pending is decided. */
  flush(): RuleMatch[] {
    if (this.matcher === null) return [];
    this.push(this.held);
    this.held = [];
    this.matcher.flush();
    return this.drain();
  }

  /** Join keys a sequence could still continue with (what later stages may be narrowed to). */
  pendingJoinKeys(): KeyTuple[] {
    return this.matcher?.pendingKeys() ?? [];
  }

  /**
   * The state to store: pending sequences with their events reduced to references, within
   * `maxStateBytes` (the oldest pending sequences are evicted, and counted, when it would not fit).
   */
  snapshot(): RuleEngineState {
    if (this.matcher === null) return { version: 2, matcher: null };
    // Rows waiting for the next page are not part of the state: a window must be completed first.
    if (this.held.length > 0) throw new Error('RuleEngine.snapshot() with events waiting for the next page: call complete() first');
    const budget = this.options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES;
    for (;;) {
      const state = slim(this.matcher.snapshot());
      const size = Buffer.byteLength(JSON.stringify(state));
      if (size <= budget || this.matcher.pendingCount === 0) return { version: 2, matcher: state };
      // Evict in proportion to the excess (at least one), oldest first.
      const excess = Math.max(1, Math.ceil(this.matcher.pendingCount * (1 - budget / size)));
      this.evictedForSize += this.matcher.evictOldest(excess);
    }
  }

  get stats(): RuleEngineStats {
    return {
      eventsRead: this.eventsRead,
      excluded: this.excluded,
      outOfOrder: this.outOfOrder,
      evictedForSize: this.evictedForSize,
      repeated: this.repeated,
      sequence: this.matcher ? { ...this.matcher.stats } : null,
    };
  }

  private admit(hits: EngineHit[]): EngineHit[] {
    this.eventsRead += hits.length;
    const kept: EngineHit[] = [];
    for (const hit of hits) {
      hit._source[HIT_REF] = { _index: hit._index, _id: hit._id };
      if (this.exceptions.some((ex) => ex(hit._source))) this.excluded++;
      else kept.push(hit);
    }
    return kept;
  }

  private push(rows: Row[]): void {
    const m = this.matcher!;
    for (const r of rows) {
      if (Number.isFinite(r.ts)) {
        if (r.ts < this.released) this.outOfOrder++;
        else {
          if (r.ts > this.released) this.releasedIds.clear();
          this.released = r.ts;
          const id = `${r.h._index}\u0000${r.h._id}`;
          if (this.releasedIds.has(id)) {
            this.repeated++;
            continue;
          }
          this.releasedIds.add(id);
        }
      }
      m.push(r.h._source);
    }
  }

  private drain(): RuleMatch[] {
    return this.matcher!.drain().map((m) => ({ kind: 'sequence', hits: m.events.map(toHit) }));
  }

  /** ES ordinal order: timestamp, tiebreaker, then a stable document order (index, id). */
  private sorted(hits: EngineHit[]): Row[] {
    const c = this.compiled;
    const rows = hits.map((h) => ({ h, ts: c.timestampOf(h._source), tb: c.tiebreakerOf(h._source) ?? null }));
    rows.sort((a, b) => {
      const at = Number.isFinite(a.ts) ? a.ts : Infinity;
      const bt = Number.isFinite(b.ts) ? b.ts : Infinity;
      if (at !== bt) return at < bt ? -1 : 1;
      const byTb = at === Infinity ? 0 : compareOrdinal(at, a.tb, 0, bt, b.tb, 0);
      if (byTb !== 0) return byTb;
      return docOrder(a.h, b.h);
    });
    return rows;
  }
}

/** The matcher's state with every stored event reduced to its reference. */
function slim(state: SequenceState): SequenceState {
  return {
    ...state,
    events: state.events.map(([seq, ts, tb, event]) => [seq, ts, tb, { [HIT_REF]: event[HIT_REF], [SLIM]: true }]),
    ready: state.ready.map((m) => ({ ...m, events: m.events.map((e) => ({ [HIT_REF]: e[HIT_REF], [SLIM]: true })) })),
  };
}

function docOrder(a: EngineHit, b: EngineHit): number {
  if (a._index !== b._index) return a._index < b._index ? -1 : 1;
  return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
}

function toHit(event: EqlEvent): EngineHit {
  const ref = event[HIT_REF] as { _index: string; _id: string } | undefined;
  if (!ref) throw new Error('sequence event lost its hit reference');
  return { _index: ref._index, _id: ref._id, _source: event as Record<string, unknown> };
}

/** True when a matched hit's document was reduced to its reference in stored state. */
export function isSlim(hit: EngineHit): boolean {
  return hit._source[SLIM] === true;
}
