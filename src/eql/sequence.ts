/**
 * Incremental EQL sequence matcher reproducing Elasticsearch's `SequenceMatcher` /
 * `TumblingWindow` semantics on a stream of events pushed in ordinal order.
 *
 * ES keeps, per stage and join key, a list of pending sequences; a hit of stage s takes the latest
 * pending sequence of the previous positive stage whose last event precedes it and drops it together
 * with every older one (`OrdinalGroup.trimBefore`). With events consumed in ordinal order only the
 * latest pending sequence per (stage, key) can ever be taken again, so each stage keeps one slot per
 * key; a hit matching several stages is applied from the last stage to the first so that it extends
 * the previous occupant before (possibly) replacing it, exactly as ES's stage-by-stage queries do.
 *
 * Missing events (`![…]`) follow `TumblingWindow.doCheckMissingEvents`: leading/middle checks are
 * decided when the positive sequence completes; a trailing check is decided once time has passed the
 * point where a trailing hit could still reject it (`advanceTo`, a later event, or `flush`).
 */
import type { CompiledQuery, CompiledStage, EqlEvent, KeyTuple } from './compiled.js';
import { compareKeys, compareOrdinal, tupleId } from './ordering.js';

export interface SequenceMatch {
  /** Join key values (sequence `by` keys then per-stage keys), as ES returns them in `join_keys`. */
  joinKeys: unknown[];
  /** Events of the positive stages, in stage order (missing stages are not included). */
  events: EqlEvent[];
}

export interface SequenceMatcherOptions {
  /** Maximum pending keys kept per stage (and per missing stage history); oldest evicted. */
  maxPendingPerStage?: number;
  /** Stop after this many completed sequences (ES head mode), or null for no limit. */
  headLimit?: number | null;
}

export interface SequenceStats {
  /** Events consumed (with a usable timestamp, in order). */
  eventsSeen: number;
  /** Events ignored because their timestamp is absent or not a number. */
  ignoredNoTimestamp: number;
  /** Events ignored because they arrived after a later ordinal or at/below the watermark. */
  lateEvents: number;
  /** Pending sequences or missing-event histories dropped because a stage exceeded its cap. */
  evicted: number;
  /** Pending sequences dropped because they could no longer complete within maxspan. */
  expired: number;
  /** Stage hits that found no pending sequence to extend. */
  ignoredHits: number;
  rejectedMaxspan: number;
  rejectedUntil: number;
  rejectedMissing: number;
  /** Sequences completed and accepted (released to `drain`). */
  completed: number;
}

const DEFAULT_MAX_PENDING = 10_000;
const STATE_VERSION = 1;

interface Hit {
  seq: number;
  ts: number;
  tb: unknown;
  event: EqlEvent;
}

interface PendingSeq {
  key: KeyTuple;
  id: string;
  /** Hit per stage index (undefined for missing stages and stages not reached yet). */
  hits: (Hit | undefined)[];
  start: Hit;
  last: Hit;
}

type EntryState = 'pending' | 'accepted' | 'rejected';

interface QueueEntry {
  seq: PendingSeq;
  state: EntryState;
  /** Trailing window (low, deadline]: a trailing missing-stage hit in it rejects the sequence. */
  low: number;
  deadline: number;
}

type MissingKind = 'leading' | 'middle' | 'trailing';

/** Plain JSON-serialisable matcher state (see `snapshot` / `restore`). */
export interface SequenceState {
  version: number;
  fingerprint: string;
  options: { maxPendingPerStage: number; headLimit: number | null };
  nextSeq: number;
  lastTs: number | null;
  lastTb: unknown;
  /** Watermark in ms; null stands for -Infinity, 'end' for +Infinity (after flush). */
  watermark: number | null | 'end';
  lastPruneAt: number | null;
  acceptedCount: number;
  done: boolean;
  /** Interned events: [seq, ts, tiebreaker, event]. */
  events: [number, number, unknown, EqlEvent][];
  /** Per stage index: pending sequences in slot order as [keyId, key, hit seq per stage (null = none)]. */
  slots: [string, unknown[], (number | null)[]][][];
  until: [string, number][];
  /** Per stage index (missing stages only): [keyId, timestamps] in map order. */
  missingHistory: [string, number[]][][];
  /** Completed positive sequences awaiting release: [key, hit seqs, state, low, deadline (null = +Infinity)]. */
  queue: [unknown[], (number | null)[], EntryState, number, number | null][];
  ready: SequenceMatch[];
  stats: SequenceStats;
}

function emptyStats(): SequenceStats {
  return {
    eventsSeen: 0,
    ignoredNoTimestamp: 0,
    lateEvents: 0,
    evicted: 0,
    expired: 0,
    ignoredHits: 0,
    rejectedMaxspan: 0,
    rejectedUntil: 0,
    rejectedMissing: 0,
    completed: 0,
  };
}

function fingerprintOf(compiled: CompiledQuery): string {
  return JSON.stringify({
    stages: compiled.stages.map((s) => (s.missing ? 'M' : 'P')).join(''),
    maxspan: compiled.maxspanMs,
    until: compiled.until !== null,
  });
}

/** Key tuples of an event for a stage, deduplicated by id (duplicates never duplicate sequences). */
function uniqueKeys(stage: CompiledStage, event: EqlEvent): { tuple: KeyTuple; id: string }[] {
  const tuples = stage.keys(event);
  if (tuples.length === 1) {
    const t = tuples[0] as KeyTuple;
    return [{ tuple: t, id: tupleId(t) }];
  }
  const seen = new Set<string>();
  const out: { tuple: KeyTuple; id: string }[] = [];
  for (const t of tuples) {
    const id = tupleId(t);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ tuple: t, id });
  }
  return out;
}

/**
 * Oldest key of an insertion-ordered Map, amortised O(1). `map.keys().next()` starts at the table's head and
 * steps over every entry deleted since the last rehash, so evicting the oldest of a full slot costs O(cap)
 * in V8. A live iterator kept per map resumes where it stopped; every key it has passed was evicted (the
 * caller deletes what it returns), and re-inserted keys move to the end, so its next live key is the oldest.
 */
const oldestIterators = new WeakMap<Map<string, unknown>, Iterator<string>>();
function oldestKey(map: Map<string, unknown>): string | undefined {
  let it = oldestIterators.get(map);
  let r = it?.next();
  if (r === undefined || r.done) {
    it = map.keys();
    oldestIterators.set(map, it);
    r = it.next();
  }
  return r.done ? undefined : r.value;
}

function heapPush(h: QueueEntry[], e: QueueEntry): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if ((h[parent] as QueueEntry).deadline <= e.deadline) break;
    h[i] = h[parent] as QueueEntry;
    i = parent;
  }
  h[i] = e;
}

function heapPop(h: QueueEntry[]): void {
  const last = h.pop();
  if (last === undefined || h.length === 0) return;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && (h[r] as QueueEntry).deadline < (h[l] as QueueEntry).deadline ? r : l;
    if ((h[c] as QueueEntry).deadline >= last.deadline) break;
    h[i] = h[c] as QueueEntry;
    i = c;
  }
  h[i] = last;
}

export class SequenceMatcher {
  readonly stats: SequenceStats = emptyStats();

  private readonly stages: CompiledStage[];
  private readonly until: CompiledStage | null;
  /** maxspan in ms; 0 means none (ES: `maxSpanInNanos > 0 &&`). */
  private readonly maxspan: number;
  private readonly positives: number[];
  private readonly firstPos: number;
  private readonly lastPos: number;
  private readonly prevPos: number[];
  private readonly nextPos: number[];
  private readonly missingKind: (MissingKind | null)[];
  private readonly missingIdx: number[];
  /** Per stage: did the event being pushed satisfy its predicate (reused, so push allocates nothing). */
  private readonly matched: Uint8Array;
  private readonly hasMissing: boolean;
  private readonly hasLeading: boolean;
  private readonly hasTrailing: boolean;
  private readonly cap: number;
  private readonly headLimit: number | null;

  private slots: Map<string, PendingSeq>[];
  private untilMarks = new Map<string, number>();
  private history: (Map<string, number[]> | null)[];
  private trailingIdx = new Map<string, QueueEntry[]>();
  /** Pending trailing checks as a binary min-heap on deadline (decided entries skipped lazily). */
  private deadlines: QueueEntry[] = [];
  private undecided = 0;
  private queue: QueueEntry[] = [];
  private queueHead = 0;
  private ready: SequenceMatch[] = [];
  private nextSeq = 0;
  private lastTs: number | null = null;
  private lastTb: unknown = null;
  private watermark = -Infinity;
  private lastPruneAt: number | null = null;
  private acceptedCount = 0;
  private done = false;

  constructor(
    private readonly compiled: CompiledQuery,
    options: SequenceMatcherOptions = {},
  ) {
    if (compiled.kind !== 'sequence') throw new Error(`SequenceMatcher needs a sequence query, got ${compiled.kind}`);
    this.stages = compiled.stages;
    this.until = compiled.until;
    this.maxspan = compiled.maxspanMs !== null && compiled.maxspanMs > 0 ? compiled.maxspanMs : 0;
    this.cap = Math.max(1, Math.floor(options.maxPendingPerStage ?? DEFAULT_MAX_PENDING));
    this.headLimit = options.headLimit === undefined || options.headLimit === null ? null : Math.max(0, options.headLimit);
    const n = this.stages.length;
    this.positives = [];
    for (let i = 0; i < n; i++) if (!(this.stages[i] as CompiledStage).missing) this.positives.push(i);
    if (this.positives.length === 0) throw new Error('A sequence needs at least one positive stage');
    this.firstPos = this.positives[0] as number;
    this.lastPos = this.positives[this.positives.length - 1] as number;
    this.prevPos = new Array<number>(n).fill(-1);
    this.nextPos = new Array<number>(n).fill(-1);
    let prev = -1;
    for (let i = 0; i < n; i++) {
      this.prevPos[i] = prev;
      if (!(this.stages[i] as CompiledStage).missing) prev = i;
    }
    let next = -1;
    for (let i = n - 1; i >= 0; i--) {
      this.nextPos[i] = next;
      if (!(this.stages[i] as CompiledStage).missing) next = i;
    }
    this.missingKind = this.stages.map((s, i) => {
      if (!s.missing) return null;
      if (i < this.firstPos) return 'leading';
      if (i > this.lastPos) return 'trailing';
      return 'middle';
    });
    this.missingIdx = [];
    for (let i = 0; i < n; i++) if (this.missingKind[i] !== null) this.missingIdx.push(i);
    this.hasMissing = this.missingIdx.length > 0;
    this.matched = new Uint8Array(n);
    this.hasLeading = this.missingKind.includes('leading');
    this.hasTrailing = this.missingKind.includes('trailing');
    this.slots = this.stages.map(() => new Map<string, PendingSeq>());
    this.history = this.missingKind.map((k) => (k === 'leading' || k === 'middle' ? new Map<string, number[]>() : null));
  }

  /** True once the head limit has been reached: further events are ignored. */
  get isDone(): boolean {
    return this.done;
  }

  /** Number of pending partial sequences across stages (for monitoring). */
  get pendingCount(): number {
    let n = 0;
    for (const s of this.slots) n += s.size;
    return n;
  }

  /** Join keys of every pending partial sequence (for narrowing what later stages need to read). */
  pendingKeys(): KeyTuple[] {
    const out: KeyTuple[] = [];
    for (const slot of this.slots) for (const p of slot.values()) out.push(p.key);
    return out;
  }

  /**
   * Drops the `n` oldest pending partial sequences (by their latest event) across stages, counted as
   * evicted; returns how many were dropped. Used to keep a stored state within a size budget.
   */
  evictOldest(n: number): number {
    if (n <= 0) return 0;
    const all: { slot: Map<string, PendingSeq>; id: string; seq: number }[] = [];
    for (const slot of this.slots) for (const [id, p] of slot) all.push({ slot, id, seq: p.last.seq });
    all.sort((a, b) => a.seq - b.seq);
    const victims = all.slice(0, n);
    for (const v of victims) {
      v.slot.delete(v.id);
      this.stats.evicted++;
      this.forgetKeyIfIdle(v.id);
    }
    return victims.length;
  }

  /** Consume one event. Events must come in ordinal order; out-of-order ones are counted and ignored. */
  push(event: EqlEvent): void {
    if (this.done) return;
    // Stage tests first: an event that no stage, missing stage or until uses cannot change any state, so
    // its timestamp (the costliest part of most events) is not even parsed, unless time must advance for
    // undecided trailing missing-event checks. Such events count as seen, whatever their timestamp.
    // A hit of a later stage with nothing pending at the stage before it is ignored the same way (pruning
    // only removes pending sequences, so "nothing pending" cannot change before the hit would be used).
    const matched = this.matched;
    let used = false;
    for (let i = 0; i < this.stages.length; i++) {
      let hit = (this.stages[i] as CompiledStage).predicate(event);
      if (hit && !this.missingKind[i] && i !== this.firstPos && (this.slots[this.prevPos[i] as number] as Map<string, PendingSeq>).size === 0) {
        this.stats.ignoredHits++;
        hit = false;
      }
      matched[i] = hit ? 1 : 0;
      if (hit) used = true;
    }
    const untilHit = this.until !== null && this.until.predicate(event);
    if (!used && !untilHit && this.undecided === 0) {
      this.stats.eventsSeen++;
      return;
    }
    const ts = this.compiled.timestampOf(event);
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      this.stats.ignoredNoTimestamp++;
      return;
    }
    const tbRaw = this.compiled.tiebreakerOf(event);
    const tb = tbRaw === undefined ? null : tbRaw;
    if (ts <= this.watermark || (this.lastTs !== null && compareOrdinal(ts, tb, 1, this.lastTs, this.lastTb, 0) < 0)) {
      this.stats.lateEvents++;
      return;
    }
    this.lastTs = ts;
    this.lastTb = tb;
    this.stats.eventsSeen++;
    const seq = this.nextSeq++;

    // Events strictly later than a trailing deadline prove no trailing hit can still come.
    if (this.undecided > 0 && this.nextDeadline() < ts) this.expireTrailing(ts, false);
    this.maybePrune(ts);

    // Most events match no stage: the hit and the completions list are only built when one does.
    let hit: Hit | null = null;
    let completions: PendingSeq[] | null = null;
    for (let i = this.positives.length - 1; i >= 0; i--) {
      const s = this.positives[i] as number;
      const stage = this.stages[s] as CompiledStage;
      if (matched[s] === 0) continue;
      if (s !== this.firstPos && (this.slots[this.prevPos[s] as number] as Map<string, PendingSeq>).size === 0) {
        // Everything pending at the previous stage was just pruned: an ignored hit.
        this.stats.ignoredHits++;
        continue;
      }
      hit ??= { seq, ts, tb, event };
      completions ??= [];
      for (const k of uniqueKeys(stage, event)) this.matchStage(s, k.tuple, k.id, hit, completions);
    }
    for (const m of this.missingIdx) {
      const stage = this.stages[m] as CompiledStage;
      if (matched[m] === 0) continue;
      const trailing = this.missingKind[m] === 'trailing';
      for (const k of uniqueKeys(stage, event)) {
        if (trailing) this.trailingHit(k.id, ts);
        else this.recordMissing(m, k.id, ts);
      }
    }
    if (this.until !== null && untilHit) {
      // ES only records until markers for keys with in-flight sequences (KeyToSequences.until).
      for (const k of uniqueKeys(this.until, event)) if (this.hasPending(k.id)) this.untilMarks.set(k.id, seq);
    }
    if (completions !== null) {
      if (completions.length > 1) completions.sort((a, b) => compareKeys(a.key, b.key));
      for (const c of completions) this.complete(c);
    }
    this.release();
  }

  /**
   * Declare that every event with timestamp ≤ `timestampMs` has been pushed: decides trailing
   * missing-event checks whose window ends by then and prunes sequences that can no longer complete.
   * Events at or below the watermark pushed later are counted as late and ignored.
   */
  advanceTo(timestampMs: number): void {
    if (!(timestampMs > this.watermark)) return;
    this.watermark = timestampMs;
    if (this.undecided > 0 && this.nextDeadline() <= timestampMs) this.expireTrailing(timestampMs, true);
    this.prune(timestampMs, true);
    this.release();
  }

  /** End of stream: decide every pending trailing check (no more events will come). */
  flush(): void {
    this.advanceTo(Infinity);
  }

  /** Completed sequences released since the last call, ordered by last event ordinal then key. */
  drain(): SequenceMatch[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  // ---- matching -------------------------------------------------------------------------------

  private matchStage(s: number, key: KeyTuple, id: string, hit: Hit, completions: PendingSeq[]): void {
    if (s === this.firstPos) {
      const hits = new Array<Hit | undefined>(this.stages.length);
      hits[s] = hit;
      const p: PendingSeq = { key, id, hits, start: hit, last: hit };
      if (s === this.lastPos) completions.push(p);
      else this.place(s, p);
      return;
    }
    const prevStage = this.prevPos[s] as number;
    const slot = this.slots[prevStage] as Map<string, PendingSeq>;
    const p = slot.get(id);
    if (p === undefined) {
      this.stats.ignoredHits++;
      return;
    }
    slot.delete(id);
    if (this.maxspan > 0 && hit.ts - p.start.ts > this.maxspan) {
      this.stats.rejectedMaxspan++;
      this.forgetKeyIfIdle(id);
      return;
    }
    const mark = this.untilMarks.get(id);
    if (mark !== undefined && mark >= p.last.seq) {
      this.stats.rejectedUntil++;
      this.forgetKeyIfIdle(id);
      return;
    }
    p.hits[s] = hit;
    p.last = hit;
    if (s === this.lastPos) {
      completions.push(p);
      this.forgetKeyIfIdle(id);
    } else {
      this.place(s, p);
    }
  }

  private place(s: number, p: PendingSeq): void {
    const slot = this.slots[s] as Map<string, PendingSeq>;
    if (slot.has(p.id)) {
      // A newer pending sequence supersedes the older one (ES would never pick the older again).
      slot.delete(p.id);
    } else if (slot.size >= this.cap) {
      const oldest = oldestKey(slot)!;
      slot.delete(oldest);
      this.stats.evicted++;
      if (oldest !== p.id) this.forgetKeyIfIdle(oldest);
    }
    slot.set(p.id, p);
  }

  private hasPending(id: string): boolean {
    for (const s of this.positives) if ((this.slots[s] as Map<string, PendingSeq>).has(id)) return true;
    return false;
  }

  private forgetKeyIfIdle(id: string): void {
    if (this.untilMarks.size > 0 && !this.hasPending(id)) this.untilMarks.delete(id);
  }

  // ---- missing events -------------------------------------------------------------------------

  private recordMissing(m: number, id: string, ts: number): void {
    const h = this.history[m] as Map<string, number[]>;
    const arr = h.get(id);
    if (arr !== undefined) {
      if (arr[arr.length - 1] !== ts) arr.push(ts);
      return;
    }
    if (h.size >= this.cap) {
      const oldest = oldestKey(h)!;
      h.delete(oldest);
      this.stats.evicted++;
    }
    h.set(id, [ts]);
  }

  private trailingHit(id: string, ts: number): void {
    const entries = this.trailingIdx.get(id);
    if (entries === undefined) return;
    let kept = 0;
    for (const e of entries) {
      if (e.state === 'pending' && ts > e.low && ts <= e.deadline) {
        e.state = 'rejected';
        this.undecided--;
        this.stats.rejectedMissing++;
      }
      if (e.state === 'pending') entries[kept++] = e;
    }
    entries.length = kept;
    if (kept === 0) this.trailingIdx.delete(id);
  }

  /** Accept pending trailing checks whose deadline is before `t` (or at `t` when inclusive). */
  private expireTrailing(t: number, inclusive: boolean): void {
    for (;;) {
      const top = this.deadlines[0];
      if (top === undefined || !(top.deadline < t || (inclusive && top.deadline <= t))) break;
      heapPop(this.deadlines);
      if (top.state !== 'pending') continue;
      top.state = 'accepted';
      this.undecided--;
      const list = this.trailingIdx.get(top.seq.id);
      if (list !== undefined) {
        const i = list.indexOf(top);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.trailingIdx.delete(top.seq.id);
      }
    }
  }

  /** Earliest deadline among pending trailing checks (Infinity when none). */
  private nextDeadline(): number {
    while (this.deadlines.length > 0 && (this.deadlines[0] as QueueEntry).state !== 'pending') heapPop(this.deadlines);
    return this.deadlines[0]?.deadline ?? Infinity;
  }

  /** Latest missing-stage hit time strictly before `before` for key `id` across leading stages. */
  private lastLeading(id: string, before: number): number | null {
    let best: number | null = null;
    for (const m of this.missingIdx) {
      if (this.missingKind[m] !== 'leading') continue;
      const arr = (this.history[m] as Map<string, number[]>).get(id);
      if (arr === undefined) continue;
      for (let i = arr.length - 1; i >= 0; i--) {
        const ts = arr[i] as number;
        if (ts < before) {
          if (best === null || ts > best) best = ts;
          break;
        }
      }
    }
    return best;
  }

  private middleHit(p: PendingSeq): boolean {
    for (const m of this.missingIdx) {
      if (this.missingKind[m] !== 'middle') continue;
      const arr = (this.history[m] as Map<string, number[]>).get(p.id);
      if (arr === undefined) continue;
      const lo = (p.hits[this.prevPos[m] as number] as Hit).ts;
      const hi = (p.hits[this.nextPos[m] as number] as Hit).ts;
      for (const ts of arr) if (ts > lo && ts < hi) return true;
    }
    return false;
  }

  private complete(p: PendingSeq): void {
    if (!this.hasMissing) {
      this.queue.push({ seq: p, state: 'accepted', low: 0, deadline: 0 });
      return;
    }
    if (this.middleHit(p)) {
      this.stats.rejectedMissing++;
      return;
    }
    // Leading hits older than last − maxspan decide exactly as "none found" (see doCheckMissingEvents).
    const lead = this.hasLeading ? this.lastLeading(p.id, p.start.ts) : null;
    if (!this.hasTrailing) {
      const accept = lead === null || (this.maxspan > 0 && p.last.ts - lead > this.maxspan);
      if (accept) this.queue.push({ seq: p, state: 'accepted', low: 0, deadline: 0 });
      else this.stats.rejectedMissing++;
      return;
    }
    if (this.hasLeading && lead === null) {
      this.queue.push({ seq: p, state: 'accepted', low: 0, deadline: 0 });
      return;
    }
    const from = lead ?? p.start.ts;
    const deadline = this.maxspan > 0 ? from + this.maxspan : Infinity;
    if (deadline <= p.last.ts) {
      this.queue.push({ seq: p, state: 'accepted', low: 0, deadline: 0 });
      return;
    }
    const entry: QueueEntry = { seq: p, state: 'pending', low: p.last.ts, deadline };
    this.queue.push(entry);
    this.registerTrailing(entry);
  }

  private registerTrailing(entry: QueueEntry): void {
    const list = this.trailingIdx.get(entry.seq.id);
    if (list === undefined) this.trailingIdx.set(entry.seq.id, [entry]);
    else list.push(entry);
    this.undecided++;
    heapPush(this.deadlines, entry);
  }

  /** Move decided sequences from the head of the completion queue to `ready`, in completion order. */
  private release(): void {
    while (this.queueHead < this.queue.length) {
      const e = this.queue[this.queueHead] as QueueEntry;
      if (e.state === 'pending') break;
      this.queueHead++;
      if (e.state === 'accepted') {
        this.ready.push(this.toMatch(e.seq));
        this.acceptedCount++;
        this.stats.completed++;
        if (this.headLimit !== null && this.acceptedCount >= this.headLimit) {
          this.stopAtHeadLimit();
          return;
        }
      }
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private stopAtHeadLimit(): void {
    this.done = true;
    this.queue = [];
    this.queueHead = 0;
    this.trailingIdx.clear();
    this.undecided = 0;
    this.deadlines = [];
    for (const s of this.slots) s.clear();
    for (const h of this.history) h?.clear();
    this.untilMarks.clear();
  }

  private toMatch(p: PendingSeq): SequenceMatch {
    const events: EqlEvent[] = [];
    for (const s of this.positives) events.push((p.hits[s] as Hit).event);
    return { joinKeys: [...p.key], events };
  }

  // ---- bounded memory -------------------------------------------------------------------------

  private maybePrune(now: number): void {
    if (this.maxspan <= 0) return;
    if (this.lastPruneAt !== null && now - this.lastPruneAt < this.maxspan) return;
    this.prune(now, false);
  }

  /**
   * Drop pending sequences that cannot complete: future hits come at ≥ `cut` (> `cut` when
   * inclusive), so a sequence started at `start` with start + maxspan < cut would exceed maxspan.
   */
  private prune(cut: number, inclusive: boolean): void {
    if (this.maxspan <= 0) return;
    this.lastPruneAt = cut;
    for (const s of this.positives) {
      const slot = this.slots[s] as Map<string, PendingSeq>;
      for (const [id, p] of slot) {
        const end = p.start.ts + this.maxspan;
        if (end < cut || (inclusive && end <= cut)) {
          slot.delete(id);
          this.stats.expired++;
          this.forgetKeyIfIdle(id);
        }
      }
    }
    // Leading/middle lookups only ever need hits at or after (completion time − maxspan).
    const floor = cut - this.maxspan;
    for (const h of this.history) {
      if (h === null) continue;
      for (const [id, arr] of h) {
        let i = 0;
        while (i < arr.length && (arr[i] as number) < floor) i++;
        if (i === arr.length) h.delete(id);
        else if (i > 0) arr.splice(0, i);
      }
    }
  }

  // ---- state hand-off -------------------------------------------------------------------------

  /** Plain JSON-serialisable state: pending sequences with their events, until marks, counters. */
  snapshot(): SequenceState {
    const events = new Map<number, Hit>();
    const ref = (h: Hit | undefined): number | null => {
      if (h === undefined) return null;
      events.set(h.seq, h);
      return h.seq;
    };
    const slots = this.slots.map((slot) => [...slot].map(([id, p]) => [id, [...p.key], Array.from(p.hits, ref)] as [string, unknown[], (number | null)[]]));
    const queue = this.queue
      .slice(this.queueHead)
      .map((e) => [[...e.seq.key], Array.from(e.seq.hits, ref), e.state, e.low, Number.isFinite(e.deadline) ? e.deadline : null] as [unknown[], (number | null)[], EntryState, number, number | null]);
    const missingHistory = this.history.map((h) => (h === null ? [] : [...h].map(([id, arr]) => [id, [...arr]] as [string, number[]])));
    const state: SequenceState = {
      version: STATE_VERSION,
      fingerprint: fingerprintOf(this.compiled),
      options: { maxPendingPerStage: this.cap, headLimit: this.headLimit },
      nextSeq: this.nextSeq,
      lastTs: this.lastTs,
      lastTb: this.lastTb,
      watermark: this.watermark === -Infinity ? null : this.watermark === Infinity ? 'end' : this.watermark,
      lastPruneAt: this.lastPruneAt,
      acceptedCount: this.acceptedCount,
      done: this.done,
      events: [...events.values()].sort((a, b) => a.seq - b.seq).map((h) => [h.seq, h.ts, h.tb, h.event]),
      slots,
      until: [...this.untilMarks],
      missingHistory,
      queue,
      ready: this.ready.map((m) => ({ joinKeys: [...m.joinKeys], events: [...m.events] })),
      stats: { ...this.stats },
    };
    return state;
  }

  /** Rebuild a matcher from `snapshot()` output (after any JSON round trip) for the same query. */
  static restore(compiled: CompiledQuery, state: SequenceState, options: SequenceMatcherOptions = {}): SequenceMatcher {
    if (state.version !== STATE_VERSION) throw new Error(`Unsupported sequence state version ${String(state.version)}`);
    if (state.fingerprint !== fingerprintOf(compiled)) throw new Error('Sequence state belongs to a different query shape');
    const m = new SequenceMatcher(compiled, {
      maxPendingPerStage: options.maxPendingPerStage ?? state.options.maxPendingPerStage,
      headLimit: options.headLimit !== undefined ? options.headLimit : state.options.headLimit,
    });
    const hits = new Map<number, Hit>();
    for (const [seq, ts, tb, event] of state.events) hits.set(seq, { seq, ts, tb, event });
    const toPendingSeq = (key: unknown[], refs: (number | null)[]): PendingSeq => {
      const hs = refs.map((r) => {
        if (r === null) return undefined;
        const h = hits.get(r);
        if (h === undefined) throw new Error(`Sequence state references unknown event ${r}`);
        return h;
      });
      const present = hs.filter((h): h is Hit => h !== undefined);
      if (present.length === 0) throw new Error('Sequence state holds an empty sequence');
      return { key, id: tupleId(key), hits: hs, start: present[0] as Hit, last: present[present.length - 1] as Hit };
    };
    state.slots.forEach((entries, s) => {
      const slot = m.slots[s];
      if (slot === undefined) throw new Error('Sequence state has more stages than the query');
      for (const [, key, refs] of entries) {
        const p = toPendingSeq(key, refs);
        slot.set(p.id, p);
      }
    });
    for (const [id, seq] of state.until) m.untilMarks.set(id, seq);
    state.missingHistory.forEach((entries, s) => {
      const h = m.history[s];
      if (h === null || h === undefined) return;
      for (const [id, arr] of entries) h.set(id, [...arr]);
    });
    for (const [key, refs, st, low, deadline] of state.queue) {
      const entry: QueueEntry = { seq: toPendingSeq(key, refs), state: st, low, deadline: deadline ?? Infinity };
      m.queue.push(entry);
      if (st === 'pending') m.registerTrailing(entry);
    }
    m.ready = state.ready.map((r) => ({ joinKeys: [...r.joinKeys], events: [...r.events] }));
    m.nextSeq = state.nextSeq;
    m.lastTs = state.lastTs;
    m.lastTb = state.lastTb;
    m.watermark = state.watermark === null ? -Infinity : state.watermark === 'end' ? Infinity : state.watermark;
    m.lastPruneAt = state.lastPruneAt;
    m.acceptedCount = state.acceptedCount;
    m.done = state.done;
    // Copy known counters only: the state comes from storage and must not reshape the object.
    for (const k of Object.keys(m.stats) as (keyof SequenceStats)[]) {
      const v = state.stats[k];
      if (typeof v === 'number' && Number.isFinite(v)) m.stats[k] = v;
    }
    return m;
  }
}
