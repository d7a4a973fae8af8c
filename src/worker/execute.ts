/**
 * One execution of one rule against Elasticsearch: take the rule's lease, read each pending window
 * (pushed-down filter, PIT + search_after), evaluate locally, write alerts with deterministic ids, hand
 * them to notifications, and only then advance the checkpoint (with the sequence state) under optimistic
 * concurrency. A crash anywhere before the checkpoint write repeats the window; deterministic ids and
 * bulk `create` make the repeat write nothing new, so every match gives exactly one alert.
 */
import type { Client } from '@elastic/elasticsearch';
import type { BuiltAlert } from '../alerts/build.js';
import type { KeyTuple } from '../eql/compiled.js';
import { and, narrowByKeys, or, pushdownAny, pushdownQuery, type QueryDsl } from '../eql/pushdown.js';
import { fetchFieldSchema, fetchIgnoreAbove } from '../es/field-caps.js';
import { readWindow, type Hit } from '../es/source.js';
import { ConflictError, type EsStateStore, type RuleState, type StateVersion } from '../es/state-store.js';
import type { Logger } from '../ops/logger.js';
import { writeAlertBatch, type AlertSinkDeps } from './alert-sink.js';
import { alertsForMatches, newEngine, type PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleEngine, RuleEngineState, RuleMatch } from './rule-engine.js';
import { planWindows, type Window } from './windows.js';

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
  settings: {
    ingestDelayMs: number;
    maxWindowMs: number;
    maxCatchupMs: number;
    leaseTtlMs: number;
    pageSize: number;
    maxPendingSequences: number;
    reorderSlackMs: number;
  };
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
  /** Events of a sequence rule ignored because they were older than what its matcher had evaluated. */
  lateEvents: number;
  durationMs: number;
}

export type ExecuteResult =
  | { status: 'skipped'; reason: string }
  | { status: 'ok' | 'aborted'; windows: WindowReport[]; gap: Window | null; lagMs: number };

export async function executeRule(deps: ExecuteDeps, p: PreparedRule): Promise<ExecuteResult> {
  const { store, workerId, settings } = deps;
  const now = deps.now ?? Date.now;
  const ruleId = p.rule.id;
  const acquired = await store.acquireLease(ruleId, workerId, settings.leaseTtlMs);
  if (!acquired.acquired) return { status: 'skipped', reason: `lease held by ${acquired.holder.owner} until ${acquired.holder.expiresAt}` };
  let state: RuleState = acquired.state;
  let version: StateVersion = acquired.version;
  const checkpoint = state.checkpoint ? Date.parse(state.checkpoint.windowEnd) : null;
  const plan = planWindows({
    now: now(),
    lookbackMs: p.rule.lookbackMs,
    checkpoint,
    ingestDelayMs: settings.ingestDelayMs,
    maxWindowMs: settings.maxWindowMs,
    maxCatchupMs: settings.maxCatchupMs,
  });
  if (plan.gap) {
    deps.logger.error(
      { 'rule.id': ruleId, 'rule.name': p.rule.name, gap: { from: iso(plan.gap.from), to: iso(plan.gap.to) } },
      `rule ${p.rule.name}: ${Math.round((plan.gap.to - plan.gap.from) / 1000)}s of events were not queried (backlog beyond worker.maxCatchup)`,
    );
  }
  const engine = newEngine(
    p,
    { reorderSlackMs: settings.reorderSlackMs, maxPendingPerStage: settings.maxPendingSequences },
    engineState(state.pending),
  );
  const reports: WindowReport[] = [];
  let status: 'ok' | 'aborted' = 'ok';
  try {
    const filters = await ruleFilters(deps.client, p, deps.signal);
    for (const w of plan.windows) {
      if (deps.signal?.aborted) {
        status = 'aborted';
        break;
      }
      const started = now();
      const read = await readAndEvaluate(deps, p, engine, filters, w);
      const { eventsRead } = read;
      // Sequence events that arrived after the matcher had passed their time: re-evaluated over Elasticsearch.
      const lateHits = engine.takeLate();
      const lateEvents = lateHits.length;
      const repaired = lateEvents > 0 ? await repairLate(deps, p, filters, lateHits, w) : { matches: [], read: 0, complete: true };
      const matches = [...read.matches, ...repaired.matches].slice(0, p.rule.maxSignals);
      const totalMatches = read.totalMatches + repaired.matches.length;
      const ctx = { now: new Date(now()), spaceId: deps.spaceId, executionId: crypto.randomUUID(), kibanaUrl: deps.kibanaUrl, linkTarget: deps.promotion ? ('security' as const) : ('discover' as const) };
      const { alerts, loopsPrevented } = alertsForMatches(p, matches, ctx);
      // Only max_signals matches are kept in memory; the rest are counted (Kibana's limit, logged below).
      const truncated = totalMatches - Math.min(totalMatches, p.rule.maxSignals);
      const unique = dedupeById(alerts);
      const written = await writeAlertBatch(deps, unique, loopsPrevented);
      deps.afterAlertsWritten?.();
      if (deps.onAlerts && unique.length > 0) await deps.onAlerts(unique, p);
      // Only now is the window durable: advance the checkpoint with the matcher state, and renew the lease.
      const lease = { owner: workerId, expiresAt: iso(now() + settings.leaseTtlMs) };
      const next: RuleState = {
        checkpoint: { windowEnd: iso(w.to), lastSort: null },
        pending: engine.snapshot(),
        lease,
      };
      version = await store.save(ruleId, next, version);
      state = next;
      if (lateEvents > 0) {
        // Not silent: the ingest delay exceeds the reorder slack, which costs a re-read each time.
        deps.logger.warn(
          { 'rule.id': ruleId, 'rule.name': p.rule.name, late_events: lateEvents, repaired_sequences: repaired.matches.length, repair_events_read: repaired.read, reorder_slack_ms: settings.reorderSlackMs },
          `rule ${p.rule.name}: ${lateEvents} event(s) arrived later than worker.reorderSlack allows; re-evaluated them with the events around them: ${repaired.matches.length} sequence(s) found` +
            `${repaired.complete ? '' : ' (re-read truncated: some of these events may have missed their sequences)'}; raise worker.reorderSlack above the ingest delay`,
        );
      }
      if (truncated > 0) {
        deps.logger.warn(
          { 'rule.id': ruleId, 'rule.name': p.rule.name, truncated, max_signals: p.rule.maxSignals },
          `rule ${p.rule.name} reached the maximum alert limit (max_signals=${p.rule.maxSignals}); ${truncated} match(es) in this window were not alerted`,
        );
      }
      const report: WindowReport = {
        from: iso(w.from),
        to: iso(w.to),
        eventsRead,
        matches: totalMatches,
        alertsCreated: written.created,
        alertsDuplicate: written.duplicates,
        truncated,
        lateEvents,
        durationMs: now() - started,
      };
      reports.push(report);
      deps.logger.info(
        { 'rule.id': ruleId, 'rule.name': p.rule.name, window: { from: report.from, to: report.to }, events: eventsRead, matches: report.matches, alerts: written.created, duplicates: written.duplicates, 'event.duration': report.durationMs * 1e6 },
        `${p.rule.name}: window ${report.from} → ${report.to}, ${eventsRead} event(s) read, ${report.matches} match(es), ${written.created} alert(s) written${written.duplicates ? `, ${written.duplicates} already present` : ''} in ${report.durationMs} ms`,
      );
    }
  } catch (err) {
    if (err instanceof ConflictError) {
      return { status: 'skipped', reason: 'another worker advanced this rule concurrently (lease lost)' };
    }
    throw err;
  } finally {
    await store.releaseLease(ruleId, workerId).catch(() => undefined);
  }
  const end = state.checkpoint ? Date.parse(state.checkpoint.windowEnd) : now();
  return { status, windows: reports, gap: plan.gap, lagMs: Math.max(0, now() - end) };
}

export interface RuleFilters {
  /** Everything the rule could use, in one query. */
  all: QueryDsl;
  /** Sequences whose later stages can be narrowed by the join keys of the first stage. */
  narrowing: null | {
    first: QueryDsl;
    later: { filter: QueryDsl; keyFields: string[] }[];
    until: QueryDsl | null;
    firstKeyFields: string[];
  };
}

/** Field types and ignore_above limits are re-read every run: mappings change as indices roll over. */
export async function ruleFilters(client: Client, p: PreparedRule, signal?: AbortSignal): Promise<RuleFilters> {
  const [schema, ignoreAboveOf] = await Promise.all([
    fetchFieldSchema(client, p.rule.index, signal),
    fetchIgnoreAbove(client, p.rule.index, signal),
  ]);
  const plan = pushdownQuery(p.compiled.query, {
    eventCategoryField: p.rule.eventCategoryField,
    ignoredAware: true,
    fieldTypes: (path) => schema.typeOf(path),
    ignoreAboveOf,
  });
  const all = pushdownAny(plan);
  const q = p.compiled.query;
  if (q.kind !== 'sequence' || p.compiled.stages.some((s) => s.missing) || q.by.length + (q.stages[0]?.by.length ?? 0) === 0) {
    return { all, narrowing: null };
  }
  const keyFields: string[][] = [];
  for (const s of q.stages) for (let i = 0; i < Math.max(1, s.runs); i++) keyFields.push([...q.by, ...s.by].map((f) => f.path));
  return {
    all,
    narrowing: {
      first: plan.stages[0]!,
      firstKeyFields: keyFields[0]!,
      later: plan.stages.slice(1).map((filter, i) => ({ filter, keyFields: keyFields[i + 1]! })),
      until: plan.until && q.until ? plan.until : null,
    },
  };
}

/**
 * Reads one window and feeds the engine. For sequences a first, keys-only pass collects the join keys
 * that can start a sequence in this window; with the keys of sequences already pending, they narrow the
 * later stages so Elasticsearch returns only candidate events (a sound superset: unmatched keys cannot join).
 */
async function readAndEvaluate(
  deps: ExecuteDeps,
  p: PreparedRule,
  engine: RuleEngine,
  filters: RuleFilters,
  w: Window,
): Promise<{ matches: RuleMatch[]; eventsRead: number; totalMatches: number }> {
  const base = {
    index: p.rule.index,
    from: new Date(w.from),
    to: new Date(w.to),
    timestampField: p.rule.timestampField,
    pageSize: deps.settings.pageSize,
    ...(p.rule.timestampOverride ? { timestampOverride: p.rule.timestampOverride } : {}),
    timestampOverrideFallbackDisabled: !p.rule.timestampOverrideFallback,
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  let filter = filters.all;
  const n = filters.narrowing;
  if (n) {
    const keys = new Map<string, KeyTuple>();
    const firstStage = p.compiled.stages[0]!;
    const addKeys = (tuples: readonly KeyTuple[]) => {
      for (const t of tuples) keys.set(JSON.stringify(t), t);
    };
    addKeys(engine.pendingJoinKeys());
    let tooMany = false;
    for await (const page of readWindow(deps.client, { ...base, filter: n.first, sourceFields: [...n.firstKeyFields, p.rule.eventCategoryField] })) {
      for (const h of page) addKeys(firstStage.keys(h._source));
      if (keys.size > 10_000) {
        tooMany = true;
        break;
      }
    }
    if (!tooMany) {
      const seen = [...keys.values()];
      // Events stamped within the reorder slack of the window end are held for the next window, where the
      // first-stage event they join may still arrive (ingested later, stamped earlier): read them whatever
      // their keys. Older ones are released now, and a partner arriving later would be late for them anyway.
      const young: QueryDsl = {
        range: { [p.rule.timestampField]: { gte: new Date(w.to - deps.settings.reorderSlackMs).toISOString(), format: 'strict_date_optional_time' } },
      };
      filter = or([
        n.first,
        ...n.later.map((l) => narrowByKeys(l.filter, l.keyFields, seen)),
        ...n.later.map((l) => and([l.filter, young])),
        ...(n.until ? [narrowByKeys(n.until, n.firstKeyFields, seen), and([n.until, young])] : []),
      ]);
    }
  }
  const matches: RuleMatch[] = [];
  let eventsRead = 0;
  let totalMatches = 0;
  for await (const page of readWindow(deps.client, { ...base, filter })) {
    eventsRead += page.length;
    // Pages arrive in timestamp order: the next page starts at this page's last timestamp at the earliest, so
    // only time strictly before it is complete (the engine releases events stamped before `upTo - reorderSlack`).
    // (Releasing up to the window's end after the first page would
    // make every later page "late" for the sequence matcher.)
    const lastTs = p.compiled.timestampOf(page[page.length - 1]!._source);
    const upTo = Number.isFinite(lastTs) ? Math.min(w.to, lastTs + deps.settings.reorderSlackMs) : -Infinity;
    const found = engine.consume(page.map(stripSort), upTo);
    // Memory bound: beyond max_signals only the count matters.
    totalMatches += found.length;
    for (const m of found) if (matches.length < p.rule.maxSignals) matches.push(m);
  }
  // Releases events held for reordering once the window's end is behind the watermark.
  const released = engine.consume([], w.to);
  totalMatches += released.length;
  for (const m of released) if (matches.length < p.rule.maxSignals) matches.push(m);
  return { matches, eventsRead, totalMatches };
}

/** Upper bound of events one late-event re-evaluation reads. */
const REPAIR_MAX_EVENTS = 100_000;

/**
 * Late sequence events (stamped before the time the rule's matcher had already evaluated) get the treatment
 * Kibana's overlapping windows give every event: the candidate events around them, by `@timestamp` within
 * maxspan (or the rule's lookback) and ingested before this window's end, are evaluated afresh, and every
 * sequence using a late event is kept. Sequences found before produce the same alert ids again (no duplicate).
 */
async function repairLate(
  deps: ExecuteDeps,
  p: PreparedRule,
  filters: RuleFilters,
  late: EngineHit[],
  w: Window,
): Promise<{ matches: RuleMatch[]; read: number; complete: boolean }> {
  const span = p.compiled.maxspanMs ?? p.rule.lookbackMs;
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of late) {
    const ts = p.compiled.timestampOf(h._source);
    if (ts < lo) lo = ts;
    if (ts > hi) hi = ts;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { matches: [], read: 0, complete: true };
  const around: QueryDsl = {
    range: { [p.rule.timestampField]: { gte: iso(lo - span), lte: iso(hi + span), format: 'strict_date_optional_time' } },
  };
  const fresh = newEngine(p, { reorderSlackMs: 0, maxPendingPerStage: deps.settings.maxPendingSequences });
  const found: RuleMatch[] = [];
  let read = 0;
  let complete = true;
  const pages = readWindow(deps.client, {
    index: p.rule.index,
    from: new Date(0),
    to: new Date(w.to),
    timestampField: p.rule.timestampField,
    pageSize: deps.settings.pageSize,
    ...(p.rule.timestampOverride ? { timestampOverride: p.rule.timestampOverride } : {}),
    timestampOverrideFallbackDisabled: !p.rule.timestampOverrideFallback,
    filter: and([filters.all, around]),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  for await (const page of pages) {
    read += page.length;
    const lastTs = p.compiled.timestampOf(page[page.length - 1]!._source);
    found.push(...fresh.consume(page.map(stripSort), Number.isFinite(lastTs) ? lastTs : -Infinity));
    if (read >= REPAIR_MAX_EVENTS) {
      complete = false;
      break;
    }
  }
  found.push(...fresh.consume([], Infinity, true));
  const lateIds = new Set(late.map((h) => `${h._index}\u0000${h._id}`));
  const matches = found.filter((m) => m.kind === 'sequence' && m.hits.some((h) => lateIds.has(`${h._index}\u0000${h._id}`)));
  return { matches, read, complete };
}

function stripSort(h: Hit): { _index: string; _id: string; _source: Record<string, unknown> } {
  return { _index: h._index, _id: h._id, _source: h._source };
}

function engineState(pending: unknown): RuleEngineState | null {
  if (pending && typeof pending === 'object' && (pending as { version?: unknown }).version === 1) return pending as RuleEngineState;
  return null;
}

function dedupeById(alerts: BuiltAlert[]): BuiltAlert[] {
  const seen = new Set<string>();
  return alerts.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
}

const iso = (ms: number): string => new Date(ms).toISOString();
