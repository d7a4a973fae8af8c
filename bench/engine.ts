/**
 * npm run bench:engine — throughput of the EQL engine on the two seed rules, against Elastic's
 * reference Python `eql` engine on the same events.
 *
 * 1. Generates a deterministic scenario (src/scenario) of --events documents with --attacks
 *    injected attacks (a small share of matching events).
 * 2. eqlwatch: compiles each seed query once, then times evaluation over the in-memory documents
 *    on one thread (event rule: the predicate over every event; sequence rule: a fresh
 *    SequenceMatcher fed every event, drained as it goes, flushed), --warmup untimed runs then
 *    --iterations timed ones; reports median/min/max events per second and heap figures.
 * 3. python-eql: writes the first --python-events documents to a temporary NDJSON and times the
 *    same rules (in the package's dialect, see bench/python/dialect.ts) with eql_bench.py in
 *    .venv-bench; eqlwatch is timed on that same sample too, so the ratio compares like with like.
 * 4. Checks that both engines found the same documents, and that eqlwatch found exactly the
 *    scenario's ground truth; prints a table and writes JSON to bench/results/.
 *
 * Flags (or env): --events (BENCH_EVENTS, default 1000000), --attacks (BENCH_ATTACKS, default
 * events/5000), --seed (BENCH_SEED, 1), --iterations (BENCH_ITERATIONS, 3), --warmup (BENCH_WARMUP, 1),
 * --python-events (BENCH_PY_EVENTS, 100000), --python-iterations (BENCH_PY_ITERATIONS, 3),
 * --no-python (BENCH_NO_PYTHON=1).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { compileQuery, SequenceMatcher, type CompiledQuery, type EqlEvent } from '../src/eql/index.js';
import { generateScenario, SEED_RULES, type Scenario, type SeedRule } from '../src/scenario/index.js';
import { applyRewrites, ARRAY_EQ, ARRAY_IN, DOTTED_KEY, type Rewrite } from './python/dialect.js';
import { ensureVenv, runPythonBench, type PythonResult } from './python/run.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seedsDir = path.resolve(repoRoot, '../shared/seeds');
const log = (s: string): void => console.log(s);
const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

interface Config {
  events: number;
  attacks: number;
  seed: number;
  iterations: number;
  warmup: number;
  pythonEvents: number;
  pythonIterations: number;
  python: boolean;
}

function readConfig(): Config {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      attacks: { type: 'string' },
      seed: { type: 'string' },
      iterations: { type: 'string' },
      warmup: { type: 'string' },
      'python-events': { type: 'string' },
      'python-iterations': { type: 'string' },
      'no-python': { type: 'boolean' },
    },
    strict: true,
  });
  const num = (flag: string | undefined, env: string, dflt: number): number => {
    const text = flag ?? process.env[env];
    if (text === undefined || text === '') return dflt;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`${env}/--flag: expected a non-negative integer, got "${text}"`);
    return n;
  };
  const events = num(values.events, 'BENCH_EVENTS', 1_000_000);
  return {
    events,
    attacks: num(values.attacks, 'BENCH_ATTACKS', Math.max(1, Math.round(events / 5000))),
    seed: num(values.seed, 'BENCH_SEED', 1),
    iterations: Math.max(1, num(values.iterations, 'BENCH_ITERATIONS', 3)),
    warmup: num(values.warmup, 'BENCH_WARMUP', 1),
    pythonEvents: Math.min(events, num(values['python-events'], 'BENCH_PY_EVENTS', 100_000)),
    pythonIterations: Math.max(1, num(values['python-iterations'], 'BENCH_PY_ITERATIONS', 3)),
    python: !(values['no-python'] ?? process.env['BENCH_NO_PYTHON'] === '1'),
  };
}

/** The query of a seed file is the line after "text code block:". */
function seedQuery(file: string): string {
  const text = readFileSync(path.join(seedsDir, file), 'utf8');
  const marker = 'text code block:\n';
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${file}: no query found`);
  const start = at + marker.length;
  return text.slice(start, text.indexOf('\n', start)).trim();
}

interface RuleSpec {
  rule: SeedRule;
  query: string;
  pythonRewrites: Rewrite[];
}

interface Timing {
  engine: 'eqlwatch' | 'python-eql';
  events: number;
  matches: number;
  /** CPU time of the process per timed run (user + system): robust to other load on the machine. */
  cpuSeconds: number[];
  wallSeconds: number[];
  /** Events per CPU-second, i.e. per core: the figure the table reports. */
  eventsPerSecond: { median: number; min: number; max: number };
  wallEventsPerSecond: { median: number; min: number; max: number };
  memory?: Record<string, number | undefined>;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function rates(events: number, seconds: number[]): Timing['eventsPerSecond'] {
  return { median: events / median(seconds), min: events / Math.max(...seconds), max: events / Math.min(...seconds) };
}

/** One pass of the rule over `events`; returns the matching documents (sequence order). */
function runOnce(compiled: CompiledQuery, events: readonly EqlEvent[]): { matches: EqlEvent[][]; pending: number } {
  const out: EqlEvent[][] = [];
  if (compiled.kind === 'event') {
    const predicate = compiled.predicate as (e: EqlEvent) => boolean;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as EqlEvent;
      if (predicate(e)) out.push([e]);
    }
    return { matches: out, pending: 0 };
  }
  const matcher = new SequenceMatcher(compiled);
  for (let i = 0; i < events.length; i++) {
    matcher.push(events[i] as EqlEvent);
    // Drain as a streaming consumer would, without paying for it on every event.
    if ((i & 1023) === 1023) for (const m of matcher.drain()) out.push(m.events);
  }
  const pending = matcher.pendingCount;
  matcher.flush();
  for (const m of matcher.drain()) out.push(m.events);
  return { matches: out, pending };
}

/**
 * Lets the heap settle before timing: a full GC, then idle time for V8's concurrent sweeping to
 * finish. Without it, marking/sweeping a 1 GB heap (started by earlier allocation bursts such as
 * serialising the Python sample) is charged to the next short timed runs — up to 4× slower in
 * trials.
 */
async function settle(): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

async function timeEngine(compiled: CompiledQuery, events: readonly EqlEvent[], cfg: Config): Promise<{ timing: Timing; matches: EqlEvent[][] }> {
  await settle();
  for (let i = 0; i < cfg.warmup; i++) runOnce(compiled, events);
  const cpuSeconds: number[] = [];
  const wallSeconds: number[] = [];
  let last: EqlEvent[][] = [];
  let peakHeap = 0;
  let pendingAtEnd = 0;
  for (let i = 0; i < cfg.iterations; i++) {
    // No gc() between timed runs (see settle()); garbage the engine itself makes is its cost.
    const before = process.memoryUsage().heapUsed;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = runOnce(compiled, events);
    const t1 = performance.now();
    const c1 = process.cpuUsage(c0);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed - before);
    wallSeconds.push((t1 - t0) / 1000);
    cpuSeconds.push((c1.user + c1.system) / 1e6);
    last = r.matches;
    pendingAtEnd = r.pending;
  }
  return {
    timing: {
      engine: 'eqlwatch',
      events: events.length,
      matches: last.length,
      cpuSeconds,
      wallSeconds,
      eventsPerSecond: rates(events.length, cpuSeconds),
      wallEventsPerSecond: rates(events.length, wallSeconds),
      memory: { heapGrowthDuringRunMB: mb(peakHeap), pendingSequencesBeforeFlush: compiled.kind === 'sequence' ? pendingAtEnd : undefined },
    },
    matches: last,
  };
}

function keysOf(matches: EqlEvent[][], position: Map<EqlEvent, number>): string[] {
  return matches.map((m) => m.map((e) => position.get(e)).join(',')).sort();
}

function expectedKeys(scenario: Scenario, rule: SeedRule, limit: number): string[] {
  return scenario.expectedAlerts
    .filter((a) => a.rule === rule && a.eventIndices.every((i) => i < limit))
    .map((a) => a.eventIndices.join(','))
    .sort();
}

const fmtInt = (n: number): string => n.toLocaleString('en-US');
const fmtRate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));

function printTable(rows: Array<{ rule: string; t: Timing; ratio?: number }>): void {
  const header = ['rule', 'engine', 'events', 'matches', 'events/CPU-s (median)', 'min – max', 'wall events/s', 'ratio'];
  const body = rows.map(({ rule, t, ratio }) => [
    rule,
    t.engine,
    fmtInt(t.events),
    fmtInt(t.matches),
    fmtRate(t.eventsPerSecond.median),
    `${fmtRate(t.eventsPerSecond.min)} – ${fmtRate(t.eventsPerSecond.max)}`,
    fmtRate(t.wallEventsPerSecond.median),
    ratio === undefined ? '' : `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of body) log(line(r));
}

async function main(): Promise<void> {
  const cfg = readConfig();
  if (!existsSync(seedsDir)) throw new Error(`seed rules not found at ${seedsDir} (the shared reference material must sit next to the repository)`);
  const rules: RuleSpec[] = [
    { rule: 'interactive_exec', query: seedQuery(SEED_RULES.interactive_exec.seedFile), pythonRewrites: [ARRAY_EQ] },
    { rule: 'api_request', query: seedQuery(SEED_RULES.api_request.seedFile), pythonRewrites: [ARRAY_EQ, ARRAY_IN, DOTTED_KEY] },
  ];
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
  const loadAtStart = loadavg();
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${mb(totalmem()) / 1024 | 0} GiB, Node ${process.version}; single thread; load average ${load()}`);

  let t0 = performance.now();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const scenario = generateScenario({ events: cfg.events, attacks: cfg.attacks, seed: cfg.seed });
  gc();
  const datasetMB = mb(process.memoryUsage().heapUsed - heapBefore);
  log(`scenario: ${fmtInt(cfg.events)} events (${fmtInt(scenario.stats.processEvents)} process, ${fmtInt(scenario.stats.auditEvents)} audit), ` +
    `${cfg.attacks} attacks, seed ${cfg.seed}; generated in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${datasetMB} MB of heap`);
  const events = scenario.events as EqlEvent[];
  const position = new Map<EqlEvent, number>();
  events.forEach((e, i) => position.set(e, i));
  const sample = events.slice(0, cfg.pythonEvents);

  const rows: Array<{ rule: string; t: Timing; ratio?: number }> = [];
  const checks: Array<{ check: string; ok: boolean; detail: string }> = [];
  const perRule: Record<string, unknown> = {};
  const compiledByRule = new Map<SeedRule, CompiledQuery>();

  for (const spec of rules) {
    const compiled = compileQuery(spec.query);
    compiledByRule.set(spec.rule, compiled);
    log(`eqlwatch: ${spec.rule} over ${fmtInt(events.length)} events …`);
    const full = await timeEngine(compiled, events, cfg);
    const got = keysOf(full.matches, position);
    const want = expectedKeys(scenario, spec.rule, events.length);
    checks.push({
      check: `${spec.rule}: eqlwatch = ground truth on ${fmtInt(events.length)} events`,
      ok: JSON.stringify(got) === JSON.stringify(want),
      detail: `${got.length} found, ${want.length} expected`,
    });
    rows.push({ rule: spec.rule, t: full.timing });
    perRule[spec.rule] = { query: spec.query, eqlwatch: full.timing };
  }

  if (cfg.python) {
    const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-bench-'));
    try {
      const python = await ensureVenv(repoRoot, log);
      const eventsFile = path.join(dir, 'events.ndjson');
      const queriesFile = path.join(dir, 'queries.json');
      const outFile = path.join(dir, 'python.json');
      await writeFile(eventsFile, sample.map((e) => JSON.stringify(e)).join('\n') + '\n');
      const pyQueries = rules.map((r) => ({ id: r.rule, query: applyRewrites(r.query, r.pythonRewrites) }));
      await writeFile(queriesFile, JSON.stringify(pyQueries));
      log(`python-eql: both rules over the first ${fmtInt(sample.length)} events (${cfg.pythonIterations} timed runs each) …`);
      t0 = performance.now();
      await runPythonBench(python, repoRoot, { events: eventsFile, queries: queriesFile, out: outFile }, cfg.pythonIterations, 1, 20 * 60_000);
      const py = JSON.parse(await readFile(outFile, 'utf8')) as PythonResult;
      log(`python-eql ${py.eqlVersion} (Python ${py.python}): done in ${((performance.now() - t0) / 1000).toFixed(1)} s (JSON load ${py.loadSeconds.toFixed(1)} s, not timed; max RSS ${py.maxRssMB.toFixed(0)} MB)`);

      const rulesRows: typeof rows = [];
      for (const spec of rules) {
        const pq = py.queries.find((q) => q.id === spec.rule);
        if (!pq) throw new Error(`python result for ${spec.rule} missing`);
        const ours = await timeEngine(compiledByRule.get(spec.rule) as CompiledQuery, sample, cfg);
        const oursKeys = keysOf(ours.matches, position);
        const pyKeys = pq.matchLines.map((l) => l.join(',')).sort();
        const want = expectedKeys(scenario, spec.rule, sample.length);
        checks.push({
          check: `${spec.rule}: eqlwatch = python-eql on the same ${fmtInt(sample.length)} events`,
          ok: JSON.stringify(oursKeys) === JSON.stringify(pyKeys),
          detail: `${oursKeys.length} vs ${pyKeys.length} matches${JSON.stringify(oursKeys) === JSON.stringify(pyKeys) ? ', identical documents' : ''}`,
        });
        checks.push({
          check: `${spec.rule}: python-eql = ground truth on the sample`,
          ok: JSON.stringify(pyKeys) === JSON.stringify(want),
          detail: `${pyKeys.length} found, ${want.length} expected`,
        });
        const pyTiming: Timing = {
          engine: 'python-eql',
          events: py.events,
          matches: pq.matches,
          cpuSeconds: pq.cpuSeconds,
          wallSeconds: pq.wallSeconds,
          eventsPerSecond: rates(py.events, pq.cpuSeconds),
          wallEventsPerSecond: rates(py.events, pq.wallSeconds),
          memory: { maxRssMB: Math.round(py.maxRssMB) },
        };
        const ratio = ours.timing.eventsPerSecond.median / pyTiming.eventsPerSecond.median;
        rulesRows.push({ rule: spec.rule, t: ours.timing }, { rule: spec.rule, t: pyTiming, ratio });
        Object.assign(perRule[spec.rule] as object, {
          sample: { eqlwatch: ours.timing, pythonEql: pyTiming, pythonQuery: pq.query, rewrites: spec.pythonRewrites, speedup: ratio },
        });
      }
      rows.push(...rulesRows);
      perRule['python'] = { eqlVersion: py.eqlVersion, python: py.python, loadSeconds: py.loadSeconds, maxRssMB: py.maxRssMB };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  log('');
  printTable(rows);
  log('');
  for (const c of checks) log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.check}: ${c.detail}`);
  const mem = process.memoryUsage();
  log(`memory: scenario ${datasetMB} MB heap; process RSS ${mb(mem.rss)} MB, heap ${mb(mem.heapUsed)} MB`);
  log(`load average now ${load()} (other processes share the cores: compare runs made under similar load)`);

  const resultsDir = path.join(repoRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `engine-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, totalMemMB: mb(totalmem()), node: process.version, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg() },
    config: cfg,
    scenario: { stats: scenario.stats, expectedAlerts: scenario.expectedAlerts.length, datasetHeapMB: datasetMB },
    rules: perRule,
    checks,
  }, null, 2)}\n`);
  log(`results: ${path.relative(repoRoot, file)}`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
