/**
 * npm run bench:memory — the sequence engine's memory is bounded by configuration, not by how many
 * events a window holds.
 *
 * Runs the RuleEngine (pure, no Elasticsearch) for the sequence seed rule of queries/ over lazily
 * generated streams (bench/lib/streams.ts: mostly first-stage hits on never-seen pods that never
 * complete, dense enough that one 1 s maxspan holds more pending sequences than the cap) of each
 * --sizes, with `maxPendingSequences` at its default (10,000) and at --small-cap. Each combination runs
 * in its own child process (`--expose-gc`) so peak RSS is its own. The engine is fed page by page
 * (--page-size) as the worker feeds it, with the watermark kept just below each page's last timestamp
 * (pages arrive in timestamp order; see the report on execute.ts for why this matters).
 * Reports peak RSS (sampled and the OS maximum), peak heapUsed, retained heap after a full GC, the
 * matcher's counters (evicted, expired, completed) and throughput; checks that every planned sequence
 * completed and no event was dropped as late. Prints a table and writes JSON to bench/results/.
 *
 * Flags (or env): --sizes (BENCH_SIZES, "100000,1000000,3000000"), --small-cap (BENCH_SMALL_CAP, 1000),
 * --per-ms (BENCH_PER_MS, events per ms of event time, 50), --page-size (BENCH_PAGE_SIZE, 1000).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { loadRuleFile } from '../src/rules/load.js';
import { newEngine, prepareRule } from '../src/worker/prepared-rule.js';
import { intOption, machine, mb, round, table, writeResults } from './lib/report.js';
import { syntheticPages, type StreamTally } from './lib/streams.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RULE_FILE = path.join(repoRoot, 'queries', 'execution_direct_interactive_kubernetes_api_request_by_common_utilities.toml');
const DEFAULT_CAP = 10_000; // worker.maxPendingSequences default (src/config/schema.ts)
const log = (s: string): void => console.log(s);

interface ChildResult {
  events: number;
  cap: number;
  baselineRssMB: number;
  baselineHeapMB: number;
  peakRssMB: number;
  maxRssMB: number;
  peakHeapUsedMB: number;
  peakRetainedHeapMB: number;
  /** Heap after a full GC at the end of the stream, before the final flush (pending sequences still held). */
  retainedAtEndMB: number;
  pendingAtEnd: number[];
  matches: number;
  tally: StreamTally;
  stats: Record<string, number>;
  consumeSeconds: number;
  totalSeconds: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** One stream through one engine, in this process. */
async function child(events: number, cap: number, perMs: number, pageSize: number): Promise<ChildResult> {
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:memory does)');
  const loaded = await loadRuleFile(RULE_FILE);
  if (loaded.kind !== 'rule') throw new Error(`${RULE_FILE}: ${loaded.kind}`);
  const p = prepareRule(loaded.rule);
  if (p.compiled.kind !== 'sequence') throw new Error('the memory benchmark needs the sequence seed rule');
  const engine = newEngine(p, { maxPendingPerStage: cap });
  gc();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  let peakRetained = base.heapUsed;
  const tally: StreamTally = { firstStage: 0, benign: 0, audit: 0, completing: 0 };
  let matches = 0;
  let consumeNs = 0n;
  let seen = 0;
  let nextSample = 0;
  let nextGc = 0;
  const started = process.hrtime.bigint();
  const startMs = Date.parse('2026-01-20T10:00:00.000Z');
  for (const page of syntheticPages({ events, perMs, startMs, completeEvery: 50 }, pageSize, tally)) {
    // Pages come in timestamp order, as the worker reads a window.
    const t = process.hrtime.bigint();
    matches += engine.consume(page).length;
    consumeNs += process.hrtime.bigint() - t;
    seen += page.length;
    if (seen >= nextSample) {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      nextSample += 20_000;
    }
    if (seen >= nextGc) {
      gc();
      peakRetained = Math.max(peakRetained, process.memoryUsage().heapUsed);
      nextGc += 50_000;
    }
  }
  // Pending sequences at the end of the stream, before the final flush releases them.
  const pendingAtEnd = (engine.snapshot().matcher?.slots ?? []).map((s) => s.length);
  gc();
  const retainedAtEnd = process.memoryUsage().heapUsed;
  peakRetained = Math.max(peakRetained, retainedAtEnd);
  const t = process.hrtime.bigint();
  matches += engine.flush().length;
  consumeNs += process.hrtime.bigint() - t;
  const totalSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  const stats = engine.stats;
  return {
    events,
    cap,
    baselineRssMB: mb(base.rss),
    baselineHeapMB: mb(base.heapUsed),
    peakRssMB: mb(peakRss),
    maxRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
    peakHeapUsedMB: mb(peakHeap),
    peakRetainedHeapMB: mb(peakRetained),
    retainedAtEndMB: mb(retainedAtEnd),
    pendingAtEnd,
    matches,
    tally,
    stats: { ...(stats.sequence as unknown as Record<string, number>), excluded: stats.excluded },
    consumeSeconds: Number(consumeNs) / 1e9,
    totalSeconds,
  };
}

function runChild(events: number, cap: number, perMs: number, pageSize: number): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  return promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', script, '--child', `${events},${cap},${perMs},${pageSize}`],
    { cwd: repoRoot, maxBuffer: 16 << 20, timeout: 600_000 },
  ).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!) as ChildResult);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      sizes: { type: 'string' },
      'small-cap': { type: 'string' },
      'per-ms': { type: 'string' },
      'page-size': { type: 'string' },
    },
    strict: true,
  });
  if (values.child) {
    const [events, cap, perMs, pageSize] = values.child.split(',').map(Number) as [number, number, number, number];
    process.stdout.write(`${JSON.stringify(await child(events, cap, perMs, pageSize))}\n`);
    return 0;
  }
  const sizesText = values.sizes ?? process.env.BENCH_SIZES ?? '100000,1000000,3000000';
  const sizes = sizesText.split(',').map((s) => intOption(s.trim(), 'BENCH_SIZES', 0));
  if (sizes.some((n) => n < 1)) throw new Error(`BENCH_SIZES: positive integers expected, got "${sizesText}"`);
  const smallCap = Math.max(1, intOption(values['small-cap'], 'BENCH_SMALL_CAP', 1000));
  const perMs = Math.max(1, intOption(values['per-ms'], 'BENCH_PER_MS', 50));
  const pageSize = Math.max(1, intOption(values['page-size'], 'BENCH_PAGE_SIZE', 1000));
  const started = performance.now();
  log(`RuleEngine memory, sequence seed rule, ${perMs} events/ms of event time (${Math.round(perMs * 600)} first-stage hits per 1 s maxspan), pages of ${pageSize}; load average ${machine().loadavg}`);
  const results: ChildResult[] = [];
  for (const cap of [DEFAULT_CAP, smallCap]) {
    for (const events of sizes) {
      const r = await runChild(events, cap, perMs, pageSize);
      log(`  ${events.toLocaleString('en-US')} events, cap ${cap.toLocaleString('en-US')}: peak RSS ${r.peakRssMB} MB, retained heap ${r.peakRetainedHeapMB} MB, ${Math.round(events / r.consumeSeconds).toLocaleString('en-US')} events/s`);
      results.push(r);
    }
  }
  const checks = results.map((r) => r.matches === r.tally.completing && r.stats.lateEvents === 0 && r.stats.eventsSeen === r.events);
  log('');
  log(table(
    ['events', 'maxPending', 'RSS base MB', 'peak RSS MB', 'OS max RSS MB', 'peak heapUsed MB', 'peak retained heap MB (after GC)', 'pending at end', 'evicted', 'expired', 'matches', 'events/s', 'check'],
    results.map((r, i) => [
      r.events,
      r.cap,
      r.baselineRssMB,
      r.peakRssMB,
      r.maxRssMB,
      r.peakHeapUsedMB,
      r.peakRetainedHeapMB,
      r.pendingAtEnd.reduce((a, b) => a + b, 0),
      r.stats.evicted ?? 0,
      r.stats.expired ?? 0,
      r.matches,
      Math.round(r.events / r.consumeSeconds),
      checks[i] ? 'ok' : 'FAILED',
    ]),
  ));
  log('check: every planned sequence completed (matches = planned), no event dropped as late, every event seen.');
  const file = await writeResults(repoRoot, 'memory', {
    date: new Date().toISOString(),
    machine: machine(),
    config: { sizes, caps: [DEFAULT_CAP, smallCap], perMs, pageSize },
    results,
    checks,
    wallSeconds: round((performance.now() - started) / 1000, 1),
  });
  log(`results: ${path.relative(repoRoot, file)} (total ${round((performance.now() - started) / 1000, 1)} s; load average now ${machine().loadavg})`);
  return checks.every(Boolean) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
