/**
 * One run of a group of rules that read the same indices on the same read field (groups.ts), sharing every
 * request a run makes: one lease, one load and one save of the rules' states, one point in time and one
 * mappings lookup, one count request for the late-arrival audit of every rule, one keys pass for the
 * sequences, one candidate read for all (each rule's filter as a named query, every hit routed to the
 * rules whose query it matched), one bulk write of the alerts. So the requests per window do not grow with
 * the number of rules, and each candidate document is read once.
 *
 * A rule alone is a group of one; its lease is its state document (as before groups). Every rule keeps its
 * own frontier, audit and sequence state, and its windows are its own (named queries carry each rule's
 * window), so a group behaves exactly as its rules run one by one (test/ops/equivalence.int.test.ts runs
 * both and compares). A shared request the cluster rejects is done rule by rule instead (each with its own
 * fallbacks); a read that is incomplete fails the run for the whole group before anything is saved.
 */
import { createHash } from 'node:crypto';
import type { BuiltAlert } from '../alerts/build.js';
import { or, type QueryDsl } from '../eql/pushdown.js';
import { QueryRejectedError, ReadSnapshot, type Hit } from '../es/snapshot.js';
import { ConflictError, type RuleState, type StateVersion } from '../es/state-store.js';
import type { Logger } from '../ops/logger.js';
import { writeAlertBatch } from './alert-sink.js';
import { hydrateMatches } from './hydrate.js';
import { Member } from './member.js';
import { fieldValue, type PreparedRule } from './prepared-rule.js';
import { HIT_REF, isSlim, SLIM, type EngineHit, type RuleMatch } from './rule-engine.js';
import type { ReadMode } from './rule-reads.js';
import { viewOf, type RuleView } from './rule-view.js';
import type { ExecuteDeps, ExecuteResult, Progress } from './run-types.js';
import { fetchIndexSchema } from '../es/mappings.js';
import { readStretch, type ReadContext } from './window-read.js';

/** The lease of a group: its only rule's state document, or a document of its own. */
export function groupLeaseId(rules: readonly PreparedRule[]): string {
  if (rules.length === 1) return rules[0]!.rule.id;
  const ids = rules.map((r) => r.rule.id).sort();
  return `group:${createHash('sha256').update(JSON.stringify(ids)).digest('hex').slice(0, 32)}`;
}

export async function executeGroup(deps: ExecuteDeps, rules: readonly PreparedRule[]): Promise<Map<string, ExecuteResult>> {
  const { store, workerId, settings } = deps;
  const now = deps.now ?? Date.now;
  const single = rules.length === 1;
  const leaseId = groupLeaseId(rules);
  const skipped = (reason: string) => new Map<string, ExecuteResult>(rules.map((p) => [p.rule.id, { status: 'skipped', reason }]));
  const acquired = await store.acquireLease(leaseId, workerId, settings.leaseTtlMs);
  if (!acquired.acquired) return skipped(`lease held by ${acquired.holder.owner} until ${acquired.holder.expiresAt}`);
  let leaseVersion: StateVersion | null = acquired.version;
  let snapshot: ReadSnapshot | null = null;
  let released = false;
  try {
    const loaded = single ? new Map([[rules[0]!.rule.id, { state: acquired.state, version: acquired.version as StateVersion | null }]]) : await store.loadMany(rules.map((p) => p.rule.id));
    const versions = new Map<string, StateVersion | null>([...loaded].map(([id, l]) => [id, l.version]));
    const index = rules[0]!.rule.index;
    snapshot = await ReadSnapshot.open(deps.client, index, deps.signal ? { signal: deps.signal } : {});
    const schema = deps.schemaCache ? await deps.schemaCache.get(deps.client, index, deps.signal) : await fetchIndexSchema(deps.client, index, deps.signal);
    const startedAt = now();
    const members = rules.map((p) => {
      const view = viewOf(snapshot!, schema, p);
      const progress = decodeProgress(loaded.get(p.rule.id)!.state, view.field.mode, deps.logger, p);
      return new Member(deps, view, startedAt, progress, (v, onFallback) => readContext(v, deps, onFallback));
    });
    const run = new GroupRun(deps, members);
    // The last save of a run also gives the lease up (one request fewer than saving, then releasing).
    const save = async (items: { m: Member; progress: Progress }[], last: boolean) => {
      const state = (progress: Progress, lease: RuleState['lease']): RuleState => ({
        checkpoint: progress.frontier === null ? null : { windowEnd: new Date(progress.frontier).toISOString(), lastSort: null },
        pending: progress,
        lease,
      });
      const lease = last ? null : { owner: workerId, expiresAt: new Date(now() + settings.leaseTtlMs).toISOString() };
      if (single) {
        const it = items[0]!;
        versions.set(it.m.id, await store.save(it.m.id, state(it.progress, lease), versions.get(it.m.id)!));
        released = last;
        return;
      }
      const res = await store.saveMany(items.map((it) => ({ ruleId: it.m.id, state: state(it.progress, null), version: versions.get(it.m.id)! })));
      if (res.conflicts.length > 0) throw new ConflictError(res.conflicts[0]!);
      for (const [id, v] of res.versions) versions.set(id, v);
      // The group's lease, extended with every save (a long catch-up must not lose it).
      leaseVersion = await store.save(leaseId, { checkpoint: null, pending: null, lease }, leaseVersion);
      released = last;
    };
    const status = await run.execute(save);
    const end = now();
    return new Map(members.map((m) => [m.id, m.result(status, end)]));
  } catch (err) {
    if (err instanceof ConflictError) return skipped('another worker advanced this rule concurrently (lease lost)');
    throw err;
  } finally {
    await snapshot?.close();
    if (!released) await store.releaseLease(leaseId, workerId).catch(() => undefined);
  }
}

/** The read context of a rule's own reads over `view`; every fallback is counted (`onFallback`) and logged. */
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

class GroupRun {
  private readonly log: Logger;
  /** `_source` fields the rules read (documents that become alerts are fetched whole). */
  private readonly sourceFields: string[] | undefined;

  constructor(
    private readonly deps: ExecuteDeps,
    private readonly members: Member[],
  ) {
    this.log = deps.logger;
    const fields = new Set<string>();
    for (const m of members) for (const f of m.p.fields) fields.add(f);
    this.sourceFields = deps.settings.readNeededFields === false ? undefined : [...fields];
  }

  private get snapshot(): ReadSnapshot {
    return this.members[0]!.ctx.snapshot;
  }

  async execute(save: (items: { m: Member; progress: Progress }[], last: boolean) => Promise<void>): Promise<'ok' | 'aborted'> {
    await this.count();
    for (const m of this.members) await m.lateWork();
    const steps = Math.max(...this.members.map((m) => m.steps));
    for (let i = 0; i < steps; i++) {
      if (this.deps.signal?.aborted) return 'aborted';
      const active = this.members.filter((m) => i < m.steps);
      for (const m of active) m.beginStep();
      await this.keysPass(active, i);
      await this.read(active, i);
      for (const m of active) await m.completeStep(i);
      await this.writeAndSave(active, i, (items) => save(items, i === steps - 1));
    }
    return 'ok';
  }

  /** The audit's counts of every rule in one request (rule by rule if the cluster rejects it). */
  private async count(): Promise<void> {
    const counted = this.members.filter((m) => m.countStretches().length > 0);
    if (counted.length === 0) return;
    if (counted.length > 1) {
      try {
        const all = await this.snapshot.groupedCounts(counted.map((m) => m.countQuery()));
        for (const [j, m] of counted.entries()) m.applyCounts(all[j]!);
        return;
      } catch (e) {
        if (!(e instanceof QueryRejectedError)) throw e;
        this.log.warn({ rules: counted.length, 'error.message': e.reason }, `the shared count request of ${counted.length} rules was rejected (${e.reason}); counting rule by rule`);
      }
    }
    for (const m of counted) m.applyCounts(await m.countAlone());
  }

  /** Sequences' keys pass: every narrowing rule's first-stage candidates of the window, in one read. */
  private async keysPass(active: Member[], i: number): Promise<void> {
    const narrowing = active.filter((m) => m.keysQuery(i) !== null);
    for (const m of narrowing) m.startKeys();
    if (narrowing.length === 0) return;
    const fields = [...new Set(narrowing.flatMap((m) => m.keyFields()))];
    const queries = narrowing.map((m) => m.keysQuery(i)!);
    // A member past the key cap stops narrowing (addKeys says so); the shared read goes on for the others.
    const routed = await this.sharedRead(narrowing, queries, fields, (m, hits) => void m.addKeys(hits));
    if (routed) return;
    // Rule by rule (the shared read was rejected, or there is one rule).
    for (const m of narrowing) {
      try {
        for await (const page of this.snapshot.read({ query: m.keysQuery(i)!, sort: m.field.sort, pageSize: this.deps.settings.pageSize, sourceFields: m.keyFields() })) {
          if (!m.addKeys(page)) break;
        }
      } catch (e) {
        if (!(e instanceof QueryRejectedError)) throw e;
        m.ctx.onFallback('first-stage keys → no key narrowing', e.reason);
        m.noNarrowing();
      }
    }
  }

  /** The candidates of every rule's window, in one read in the read field's order, routed by rule. */
  private async read(active: Member[], i: number): Promise<void> {
    const reading = active.filter((m) => m.windowAt(i) !== null);
    if (reading.length === 0) return;
    const queries = reading.map((m) => m.readQuery(i)!);
    const routed = await this.sharedRead(reading, queries, this.sourceFields, (m, hits) => m.consume(hits));
    if (routed) return;
    for (const m of reading) {
      const w = m.windowAt(i)!;
      for await (const page of readStretch(m.ctx, w, m.readLadder(i), this.sourceFields)) m.consume(page.map((h) => this.toEngineHit(h)));
    }
  }

  /**
   * One read of `or(named queries)`, each page's hits handed to the rules whose query they matched, in
   * order. False (nothing read) when there is one rule or the cluster rejected the shared query: the caller
   * then reads rule by rule.
   */
  private async sharedRead(members: Member[], queries: QueryDsl[], sourceFields: string[] | undefined, take: (m: Member, hits: EngineHit[]) => void): Promise<boolean> {
    if (members.length < 2) return false;
    const named = queries.map((q, k) => ({ bool: { filter: [q], _name: `r${k}` } }) as QueryDsl);
    let yielded = false;
    try {
      for await (const page of this.snapshot.read({ query: or(named), sort: members[0]!.field.sort, pageSize: this.deps.settings.pageSize, ...(sourceFields ? { sourceFields } : {}) })) {
        yielded = true;
        const per = members.map(() => [] as EngineHit[]);
        for (const h of page) {
          const names = h.matched_queries ?? [];
          for (const name of names) {
            const k = Number(name.slice(1));
            // A document routed to several rules gets a copy each: engines annotate documents.
            if (per[k]) per[k]!.push(this.toEngineHit(h, names.length > 1));
          }
        }
        members.forEach((m, k) => {
          if (per[k]!.length > 0) take(m, per[k]!);
        });
      }
      return true;
    } catch (e) {
      if (!(e instanceof QueryRejectedError) || yielded) throw e;
      this.log.warn({ rules: members.length, 'error.message': e.reason }, `the shared read of ${members.length} rules was rejected (${e.reason}); reading rule by rule`);
      return false;
    }
  }

  /** A hit for an engine; read with `_source` filtering, it is marked for fetching whole if it is alerted. */
  private toEngineHit(h: Hit, copy = false): EngineHit {
    const source = copy ? { ...h._source } : h._source;
    if (this.sourceFields) source[SLIM] = true;
    return { _index: h._index, _id: h._id, _source: source };
  }

  /** The step's alerts of every rule in one write, then every rule's state in one save. */
  private async writeAndSave(active: Member[], i: number, save: (items: { m: Member; progress: Progress }[]) => Promise<void>): Promise<void> {
    const per = active.map((m) => ({ m, ...m.stepMatches() }));
    const matches = per.flatMap((x) => [...x.late, ...x.window]);
    // Alerted documents read as references or with only the fields rules read: fetched whole, in one request.
    await hydrateMatches(this.deps.client, matches, this.deps.signal);
    for (const x of per) x.m.reportMissing(missingOf([...x.late, ...x.window]));
    const built = per.map((x) => {
      const late = alertsWithArrival(x.m, x.late);
      const lateIds = new Set(late.map((a) => a.alert.id));
      const window = alertsWithArrival(x.m, x.window).filter((a) => !lateIds.has(a.alert.id));
      return { ...x, lateAlerts: late, windowAlerts: window };
    });
    const all: BuiltAlert[] = built.flatMap((x) => [...x.lateAlerts, ...x.windowAlerts].map((a) => a.alert));
    const written = all.length > 0 ? await writeAlertBatch(this.deps, all) : { created: 0, duplicates: 0, createdIds: [] as string[] };
    const writtenAt = Date.now();
    this.deps.afterAlertsWritten?.();
    if (this.deps.onAlerts && all.length > 0) await this.deps.onAlerts(all);
    const created = new Set(written.createdIds);
    if (this.deps.onCreated && created.size > 0) {
      this.deps.onCreated(built.flatMap((x) => [...x.lateAlerts, ...x.windowAlerts]).filter((a) => created.has(a.alert.id)).map((a) => ({ alertId: a.alert.id, arrivedAt: a.arrivedAt })), writtenAt);
    }
    // Only now is the step durable: save every rule's frontier, audit and sequence state.
    await save(built.map((x) => ({ m: x.m, progress: x.m.progressAfter(i) })));
    for (const x of built) {
      const c = x.windowAlerts.filter((a) => created.has(a.alert.id)).length;
      x.m.stepDone(i, { created: c, duplicates: x.windowAlerts.length - c }, x.lateAlerts.filter((a) => created.has(a.alert.id)).length, x.lateDropped);
    }
  }
}

/** A member's alerts, each with when its latest event arrived (for the detection-latency metric). */
function alertsWithArrival(m: Member, matches: RuleMatch[]): { alert: BuiltAlert; arrivedAt: number }[] {
  const out: { alert: BuiltAlert; arrivedAt: number }[] = [];
  const seen = new Set<string>();
  for (const match of matches) {
    const hits = match.kind === 'event' ? [match.hit] : match.hits;
    const arrivedAt = Math.max(...hits.map((h) => arrivalOf(m, h)));
    for (const alert of m.alertsOf([match])) {
      if (seen.has(alert.id)) continue;
      seen.add(alert.id);
      out.push({ alert, arrivedAt });
    }
  }
  return out;
}

function arrivalOf(m: Member, h: EngineHit): number {
  for (const f of ['event.ingested', m.rule.timestampField]) {
    const v = fieldValue(h._source, f);
    const t = typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : NaN;
    if (Number.isFinite(t)) return t;
  }
  return Date.now();
}

/** Hits still reduced to references after hydration: their documents are gone. */
function missingOf(matches: RuleMatch[]): { _index: string; _id: string }[] {
  return matches.flatMap((m) => (m.kind === 'event' ? [m.hit] : m.hits)).filter(isSlim).map((h) => {
    const ref = h._source[HIT_REF] as { _index: string; _id: string } | undefined;
    return { _index: ref?._index ?? h._index, _id: ref?._id ?? h._id };
  });
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
