/**
 * The worker in-process against the real node, on a clock the test controls: each `run(now)` is a fresh
 * process as far as the rule is concerned (a new engine from the stored state, as after a restart), so a
 * test decides what is searchable when (by indexing and refreshing before a run) and when runs happen.
 * `replayIds` exports every document and the indices' mappings and runs `replay`'s rule evaluation over
 * them: the reference the worker's alerts are held to.
 */
import { Writable } from 'node:stream';
import type { Client } from '@elastic/elasticsearch';
import { ensureAlertsIndex } from '../../src/es/alerts-template.js';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import { ReadSnapshot } from '../../src/es/snapshot.js';
import { EsStateStore } from '../../src/es/state-store.js';
import { createLogger } from '../../src/ops/logger.js';
import { Metrics } from '../../src/ops/metrics.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import type { ExecuteDeps, ExecuteResult, ExecuteSettings } from '../../src/worker/execute.js';
import { executeGroup, groupLeaseId } from '../../src/worker/group-run.js';
import { formGroups } from '../../src/worker/groups.js';
import { SchemaCache } from '../../src/worker/rule-view.js';
import { prepareRule, type PreparedRule } from '../../src/worker/prepared-rule.js';
import { replayRule, type ReplayInput } from '../../src/worker/replay-rule.js';
import { rescanRule, type RescanReport } from '../../src/worker/rescan.js';
import { runMetrics } from '../../src/worker/run-metrics.js';
import type { EsTestContext } from './es.js';

export const DEFAULT_TEST_SETTINGS: ExecuteSettings = {
  ingestDelayMs: 0,
  latenessMs: 60_000,
  auditHorizonMs: 24 * 3_600_000,
  maxWindowMs: 3_600_000,
  maxCatchupMs: 24 * 3_600_000,
  leaseTtlMs: 120_000,
  pageSize: 1000,
  maxPendingSequences: 10_000,
};

export type LogLine = Record<string, unknown> & { 'log.level': string; message: string };

/** A rule from its text (YAML, TOML or .eql by `file`'s extension); throws on a rule error. */
export function ruleFrom(file: string, text: string): Rule {
  const out = loadRuleText(file, text);
  if (out.kind !== 'rule') throw new Error(`${file}: ${JSON.stringify(out)}`);
  return out.rule;
}

export class WorkerHarness {
  readonly logs: LogLine[] = [];
  readonly metrics = new Metrics();
  readonly alertsIndex: string;
  readonly store: EsStateStore;
  private readonly prepared: PreparedRule[];
  private readonly record = runMetrics(this.metrics);
  private ready = false;

  /** The test's clock at the last run (mappings are cached on it, as the worker caches them on its own). */
  private clock = 0;
  private readonly schemaCache = new SchemaCache(30_000, () => this.clock);

  constructor(
    private readonly es: EsTestContext,
    readonly rules: Rule[],
    readonly settings: ExecuteSettings = DEFAULT_TEST_SETTINGS,
    readonly workerId = 'harness',
    /** Rules over the same indices run as groups sharing their reads (the worker's default), else one by one. */
    readonly shared = false,
  ) {
    this.alertsIndex = es.name('alerts');
    this.store = new EsStateStore(es.client, { index: es.name('state') });
    this.prepared = rules.map((r) => prepareRule(r));
  }

  /** The same worker (state, alerts, settings) after its rules were edited. */
  withRules(rules: Rule[]): WorkerHarness {
    const next = new WorkerHarness(this.es, rules, this.settings, this.workerId, this.shared);
    Object.assign(next, { alertsIndex: this.alertsIndex, store: this.store, ready: this.ready });
    return next;
  }

  get client(): Client {
    return this.es.client;
  }

  private async setup(): Promise<void> {
    if (this.ready) return;
    await ensureAlertsIndex(this.es.client, { alias: this.alertsIndex });
    await this.store.ensureIndex();
    this.ready = true;
  }

  /**
   * Every rule once at time `now`. `crashAfterAlerts`: the run dies after writing its first alerts and
   * before saving its checkpoint (as a SIGKILL would), for rules that write any.
   */
  async run(now: number, o: { crashAfterAlerts?: boolean } = {}): Promise<ExecuteResult[]> {
    await this.setup();
    this.clock = now;
    const out: ExecuteResult[] = [];
    const deps: ExecuteDeps = {
      client: this.es.client,
      store: this.store,
      logger: createLogger({ level: 'debug', destination: this.sink() }),
      workerId: this.workerId,
      alertsIndex: this.alertsIndex,
      spaceId: 'default',
      kibanaUrl: null,
      settings: this.settings,
      schemaCache: this.schemaCache,
      now: () => now,
      ...(o.crashAfterAlerts ? { afterAlertsWritten: () => { throw new SimulatedCrash(); } } : {}),
    };
    for (const g of formGroups(this.prepared, { shared: this.shared })) {
      const labelsOf = (p: PreparedRule) => ({ rule_id: p.rule.id, rule_name: p.rule.name });
      try {
        const results = await executeGroup(deps, g.rules);
        for (const p of g.rules) {
          const r = results.get(p.rule.id)!;
          if (r.status === 'skipped') this.record.skipped(labelsOf(p));
          else this.record.result(labelsOf(p), r);
          out.push(r);
        }
      } catch (e) {
        if (!(e instanceof SimulatedCrash)) {
          for (const p of g.rules) this.record.failed(labelsOf(p), e, false);
          throw e;
        }
        // A crashed run leaves its lease behind, as a killed process does; expire it for the next run.
        await this.store.releaseLease(groupLeaseId(g.rules), this.workerId);
      }
    }
    return out;
  }

  /** `eqlwatch rescan` of one rule over `[from, to)`. */
  async rescan(ruleId: string, from: number, to: number): Promise<RescanReport> {
    await this.setup();
    const p = this.prepared.find((x) => x.rule.id === ruleId)!;
    return rescanRule({ client: this.es.client, alertsIndex: this.alertsIndex, logger: createLogger({ level: 'debug', destination: this.sink() }), settings: this.settings, spaceId: 'default', kibanaUrl: null }, p, from, to);
  }

  async alertIds(): Promise<string[]> {
    await this.setup();
    await this.es.client.indices.refresh({ index: this.alertsIndex });
    const ids: string[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const res = await this.es.client.search({ index: this.alertsIndex, size: 5000, _source: false, sort: ['_doc'], query: { match_all: {} }, ...(after ? { search_after: after as never } : {}) });
      const hits = res.hits.hits;
      ids.push(...hits.map((h) => h._id!));
      if (hits.length < 5000) break;
      after = hits[hits.length - 1]!.sort;
    }
    return ids.sort();
  }

  /** What `replay` gives over every document of `indices`, with their mappings (the worker's reference). */
  async replayIds(indices: string[]): Promise<string[]> {
    return [...(await this.replayAlerts(indices)).keys()].sort();
  }

  /** Replay's alerts by id, each described as `rule: event ids` (for failure messages). */
  async replayAlerts(indices: string[]): Promise<Map<string, string>> {
    const input = await exportDocs(this.es.client, indices);
    const out = new Map<string, string>();
    for (const rule of this.rules) {
      const schema = await fetchIndexSchema(this.es.client, rule.index);
      const r = replayRule(rule, input, {
        schema: schema.fieldSchema,
        maxPendingSequences: this.settings.maxPendingSequences,
        ctx: { now: new Date(), spaceId: 'default', executionId: 'replay', kibanaUrl: null },
      });
      for (const a of r.alerts) out.set(a.id, describeAlert(a.doc));
    }
    return out;
  }

  /** The worker's alerts by id, described as `replayAlerts` does. */
  async workerAlerts(): Promise<Map<string, string>> {
    await this.es.client.indices.refresh({ index: this.alertsIndex });
    const res = await this.es.client.search<Record<string, unknown>>({ index: this.alertsIndex, size: 10_000, query: { match_all: {} } });
    return new Map(res.hits.hits.map((h) => [h._id!, describeAlert(h._source!)]));
  }

  /** The stored state document of a rule (size and content checks). */
  async stateDoc(ruleId: string): Promise<{ bytes: number; doc: Record<string, unknown> }> {
    const res = await this.es.client.get<Record<string, unknown>>({ index: this.store.index, id: ruleId });
    return { bytes: Buffer.byteLength(JSON.stringify(res._source)), doc: res._source! };
  }

  logsOf(level: string, pattern: RegExp): LogLine[] {
    return this.logs.filter((l) => l['log.level'] === level && pattern.test(l.message));
  }

  private sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.logs.push(JSON.parse(line) as LogLine);
        done();
      },
    });
  }
}

class SimulatedCrash extends Error {}

/** `rule_id [shell|block i|event]: index/id@@timestamp …` of an alert document. */
function describeAlert(doc: Record<string, unknown>): string {
  const rule = doc['kibana.alert.rule.rule_id'];
  const ancestors = (doc['kibana.alert.ancestors'] as { id: string; index: string; type: string }[] | undefined) ?? [];
  const events = ancestors.filter((a) => a.type === 'event').map((a) => `${a.index.replace(/^.*-/, '')}/${a.id}`);
  const kind = doc['kibana.alert.group.index'] !== undefined ? `block ${String(doc['kibana.alert.group.index'])}` : doc['kibana.alert.group.id'] !== undefined ? 'shell' : 'event';
  return `${String(rule)} ${kind}: ${events.join(' ')}`;
}

/** Every document of `indices` as search hits (the export `replay` reads). */
export async function exportDocs(client: Client, indices: string[]): Promise<ReplayInput[]> {
  await client.indices.refresh({ index: indices, ignore_unavailable: true, allow_no_indices: true });
  const out: ReplayInput[] = [];
  const snapshot = await ReadSnapshot.open(client, indices);
  try {
    for await (const page of snapshot.read({ query: { match_all: {} }, sort: [{ _shard_doc: { order: 'asc' } }], pageSize: 5000 })) {
      for (const h of page) out.push({ hit: { _index: h._index, _id: h._id, _source: h._source }, bare: false });
    }
  } finally {
    await snapshot.close();
  }
  return out;
}
