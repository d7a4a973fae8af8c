/**
 * One rule's part of a run, phase by phase, so that a group of rules over the same indices can share the
 * requests of each phase (group-run.ts): the audit's counts, the keys pass of sequences, the candidate read,
 * the alert write and the state save. A rule run alone is a group of one.
 *
 * Phases, per run:
 * 1. `countStretches` / `applyCounts`: the late-arrival audit (coverage.ts) over what the rule read before,
 *    plus the counts of the windows about to be read;
 * 2. `lateWork`: single events that arrived late are read again (the rule's own reads, rare);
 * 3. per window step: `keysQuery` / `addKeys` (sequences' keys pass), `readQuery`, `consume`, `completeStep`
 *    (sequences' due repairs run here, with the rule's own reads);
 * 4. `alertsOf`, then `progressAfter` (what to save), then `report`.
 */
import { createHash } from 'node:crypto';
import type { BuiltAlert } from '../alerts/build.js';
import type { KeyTuple } from '../eql/compiled.js';
import { and, MATCH_ALL, type QueryDsl } from '../eql/pushdown.js';
import { QueryRejectedError } from '../es/snapshot.js';
import type { Logger } from '../ops/logger.js';
import { linkTarget } from './alert-sink.js';
import { addRange, compact, compareCounts, DEFAULT_MAX_RANGES, emptyCoverage, type Audit, type Coverage } from './coverage.js';
import { addRepair, describeLate, fmtMs, iso, repairSequences } from './late-arrivals.js';
import { alertsForMatches, newEngine, type PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleEngine, RuleMatch } from './rule-engine.js';
import { narrowedFilter, windowed, type ReadField, type RuleFilters } from './rule-reads.js';
import type { RuleView } from './rule-view.js';
import type { ExecuteDeps, LateReport, Progress, Repair, RunHealth, RunResult, WindowReport } from './run-types.js';
import { evaluateSampleRule } from './sample-rule.js';
import { evaluateFresh, FRESH_MAX_EVENTS, MAX_NARROWING_KEYS, type ReadContext, type Stretch } from './window-read.js';
import { planWindows, type Window, type WindowPlan } from './windows.js';

export type MemberKind = 'event' | 'sequence' | 'sample';

export class Member {
  readonly p: PreparedRule;
  readonly field: ReadField;
  readonly filters: RuleFilters;
  readonly ctx: ReadContext;
  readonly kind: MemberKind;
  readonly health: RunHealth = { evicted: 0, fallbacks: 0, outOfOrder: 0, missingDocuments: 0 };
  private readonly log: Logger;
  private readonly filterId: string;
  /** Candidate filter of counts (broadened to the time range alone if the cluster rejects it). */
  private countFilter: QueryDsl;
  private readonly plan: WindowPlan;
  private readonly parts: Window[][];
  /** The streaming engine (sample rules have none: each execution evaluates its window afresh). */
  private readonly engine: RuleEngine | null;
  private readonly evictedBefore: number;
  private coverage: Coverage;
  private audit: Audit = { grown: [], olderAdded: 0, removed: 0, rebaselined: false };
  /** Stretches read again after a rebaseline (single-event rules; see `applyCounts`). */
  private recheck: Stretch[] = [];
  private freshCounts: number[] = [];
  private repairs: Repair[];
  private frontier: number | null;
  private readonly late: LateReport = { events: 0, beyondTolerance: 0, olderThanHorizon: 0, eventsRead: 0, alertsCreated: 0, repairsPending: 0, incomplete: false };
  private lateMatches: RuleMatch[] = [];
  private readonly reports: WindowReport[] = [];
  /** The step being evaluated. */
  private step: { keys: Map<string, KeyTuple> | null; matches: RuleMatch[]; total: number; eventsRead: number; started: number; sampleHits: EngineHit[]; sampleTruncated: boolean } | null = null;

  constructor(
    private readonly deps: ExecuteDeps,
    view: RuleView,
    private readonly startedAt: number,
    private readonly progress: Progress,
    readContextOf: (view: RuleView, onFallback: () => void) => ReadContext,
  ) {
    this.log = deps.logger;
    this.p = view.prepared;
    this.field = view.field;
    this.filters = view.filters;
    this.kind = this.p.compiled.kind === 'sequence' ? 'sequence' : this.p.compiled.kind === 'sample' ? 'sample' : 'event';
    this.ctx = readContextOf(view, () => this.health.fallbacks++);
    this.countFilter = view.filters.all;
    this.filterId = digest({ all: view.filters.all, field: view.field.field, base: view.field.base });
    this.repairs = progress.repairs;
    this.frontier = progress.frontier;
    this.coverage = progress.coverage ?? emptyCoverage(this.filterId);
    const s = deps.settings;
    if (this.kind === 'sample') {
      // As Kibana runs a sample rule: its whole look-back, afresh, every execution.
      const to = startedAt - s.ingestDelayMs;
      this.plan = { windows: [{ from: to - this.rule.lookbackMs, to }], gap: null };
    } else {
      this.plan = planWindows({
        now: startedAt,
        lookbackMs: this.rule.lookbackMs,
        checkpoint: progress.frontier,
        ingestDelayMs: s.ingestDelayMs + (this.kind === 'sequence' ? s.latenessMs : 0),
        maxWindowMs: s.maxWindowMs,
        maxCatchupMs: s.maxCatchupMs,
      });
    }
    this.parts = this.plan.windows.map((w) => this.auditParts(w));
    this.engine =
      this.kind === 'sequence'
        ? this.restoreEngine(progress)
        : this.kind === 'event'
          ? newEngine(this.p, { maxPendingPerStage: s.maxPendingSequences })
          : null;
    this.evictedBefore = this.engine?.stats.sequence?.evicted ?? 0;
    if (this.plan.gap) {
      this.log.error(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, gap: { from: iso(this.plan.gap.from), to: iso(this.plan.gap.to) } },
        `rule ${this.rule.name}: ${Math.round((this.plan.gap.to - this.plan.gap.from) / 1000)}s of events were not queried (backlog beyond worker.maxCatchup)`,
      );
    }
  }

  get rule() {
    return this.p.rule;
  }

  /**
   * The sequence engine with its stored pending sequences. A rule whose query changed shape since (stages,
   * maxspan, until) cannot take them back: they are dropped, with a warning, and the rule goes on from its
   * frontier rather than failing on every run.
   */
  private restoreEngine(progress: Progress): RuleEngine {
    const s = this.deps.settings;
    const options = { maxPendingPerStage: s.maxPendingSequences, ...(s.maxStateBytes ? { maxStateBytes: s.maxStateBytes } : {}) };
    try {
      return newEngine(this.p, options, progress.engine);
    } catch (e) {
      const pending = progress.engine?.matcher?.slots.reduce((n, slot) => n + slot.length, 0) ?? 0;
      this.log.warn(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, dropped: pending, 'error.message': (e as Error).message },
        `rule ${this.rule.name}: its stored sequence state does not fit the rule's query any more (${(e as Error).message}); ${pending} pending partial sequence(s) dropped, the rule goes on from its checkpoint`,
      );
      this.health.evicted += pending;
      return newEngine(this.p, options);
    }
  }

  get id(): string {
    return this.rule.id;
  }

  /** Window steps of this run (at least one, so that audit results and repairs are saved). */
  get steps(): number {
    return Math.max(1, this.plan.windows.length);
  }

  windowAt(i: number): Window | null {
    return this.plan.windows[i] ?? null;
  }

  // ---- phase 1: the audit ---------------------------------------------------------------------

  private get before(): number {
    const start = this.plan.gap?.from ?? this.plan.windows[0]?.from ?? this.progress.frontier ?? this.startedAt;
    return this.coverage.ranges[0]?.from ?? this.progress.frontier ?? start;
  }

  /** The stretches to count, in order: older than the audit, each audited range, the gap, the new windows. */
  countStretches(): { from: number | null; to: number }[] {
    if (this.kind === 'sample') return [];
    const fresh = [...(this.plan.gap ? [this.plan.gap] : []), ...this.parts.flat()];
    return [{ from: null, to: this.before }, ...this.coverage.ranges, ...fresh];
  }

  /**
   * The audit's count query: base AND count filter, with one bucket per stretch. The filter is evaluated once and
   * the stretches (time ranges) only over what it matched: counting it once per bucket made the audit the
   * largest cost of a near-real-time run (bench:fleet, 54 rules every 5 s).
   */
  countQuery(): { filter: QueryDsl; buckets: QueryDsl[] } {
    return { filter: and([this.field.base, this.countFilter]), buckets: this.countStretches().map((r) => this.field.stretch(r.from, r.to)) };
  }

  /** This member's counts on its own (after a group's count request was rejected), with its fallback. */
  async countAlone(): Promise<number[]> {
    try {
      const q = this.countQuery();
      return await this.ctx.snapshot.counts(q.filter, q.buckets);
    } catch (e) {
      if (!(e instanceof QueryRejectedError)) throw e;
      this.ctx.onFallback('counting candidates → counting every event', e.reason);
      // Counts under another filter are not comparable: the audit starts a new baseline.
      this.countFilter = MATCH_ALL;
      const q = this.countQuery();
      return this.ctx.snapshot.counts(q.filter, q.buckets);
    }
  }

  applyCounts(counts: number[]): void {
    if (this.kind === 'sample') return;
    const s = this.deps.settings;
    const previous = this.coverage;
    const filterId = this.countFilter === this.filters.all ? this.filterId : `${this.filterId}:time-only`;
    const older = counts[0]!;
    const rangeCounts = counts.slice(1, 1 + previous.ranges.length);
    this.freshCounts = counts.slice(1 + previous.ranges.length);
    const compared =
      this.progress.coverage === null
        ? { audit: this.audit, coverage: emptyCoverage(filterId, older, this.startedAt) }
        : compareCounts(previous, filterId, older, rangeCounts, this.startedAt);
    this.coverage = compared.coverage;
    this.audit = compared.audit;
    if (this.audit.rebaselined) {
      // Counts under another filter cannot be compared, so documents that became searchable since the last run
      // would go unseen. Those within the tolerance have a window time after the last audit minus L: a
      // single-event rule reads those stretches again (what it alerted already is a duplicate, not written twice).
      // Sequence rules have not read that time yet (they read up to now − L).
      if (this.kind === 'event') this.recheck = previous.ranges.filter((r) => r.to > previous.auditedAt - s.latenessMs).map((r) => ({ from: r.from, to: r.to }));
      this.log.info({ 'rule.id': this.rule.id, rechecked: this.recheck.length }, `rule ${this.rule.name}: its candidate filter changed (mappings or rule edited); the late-arrival audit starts a new baseline${this.recheck.length > 0 ? `, and the ${this.recheck.length} stretch(es) within the lateness tolerance are read again` : ''}`);
    }
    if (this.plan.gap) {
      this.coverage = addRange(this.coverage, { ...this.plan.gap, count: this.freshCounts.shift()! });
      this.frontier = this.plan.gap.to;
    }
    this.late.olderThanHorizon = this.audit.olderAdded;
    if (this.audit.olderAdded > 0) {
      this.log.error(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, late_events: this.audit.olderAdded, before: iso(this.before) },
        `rule ${this.rule.name}: ${this.audit.olderAdded} candidate event(s) older than the late-arrival audit horizon (${fmtMs(s.auditHorizonMs)}, before ${iso(this.before)}) became searchable; they were not evaluated. Recover with "eqlwatch rescan --rule ${this.rule.id} --from <time> --to ${iso(this.before)}"`,
      );
    }
    for (const g of this.audit.grown) {
      this.late.events += g.added;
      if (this.kind === 'sequence' || previous.auditedAt - g.to >= s.latenessMs) this.late.beyondTolerance += g.added;
      // Sequences wait until their partners' time (maxspan) has passed the matcher, then are repaired.
      if (this.kind === 'sequence') this.repairs = addRepair(this.repairs, { from: g.from, to: g.to, added: g.added, due: g.to + this.span() });
    }
  }

  // ---- phase 2: late single events --------------------------------------------------------------

  async lateWork(): Promise<void> {
    if (this.kind !== 'event') return;
    for (const g of [...this.audit.grown, ...this.recheck]) {
      const fresh = await evaluateFresh(this.ctx, g);
      this.late.eventsRead += fresh.eventsRead;
      this.lateMatches.push(...fresh.matches);
    }
  }

  // ---- phase 3: a window step -----------------------------------------------------------------

  beginStep(): void {
    this.step = { keys: null, matches: [], total: 0, eventsRead: 0, started: Date.now(), sampleHits: [], sampleTruncated: false };
  }

  /** The keys pass of step `i`, when this member narrows: its first-stage candidates of the window. */
  keysQuery(i: number): QueryDsl | null {
    const w = this.windowAt(i);
    if (!w || !this.filters.narrowing) return null;
    return windowed(this.field, w.from, w.to, this.filters.narrowing.first);
  }

  /** `_source` fields the keys pass needs. */
  keyFields(): string[] {
    return this.filters.narrowing ? [...this.filters.narrowing.firstKeyFields, this.rule.eventCategoryField] : [];
  }

  /** Keys of pending sequences, before the keys pass adds this window's. */
  startKeys(): void {
    const keys = new Map<string, KeyTuple>();
    for (const t of this.engine?.pendingJoinKeys() ?? []) keys.set(JSON.stringify(t), t);
    this.step!.keys = keys;
  }

  /** First-stage candidates of the keys pass; false once there are too many keys to narrow on. */
  addKeys(hits: { _source: Record<string, unknown> }[]): boolean {
    const keys = this.step!.keys;
    if (keys === null) return false;
    const first = this.p.compiled.stages[0]!;
    for (const h of hits) for (const t of first.keys(h._source)) keys.set(JSON.stringify(t), t);
    if (keys.size > MAX_NARROWING_KEYS) {
      this.step!.keys = null;
      return false;
    }
    return true;
  }

  /** Gives up narrowing for this step (the keys pass was rejected or found too many keys). */
  noNarrowing(): void {
    this.step!.keys = null;
  }

  /** The candidate query of step `i` (null: no window in this step). */
  readQuery(i: number, narrowed = true): QueryDsl | null {
    const w = this.windowAt(i);
    if (!w) return null;
    const keys = this.step!.keys;
    const filter = narrowed && this.filters.narrowing && keys !== null ? narrowedFilter(this.filters, [...keys.values()]) : this.filters.all;
    return windowed(this.field, w.from, w.to, filter);
  }

  /** The read ladder of step `i` when this member reads on its own. */
  readLadder(i: number): { name: string; filter: QueryDsl }[] {
    const ladder = [
      { name: 'pushed-down filter', filter: this.filters.all },
      { name: 'time range only', filter: MATCH_ALL },
    ];
    const keys = this.step!.keys;
    if (this.filters.narrowing && keys !== null && this.windowAt(i)) ladder.unshift({ name: 'key-narrowed filter', filter: narrowedFilter(this.filters, [...keys.values()]) });
    return ladder;
  }

  /** One page of this member's candidates, in the read field's sort order. */
  consume(hits: EngineHit[]): void {
    const st = this.step!;
    st.eventsRead += hits.length;
    if (this.kind === 'sample') {
      if (st.sampleTruncated) return;
      st.sampleHits.push(...hits);
      if (st.sampleHits.length >= FRESH_MAX_EVENTS) st.sampleTruncated = true;
      return;
    }
    this.collect(this.engine!.consume(hits));
  }

  private collect(found: RuleMatch[]): void {
    const st = this.step!;
    st.total += found.length;
    for (const m of found) if (st.matches.length < this.rule.maxSignals) st.matches.push(m);
  }

  /** The end of step `i`'s read: the window is complete; due repairs of late sequence events run now. */
  async completeStep(i: number): Promise<void> {
    const w = this.windowAt(i);
    if (this.kind === 'sample') {
      if (this.step!.sampleTruncated) {
        this.log.warn({ 'rule.id': this.rule.id, 'rule.name': this.rule.name, events: this.step!.sampleHits.length },
          `rule ${this.rule.name}: a sample rule's window holds more than ${FRESH_MAX_EVENTS} candidate events; only the first were evaluated (narrow the rule's query or look-back)`);
        this.late.incomplete = true;
      }
      this.collect(evaluateSampleRule(this.p, this.step!.sampleHits).matches);
      this.step!.sampleHits = [];
      if (w) this.frontier = w.to;
      return;
    }
    if (w) {
      this.collect(this.engine!.complete(w.to));
      this.frontier = w.to;
    }
    if (this.kind === 'sequence' && this.frontier !== null) {
      const frontier = this.frontier;
      const due = this.repairs.filter((r) => r.due <= frontier);
      this.repairs = this.repairs.filter((r) => r.due > frontier);
      for (const r of due) {
        const found = await repairSequences(this.ctx, this.p.compiled, this.span(), r);
        this.late.eventsRead += found.eventsRead;
        this.late.incomplete ||= !found.complete;
        this.lateMatches.push(...found.matches);
      }
    }
  }

  // ---- phase 4: alerts, state, report ----------------------------------------------------------

  /** The matches of the step, late ones first (both bounded by max_signals), to hydrate and alert. */
  stepMatches(): { late: RuleMatch[]; window: RuleMatch[]; lateDropped: number } {
    const late = this.lateMatches.slice(0, this.rule.maxSignals);
    const lateDropped = this.lateMatches.length - late.length;
    this.lateMatches = [];
    return { late, window: this.step!.matches, lateDropped };
  }

  alertsOf(matches: RuleMatch[]): BuiltAlert[] {
    const ctx = { now: new Date(Date.now()), spaceId: this.deps.spaceId, executionId: crypto.randomUUID(), kibanaUrl: this.deps.kibanaUrl, linkTarget: linkTarget(this.deps) };
    return dedupeById(alertsForMatches(this.p, matches, ctx).alerts);
  }

  /** What to save once step `i`'s alerts are durable. */
  progressAfter(i: number): Progress {
    const s = this.deps.settings;
    if (this.kind === 'sample') return { version: 2, mode: this.field.mode, frontier: this.frontier, coverage: null, engine: null, repairs: [] };
    if (this.windowAt(i)) for (const part of this.parts[i]!) this.coverage = addRange(this.coverage, { ...part, count: this.freshCounts.shift()! });
    this.coverage = compact(this.coverage, this.startedAt, { horizonMs: s.auditHorizonMs, maxRanges: DEFAULT_MAX_RANGES, fineMs: Math.max(2 * s.latenessMs, 10 * 60_000) });
    return { version: 2, mode: this.field.mode, frontier: this.frontier, coverage: this.coverage, engine: this.kind === 'sequence' ? this.engine!.snapshot() : null, repairs: this.repairs };
  }

  /** Logs and records step `i` once saved. */
  stepDone(i: number, written: { created: number; duplicates: number }, lateCreated: number, lateDropped: number): void {
    const st = this.step!;
    this.late.alertsCreated += lateCreated;
    const truncated = st.total - st.matches.length;
    if (truncated > 0 || lateDropped > 0) {
      this.log.warn(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, truncated: truncated + lateDropped, max_signals: this.rule.maxSignals },
        `rule ${this.rule.name} reached the maximum alert limit (max_signals=${this.rule.maxSignals}); ${truncated + lateDropped} match(es) in this window were not alerted`,
      );
    }
    const w = this.windowAt(i);
    if (!w) return;
    const report: WindowReport = {
      from: iso(w.from),
      to: iso(w.to),
      eventsRead: st.eventsRead,
      matches: st.total,
      alertsCreated: written.created,
      alertsDuplicate: written.duplicates,
      truncated,
      durationMs: Date.now() - st.started,
    };
    this.reports.push(report);
    this.log.info(
      { 'rule.id': this.rule.id, 'rule.name': this.rule.name, window: { from: report.from, to: report.to }, events: report.eventsRead, matches: report.matches, alerts: written.created, duplicates: written.duplicates, 'event.duration': report.durationMs * 1e6 },
      `${this.rule.name}: window ${report.from} → ${report.to}, ${report.eventsRead} event(s) read, ${report.matches} ${this.kind === 'sample' ? 'sample(s)' : 'match(es)'}, ${written.created} alert(s) written${written.duplicates ? `, ${written.duplicates} already present` : ''} in ${report.durationMs} ms`,
    );
  }

  reportMissing(missing: { _index: string; _id: string }[]): void {
    if (missing.length === 0) return;
    this.health.missingDocuments += missing.length;
    this.log.warn(
      { 'rule.id': this.rule.id, 'rule.name': this.rule.name, missing: missing.slice(0, 10) },
      `rule ${this.rule.name}: ${missing.length} event(s) of completed sequences no longer exist in Elasticsearch; their alerts carry only their index and id`,
    );
  }

  /** The run's result (after the last saved step, or `aborted` before it). */
  result(status: 'ok' | 'aborted', now: number): RunResult {
    const s = this.deps.settings;
    this.late.repairsPending = this.repairs.length;
    if (this.late.events > 0) this.reportLate();
    const stats = this.engine?.stats ?? { sequence: null, outOfOrder: 0, repeated: 0 };
    this.health.evicted += (stats.sequence?.evicted ?? 0) - this.evictedBefore;
    this.health.outOfOrder = stats.outOfOrder;
    if (this.health.evicted > 0) {
      this.log.warn(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, evicted: this.health.evicted, max_pending_sequences: s.maxPendingSequences },
        `rule ${this.rule.name}: ${this.health.evicted} pending partial sequence(s) evicted (worker.maxPendingSequences=${s.maxPendingSequences} per stage, or the stored state's size bound); a partner arriving for them later will not be joined. Raise worker.maxPendingSequences or narrow the rule`,
      );
    }
    if (stats.repeated > 0) {
      this.log.warn(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, repeated: stats.repeated },
        `rule ${this.rule.name}: Elasticsearch returned ${stats.repeated} event(s) twice at a page boundary; each was evaluated once`,
      );
    }
    if (this.health.outOfOrder > 0) {
      this.log.warn(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, out_of_order: this.health.outOfOrder },
        `rule ${this.rule.name}: ${this.health.outOfOrder} event(s) came from Elasticsearch out of ${this.rule.timestampField} order (multi-valued or oddly formatted timestamps) and were evaluated out of order`,
      );
    }
    const end = this.frontier ?? now;
    return { status, windows: this.reports, late: this.late, health: this.health, gap: this.plan.gap, lagMs: Math.max(0, now - end) };
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** A window's stretches for the audit: split at `to - lateness` for single-event rules. */
  private auditParts(w: Window): Window[] {
    const cut = w.to - this.deps.settings.latenessMs;
    return this.kind === 'event' && cut > w.from && cut < w.to ? [{ from: w.from, to: cut }, { from: cut, to: w.to }] : [w];
  }

  /** maxspan, or the rule's look-back for sequences without one. */
  private span(): number {
    return this.p.compiled.maxspanMs ?? this.rule.lookbackMs;
  }

  /** The late-arrival summary of this run: a warning beyond the tolerance, else debug (the ordinary refresh lag). */
  private reportLate(): void {
    const { level, fields, message } = describeLate(this.rule, this.kind, this.late, this.audit.grown, this.deps.settings.latenessMs);
    this.log[level](fields, message);
  }
}

export function dedupeById(alerts: BuiltAlert[]): BuiltAlert[] {
  const seen = new Set<string>();
  return alerts.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
}

const digest = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('base64').slice(0, 22);
