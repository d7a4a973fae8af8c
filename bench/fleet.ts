/**
 * npm run bench:fleet — the whole container rule set in near real time, shared scans against rule by rule.
 *
 * Elastic's 52 EQL container rules (../shared/corpus/detection-rules-toml, read by path; without it, the two
 * seed rules alone, said so) plus the two seed rules (queries/, their ids suffixed `-seed`: the corpus holds
 * today's versions of the same rules under the same ids), their real index patterns, against the local node:
 *  1. a feed is built once (bench/lib/fleet-feed.ts): the scenario generator's process events and audit logs,
 *     file events, and attacks generated from every rule's EQL (bench/lib/attack-gen.ts), each verified with the
 *     real engine; rules it cannot satisfy are listed;
 *  2. the window that makes Kibana's sequence rules time out (40k events, 15k join keys in 9 minutes) is loaded
 *     and evaluated by one worker run (bench/lib/fleet-window.ts);
 *  3. per mode (worker.sharedScans true, then false): indices of the bench's own (`…-fleet<tag>`, matching the
 *     rules' patterns, mapped as the integrations map them) are created, the real `eqlwatch run` starts with a
 *     config file (worker.interval 5s, worker.lateness --lateness), through a counting proxy
 *     (test/helpers/es-proxy.ts), and the feed is ingested in real time (`event.ingested` = when sent) for
 *     --minutes; then the worker catches up and stops, and the bench measures requests per window, documents
 *     and bytes fetched against the union of the rules' candidates, CPU and peak RSS (/proc), detection latency
 *     per alert (alert documents and source events) and from /metrics, and checks the alerts written against
 *     `eqlwatch replay` over every document ingested (with the indices' mappings): they must be equal. Then the
 *     mode's indices are deleted (the next mode's rules read the same patterns).
 * Writes bench/results/fleet-<time>.{json,md,png} and each worker's log, copies the plot to docs/images/fleet.png,
 * prints the table; `--json` prints the summary as one JSON object on the last line. Exit code 1 when alerts
 * expected and written differ, a document was rejected, or the Kibana window's alerts differ from replay's.
 *
 * Flags (or env): --minutes (FLEET_MINUTES, 3), --rate (FLEET_RATE documents/s, 2000), --attacks-per-rule
 * (FLEET_ATTACKS, 2), --interval (FLEET_INTERVAL s, 5), --lateness (FLEET_LATENESS s, 10), --ingest-delay
 * (FLEET_INGEST_DELAY ms, 1000: worker.ingestDelay, the indices' refresh interval), --seed (FLEET_SEED, 1),
 * --modes (shared,rule-by-rule), --no-window, --no-plot-copy, --json.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { esConfigFromEnv } from '../src/config/es.js';
import { closeEsClient, createEsClient } from '../src/es/client.js';
import { loadRules } from '../src/rules/load.js';
import { formGroups } from '../src/worker/groups.js';
import { prepareRule } from '../src/worker/prepared-rule.js';
import type { Rule } from '../src/rules/schema.js';
import { cloudDefendFileMappings, cloudDefendProcessMappings, kubernetesAuditMappings } from '../src/scenario/mappings.js';
import { ensureBuilt } from '../test/cli/run-cli.js';
import { startEsProxy } from '../test/helpers/es-proxy.js';
import { opsUrl, startWorker, type WorkerProcess } from '../test/ops/worker-process.js';
import type { DocKind } from './lib/attack-gen.js';
import { BENCH_MANAGED_BY, esNode } from './lib/es.js';
import { buildFeed, type Feed } from './lib/fleet-feed.js';
import { alertLatencies, candidateUnion, cpuSeconds, histogramQuantiles, peakRss, RequestLog } from './lib/fleet-measure.js';
import { fleetReport, type ModeResult } from './lib/fleet-report.js';
import { kibanaWindow, type WindowResult } from './lib/fleet-window.js';
import { exitWith, interruptOnSignals } from './lib/interrupt.js';
import { intOption, machine, writeReport } from './lib/report.js';
import { SteadyIngest, type Pending } from './lib/soak-ingest.js';
import { scrapeMetrics } from './lib/soak-sample.js';
import { checkAgainstReplay } from './lib/soak-verify.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = path.resolve(repoRoot, '../shared/corpus/detection-rules-toml');
const interrupted = interruptOnSignals();
let quiet = false;
const log = (s: string): void => {
  const line = `[fleet ${new Date().toISOString().slice(11, 19)}] ${s}`;
  if (quiet) process.stderr.write(`${line}\n`);
  else console.log(line);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export type Mode = 'shared' | 'rule-by-rule';

interface Options {
  minutes: number;
  rate: number;
  attacksPerRule: number;
  intervalS: number;
  latenessS: number;
  ingestDelayMs: number;
  seed: number;
  modes: Mode[];
  window: boolean;
  copyPlot: boolean;
  json: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, rate: { type: 'string' }, 'attacks-per-rule': { type: 'string' }, interval: { type: 'string' }, lateness: { type: 'string' },
      'ingest-delay': { type: 'string' }, seed: { type: 'string' }, modes: { type: 'string' }, 'no-window': { type: 'boolean' }, 'no-plot-copy': { type: 'boolean' }, json: { type: 'boolean' },
    },
    strict: true,
  });
  const modes = (values.modes ?? 'shared,rule-by-rule').split(',').map((m) => m.trim());
  for (const m of modes) if (m !== 'shared' && m !== 'rule-by-rule') throw new Error(`--modes: unknown mode "${m}" (shared, rule-by-rule)`);
  return {
    minutes: Math.max(1, intOption(values.minutes, 'FLEET_MINUTES', 3)),
    rate: Math.max(10, intOption(values.rate, 'FLEET_RATE', 2000)),
    attacksPerRule: Math.max(1, intOption(values['attacks-per-rule'], 'FLEET_ATTACKS', 2)),
    intervalS: Math.max(1, intOption(values.interval, 'FLEET_INTERVAL', 5)),
    latenessS: Math.max(1, intOption(values.lateness, 'FLEET_LATENESS', 10)),
    ingestDelayMs: intOption(values['ingest-delay'], 'FLEET_INGEST_DELAY', 1000),
    seed: intOption(values.seed, 'FLEET_SEED', 1),
    modes: modes as Mode[],
    window: !values['no-window'],
    copyPlot: !values['no-plot-copy'],
    json: Boolean(values.json),
  };
}

/**
 * The rules directory the worker and replay read: the corpus's files verbatim, the seeds with `-seed` ids (and
 * names) so that both versions of the two rules run side by side.
 */
async function writeRules(dir: string): Promise<{ rules: Rule[]; corpus: boolean; skipped: string[] }> {
  await mkdir(dir, { recursive: true });
  const corpus = existsSync(CORPUS);
  if (corpus) for (const f of (await readdir(CORPUS)).filter((f) => f.endsWith('.toml'))) copyFileSync(path.join(CORPUS, f), path.join(dir, f));
  for (const f of (await readdir(path.join(repoRoot, 'queries'))).filter((f) => f.endsWith('.toml'))) {
    const text = readFileSync(path.join(repoRoot, 'queries', f), 'utf8');
    const renamed = text.replace(/^rule_id = "([^"]+)"$/m, 'rule_id = "$1-seed"').replace(/^name = "([^"]+)"$/m, 'name = "$1 (seed)"');
    if (renamed === text) throw new Error(`queries/${f}: no rule_id to rename`);
    await writeFile(path.join(dir, `seed_${f}`), renamed);
  }
  const report = await loadRules(dir);
  if (report.errors.length > 0) throw new Error(`rules: ${report.errors.map((e) => e.format()).join('\n')}`);
  return { rules: report.rules.filter((r) => r.enabled), corpus, skipped: report.skipped.map((s) => `${path.basename(s.file)}: ${s.reason}`) };
}

/** Indices matching the rules' patterns that the bench did not create: the bench refuses to run beside them. */
async function foreignIndices(client: Client, rules: Rule[]): Promise<string[]> {
  const patterns = [...new Set(rules.flatMap((r) => r.index))];
  const res = await client.indices.getMapping({ index: patterns, allow_no_indices: true, ignore_unavailable: true, expand_wildcards: 'open' });
  return Object.entries(res)
    .filter(([, m]) => (m.mappings?._meta as { managed_by?: unknown } | undefined)?.managed_by !== BENCH_MANAGED_BY)
    .map(([name]) => name);
}

const MAPPINGS: Record<DocKind, () => ReturnType<typeof cloudDefendProcessMappings>> = {
  process: cloudDefendProcessMappings,
  file: cloudDefendFileMappings,
  audit: kubernetesAuditMappings,
};

function indicesOf(tag: string): Record<DocKind, string> {
  return { process: `logs-cloud_defend.process-${tag}`, file: `logs-cloud_defend.file-${tag}`, audit: `logs-kubernetes.audit_logs-${tag}` };
}

async function runMode(client: Client, nodeUrl: string, mode: Mode, feed: Feed, rules: Rule[], rulesDir: string, o: Options, stamp: string): Promise<ModeResult> {
  const tag = `fleet${mode === 'shared' ? 's' : 'r'}${Date.now().toString(36)}`;
  const indices = indicesOf(tag);
  const names = { alerts: `eqlwatch-${tag}-alerts`, state: `eqlwatch-${tag}-state`, outbox: `eqlwatch-${tag}-outbox`, promotion: `logs-eqlwatch.alerts-${tag}` };
  const dir = await mkdtemp(path.join(tmpdir(), `eqlwatch-fleet-${mode}-`));
  const requests = new RequestLog();
  const proxy = await startEsProxy(nodeUrl, { onExchange: (e) => requests.add(e), captureBody: RequestLog.captures });
  let worker: WorkerProcess | null = null;
  let ingest: SteadyIngest | null = null;
  const workerLog = path.join(repoRoot, 'bench', 'results', `fleet-${stamp}-${mode}-worker.log`);
  try {
    for (const k of Object.keys(indices) as DocKind[]) {
      await client.indices.create({ index: indices[k], settings: { number_of_shards: 1, number_of_replicas: 0, 'mapping.total_fields.limit': 2000 }, mappings: { ...MAPPINGS[k](), _meta: { managed_by: BENCH_MANAGED_BY } } });
    }
    const configFile = path.join(dir, 'eqlwatch.yml');
    await writeFile(configFile, `# written by bench/fleet.ts (${mode})
elasticsearch:
  node: ${proxy.url}          # the counting proxy in front of ${nodeUrl}
rules:
  dir: ${rulesDir}
alerts:
  index: ${names.alerts}
  promotion:
    namespace: ${tag}
state:
  index: ${names.state}
notify:
  outbox:
    index: ${names.outbox}
http:
  enabled: true
  host: 127.0.0.1
  port: 0
logging:
  level: info
worker:
  id: fleet-${mode}
  sharedScans: ${mode === 'shared'}
  interval: ${o.intervalS}s
  lateness: ${o.latenessS}s
${o.ingestDelayMs > 0 ? `  ingestDelay: ${o.ingestDelayMs}ms\n` : ''}`);
    worker = startWorker(['run', '--config', configFile], { ES_URL: undefined, ES_CLOUD_ID: undefined });
    const ops = await opsUrl(worker, 120_000);
    const groupsLine = await worker.waitForLog((r) => typeof r.groups === 'number', 60_000, 'the groups line');
    const pid = worker.child.pid!;
    log(`${mode}: worker pid ${pid}, ${String(groupsLine.message)}`);
    await sleep(2 * o.intervalS * 1000); // the first runs over empty indices

    const t0 = Date.now();
    const pending: Pending[] = feed.docs.map((d) => ({ ts: t0 + d.rel, index: indices[d.kind], id: d.id, doc: { ...d.doc, '@timestamp': new Date(t0 + d.rel).toISOString() } }));
    ingest = new SteadyIngest(client, { indices: { process: indices.process, audit: indices.audit }, rate: 0, attackRate: 0, seed: 0, feed: pending, tickMs: 250 });
    const cpu0 = cpuSeconds(pid);
    ingest.start(t0);
    const samples: ModeResult['samples'] = [];
    const end = t0 + o.minutes * 60_000;
    let lastCpu = cpu0;
    let lastT = t0;
    while (Date.now() < end) {
      interrupted.signal.throwIfAborted();
      await sleep(o.intervalS * 1000 - ((Date.now() - t0) % (o.intervalS * 1000)));
      const now = Date.now();
      const cpu = cpuSeconds(pid);
      samples.push({ t: now, cpuCores: (cpu - lastCpu) / ((now - lastT) / 1000), ingested: ingest.indexed });
      lastCpu = cpu;
      lastT = now;
      if (samples.length % Math.round(60 / o.intervalS) === 0) log(`${mode}: +${((now - t0) / 60_000).toFixed(1)} min, ${ingest.indexed} documents, worker ${samples.at(-1)!.cpuCores.toFixed(2)} cores, ${requests.requests.length} requests`);
    }
    await ingest.stop();
    const ingestEnd = Date.now();
    const cpuSteady = cpuSeconds(pid) - cpu0;
    log(`${mode}: ingest stopped: ${ingest.indexed} documents in ${((ingestEnd - t0) / 1000).toFixed(0)} s (${ingest.rejected} rejected, latest send ${ingest.maxLagMs} ms after its @timestamp); waiting for every rule to pass it`);

    // Catch up: every rule ran after the last documents were past the lateness tolerance (bounded).
    const doneAfter = (ingestEnd + (o.latenessS + 2) * 1000) / 1000;
    const deadline = Date.now() + (o.latenessS + 240) * 1000;
    let caughtUp = false;
    let metrics = await scrapeMetrics(ops);
    while (Date.now() < deadline) {
      metrics = await scrapeMetrics(ops);
      const last = (metrics?.get('eqlwatch_rule_last_success_timestamp_seconds') ?? []).map((m) => m.value);
      if (last.length === rules.length && last.every((t) => t > doneAfter)) {
        caughtUp = true;
        break;
      }
      await sleep(1_000);
    }
    const caughtUpS = (Date.now() - ingestEnd) / 1000;
    const cpuTotal = cpuSeconds(pid) - cpu0;
    const rss = peakRss(pid);
    const exit = await worker.stop('SIGTERM', 30_000);
    await writeFile(workerLog, `${worker.stdout()}${worker.stderr()}`);
    log(`${mode}: worker stopped (${exit.code ?? exit.signal}), caught up: ${caughtUp} after ${caughtUpS.toFixed(0)} s; verifying against replay`);

    const eventIndices = Object.values(indices);
    const checked = await checkAgainstReplay({ client, eventIndices, alertsIndex: names.alerts, rulesDir, esUrl: nodeUrl, dir, mails: [] });
    const latencies = await alertLatencies(client, names.alerts);
    const union = await candidateUnion(client, rules);
    const detected = await attacksDetected(client, names.alerts, feed);
    const runs = (metrics?.get('eqlwatch_rule_runs_total') ?? []).filter((m) => m.labels.outcome === 'ok').reduce((n, m) => n + m.value, 0);
    return {
      mode,
      rules: rules.length,
      groups: Number(groupsLine.groups),
      t0,
      ingestEnd,
      documents: ingest.indexed,
      rejected: ingest.rejected,
      lastError: ingest.lastError ?? null,
      maxSendLagMs: ingest.maxLagMs,
      requests: requests.requests,
      cpuSteadyS: cpuSteady,
      cpuTotalS: cpuTotal,
      peakRssBytes: rss,
      samples,
      latencies,
      histogram: { written: histogramQuantiles(metrics, 'eqlwatch_detection_latency_seconds', 'alert_written') },
      alerts: checked.alerts,
      exported: checked.exported,
      union: union.union,
      distinctFetched: requests.distinct.size,
      candidatesPerRule: union.perRule,
      attacks: detected,
      ruleRunsOk: runs,
      caughtUp,
      caughtUpS,
      workerLog: path.relative(repoRoot, workerLog),
      exit: { code: exit.code, signal: exit.signal },
    };
  } finally {
    await ingest?.stop().catch(() => undefined);
    await worker?.stop('SIGTERM', 10_000).catch(() => undefined);
    await proxy.close();
    await client.indices.delete({ index: [...Object.values(indices), `${names.alerts}*`, names.state, names.outbox, `${names.promotion}*`], ignore_unavailable: true, allow_no_indices: true }).catch((e: Error) => log(`cleanup: ${e.message}`));
    await client.indices.deleteIndexTemplate({ name: `${names.alerts}*` }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Generated attacks whose every document is among the events of an alert of their rule. */
async function attacksDetected(client: Client, alertsIndex: string, feed: Feed): Promise<{ injected: number; detected: number; missed: string[] }> {
  const byRule = new Map<string, Set<string>>();
  await client.indices.refresh({ index: alertsIndex });
  for (const [rule] of feed.attacks) byRule.set(rule, new Set());
  let after: unknown[] | undefined;
  for (;;) {
    const res = await client.search<Record<string, unknown>>({ index: alertsIndex, size: 5000, sort: ['_doc'], _source: ['kibana.alert.rule.rule_id', 'kibana.alert.ancestors'], ...(after ? { search_after: after as never } : {}) });
    for (const h of res.hits.hits) {
      const s = h._source as { kibana?: unknown } & Record<string, unknown>;
      const rule = String(getField(s, 'kibana.alert.rule.rule_id'));
      const ancestors = (getField(s, 'kibana.alert.ancestors') as { id: string; type: string }[] | undefined) ?? [];
      for (const a of ancestors) if (a.type === 'event') byRule.get(rule)?.add(a.id);
    }
    if (res.hits.hits.length < 5000) break;
    after = res.hits.hits.at(-1)!.sort;
  }
  let injected = 0;
  let detected = 0;
  const missed: string[] = [];
  for (const [rule, list] of feed.attacks) {
    for (const a of list) {
      injected++;
      if (a.ids.every((id) => byRule.get(rule)!.has(id))) detected++;
      else missed.push(`${rule}: ${a.ids.join(' ')}`);
    }
  }
  return { injected, detected, missed };
}

function getField(s: Record<string, unknown>, p: string): unknown {
  if (p in s) return s[p];
  return p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), s);
}

async function main(): Promise<number> {
  const o = options();
  quiet = o.json;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  log(`machine ${JSON.stringify(machine())}`);
  log(`options ${JSON.stringify(o)}`);
  ensureBuilt();
  // A node the bench starts gets the heap this ingest needs (512 MB, the script's default, trips the circuit
  // breakers at 2,000 documents/s, then runs out of memory); a running node is checked below.
  process.env.EQLWATCH_ES_HEAP ??= '2g';
  const node = await esNode(repoRoot, log);
  const client = await createEsClient(esConfigFromEnv({ ...process.env, ES_URL: node.url }));
  const heapMb = Math.min(...Object.values((await client.nodes.stats({ metric: 'jvm' })).nodes).map((n) => (n.jvm?.mem?.heap_max_in_bytes ?? 0) / 1048576));
  log(`Elasticsearch heap: ${Math.round(heapMb)} MB per node`);
  if (heapMb < 1500 && o.rate >= 1000) log(`WARNING: at ${o.rate} documents/s a node with ${Math.round(heapMb)} MB of heap trips its circuit breakers and may run out of memory; restart it with EQLWATCH_ES_HEAP=2g scripts/local-es.sh start (after stop)`);
  const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-fleet-'));
  await mkdir(path.join(repoRoot, 'bench', 'results'), { recursive: true });
  try {
    const rulesDir = path.join(dir, 'rules');
    const { rules, corpus, skipped } = await writeRules(rulesDir);
    if (!corpus) log(`${CORPUS} is absent: Elastic's container rules are skipped; running the two seed rules alone`);
    for (const s of skipped) log(`skipped ${s}`);
    const foreign = await foreignIndices(client, rules);
    if (foreign.length > 0) throw new Error(`indices matching the rules' patterns exist that the bench did not create (${foreign.join(', ')}); the rules would read them too. Delete them, or point ES_URL at another node`);
    const feed = buildFeed({ rules, minutes: o.minutes, rate: o.rate, attacksPerRule: o.attacksPerRule, seed: o.seed, indices: indicesOf('fleetcheck') });
    log(`feed: ${feed.docs.length} documents over ${o.minutes} min (${feed.fileEvents} file events, ${[...feed.attacks.values()].reduce((n, l) => n + l.length, 0)} generated attacks for ${feed.attacks.size} of ${rules.length} rules, ${feed.removedFalsePositives} benign false positives removed) in ${feed.buildSeconds.toFixed(1)} s`);
    for (const u of feed.unsatisfied) log(`no attack could be generated for ${u.name} (${u.rule}): ${u.reason}`);

    let window: WindowResult | null = null;
    if (o.window) {
      const seq = rules.find((r) => r.id.endsWith('-seed') && r.query.trimStart().startsWith('sequence'));
      if (!seq) throw new Error('the seed sequence rule is missing from queries/');
      window = await kibanaWindow(client, seq, { events: 40_000, keys: 15_000, spanMs: 9 * 60_000, matches: 60, seed: o.seed }, log);
      const best = [...window.runs].sort((a, b) => a.cpuMs - b.cpuMs)[0]!;
      log(`Kibana's timing-out window: one worker run reads ${best.eventsRead} events in ${best.wallMs.toFixed(0)} ms wall, ${best.cpuMs.toFixed(0)} ms CPU (best of ${window.runs.length}); alerts ${window.alertsWritten} written, ${window.alertsExpected} expected`);
    }

    const results: ModeResult[] = [];
    for (const mode of o.modes) {
      const foreignNow = await foreignIndices(client, rules);
      if (foreignNow.length > 0) throw new Error(`indices matching the rules' patterns appeared: ${foreignNow.join(', ')}`);
      results.push(await runMode(client, node.url, mode, feed, rules, rulesDir, o, stamp));
    }
    const groups = formGroups(rules.map((r) => prepareRule(r)), { shared: true, intervalMs: o.intervalS * 1000 }).map((g) => ({
      rules: g.rules.length,
      index: g.rules[0]!.rule.index.join(', '),
      kind: g.rules[0]!.compiled.kind === 'sequence' ? 'sequence (by @timestamp)' : 'single-event (by arrival)',
    }));
    const report = fleetReport({ machine: machine(), options: o, results, window, feed, corpus, groups });
    const written = await writeReport(repoRoot, 'fleet', { ...report, data: { ...report.data, stamp } }, o.copyPlot);
    if (o.json) {
      process.stderr.write(`${report.markdown}\n`);
      console.log(JSON.stringify(report.summary));
    } else console.log(`\n${report.markdown}`);
    log(written.said);
    for (const p of report.problems) log(`FAIL: ${p}`);
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await closeEsClient(client);
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

exitWith(main(), interrupted);
