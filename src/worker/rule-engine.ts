/**
 * Evaluates one rule over a stream of windows of hits: the piece shared by the Elasticsearch worker and
 * `replay`, so both produce the same matches. Pure (no I/O); its state is a plain JSON object the worker
 * stores with the rule's checkpoint, so sequences that straddle two runs (or a restart) are still found once.
 */
import type { CompiledQuery, EqlEvent, KeyTuple } from '../eql/compiled.js';
import { SequenceMatcher, type SequenceState, type SequenceStats } from '../eql/sequence.js';
import { compareOrdinal } from '../eql/ordering.js';

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

export interface RuleEngineState {
  version: 1;
  matcher: SequenceState | null;
  /** Hits read but not yet released to the matcher because they are newer than the watermark. */
  held: EngineHit[];
  /** Time the matcher has passed: an event stamped before it is late (null: nothing yet). */
  horizon?: number | null;
}

export interface RuleEngineOptions {
  /**
   * Sequence rules only: events whose timestamp is within this much of the window's end are held until the
   * next window, so events from slower shippers that arrive a little later still join in timestamp order.
   */
  reorderSlackMs: number;
  maxPendingPerStage: number;
}

/** At most this many late hits are kept per run for the worker to re-evaluate (see `takeLate`). */
export const MAX_LATE_KEPT = 10_000;

export interface RuleEngineStats {
  eventsRead: number;
  /** Late hits that did not fit in the re-evaluation buffer. */
  lateOverflow: number;
  excluded: number;
  held: number;
  sequence: SequenceStats | null;
}

export class RuleEngine {
  private readonly matcher: SequenceMatcher | null;
  private held: EngineHit[];
  private excluded = 0;
  private eventsRead = 0;
  private horizon: number;
  private late: EngineHit[] = [];
  private lateOverflow = 0;

  constructor(
    private readonly compiled: CompiledQuery,
    /** Exception predicates: an event matching any of them is ignored entirely (Kibana semantics). */
    private readonly exceptions: ((event: EqlEvent) => boolean)[],
    private readonly options: RuleEngineOptions,
    state?: RuleEngineState | null,
  ) {
    if (compiled.kind === 'sample') throw new Error('sample rules are evaluated per window by evaluateSampleRule (sample-rule.ts), not by the streaming engine');
    if (compiled.kind === 'sequence') {
      const matcherOptions = { maxPendingPerStage: options.maxPendingPerStage };
      this.matcher = state?.matcher
        ? SequenceMatcher.restore(compiled, state.matcher, matcherOptions)
        : new SequenceMatcher(compiled, matcherOptions);
    } else {
      this.matcher = null;
    }
    this.held = state?.held ?? [];
    this.horizon = state?.horizon ?? -Infinity;
  }

  /**
   * Hits of a sequence rule that arrived after the matcher had passed their timestamp (so it could not use
   * them) since the last call. The worker re-evaluates them over Elasticsearch; see execute.ts.
   */
  takeLate(): EngineHit[] {
    const out = this.late;
    this.late = [];
    return out;
  }

  /**
   * Consumes the hits of one window `[.., windowEnd)` in any order and returns the matches that are
   * final. `final` (replay, or a rule with no later window) releases everything held.
   */
  consume(hits: EngineHit[], windowEnd: number, final = false): RuleMatch[] {
    this.eventsRead += hits.length;
    const kept: EngineHit[] = [];
    for (const hit of hits) {
      hit._source[HIT_REF] = { _index: hit._index, _id: hit._id };
      if (this.exceptions.some((ex) => ex(hit._source))) this.excluded++;
      else kept.push(hit);
    }
    if (this.matcher === null) {
      const predicate = this.compiled.predicate!;
      return this.sorted(kept.filter((h) => predicate(h._source))).map(({ h }) => ({ kind: 'event', hit: h }));
    }
    const watermark = final ? Infinity : windowEnd - this.options.reorderSlackMs;
    const release: Row[] = [];
    const held: EngineHit[] = [];
    // Half-open like the windows: an event stamped exactly at the watermark may still arrive with the next
    // window (e.g. reorderSlack 0 and @timestamp == window end), so it is held, not released. Events with no
    // usable timestamp can never be ordered: they go to the matcher, which counts them.
    for (const row of this.sorted([...this.held, ...kept])) {
      if (Number.isFinite(row.ts) && row.ts >= watermark) held.push(row.h);
      else release.push(row);
    }
    this.held = held;
    for (const { h, ts } of release) {
      if (ts < this.horizon) {
        // Too late for the matcher; kept for re-evaluation if a stage (or until) could use it at all.
        if (this.usable(h._source)) {
          if (this.late.length < MAX_LATE_KEPT) this.late.push(h);
          else this.lateOverflow++;
        }
      } else if (ts > this.horizon) this.horizon = ts;
      this.matcher.push(h._source);
    }
    if (Number.isFinite(watermark) && watermark > this.horizon) this.horizon = watermark;
    if (final) this.matcher.flush();
    // Everything below the watermark is pushed; `advanceTo(t)` promises every event <= t, so stay 1 ms below.
    else if (Number.isFinite(watermark)) this.matcher.advanceTo(watermark - 1);
    return this.matcher.drain().map((m) => ({ kind: 'sequence', hits: m.events.map(toHit) }));
  }

  /**
   * Join keys a sequence could still continue with: those of pending partial sequences and of held events
   * that can start one (what later stages may be narrowed to).
   */
  pendingJoinKeys(): KeyTuple[] {
    if (this.matcher === null) return [];
    const first = this.compiled.stages[0]!;
    const keys = this.matcher.pendingKeys();
    for (const h of this.held) if (first.predicate(h._source)) keys.push(...first.keys(h._source));
    return keys;
  }

  snapshot(): RuleEngineState {
    return {
      version: 1,
      matcher: this.matcher?.snapshot() ?? null,
      held: this.held,
      horizon: Number.isFinite(this.horizon) ? this.horizon : null,
    };
  }

  get stats(): RuleEngineStats {
    return {
      eventsRead: this.eventsRead,
      lateOverflow: this.lateOverflow,
      excluded: this.excluded,
      held: this.held.length,
      sequence: this.matcher ? { ...this.matcher.stats } : null,
    };
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

  private usable(event: EqlEvent): boolean {
    return this.compiled.stages.some((s) => s.predicate(event)) || (this.compiled.until?.predicate(event) ?? false);
  }
}

interface Row {
  h: EngineHit;
  ts: number;
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
