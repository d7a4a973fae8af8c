/**
 * `npm run demo`: eqlwatch catching both seed attacks on this machine, no Docker needed.
 *
 *  1. Elasticsearch: ES_URL (+ ES_USERNAME/ES_PASSWORD/ES_API_KEY) when set, else a local node from
 *     scripts/local-es.sh (reused when already running; stopped at the end only if the demo started it);
 *  2. an SMTP catcher on 127.0.0.1 saving every message into demo-output/ (.eml and .html);
 *  3. a realistic scenario (cloud_defend process events + Kubernetes audit logs, both attacks) ending
 *     just before now, so the rules' 6-minute look-back sees it;
 *  4. the worker, once, with a temporary config (alerts in eqlwatch-demo-alerts, mail to the catcher);
 *  5. the alerts as a table, and where the mail landed.
 *
 *   npm run demo [-- --events 5000] [-- --namespace default] [-- --keep-es]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { stringify } from 'yaml';
import { esConfigFromEnv } from '../src/config/es.js';
import { createEsClient } from '../src/es/client.js';
import { SEED_RULES, type SeedRule } from '../src/scenario/index.js';
import { LoadError, loadScenario, recentScenario } from '../src/scenario/load.js';
import { getString, type AlertDoc } from '../src/notify/types.js';
import { DEMO_ALERTS_INDEX, DEMO_OUTBOX_INDEX, DEMO_STATE_INDEX, demoConfig } from './demo/config.js';
import { startMailCatcher, type MailCatcher } from './demo/mail-catcher.js';
import { prerequisiteProblem } from './demo/prereqs.js';
import { handOverToTests, otherLiveUsers, registerUser, unregisterUser } from './local-es-users.js';
import { alertRow, formatTable, terminalSafe } from './demo/table.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const localEs = path.join(repoRoot, 'scripts/local-es.sh');
let outDir = path.join(repoRoot, 'demo-output');
const WORKER_TIMEOUT_MS = 5 * 60_000;

const say = (s = '') => process.stdout.write(`${s}\n`);
const step = (n: number, s: string) => say(`\n[${n}/5] ${s}`);

class DemoError extends Error {
  constructor(message: string, readonly next: string) {
    super(message);
  }
}

/** What the demo started and must stop, whatever happens. */
const started: {
  esByDemo: boolean;
  esStart: ChildProcess | null;
  catcher: MailCatcher | null;
  client: Client | null;
  tmp: string | null;
  children: Set<ChildProcess>;
} = {
  esByDemo: false,
  esStart: null,
  catcher: null,
  client: null,
  tmp: null,
  children: new Set(),
};
let keepEs = false;
let interrupted = false;
let interruptedAt = 0;
let cleaning: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of started.children) if (c.exitCode === null && c !== started.esStart) c.kill('SIGTERM');
    const esStart = started.esStart;
    if (esStart && esStart.exitCode === null && esStart.signalCode === null) {
      // Killing a half-started node's launcher would orphan the node: let the start finish, then stop it.
      say('waiting for the Elasticsearch start to finish so the node can be stopped cleanly (Ctrl-C again to leave it running)…');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 300_000);
        esStart.once('close', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await started.client?.close().catch(() => undefined);
    await started.catcher?.close().catch(() => undefined);
    if (started.tmp) rmSync(started.tmp, { recursive: true, force: true });
    unregisterUser();
    if (started.esByDemo) {
      const others = otherLiveUsers();
      if (keepEs) say(`\nElasticsearch keeps running (--keep-es): stop it with "scripts/local-es.sh stop".`);
      else if (others > 0) {
        handOverToTests();
        say(`\nthe Elasticsearch node the demo started is now used by ${others} other process(es); the last of them stops it.`);
      } else {
        say('\nstopping the Elasticsearch node the demo started…');
        spawnSync('bash', [localEs, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
      }
    }
  })();
  return cleaning;
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function hasJava(): boolean {
  if (process.env.ES_JAVA_HOME || process.env.JAVA_HOME) return true;
  if (hasCommand('java')) return true;
  return existsSync('/usr/lib/jvm') && readdirSync('/usr/lib/jvm').some((d) => existsSync(`/usr/lib/jvm/${d}/bin/java`));
}

function hasCachedDistribution(): boolean {
  const dist = path.join(process.env.EQLWATCH_CACHE ?? path.join(homedir(), '.cache/eqlwatch'), 'dist');
  return existsSync(dist) && readdirSync(dist).some((f) => /^elasticsearch-.*\.zip$/.test(f));
}

/** Runs a child, prefixing its stderr lines; resolves with its stdout. */
function run(
  cmd: string,
  args: string[],
  prefix: string,
  timeoutMs: number,
  onStdoutLine?: (line: string) => void,
  opts: { detached?: boolean; onSpawn?: (c: ChildProcess) => void } = {},
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // detached: its own process group, so the terminal's Ctrl-C does not reach it (the demo decides).
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: process.env, detached: opts.detached ?? false });
    started.children.add(child);
    opts.onSpawn?.(child);
    let stdout = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    createInterface({ input: child.stderr! }).on('line', (l) => process.stderr.write(`${prefix}${l}\n`));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (l) => {
      stdout += `${l}\n`;
      onStdoutLine?.(l);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      started.children.delete(child);
      resolve({ code, stdout });
    });
  });
}

async function elasticsearch(): Promise<string> {
  if (process.env.ES_URL) {
    say(`using ES_URL=${process.env.ES_URL.replace(/\/\/[^@/]*@/, '//<credentials>@')} (nothing is started or stopped)`);
    return process.env.ES_URL;
  }
  registerUser(); // before looking: a test run finishing now must not stop a node the demo is about to use
  if (spawnSync('bash', [localEs, 'status'], { stdio: 'ignore' }).status === 0) {
    const url = spawnSync('bash', [localEs, 'url'], { encoding: 'utf8' }).stdout.trim();
    say(`a local node is already running at ${url}; using it (it stays running afterwards)`);
    return url;
  }
  const problem = prerequisiteProblem({ java: hasJava(), mvn: hasCommand('mvn'), cachedDistribution: hasCachedDistribution() });
  if (problem) throw new DemoError(problem.message, problem.next);
  say('starting a local Elasticsearch node (the first run downloads 96 MB from Maven Central and unpacks 111 MB)…');
  started.esByDemo = true;
  const res = await run('bash', [localEs, 'start'], '  es │ ', 15 * 60_000, undefined, { detached: true, onSpawn: (c) => (started.esStart = c) });
  if (interrupted) throw new DemoError('interrupted', '');
  const url = res.stdout.trim().split('\n').pop() ?? '';
  if (res.code !== 0 || !/^https?:\/\//.test(url)) {
    throw new DemoError('the local Elasticsearch node did not start (see the es │ lines above).',
      'check Java/Maven and free disk space, then run "scripts/local-es.sh start" to see the full error; or set ES_URL.');
  }
  say(`Elasticsearch is up at ${url}`);
  return url;
}

async function deleteIfExists(client: Client, index: string): Promise<void> {
  await client.indices.delete({ index, ignore_unavailable: true }).catch(() => undefined);
}

async function fetchAlerts(client: Client, since: string): Promise<{ shown: AlertDoc[]; members: Map<string, AlertDoc[]> }> {
  const res = await client.search<AlertDoc>({
    index: DEMO_ALERTS_INDEX,
    size: 500,
    query: { range: { '@timestamp': { gte: since } } },
    sort: [{ 'kibana.alert.original_time': { order: 'asc', unmapped_type: 'date' } }],
  });
  const shown: AlertDoc[] = [];
  const members = new Map<string, AlertDoc[]>();
  for (const h of res.hits.hits) {
    const doc = h._source!;
    const group = getString(doc, 'kibana.alert.group.id');
    if (getString(doc, 'kibana.alert.building_block_type') !== undefined) {
      if (group) members.set(group, [...(members.get(group) ?? []), doc]);
    } else shown.push(doc);
  }
  for (const list of members.values()) list.sort((a, b) => Number(getString(a, 'kibana.alert.group.index') ?? 0) - Number(getString(b, 'kibana.alert.group.index') ?? 0));
  return { shown, members };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { events: { type: 'string' }, namespace: { type: 'string' }, out: { type: 'string' }, 'keep-es': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run demo [-- --events N] [-- --namespace NS] [-- --out DIR (default demo-output)] [-- --keep-es]');
    return 0;
  }
  keepEs = Boolean(values['keep-es']);
  if (values.out) outDir = path.resolve(values.out);
  const events = values.events === undefined ? 5000 : Number(values.events);
  if (!Number.isInteger(events) || events < 500) throw new DemoError(`--events must be an integer >= 500, got ${values.events}`, 'try --events 5000');
  const demoStart = new Date().toISOString();
  say('eqlwatch demo: two Elastic Security EQL rules, a Kubernetes cluster under attack, one worker run.');

  step(1, 'Elasticsearch');
  const esUrl = await elasticsearch();
  const client = await createEsClient(esConfigFromEnv({ ...process.env, ES_URL: esUrl }));
  started.client = client;

  step(2, 'mail catcher');
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (/\.(eml|html)$/.test(f)) rmSync(path.join(outDir, f));
  started.catcher = await startMailCatcher(outDir);
  say(`SMTP catcher on 127.0.0.1:${started.catcher.port}, saving messages into ${path.relative(process.cwd(), outDir) || '.'}/`);

  step(3, 'scenario');
  const scenario = recentScenario({ events, attacks: 2, now: Date.now() });
  const namespace = values.namespace ?? 'default';
  let report;
  try {
    report = await loadScenario(client, scenario, { namespace, onProgress: (m) => say(`  ${m}`) });
  } catch (err) {
    if (err instanceof LoadError) throw new DemoError(err.message, 'run the demo with its own data stream namespace, which the rules still read: npm run demo -- --namespace eqlwatchdemo');
    throw err;
  }
  for (const [index, n] of Object.entries(report.indices)) say(`  ${index}: ${n} documents`);
  say(`  ${scenario.attacks.length} attacks (${scenario.attacks.map((a) => `${a.kind} on ${a.pod}`).join(', ')}), events ${report.from} → ${report.to}`);
  const expected = report.expected;
  for (const r of Object.keys(expected) as SeedRule[]) say(`  should fire: "${SEED_RULES[r].name}" × ${expected[r]}`);
  // Fresh checkpoints and outbox: each demo run reads the newly loaded minutes from scratch.
  await deleteIfExists(client, DEMO_STATE_INDEX);
  await deleteIfExists(client, DEMO_OUTBOX_INDEX);

  step(4, 'worker: eqlwatch once');
  started.tmp = mkdtempSync(path.join(tmpdir(), 'eqlwatch-demo-'));
  const configFile = path.join(started.tmp, 'eqlwatch.yml');
  writeFileSync(configFile, stringify(demoConfig({ esUrl, smtpPort: started.catcher.port, rulesDir: path.join(repoRoot, 'queries'), ...(process.env.KIBANA_URL ? { kibanaUrl: process.env.KIBANA_URL } : {}) })));
  say(`config: ${configFile} (alerts → ${DEMO_ALERTS_INDEX}, email → the catcher)`);
  const worker = await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'scripts/demo/worker-entry.ts'), 'once', '--config', configFile], '  worker │ ', WORKER_TIMEOUT_MS, (line) => {
    try {
      const log = JSON.parse(line) as { 'log.level'?: string; message?: string };
      const level = log['log.level'] ?? 'info';
      say(`  worker │ ${level === 'info' ? '' : `${level.toUpperCase()} `}${terminalSafe(String(log.message ?? ''))}`);
    } catch {
      say(`  worker │ ${terminalSafe(line)}`);
    }
  });
  if (worker.code !== 0) say(`  worker exited with code ${worker.code}`);

  step(5, 'results');
  const alertsExist = await client.indices.exists({ index: DEMO_ALERTS_INDEX });
  if (alertsExist) await client.indices.refresh({ index: DEMO_ALERTS_INDEX });
  const { shown, members } = alertsExist ? await fetchAlerts(client, demoStart) : { shown: [], members: new Map<string, AlertDoc[]>() };
  if (shown.length === 0) say('no alerts.');
  else {
    const rows = shown.map((d) => alertRow(d, members.get(getString(d, 'kibana.alert.group.id') ?? '') ?? []));
    say(formatTable(rows, Math.max(100, process.stdout.columns ?? 160)));
  }
  const mails = await started.catcher.waitFor(shown.length, 10_000);
  say(`\n${mails.length} email(s) received by the catcher:`);
  for (const m of mails) {
    say(`  ${terminalSafe(m.subject)}`);
    say(`    ${path.relative(process.cwd(), m.emlPath)}${m.htmlPath ? `   (HTML: ${path.relative(process.cwd(), m.htmlPath)})` : ''}`);
  }
  if (mails[0]?.htmlPath) say(`\nopen file://${mails[0].htmlPath} in a browser to see the email as a person would.`);
  say(`alerts are in the index ${DEMO_ALERTS_INDEX}${started.esByDemo && !keepEs ? ' (gone when the node stops; keep it with --keep-es)' : ''}.`);

  const fired = new Set(shown.map((d) => getString(d, 'kibana.alert.rule.name') ?? ''));
  const missing = (Object.keys(expected) as SeedRule[]).filter((r) => expected[r] > 0 && !fired.has(SEED_RULES[r].name));
  if (worker.code !== 0 || missing.length > 0 || mails.length === 0) {
    throw new DemoError(
      `the demo did not complete as expected${missing.length ? `: no alert from ${missing.map((r) => `"${SEED_RULES[r].name}"`).join(', ')}` : ''}${mails.length === 0 ? '; no email arrived' : ''}.`,
      'look at the worker │ lines above; "npx eqlwatch validate" checks the rules, and the README lists known limits.',
    );
  }
  say('\ndone: both seed rules fired and the email landed.');
  return 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // One Ctrl-C can arrive twice (the terminal signals the whole group and tsx relays it): ignore repeats for a moment.
    if (interrupted && Date.now() - interruptedAt < 2000) return;
    if (interrupted) {
      process.stderr.write(`\nleaving now${started.esByDemo ? '; the Elasticsearch node may still run: scripts/local-es.sh stop' : ''}\n`);
      unregisterUser();
      process.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    process.stderr.write(`\n${sig}: cleaning up…\n`);
    void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  });
}

main()
  .catch((err: unknown) => {
    if (interrupted) return 130;
    if (err instanceof DemoError) process.stderr.write(`\ndemo failed: ${err.message}\nwhat to do next: ${err.next}\n`);
    else process.stderr.write(`\ndemo failed: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  })
  .then(async (code) => {
    if (interrupted) return;
    await cleanup();
    process.exitCode = code;
  });
