/**
 * One execution of one rule against Elasticsearch. The run:
 *
 * 1. takes the rule's lease and opens one point in time over its indices (every count and read of the run
 *    answers from it), and compiles the rule against those indices' mappings;
 * 2. audits what it has already read (coverage.ts): one request counts the candidates of every stretch
 *    read within the audit horizon; a stretch whose count rose received documents after it was read, and
 *    is read again (single-event rules) or repaired (sequence rules, see `lateSequences`);
 * 3. reads each new window: single-event rules up to now on their arrival field, sequence rules up to
 *    now minus the lateness tolerance on `@timestamp`, in order, with key narrowing;
 * 4. writes alerts with deterministic ids, hands them to notifications, and only then saves the new
 *    frontier, coverage and sequence state under optimistic concurrency.
 *
 * A crash anywhere before the save repeats the run; deterministic ids and bulk `create` make the repeat
 * write nothing new, so every match gives exactly one alert. A read that is not complete (failed shards,
 * timeouts) fails the run before anything is saved; a query the cluster rejects is retried broader.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@elastic/elasticsearch';
import type { BuiltAlert } from '../alerts/build.js';
import { and } from '../eql/pushdown.js';
import { MATCH_ALL, type QueryDsl } from '../eql/pushdown.js';
import { QueryRejectedError } from '../es/snapshot.js';
import { ConflictError, type EsStateStore, type RuleState, type StateVersion } from '../es/state-store.js';
import type { Logger } from '../ops/logger.js';
import { linkTarget, writeAlertBatch, type AlertSinkDeps } from './alert-sink.js';
import { addRange, compact, compareCounts, DEFAULT_MAX_RANGES, emptyCoverage, type Audit, type Coverage } from './coverage.js';
import { hydrateMatches } from './hydrate.js';
import { alertsForMatches, newEngine, type PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleEngine, RuleEngineState, RuleMatch } from './rule-engine.js';
import type { ReadField, ReadMode } from './rule-reads.js';
import { openRuleView, type RuleView } from './rule-view.js';
import { evaluateSampleRule } from './sample-rule.js';
import { evaluateEventWindow, evaluateFresh, evaluateSequenceWindow, FRESH_MAX_EVENTS, readStretch, type ReadContext, type Stretch } from './window-read.js';
import { planWindows, type Window } from './windows.js';

export interface ExecuteSettings {
  ingestDelayMs: number;
  /** Lateness tolerance: how long after its time an event may become searchable and still count as on time. */
  latenessMs: number;
  /** How far back the late-arrival audit looks. */
  auditHorizonMs: number;
  maxWindowMs: number;
  maxCatchupMs: number;
  leaseTtlMs: number;
  pageSize: number;
  maxPendingSequences: number;
  /** Largest stored sequence state (oldest pending sequences are evicted beyond it). */
  maxStateBytes?: number;
}

export interface ExecuteDeps {
  client: Client;
  store: EsStateStore;
  logger: Logger;
  workerId: string;
  alertsIndex: string;
  spaceId: string;
  kibanaUrl: string | null;
  /** Promotion documents for Kibana's Security app (alert-sink.ts); null when off. Also makes alert links point there. */
  promotion?: AlertSinkDeps['promotion'];
  settings: ExecuteSettings;
  /** Durable hand-off of alerts to notifications; must finish before the checkpoint advances. */
  onAlerts?: (alerts: BuiltAlert[], p: PreparedRule) => Promise<void>;
  /** Test-only fault injection: called after alerts are written, before the checkpoint is saved. */
  afterAlertsWritten?: () => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface WindowReport {
  from: string;
  to: string;
  eventsRead: number;
  matches: number;
  alertsCreated: number;
  alertsDuplicate: number;
  truncated: number;
  durationMs: number;
}

/** Documents that became searchable after the stretch holding them had been read. */
export interface LateReport {
  /** Late documents found by the audit (count increases). */
  events: number;
  /** Of those, how many were later than the lateness tolerance (sequence rules: all of them). */
  beyondTolerance: number;
  /** Documents that arrived older than the audit horizon: reported, not evaluated. */
  olderThanHorizon: number;
  /** Events read to evaluate late documents (read again, or repair reads). */
  eventsRead: number;
  /** Alerts written because of late documents. */
  alertsCreated: number;
  /** Sequence repairs still waiting for the matcher to pass their partners' time. */
  repairsPending: number;
  /** A repair read stopped at its size bound: some late events may have missed their sequences. */
  incomplete: boolean;
}

export interface RunHealth {
  /** Pending partial sequences evicted by `maxPendingSequences` or the state size bound. */
  evicted: number;
  /** Reads that used a broader query because the cluster rejected one. */
  fallbacks: number;
  /** Events Elasticsearch returned out of `@timestamp` order (see RuleEngineStats.outOfOrder). */
  outOfOrder: number;
  /** Sequence events whose stored documents no longer exist (alerted from their reference). */
  missingDocuments: number;
}

export type ExecuteResult =
  | { status: 'skipped'; reason: string }
  | { status: 'ok' | 'aborted'; windows: WindowReport[]; late: LateReport; health: RunHealth; gap: Window | null; lagMs: number };

/** A stretch of a sequence rule with late events, evaluated afresh once the matcher has passed `due`. */
interface Repair {
  from: number;
  to: number;
  added: number;
  due: number;
}

/** What the state document's `pending` holds (opaque to the state store). */
interface Progress {
  version: 2;
  mode: ReadMode;
  /** End of the last window read (exclusive), on the read field; null before the first run. */
  frontier: number | null;
  coverage: Coverage | null;
  engine: RuleEngineState | null;
  repairs: Repair[];
}

const MAX_REPAIRS = 32;

export async function executeRule(deps: ExecuteDeps, p: PreparedRule): Promise<ExecuteResult> {
  const { store, workerId, settings } = deps;
  const now = deps.now ?? Date.now;
  const ruleId = p.rule.id;
  const acquired = await store.acquireLease(ruleId, workerId, settings.leaseTtlMs);
  if (!acquired.acquired) return { status: 'skipped', reason: `lease held by ${acquired.holder.owner} until ${acquired.holder.expiresAt}` };
  let version: StateVersion = acquired.version;
  const mode: ReadMode = p.compiled.kind === 'sequence' ? 'ordering' : 'arrival';
  let progress = decodeProgress(acquired.state, mode, deps.logger, p);
  let view: RuleView | null = null;
  try {
    view = await openRuleView(deps.client, p, deps.signal);
    const run = new RuleRun(deps, view, now());
    const result = await run.execute(progress, async (next) => {
      const state: RuleState = {
        checkpoint: next.frontier === null ? null : { windowEnd: iso(next.frontier), lastSort: null },
        pending: next,
        lease: { owner: workerId, expiresAt: iso(now() + settings.leaseTtlMs) },
      };
      version = await store.save(ruleId, state, version);
      progress = next;
    });
    const end = progress.frontier ?? now();
    return { ...result, lagMs: Math.max(0, now() - end) };
  } catch (err) {
    if (err instanceof ConflictError) return { status: 'skipped', reason: 'another worker advanced this rule concurrently (lease lost)' };
    throw err;
  } finally {
    await view?.snapshot.close();
    await store.releaseLease(ruleId, workerId).catch(() => undefined);
  }
}

/** One run of one rule over one snapshot. */
class RuleRun {
  private readonly ctx: ReadContext;
  private readonly log: Logger;
  private readonly health: RunHealth = { evicted: 0, fallbacks: 0, outOfOrder: 0, missingDocuments: 0 };
  private readonly filterId: string;
  /** Candidate filter of counts (broadened to the time range alone if the cluster rejects it). */
  private countFilter: QueryDsl;
  private readonly p: PreparedRule;
  private readonly field: ReadField;

  constructor(
    private readonly deps: ExecuteDeps,
    view: RuleView,
    private readonly startedAt: number,
  ) {
    this.log = deps.logger;
    this.p = view.prepared;
    this.field = view.field;
    this.ctx = readContext(view, deps, () => this.health.fallbacks++);
    this.countFilter = view.filters.all;
    this.filterId = digest({ all: view.filters.all, field: view.field.field, base: view.field.base });
  }

  private get rule() {
    return this.p.rule;
  }

  private get isSequence(): boolean {
    return this.field.mode === 'ordering';
  }

  async execute(progress: Progress, save: (next: Progress) => Promise<void>): Promise<Omit<Extract<ExecuteResult, { status: 'ok' | 'aborted' }>, 'lagMs'>> {
    if (this.p.compiled.kind === 'sample') return this.executeSample(save);
    const s = this.deps.settings;
    const delay = s.ingestDelayMs + (this.isSequence ? s.latenessMs : 0);
    const plan = planWindows({
      now: this.startedAt,
      lookbackMs: this.rule.lookbackMs,
      checkpoint: progress.frontier,
      ingestDelayMs: delay,
      maxWindowMs: s.maxWindowMs,
      maxCatchupMs: s.maxCatchupMs,
    });
    if (plan.gap) {
      this.log.error(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, gap: { from: iso(plan.gap.from), to: iso(plan.gap.to) } },
        `rule ${this.rule.name}: ${Math.round((plan.gap.to - plan.gap.from) / 1000)}s of events were not queried (backlog beyond worker.maxCatchup)`,
      );
    }
    // One request counts every stretch: what was read (the audit), the gap, and the windows about to be read.
    const start = plan.gap?.from ?? plan.windows[0]?.from ?? progress.frontier ?? this.startedAt - delay;
    const previous = progress.coverage ?? emptyCoverage(this.filterId);
    const before = previous.ranges[0]?.from ?? progress.frontier ?? start;
    // Windows of single-event rules are audited in two parts, older and younger than the tolerance, so a late
    // arrival can be told apart from an ordinary refresh lag.
    const parts = plan.windows.map((w) => this.auditParts(w));
    const fresh = [...(plan.gap ? [plan.gap] : []), ...parts.flat()];
    const counts = await this.count([{ from: null, to: before }, ...previous.ranges, ...fresh]);
    const olderNow = counts[0]!;
    const rangeCounts = counts.slice(1, 1 + previous.ranges.length);
    const freshCounts = counts.slice(1 + previous.ranges.length);
    const prevAudit = previous.auditedAt;
    const compared =
      progress.coverage === null
        ? { audit: { grown: [], olderAdded: 0, removed: 0, rebaselined: false } as Audit, coverage: { ...emptyCoverage(this.filterId, olderNow, this.startedAt) } }
        : compareCounts(previous, this.filterId, olderNow, rangeCounts, this.startedAt);
    let coverage = compared.coverage;
    const audit = compared.audit;
    if (audit.rebaselined) {
      this.log.info({ 'rule.id': this.rule.id }, `rule ${this.rule.name}: its candidate filter changed (mappings or rule edited); the late-arrival audit starts a new baseline`);
    }
    if (plan.gap) coverage = addRange(coverage, { ...plan.gap, count: freshCounts.shift()! });

    const late: LateReport = { events: 0, beyondTolerance: 0, olderThanHorizon: audit.olderAdded, eventsRead: 0, alertsCreated: 0, repairsPending: 0, incomplete: false };
    if (audit.olderAdded > 0) {
      this.log.error(
        { 'rule.id': this.rule.id, 'rule.name': this.rule.name, late_events: audit.olderAdded, before: iso(before) },
        `rule ${this.rule.name}: ${audit.olderAdded} candidate event(s) older than the late-arrival audit horizon (${fmtMs(s.auditHorizonMs)}, before ${iso(before)}) became searchable; they were not evaluated. Recover with "eqlwatch rescan --rule ${this.rule.id} --from <time> --to ${iso(before)}"`,
      );
    }
    // Late arrivals: single events are evaluated now; sequences wait until their partners' time has passed.
    let lateMatches: RuleMatch[] = [];
    let repairs = progress.repairs;
    for (const g of audit.grown) {
      late.events += g.added;
      const beyond = this.isSequence || prevAudit - g.to >= s.latenessMs;
      if (beyond) late.beyondTolerance += g.added;
      if (this.isSequence) repairs = addRepair(repairs, { from: g.from, to: g.to, added: g.added, due: g.to + this.span() });
      else {
        const fresh = await evaluateFresh(this.ctx, g);
        late.eventsRead += fresh.eventsRead;
        lateMatches.push(...fresh.matches);
      }
    }
    const engine = this.isSequence ? newEngine(this.p, { maxPendingPerStage: s.maxPendingSequences, ...(s.maxStateBytes ? { maxStateBytes: s.maxStateBytes } : {}) }, progress.engine) : newEngine(this.p, { maxPendingPerStage: s.maxPendingSequences });
    const evictedBefore = evictedOf(engine);
    const reports: WindowReport[] = [];
    let status: 'ok' | 'aborted' = 'ok';
    let frontier = plan.gap ? plan.gap.to : progress.frontier;
    const steps: (Window | null)[] = plan.windows.length > 0 ? plan.windows : [null];
    for (let i = 0; i < steps.length; i++) {
      if (this.deps.signal?.aborted) {
        status = 'aborted';
        break;
      }
      const w = steps[i]!;
      const started = Date.now();
      const outcome = w
        ? this.isSequence
          ? await evaluateSequenceWindow(this.ctx, engine, w, this.rule.maxSignals)
          : await evaluateEventWindow(this.ctx, engine, w, this.rule.maxSignals)
        : { matches: [], totalMatches: 0, eventsRead: 0 };
      if (w) frontier = w.to;
      if (this.isSequence && frontier !== null) {
        const due = repairs.filter((r) => r.due <= frontier!);
        repairs = repairs.filter((r) => r.due > frontier!);
        for (const r of due) {
          const found = await this.repair(r);
          late.eventsRead += found.eventsRead;
          late.incomplete ||= !found.complete;
          lateMatches.push(...found.matches);
        }
      }
      const lateKept = lateMatches.slice(0, this.rule.maxSignals);
      const lateDropped = lateMatches.length - lateKept.length;
      lateMatches = [];
      const all = [...lateKept, ...outcome.matches];
      const missing = await hydrateMatches(this.deps.client, all, this.deps.signal);
      this.reportMissing(missing.missing);
      const ctx = { now: new Date(Date.now()), spaceId: this.deps.spaceId, executionId: crypto.randomUUID(), kibanaUrl: this.deps.kibanaUrl, linkTarget: linkTarget(this.deps) };
      const lateAlerts = dedupeById(alertsForMatches(this.p, lateKept, ctx).alerts);
      const lateIds = new Set(lateAlerts.map((a) => a.id));
      const windowAlerts = dedupeById(alertsForMatches(this.p, outcome.matches, ctx).alerts).filter((a) => !lateIds.has(a.id));
      const lateWritten = lateAlerts.length > 0 ? await writeAlertBatch(this.deps, lateAlerts) : null;
      const written = await writeAlertBatch(this.deps, windowAlerts);
      this.deps.afterAlertsWritten?.();
      const unique = [...lateAlerts, ...windowAlerts];
      if (this.deps.onAlerts && unique.length > 0) await this.deps.onAlerts(unique, this.p);
      late.alertsCreated += lateWritten?.created ?? 0;
      // Only now is the window durable: save the frontier, the coverage and the sequence state.
      if (w) for (const part of parts[i]!) coverage = addRange(coverage, { ...part, count: freshCounts.shift()! });
      coverage = compact(coverage, this.startedAt, { horizonMs: s.auditHorizonMs, maxRanges: DEFAULT_MAX_RANGES, fineMs: Math.max(2 * s.latenessMs, 10 * 60_000) });
      const engineState = this.isSequence ? engine.snapshot() : null;
      await save({ version: 2, mode: this.field.mode, frontier, coverage, engine: engineState, repairs });
      const truncated = outcome.totalMatches - outcome.matches.length;
      if (truncated > 0 || lateDropped > 0) {
        this.log.warn(
          { 'rule.id': this.rule.id, 'rule.name': this.rule.name, truncated: truncated + lateDropped, max_signals: this.rule.maxSignals },
          `rule ${this.rule.name} reached the maximum alert limit (max_signals=${this.rule.maxSignals}); ${truncated + lateDropped} match(es) in this window were not alerted`,
        );
      }
      if (w) {
        const report: WindowReport = {
          from: iso(w.from),
          to: iso(w.to),
          eventsRead: outcome.eventsRead,
          matches: outcome.totalMatches,
          alertsCreated: written.created,
          alertsDuplicate: written.duplicates,
          truncated,
          durationMs: Date.now() - started,
        };
        reports.push(report);
        this.log.info(
          { 'rule.id': this.rule.id, 'rule.name': this.rule.name, window: { from: report.from, to: report.to }, events: report.eventsRead, matches: report.matches, alerts: written.created, duplicates: written.duplicates, 'event.duration': report.durationMs * 1e6 },
          `${this.rule.name}: window ${report.from} → ${report.to}, ${report.eventsRead} event(s) read, ${report.matches} match(es), ${written.created} alert(s) written${written.duplicates ? `, ${written.duplicates} already present` : ''} in ${report.durationMs} ms`,
        );
      }
    }
    late.repairsPending = repairs.length;
    if (late.events > 0) this.reportLate(late, audit);
    const stats = engine.stats;
    this.health.evicted = evictedOf(engine) - evictedBefore;
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
    return { status, windows: reports, late, health: this.health, gap: plan.gap };
  }

  /**
   * A sample rule, as Kibana runs one: every execution evaluates its whole look-back `[now - from, now)`
   * afresh (samples ignore chronology and keep no state), and the deterministic ids of what overlapping
   * executions find again make them one alert. Late arrivals within the look-back are found by the next
   * executions.
   */
  private async executeSample(save: (next: Progress) => Promise<void>): Promise<Omit<Extract<ExecuteResult, { status: 'ok' | 'aborted' }>, 'lagMs'>> {
    const s = this.deps.settings;
    const to = this.startedAt - s.ingestDelayMs;
    const w = { from: to - this.rule.lookbackMs, to };
    const started = Date.now();
    const hits: EngineHit[] = [];
    let truncated = false;
    for await (const page of readStretch(this.ctx, w, [
      { name: 'pushed-down filter', filter: this.ctx.filters.all },
      { name: 'time range only', filter: MATCH_ALL },
    ])) {
      for (const h of page) hits.push({ _index: h._index, _id: h._id, _source: h._source });
      if (hits.length >= FRESH_MAX_EVENTS) {
        truncated = true;
        break;
      }
    }
    if (truncated) {
      this.log.warn({ 'rule.id': this.rule.id, 'rule.name': this.rule.name, events: hits.length },
        `rule ${this.rule.name}: a sample rule's window holds more than ${FRESH_MAX_EVENTS} candidate events; only the first were evaluated (narrow the rule's query or look-back)`);
    }
    const { matches } = evaluateSampleRule(this.p, hits);
    const ctx = { now: new Date(Date.now()), spaceId: this.deps.spaceId, executionId: crypto.randomUUID(), kibanaUrl: this.deps.kibanaUrl, linkTarget: linkTarget(this.deps) };
    const alerts = dedupeById(alertsForMatches(this.p, matches, ctx).alerts);
    const written = await writeAlertBatch(this.deps, alerts);
    this.deps.afterAlertsWritten?.();
    if (this.deps.onAlerts && alerts.length > 0) await this.deps.onAlerts(alerts, this.p);
    await save({ version: 2, mode: this.field.mode, frontier: w.to, coverage: null, engine: null, repairs: [] });
    const report: WindowReport = {
      from: iso(w.from), to: iso(w.to), eventsRead: hits.length, matches: matches.length,
      alertsCreated: written.created, alertsDuplicate: written.duplicates, truncated: 0, durationMs: Date.now() - started,
    };
    this.log.info(
      { 'rule.id': this.rule.id, 'rule.name': this.rule.name, window: { from: report.from, to: report.to }, events: report.eventsRead, matches: report.matches, alerts: written.created, duplicates: written.duplicates, 'event.duration': report.durationMs * 1e6 },
      `${this.rule.name}: window ${report.from} → ${report.to}, ${report.eventsRead} event(s) read, ${report.matches} sample(s), ${written.created} alert(s) written${written.duplicates ? `, ${written.duplicates} already present` : ''} in ${report.durationMs} ms`,
    );
    const late: LateReport = { events: 0, beyondTolerance: 0, olderThanHorizon: 0, eventsRead: 0, alertsCreated: 0, repairsPending: 0, incomplete: truncated };
    return { status: 'ok', windows: [report], late, health: this.health, gap: null };
  }

  /** Candidate counts of each stretch (`from` null: everything before `to`), under the candidate filter. */
  private async count(stretches: { from: number | null; to: number }[]): Promise<number[]> {
    const buckets = stretches.map((r) => this.field.stretch(r.from, r.to));
    try {
      return await this.ctx.snapshot.counts(and([this.field.base, this.countFilter]), buckets);
    } catch (e) {
      if (!(e instanceof QueryRejectedError)) throw e;
      this.ctx.onFallback('counting candidates → counting every event', e.reason);
      // Counts under another filter are not comparable: the audit starts a new baseline.
      this.countFilter = MATCH_ALL;
      return this.ctx.snapshot.counts(this.field.base, buckets);
    }
  }

  /** A window's stretches for the audit: split at `to - lateness` for single-event rules. */
  private auditParts(w: Window): Window[] {
    const cut = w.to - this.deps.settings.latenessMs;
    return !this.isSequence && cut > w.from && cut < w.to ? [{ from: w.from, to: cut }, { from: cut, to: w.to }] : [w];
  }

  /** maxspan, or the rule's look-back for sequences without one. */
  private span(): number {
    return this.p.compiled.maxspanMs ?? this.rule.lookbackMs;
  }

  /**
   * Late events of a sequence rule, stamped in `[r.from, r.to)` after the matcher had passed that time:
   * the events around them are evaluated afresh (what `replay` would find over them) and every sequence
   * with an event in the stretch is kept. Sequences found before give the same alert ids (no duplicate).
   */
  private async repair(r: Repair): Promise<{ matches: RuleMatch[]; eventsRead: number; complete: boolean }> {
    const span = this.span();
    // A leading missing-event check looks up to maxspan before a sequence's first event.
    const s: Stretch = { from: r.from - 2 * span, to: r.to + span };
    const fresh = await evaluateFresh(this.ctx, s);
    const c = this.p.compiled;
    const matches = fresh.matches.filter(
      (m) => m.kind === 'sequence' && m.hits.some((h) => {
        const ts = c.timestampOf(h._source);
        return ts >= r.from && ts < r.to;
      }),
    );
    return { matches, eventsRead: fresh.eventsRead, complete: fresh.complete };
  }

  /**
   * Within the tolerance, a late document is the ordinary refresh lag (logged at debug); beyond it, a
   * warning names the stretches, so an operator can see which shipper or node fell behind.
   */
  private reportLate(late: LateReport, audit: Audit): void {
    const s = this.deps.settings;
    const within = late.events - late.beyondTolerance;
    const fields = {
      'rule.id': this.rule.id,
      'rule.name': this.rule.name,
      late_events: late.events,
      beyond_tolerance: late.beyondTolerance,
      lateness_tolerance_ms: s.latenessMs,
      stretches: audit.grown.map((g) => ({ from: iso(g.from), to: iso(g.to), added: g.added })).slice(0, 10),
      alerts: late.alertsCreated,
      repairs_pending: late.repairsPending,
    };
    const message =
      `rule ${this.rule.name}: ${late.events} event(s) became searchable after their window had been read` +
      `${late.beyondTolerance > 0 ? ` (${late.beyondTolerance} later than worker.lateness=${fmtMs(s.latenessMs)})` : ''}` +
      `${within > 0 ? `; ${within} within the tolerance were evaluated as if on time` : ''}` +
      `${this.isSequence ? `; their sequences are re-evaluated with the events around them${late.repairsPending > 0 ? ` (${late.repairsPending} stretch(es) once maxspan has passed)` : ''}` : ''}` +
      `; ${late.alertsCreated} alert(s) written for them` +
      `${late.incomplete ? ' (a re-evaluation read was truncated at 100,000 events: some may have missed their sequences)' : ''}`;
    if (late.beyondTolerance > 0 || late.incomplete) this.log.warn(fields, message);
    else this.log.debug(fields, message);
  }

  private reportMissing(missing: { _index: string; _id: string }[]): void {
    if (missing.length === 0) return;
    this.health.missingDocuments += missing.length;
    this.log.warn(
      { 'rule.id': this.rule.id, 'rule.name': this.rule.name, missing: missing.slice(0, 10) },
      `rule ${this.rule.name}: ${missing.length} event(s) of completed sequences no longer exist in Elasticsearch; their alerts carry only their index and id`,
    );
  }
}

/** The read context of a run over `view`; every fallback is counted (`onFallback`) and logged. */
export function readContext(view: RuleView, deps: Pick<ExecuteDeps, 'logger' | 'settings'>, onFallback: () => void): ReadContext {
  const rule = view.prepared.rule;
  return {
    snapshot: view.snapshot,
    field: view.field,
    filters: view.filters,
    prepared: view.prepared,
    pageSize: deps.settings.pageSize,
    maxPendingSequences: deps.settings.maxPendingSequences,
    onFallback: (what, reason) => {
      onFallback();
      deps.logger.warn(
        { 'rule.id': rule.id, 'rule.name': rule.name, fallback: what, 'error.message': reason },
        `rule ${rule.name}: Elasticsearch rejected a query (${reason}); read with a broader one instead (${what}), the engine filters locally`,
      );
    },
  };
}

function evictedOf(engine: RuleEngine): number {
  const st = engine.stats;
  return (st.sequence?.evicted ?? 0);
}

/** Merges a late stretch into the pending repairs (bounded: nearest stretches merge beyond MAX_REPAIRS). */
function addRepair(repairs: Repair[], r: Repair): Repair[] {
  const all = [...repairs, r].sort((a, b) => a.from - b.from);
  const merged: Repair[] = [];
  for (const x of all) {
    const last = merged[merged.length - 1];
    if (last && x.from <= last.to) {
      last.to = Math.max(last.to, x.to);
      last.added += x.added;
      last.due = Math.max(last.due, x.due);
    } else merged.push({ ...x });
  }
  while (merged.length > MAX_REPAIRS) {
    let best = 0;
    for (let i = 1; i + 1 < merged.length; i++) if (merged[i + 1]!.from - merged[i]!.to < merged[best + 1]!.from - merged[best]!.to) best = i;
    const a = merged[best]!;
    const b = merged[best + 1]!;
    merged.splice(best, 2, { from: a.from, to: b.to, added: a.added + b.added, due: Math.max(a.due, b.due) });
  }
  return merged;
}

function decodeProgress(state: RuleState, mode: ReadMode, logger: Logger, p: PreparedRule): Progress {
  const fresh: Progress = { version: 2, mode, frontier: null, coverage: null, engine: null, repairs: [] };
  const v = state.pending as Partial<Progress> | null | undefined;
  if (v && typeof v === 'object' && v.version === 2 && v.mode === mode) {
    return {
      ...fresh,
      frontier: typeof v.frontier === 'number' ? v.frontier : null,
      coverage: v.coverage ?? null,
      engine: v.engine ?? null,
      repairs: Array.isArray(v.repairs) ? v.repairs : [],
    };
  }
  if (state.checkpoint || v) {
    // State of an older eqlwatch, or of the rule before it changed kind: read its look-back again.
    // Alert ids are deterministic, so what was alerted before is not alerted twice.
    logger.info({ 'rule.id': p.rule.id }, `rule ${p.rule.name}: stored state is from another version or rule kind; starting again from the rule's look-back`);
  }
  return fresh;
}

function dedupeById(alerts: BuiltAlert[]): BuiltAlert[] {
  const seen = new Set<string>();
  return alerts.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
}

const digest = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('base64').slice(0, 22);
const iso = (ms: number): string => new Date(ms).toISOString();

function fmtMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}
