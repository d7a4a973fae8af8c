/**
 * npm run bench:soak — the worker watched over a long run, with faults and a restart.
 *
 * A compressed long run: the real `eqlwatch run` (a child process built from the current sources, driven only
 * through its CLI, its config file and the indices' documents) with both seed rules at a short interval
 * (--interval, 2 s: 900 windows per rule in 30 minutes, what 3 days of Kibana's 5-minute schedule would run)
 * against the local node, while:
 *  - a steady, realistic feed is indexed directly into the node (bench/lib/soak-ingest.ts: the scenario
 *    generator's process events and audit logs, attacks hidden in benign noise, `event.ingested` = send time);
 *  - every --fault-every seconds, a proxy between the worker and the node (test/helpers/es-proxy.ts) injects a
 *    fault for --fault-for seconds, in turn: added latency, 503, 429, connection resets, stalled requests,
 *    refused connections;
 *  - half-way, the worker is stopped (SIGTERM) and started again with the same worker id;
 *  - alerts are notified by email to a real SMTP server on loopback.
 * It samples, every --sample seconds: the worker's RSS, heap and event-loop delay (a preloaded probe,
 * bench/lib/process-probe.mjs), each rule's lag (its /metrics), the size of every state document, the outbox
 * by status, the alerts and the mails received. At the end it lets the worker catch up, stops it, and checks
 * the outcome against `eqlwatch replay` over every document indexed: each alert replay gives was written
 * exactly once, nothing else was written, and each notifiable alert was mailed (at least once, duplicates
 * carrying the same notification id).
 *
 * Writes bench/results/soak-<time>.{json,md,png} and the worker's log, copies the plot to
 * docs/images/soak.png, prints the table with the growth per hour of each series, and exits 1 when an alert or
 * a notification is missing or unexpected, or a document was rejected.
 *
 * Flags (or env): --minutes (SOAK_MINUTES, 30), --interval (SOAK_INTERVAL seconds, 2), --rate (SOAK_RATE
 * documents/s, 50), --attack-rate (SOAK_ATTACK_PER_MILLE attacks per 1000 documents, 1), --fault-every
 * (SOAK_FAULT_EVERY s, 120; 0 = no faults), --fault-for (SOAK_FAULT_FOR s, 20), --sample (SOAK_SAMPLE s, 10),
 * --seed (SOAK_SEED, 1), --no-plot-copy (leave docs/images alone), --keep (leave the indices).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { esConfigFromEnv } from '../src/config/es.js';
import { closeEsClient, createEsClient } from '../src/es/client.js';
import { cloudDefendProcessMappings, kubernetesAuditMappings } from '../src/scenario/mappings.js';
import { ensureBuilt } from '../test/cli/run-cli.js';
import { startEsProxy, type Fault } from '../test/helpers/es-proxy.js';
import { startSmtp } from '../test/notify/helpers.js';
import { fastSeedRules } from '../test/ops/env.js';
import { esNode } from './lib/es.js';
import { exitWith, interruptOnSignals } from './lib/interrupt.js';
import { intOption, machine, writeReport } from './lib/report.js';
import { SteadyIngest } from './lib/soak-ingest.js';
import { buildSoakReport, type Outcome, type ProbeLine, type Sample, type Span } from './lib/soak-report.js';
import { docCount, outboxCounts, scrapeMetrics, stateDocSizes } from './lib/soak-sample.js';
import { checkAgainstReplay } from './lib/soak-verify.js';
import { SoakWorker } from './lib/soak-worker.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** worker.lateness at its default: sequence rules wait this long before they evaluate a stretch of time. */
const LATENESS_S = 60;
const FAULTS: Fault[] = [
  { kind: 'latency', ms: 1_500 },
  { kind: 'status', status: 503 },
  { kind: 'status', status: 429 },
  { kind: 'reset' },
  { kind: 'stall' },
  { kind: 'refuse' },
];
const faultLabel = (f: Fault): string => (f.kind === 'status' ? `HTTP ${f.status}` : f.kind === 'latency' ? `+${f.ms} ms latency` : f.kind);
const interrupted = interruptOnSignals();
const log = (s: string): void => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Options {
  minutes: number;
  intervalS: number;
  rate: number;
  attackPerMille: number;
  faultEveryS: number;
  faultForS: number;
  sampleS: number;
  seed: number;
  copyPlot: boolean;
  keep: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, interval: { type: 'string' }, rate: { type: 'string' }, 'attack-rate': { type: 'string' },
      'fault-every': { type: 'string' }, 'fault-for': { type: 'string' }, sample: { type: 'string' }, seed: { type: 'string' },
      'no-plot-copy': { type: 'boolean' }, keep: { type: 'boolean' },
    },
    strict: true,
  });
  return {
    minutes: Math.max(2, intOption(values.minutes, 'SOAK_MINUTES', 30)),
    intervalS: Math.max(1, intOption(values.interval, 'SOAK_INTERVAL', 2)),
    rate: Math.max(1, intOption(values.rate, 'SOAK_RATE', 50)),
    attackPerMille: intOption(values['attack-rate'], 'SOAK_ATTACK_PER_MILLE', 1),
    faultEveryS: intOption(values['fault-every'], 'SOAK_FAULT_EVERY', 120),
    faultForS: Math.max(1, intOption(values['fault-for'], 'SOAK_FAULT_FOR', 20)),
    sampleS: Math.max(1, intOption(values.sample, 'SOAK_SAMPLE', 10)),
    seed: intOption(values.seed, 'SOAK_SEED', 1),
    copyPlot: !values['no-plot-copy'],
    keep: Boolean(values.keep),
  };
}

function worst<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((m, x) => Math.max(m, f(x)), 0);
}

async function main(): Promise<number> {
  const o = options();
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  log(`machine ${JSON.stringify(machine())}`);
  log(`options ${JSON.stringify(o)}`);
  ensureBuilt();
  const node = await esNode(repoRoot, log);
  const client = await createEsClient(esConfigFromEnv({ ...process.env, ES_URL: node.url }));
  const tag = `soak${Date.now().toString(36)}`;
  const indices = { process: `logs-cloud_defend.process-${tag}`, audit: `logs-kubernetes.audit_logs-${tag}` };
  const names = { alerts: `eqlwatch-${tag}-alerts`, state: `eqlwatch-${tag}-state`, outbox: `eqlwatch-${tag}-outbox` };
  const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-soak-'));
  const resultsDir = path.join(repoRoot, 'bench', 'results');
  const workerLog = path.join(resultsDir, `soak-${stamp}-worker.log`);
  await mkdir(resultsDir, { recursive: true });
  const smtp = await startSmtp();
  const proxy = await startEsProxy(node.url);
  let worker: SoakWorker | null = null;
  let ingest: SteadyIngest | null = null;
  try {
    for (const [index, mappings] of [[indices.process, cloudDefendProcessMappings()], [indices.audit, kubernetesAuditMappings()]] as const) {
      await client.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0, 'mapping.total_fields.limit': 2000 }, mappings });
    }
    const rulesDir = path.join(dir, 'rules');
    await mkdir(rulesDir);
    for (const [file, text] of Object.entries(await fastSeedRules(indices, `${o.intervalS}s`))) await writeFile(path.join(rulesDir, file), text);
    const configFile = path.join(dir, 'eqlwatch.yml');
    await writeFile(configFile, `# written by bench/soak.ts
elasticsearch:
  node: ${proxy.url}          # the fault proxy in front of ${node.url}
  requestTimeout: 5000
  maxRetries: 2
rules:
  dir: ${rulesDir}
alerts:
  index: ${names.alerts}
state:
  index: ${names.state}
notify:
  outbox:
    index: ${names.outbox}
  channels:
    mail:
      type: email
      host: 127.0.0.1
      port: ${smtp.port}
      requireTLS: false        # a loopback catcher without TLS (STARTTLS is proven in test/ops/tls-auth.int.test.ts)
      from: eqlwatch@example.com
      to: [soc@example.com]
      timeout: 10s
  defaultRoute:
    channels: [mail]
  digest:
    threshold: 1000            # one mail per alert, so every alert's notification can be checked
  delivery:
    backoffBase: 2s
    backoffMax: 30s
http:
  enabled: true
  host: 127.0.0.1
  port: 0
logging:
  level: info
worker:
  id: soak-worker              # every other worker setting at its default (ingestDelay 0s, lateness 1m)
`);
    const probeFile = path.join(dir, 'probe.ndjson');
    worker = new SoakWorker(configFile, probeFile, workerLog);
    ingest = new SteadyIngest(client, { indices, rate: o.rate, attackRate: o.attackPerMille / 1000, seed: o.seed });

    const t0 = Date.now();
    const end = t0 + o.minutes * 60_000;
    const faultPlan: { at: number; fault: Fault }[] = [];
    if (o.faultEveryS > 0) {
      for (let at = t0 + 90_000, k = 0; at + o.faultForS * 1000 < end - 120_000; at += o.faultEveryS * 1000, k++) faultPlan.push({ at, fault: FAULTS[k % FAULTS.length]! });
    }
    let restartAt = t0 + (end - t0) / 2;
    for (const f of faultPlan) if (restartAt >= f.at - 10_000 && restartAt <= f.at + o.faultForS * 1000 + 10_000) restartAt = f.at + o.faultForS * 1000 + 15_000;

    ingest.start(t0);
    worker.start();
    log(`running ${o.minutes} min: ${o.rate} docs/s, rules every ${o.intervalS} s, ${faultPlan.length} faults of ${o.faultForS} s, restart at +${((restartAt - t0) / 60_000).toFixed(1)} min; worker log ${path.relative(repoRoot, workerLog)}`);

    const faults: Span[] = [];
    const restarts: Span[] = [];
    const samples: Sample[] = [];
    const probes: ProbeLine[] = [];
    let probeOffset = 0;
    const readProbes = () => {
      if (!existsSync(probeFile)) return;
      const text = readFileSync(probeFile, 'utf8');
      for (const line of text.slice(probeOffset).split('\n')) if (line.trim() !== '') probes.push(JSON.parse(line) as ProbeLine);
      probeOffset = text.length;
    };
    let currentFault = 'none';
    const sample = async () => {
      readProbes();
      const metrics = worker!.opsUrl ? await scrapeMetrics(worker!.opsUrl) : null;
      const byRule = (name: string) => Object.fromEntries((metrics?.get(name) ?? []).map((m) => [m.labels.rule_name ?? m.labels.rule_id ?? '?', m.value]));
      const lastSuccess = byRule('eqlwatch_rule_last_success_timestamp_seconds');
      const [state, outbox, alerts] = await Promise.all([stateDocSizes(client, names.state), outboxCounts(client, names.outbox), docCount(client, names.alerts)]);
      samples.push({
        t: Date.now(),
        fault: currentFault,
        workerUp: metrics !== null,
        ruleLagS: Object.fromEntries(Object.entries(byRule('eqlwatch_rule_lag_seconds')).map(([r, lag]) => [r, lag + Math.max(0, Date.now() / 1000 - (lastSuccess[r] ?? Date.now() / 1000))])),
        lastSuccess,
        runs: Object.fromEntries((metrics?.get('eqlwatch_rule_runs_total') ?? []).map((m) => [`${m.labels.rule_name}/${m.labels.outcome}`, m.value])),
        stateBytes: state,
        outbox,
        alerts,
        mails: smtp.mails.length,
        ingested: ingest!.indexed,
      });
    };

    const faultLoop = (async () => {
      for (const { at, fault } of faultPlan) {
        await sleep(at - Date.now());
        currentFault = faultLabel(fault);
        await proxy.setFault(fault);
        await sleep(at + o.faultForS * 1000 - Date.now());
        await proxy.setFault({ kind: 'none' });
        faults.push({ label: currentFault, from: at, to: Date.now() });
        currentFault = 'none';
      }
    })();
    const restartLoop = (async () => {
      await sleep(restartAt - Date.now());
      const from = Date.now();
      const exit = await worker!.stop();
      log(`worker stopped by SIGTERM for the restart: ${JSON.stringify(exit)}`);
      worker!.start();
      restarts.push({ label: `restart (exit ${exit.code ?? exit.signal}${exit.killed ? ', killed after grace' : ''})`, from, to: Date.now() });
    })();
    let lastProgress = 0;
    while (Date.now() < end) {
      interrupted.signal.throwIfAborted();
      await sample().catch((e: Error) => log(`sample failed: ${e.message}`));
      if (Date.now() - lastProgress > 60_000) {
        lastProgress = Date.now();
        const s = samples.at(-1);
        const rss = probes.at(-1)?.rss;
        log(`+${((Date.now() - t0) / 60_000).toFixed(1)} min: ${ingest.indexed} docs, ${s?.alerts ?? '?'} alerts, ${smtp.mails.length} mails, rss ${rss ? Math.round(rss / 1048576) : '?'} MB, lag ${JSON.stringify(s?.ruleLagS ?? {})}, fault ${currentFault}`);
      }
      await sleep(o.sampleS * 1000 - ((Date.now() - t0) % (o.sampleS * 1000)));
    }
    await Promise.all([faultLoop, restartLoop]);

    // Catch up: every rule ran after the last documents were past the lateness tolerance, and the outbox is drained
    // (bounded).
    await ingest.stop();
    const ingestEnd = Date.now();
    const caughtUpAfter = (ingestEnd + (LATENESS_S + 2 * o.intervalS) * 1000) / 1000;
    const deadline = Date.now() + (LATENESS_S + 180) * 1000;
    let caughtUp = false;
    while (Date.now() < deadline) {
      await sample().catch((e: Error) => log(`sample failed: ${e.message}`));
      const s = samples.at(-1)!;
      const rules = Object.values(s.lastSuccess);
      if (rules.length === 2 && rules.every((t) => t > caughtUpAfter) && s.outbox.pending === 0) {
        caughtUp = true;
        break;
      }
      await sleep(2_000);
    }
    const tailMs = 5 * o.intervalS * 1000;
    await sleep(tailMs); // mails of the last deliveries
    await sample().catch(() => undefined);
    const exit = await worker.stop();
    readProbes();
    log(`worker stopped: ${JSON.stringify(exit)}; caught up: ${caughtUp}`);

    const checked = await checkAgainstReplay({ client, eventIndices: [indices.process, indices.audit], alertsIndex: names.alerts, rulesDir, esUrl: node.url, dir, mails: smtp.mails });
    const outcome: Outcome = {
      documents: { indexed: ingest.indexed, rejected: ingest.rejected, exported: checked.exported, attacks: ingest.attacks, lastError: ingest.lastError ?? null },
      alerts: checked.alerts,
      notifications: checked.notifications,
      proxy: { ...proxy.counts },
      worker: { ...worker.tally(), finalExit: exit },
      caughtUp,
    };
    const report = buildSoakReport({ machine: machine(), options: o, startedAt: t0, endedAt: Date.now(), samples, probes, faults, restarts, outcome, intervalS: o.intervalS });
    const written = await writeReport(repoRoot, 'soak', { ...report, data: { ...report.data, stamp } }, o.copyPlot);
    console.log(`\n${report.markdown}`);
    log(written.said);
    log(`peak RSS ${Math.round(worst(probes, (p) => p.rss) / 1048576)} MB over ${probes.length} probe samples`);
    return report.ok ? 0 : 1;
  } finally {
    await worker?.stop(10_000).catch(() => undefined);
    await proxy.close();
    await smtp.close();
    if (!o.keep) {
      await client.indices.delete({ index: [indices.process, indices.audit, `${names.alerts}*`, names.state, names.outbox], ignore_unavailable: true }).catch(() => undefined);
      await client.indices.deleteIndexTemplate({ name: `${names.alerts}*` }).catch(() => undefined);
    }
    await closeEsClient(client);
    await node.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

exitWith(main(), interrupted);
