/**
 * npm run bench:e2e — a worker window against the bare cost of fetching its documents.
 *
 * 1. Generates a deterministic scenario (src/scenario: cloud_defend process + Kubernetes audit
 *    documents with injected attacks and their ground truth) and bulk-loads it, untimed, into the
 *    bench's own indices (bench/lib/es.ts; refresh once). The node: ES_URL, else scripts/local-es.sh.
 * 2. For each seed rule in queries/ (index patterns resolved to the bench indices), over one window
 *    covering the whole scenario, per iteration (after --warmup untimed ones), in this order:
 *    (a) bare fetch of ALL documents of the rule's indices in the window (PIT + search_after, whole
 *        `_source`): what a worker without pushdown would read;
 *    (b) bare fetch of what the worker reads: the pushed-down filter, and for sequences the
 *        keys-only first pass plus the key-narrowed read (bench/lib/worker-read.ts); (b0) is the
 *        pushed-down filter alone, without key narrowing;
 *    (c) the full `executeRule` (lease, field caps, pushdown, reads, RuleEngine, alert writes,
 *        checkpoint) with a fresh state index and a fresh alerts index each iteration.
 *    Reports documents returned, median/min/max wall time, rates, (c)/(b) and (c)/(a), the effect of
 *    key narrowing, and checks that every iteration's alerts equal the scenario's ground truth.
 * 3. Prints tables and writes JSON to bench/results/.
 *
 * Flags (or env): --events (BENCH_EVENTS, 200000), --attacks (BENCH_ATTACKS, events/5000, at most 60
 * so max_signals=100 never truncates), --seed (BENCH_SEED, 1), --iterations (BENCH_ITERATIONS, 5),
 * --full-iterations (BENCH_FULL_ITERATIONS, 3: how many of the iterations also time (a), the slow one, 0 for none;
 * never during warm-up), --warmup (BENCH_WARMUP, 1), --page-size (BENCH_PAGE_SIZE, 1000 = worker.pageSize default),
 * --keep (BENCH_KEEP=1: leave the loaded indices), --reuse (BENCH_REUSE=1: skip loading when the
 * indices already hold this scenario, e.g. after --keep), --execute <module> (BENCH_EXECUTE: time that
 * module's `executeRule` as (c) instead of src/worker/execute.ts, to measure a candidate patch).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { esConfigFromEnv } from '../src/config/es.js';
import { createEsClient } from '../src/es/client.js';
import { alertsTemplateName, ensureAlertsIndex } from '../src/es/alerts-template.js';
import { EsStateStore } from '../src/es/state-store.js';
import { createLogger } from '../src/ops/logger.js';
import { loadRuleFile } from '../src/rules/load.js';
import { generateScenario, indexOfDoc, SEED_RULES, type Scenario, type SeedRule } from '../src/scenario/index.js';
import { executeRule as defaultExecuteRule, type ExecuteDeps, type ExecuteResult } from '../src/worker/execute.js';
import { indexMatches, prepareRule, type PreparedRule } from '../src/worker/prepared-rule.js';
import { BENCH_INDEX, dropBenchIndices, esNode, loadBench, scenarioLoaded } from './lib/es.js';
import { intOption, machine, round, summarize, table, writeResults, type Summary } from './lib/report.js';
import { RequestTracer, type RequestTally } from './lib/trace.js';
import { fetchAll, narrowedFilter, ruleReads, type FetchResult } from './lib/worker-read.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const log = (s: string): void => console.log(s);

interface Config {
  events: number;
  attacks: number;
  seed: number;
  iterations: number;
  /** Recorded iterations that also time (a), the slow full read (none during warm-up). */
  fullIterations: number;
  warmup: number;
  pageSize: number;
  keep: boolean;
  reuse: boolean;
  /** Module whose `executeRule` is timed as (c) instead of src/worker/execute.ts (to measure a candidate patch). */
  execute: string | null;
}

let executeRule = defaultExecuteRule;

function readConfig(): Config {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      attacks: { type: 'string' },
      seed: { type: 'string' },
      iterations: { type: 'string' },
      'full-iterations': { type: 'string' },
      warmup: { type: 'string' },
      'page-size': { type: 'string' },
      keep: { type: 'boolean' },
      reuse: { type: 'boolean' },
      execute: { type: 'string' },
    },
    strict: true,
  });
  const events = intOption(values.events, 'BENCH_EVENTS', 200_000);
  return {
    events,
    attacks: intOption(values.attacks, 'BENCH_ATTACKS', Math.min(60, Math.max(2, Math.round(events / 5000)))),
    seed: intOption(values.seed, 'BENCH_SEED', 1),
    iterations: Math.max(1, intOption(values.iterations, 'BENCH_ITERATIONS', 5)),
    fullIterations: intOption(values['full-iterations'], 'BENCH_FULL_ITERATIONS', 3),
    warmup: intOption(values.warmup, 'BENCH_WARMUP', 1),
    pageSize: Math.max(1, intOption(values['page-size'], 'BENCH_PAGE_SIZE', 1000)),
    keep: Boolean(values.keep) || process.env.BENCH_KEEP === '1',
    reuse: Boolean(values.reuse) || process.env.BENCH_REUSE === '1',
    execute: values.execute ?? (process.env.BENCH_EXECUTE || null),
  };
}

/** The seed rules from queries/, pointed at the bench indices their patterns match. */
async function seedRules(): Promise<{ seed: SeedRule; p: PreparedRule }[]> {
  const files = {
    interactive_exec: 'execution_interactive_exec_into_container.toml',
    api_request: 'execution_direct_interactive_kubernetes_api_request_by_common_utilities.toml',
  } satisfies Record<SeedRule, string>;
  const out: { seed: SeedRule; p: PreparedRule }[] = [];
  for (const [seed, file] of Object.entries(files) as [SeedRule, string][]) {
    const loaded = await loadRuleFile(path.join(repoRoot, 'queries', file));
    if (loaded.kind !== 'rule') throw new Error(`queries/${file}: ${loaded.kind}`);
    if (loaded.rule.name !== SEED_RULES[seed].name) throw new Error(`queries/${file} is not the seed rule "${SEED_RULES[seed].name}"`);
    const index = Object.values(BENCH_INDEX).filter((i) => indexMatches(loaded.rule.index, i));
    out.push({ seed, p: prepareRule({ ...loaded.rule, index }) });
  }
  return out;
}

interface Timed<T> {
  ms: number;
  value: T;
}

async function timed<T>(f: () => Promise<T>): Promise<Timed<T>> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

/** Matched documents (scenario lines) of every non-building-block alert in the index, as "l1,l2" keys. */
async function alertedLines(client: Client, alias: string): Promise<string[]> {
  await client.indices.refresh({ index: alias });
  const res = await client.search<Record<string, unknown>>({
    index: alias,
    size: 10_000,
    query: { bool: { must_not: [{ exists: { field: 'kibana.alert.building_block_type' } }] } },
    _source: ['kibana.alert.ancestors'],
  });
  return res.hits.hits.map((h) => {
    const src = h._source ?? {};
    const ancestors = (src['kibana.alert.ancestors'] ?? (src.kibana as { alert?: { ancestors?: unknown } } | undefined)?.alert?.ancestors) as { id: string; type: string }[];
    return ancestors.filter((a) => a.type === 'event').map((a) => a.id).join(',');
  });
}

interface FullRun {
  result: ExecuteResult;
  alerted: string[];
  /** Elasticsearch requests made by executeRule, by kind. */
  requests: RequestTally;
}

/**
 * Where `executeRule` writes: a state index and an alerts index created once per rule (untimed) and
 * emptied between iterations, so every run starts from no checkpoint and no alerts, like a first run
 * against a long-lived cluster (a brand-new index would add its one-off creation cost to the first write).
 */
class RunTarget {
  readonly store: EsStateStore;
  readonly alias: string;
  private writeIndex = '';

  constructor(
    private readonly client: Client,
    tag: string,
  ) {
    this.store = new EsStateStore(client, { index: `eqlwatch-bench-state-${tag}` });
    this.alias = `eqlwatch-bench-alerts-${tag}`;
  }

  async setup(): Promise<void> {
    await this.store.ensureIndex();
    this.writeIndex = (await ensureAlertsIndex(this.client, { alias: this.alias })).writeIndex;
  }

  /** Back to a first run: no rule state, no alerts. */
  async reset(): Promise<void> {
    // No delete-by-query on the test distribution (no reindex module): ids, then a bulk delete.
    const index = [this.store.index, this.alias];
    await this.client.indices.refresh({ index });
    const res = await this.client.search({ index, size: 10_000, _source: false, query: { match_all: {} } });
    if (res.hits.hits.length === 0) return;
    await this.client.bulk({ refresh: true, operations: res.hits.hits.map((h) => ({ delete: { _index: h._index, _id: h._id! } })) });
  }

  async teardown(): Promise<void> {
    await this.client.indices.delete({ index: [this.store.index, this.writeIndex].filter(Boolean) }, { ignore: [404] });
    await this.client.indices.deleteIndexTemplate({ name: alertsTemplateName(this.alias) }, { ignore: [404] });
  }
}

/** One timed `executeRule` (first run over the window), then its alerts (untimed). */
async function fullRun(client: Client, tracer: RequestTracer, target: RunTarget, p: PreparedRule, window: { from: number; to: number }, cfg: Config): Promise<Timed<FullRun>> {
  await target.reset();
  const deps: ExecuteDeps = {
    client,
    store: target.store,
    logger: createLogger({ level: 'silent' }),
    workerId: 'bench',
    alertsIndex: target.alias,
    spaceId: 'default',
    kibanaUrl: null,
    settings: {
      ingestDelayMs: 0,
      maxWindowMs: window.to - window.from,
      maxCatchupMs: 24 * 3_600_000,
      leaseTtlMs: 120_000,
      pageSize: cfg.pageSize,
      maxPendingSequences: 10_000,
      // One window over the whole scenario: a sequence rule reads it at once (no tolerance to wait for).
      latenessMs: 0,
      auditHorizonMs: 24 * 3_600_000,
    },
  };
  const rule = { ...p, rule: { ...p.rule, lookbackMs: window.to - window.from } };
  // The clock starts at the window's end, so the first run reads exactly [from, to) in one window.
  const t0 = Date.now();
  const run = await timed(() => tracer.trace(() => executeRule({ ...deps, now: () => window.to + (Date.now() - t0) }, rule)));
  return { ms: run.ms, value: { result: run.value.value, requests: run.value.tally, alerted: await alertedLines(client, target.alias) } };
}

function sameMultiset(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

interface RuleBench {
  seed: SeedRule;
  name: string;
  kind: string;
  index: string[];
  windowDocs: number;
  avgSourceBytes: number;
  a: { docs: number; ms: Summary } | null;
  b0: { docs: number; ms: Summary } | null;
  b: { docs: number; keysPassDocs: number; distinctKeys: number; fellBack: boolean; ms: Summary };
  c: { eventsRead: number; matches: number; alertsCreated: number; ms: Summary; requestsPerRun: RequestTally };
  expectedAlerts: number;
  alertsMatchTruth: boolean[];
  mismatchExample: { expected: string[]; got: string[] } | null;
}

async function benchRule(client: Client, tracer: RequestTracer, scenario: Scenario, seed: SeedRule, p: PreparedRule, window: { from: number; to: number }, cfg: Config): Promise<RuleBench> {
  const reads = await ruleReads(client, p, new Date(window.from), new Date(window.to), cfg.pageSize);
  const { base, filters } = reads;
  const isSequence = filters.narrowing !== null;
  const expected = scenario.expectedAlerts.filter((e) => e.rule === seed).map((e) => e.eventIndices.map(String).join(','));
  const wanted = new Set(p.rule.index);
  let windowDocs = 0;
  let bytes = 0;
  for (const d of scenario.events) {
    if (!wanted.has(BENCH_INDEX[indexOfDoc(d)]!)) continue;
    windowDocs++;
    bytes += JSON.stringify(d).length;
  }
  const samples = { a: [] as number[], b0: [] as number[], b: [] as number[], c: [] as number[] };
  let aRes: FetchResult | undefined;
  let b0Res: FetchResult | undefined;
  let bRes: { docs: number; keysPassDocs: number; distinctKeys: number; fellBack: boolean } | undefined;
  let cRes: FullRun | undefined;
  const checks: boolean[] = [];
  const requests: RequestTally = {};
  let mismatch: RuleBench['mismatchExample'] = null;
  const target = new RunTarget(client, seed.replace(/_/g, '-'));
  await target.setup();
  try {
    for (let i = 0; i < cfg.warmup + cfg.iterations; i++) {
      const record = i >= cfg.warmup;
      const a = record && i - cfg.warmup < cfg.fullIterations ? await timed(() => fetchAll(client, base, undefined)) : null;
      const b0 = isSequence ? await timed(() => fetchAll(client, base, filters.all)) : null;
      const b = await timed(async () => {
        const n = await narrowedFilter(client, reads.prepared, filters, base);
        const main = await fetchAll(client, base, n.filter);
        return { docs: main.docs, keysPassDocs: n.keysPass?.docs ?? 0, distinctKeys: n.distinctKeys, fellBack: n.fellBack };
      });
      const c = await fullRun(client, tracer, target, p, window, cfg);
      const ok = sameMultiset(c.value.alerted, expected);
      checks.push(ok);
      if (!ok && !mismatch) mismatch = { expected: expected.slice(0, 5), got: c.value.alerted.slice(0, 5) };
      log(`  ${seed} ${record ? `iteration ${i - cfg.warmup + 1}/${cfg.iterations}` : 'warm-up'}: ${a ? `(a) ${round(a.ms, 0)} ms, ` : ''}${isSequence ? `(b0) ${round(b0!.ms, 0)} ms, ` : ''}(b) ${round(b.ms, 0)} ms, (c) ${round(c.ms, 0)} ms, alerts ${ok ? 'match' : 'DIFFER from'} the ground truth`);
      if (a) aRes = a.value;
      b0Res = b0?.value;
      bRes = b.value;
      cRes = c.value;
      if (record) {
        if (a) samples.a.push(a.ms);
        if (b0) samples.b0.push(b0.ms);
        samples.b.push(b.ms);
        samples.c.push(c.ms);
        for (const [k, v] of Object.entries(c.value.requests)) {
          const row = (requests[k] ??= { count: 0, ms: 0 });
          row.count += v.count / cfg.iterations;
          row.ms += v.ms / cfg.iterations;
        }
      }
    }
  } finally {
    await target.teardown();
  }
  const result = cRes!.result;
  const windows = result.status === 'skipped' ? [] : result.windows;
  if (result.status !== 'ok' || windows.length !== 1) throw new Error(`executeRule did not read exactly one window: ${JSON.stringify(result)}`);
  const w = windows[0]!;
  return {
    seed,
    name: p.rule.name,
    kind: p.compiled.kind,
    index: p.rule.index,
    windowDocs,
    avgSourceBytes: Math.round(bytes / Math.max(1, windowDocs)),
    a: aRes ? { docs: aRes.docs, ms: summarize(samples.a) } : null,
    b0: b0Res ? { docs: b0Res.docs, ms: summarize(samples.b0) } : null,
    b: { ...bRes!, ms: summarize(samples.b) },
    c: { eventsRead: w.eventsRead, matches: w.matches, alertsCreated: w.alertsCreated, ms: summarize(samples.c), requestsPerRun: requests },
    expectedAlerts: expected.length,
    alertsMatchTruth: checks,
    mismatchExample: mismatch,
  };
}

function printRule(r: RuleBench): void {
  const rate = (docs: number, ms: number): number => Math.round(docs / (ms / 1000));
  const row = (label: string, docs: number, s: Summary, cMs: number): (string | number)[] => [
    label,
    docs,
    round(s.median, 1),
    round(s.min, 1),
    round(s.max, 1),
    rate(docs, s.median),
    rate(r.windowDocs, s.median),
    label.startsWith('(c)') ? '' : `${round(cMs / s.median, 2)}×`,
  ];
  const c = r.c.ms.median;
  const rows = [
    ...(r.a ? [row('(a) bare fetch, all documents', r.a.docs, r.a.ms, c)] : []),
    ...(r.b0 ? [row('(b0) bare fetch, pushdown, no key narrowing', r.b0.docs, r.b0.ms, c)] : []),
    row(r.b0 ? '(b) bare fetch, pushdown + keys pass + narrowed' : '(b) bare fetch, pushed-down candidates', r.b.keysPassDocs + r.b.docs, r.b.ms, c),
    row('(c) executeRule (full worker run)', r.b.keysPassDocs + r.c.eventsRead, r.c.ms, c),
  ];
  log(`\n${r.name} (${r.kind}; ${r.index.join(', ')}; ${r.windowDocs.toLocaleString('en-US')} documents in the window, ~${r.avgSourceBytes} B of _source each)`);
  log(table(['measure', 'docs returned', 'median ms', 'min ms', 'max ms', 'docs/s', 'window ev/s', '(c)/this'], rows));
  const req = Object.entries(r.c.requestsPerRun).sort((x, y) => y[1].ms - x[1].ms);
  log(`(c) Elasticsearch requests per run (mean; sequential, so their sum is most of (c)):`);
  log(table(['request', 'count', 'ms'], req.map(([k, v]) => [k, round(v.count, 1), round(v.ms, 1)])));
  if (r.b0) {
    log(`key narrowing: without ${r.b0.docs.toLocaleString('en-US')} documents; with ${(r.b.keysPassDocs + r.b.docs).toLocaleString('en-US')} ` +
      `(${r.b.keysPassDocs.toLocaleString('en-US')} keys-only first-stage hits, ${r.b.distinctKeys.toLocaleString('en-US')} distinct keys, then ${r.b.docs.toLocaleString('en-US')} full documents)${r.b.fellBack ? ' — FELL BACK to the unnarrowed filter (too many keys)' : ''}`);
  }
  if (r.c.eventsRead !== r.b.docs) {
    log(`WARNING: executeRule's main read returned ${r.c.eventsRead} documents but (b) ${r.b.docs}: bench/lib/worker-read.ts no longer mirrors execute.ts`);
  }
  const ok = r.alertsMatchTruth.every(Boolean);
  log(`ground truth: ${r.expectedAlerts} expected alert(s); executeRule matched ${r.c.matches}, wrote ${r.c.alertsCreated} alert document(s); ` +
    `check ${ok ? 'PASSED' : 'FAILED'} (${r.alertsMatchTruth.filter(Boolean).length}/${r.alertsMatchTruth.length} runs equal to the ground truth)`);
  if (r.mismatchExample) log(`  first expected: ${JSON.stringify(r.mismatchExample.expected)}\n  first alerted:  ${JSON.stringify(r.mismatchExample.got)}`);
}

async function main(): Promise<number> {
  const cfg = readConfig();
  const started = performance.now();
  if (cfg.execute) {
    executeRule = ((await import(path.resolve(cfg.execute))) as { executeRule: typeof defaultExecuteRule }).executeRule;
    log(`(c) times executeRule from ${cfg.execute}`);
  }
  const node = await esNode(repoRoot, log);
  const client = await createEsClient(esConfigFromEnv({ ...process.env, ES_URL: node.url }));
  const tracer = new RequestTracer(client);
  let failed = false;
  try {
    const scenario = generateScenario({ events: cfg.events, attacks: cfg.attacks, seed: cfg.seed });
    const { startMs, spanMs } = scenario.options;
    const key = `${cfg.events}/${cfg.attacks}/${cfg.seed}`;
    log(`scenario: ${cfg.events.toLocaleString('en-US')} events, ${cfg.attacks} attacks, seed ${cfg.seed}, ${scenario.expectedAlerts.length} expected alerts; node ${node.url}; load average ${machine().loadavg}`);
    if (cfg.reuse && (await scenarioLoaded(client, key, cfg.events))) log('reusing the loaded bench indices');
    else {
      const loaded = await loadBench(client, scenario, { key });
      log(`loaded ${Object.entries(loaded.indices).map(([i, n]) => `${i}: ${n}`).join(', ')} in ${round(loaded.seconds, 1)} s (untimed)`);
    }
    // One window over the whole scenario (event.ingested runs up to a few seconds past the last @timestamp).
    const window = { from: startMs - 60_000, to: startMs + spanMs + 60_000 };
    const results: RuleBench[] = [];
    for (const { seed, p } of await seedRules()) results.push(await benchRule(client, tracer, scenario, seed, p, window, cfg));
    for (const r of results) printRule(r);
    failed = results.some((r) => !r.alertsMatchTruth.every(Boolean));
    const file = await writeResults(repoRoot, 'e2e', {
      date: new Date().toISOString(),
      machine: machine(),
      node: node.url,
      config: cfg,
      window: { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() },
      results,
      wallSeconds: round((performance.now() - started) / 1000, 1),
    });
    log(`\nresults: ${path.relative(repoRoot, file)} (total ${round((performance.now() - started) / 1000, 1)} s; load average now ${machine().loadavg})`);
    if (!cfg.keep) await dropBenchIndices(client);
  } finally {
    await client.close();
    if (node.started) await node.stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
