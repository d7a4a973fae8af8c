/**
 * Micro-bench for iterating on the engine's hot paths (not a report: see `npm run bench:engine`).
 *
 *   npx tsx bench/micro.ts [--events 100000] [--rounds 5] [--only event|sequence|stages|floor|timestamp|fields]
 *
 * Generates the scenario once, then per part runs `--rounds` passes and prints the best
 * events per CPU-second (user + system) and the match count (a checksum: it must not change).
 * Parts: `event` (seed 004's predicate), `sequence` (seed 000 through a fresh SequenceMatcher),
 * `stages` (seed 000's stage predicates alone), `floor` (a hand-written minimum of seed 000:
 * timestamp and stage tests, no engine — the memory-latency floor), `timestamp` (the compiled
 * query's `timestampOf` alone), `fields` (one field accessor's `first`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compileFieldAccessor } from '../src/eql/fields.js';
import { parseCanonicalTimestamp } from '../src/eql/timestamp.js';
import { compileQuery, SequenceMatcher, type CompiledQuery, type EqlEvent } from '../src/eql/index.js';
import { generateScenario, SEED_RULES } from '../src/scenario/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const seedsDir = path.resolve(repoRoot, '../shared/seeds');

function seedQuery(file: string): string {
  const text = readFileSync(path.join(seedsDir, file), 'utf8');
  const marker = 'text code block:\n';
  const start = text.indexOf(marker) + marker.length;
  return text.slice(start, text.indexOf('\n', start)).trim();
}

const { values } = parseArgs({
  options: { events: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' } },
  strict: true,
});
const n = Number(values.events ?? 100_000);
const rounds = Number(values.rounds ?? 5);
const only = values.only;

const scenario = generateScenario({ events: n, attacks: Math.max(1, Math.round(n / 5000)), seed: 1 });
const events = Object.freeze(
  process.env.MICRO_JSON === "1"
    ? scenario.events.map((e) => JSON.parse(JSON.stringify(e)) as EqlEvent)
    : process.env.MICRO_CLONE === "1"
      ? (structuredClone(scenario.events) as EqlEvent[])
      : scenario.events.slice(),
) as readonly EqlEvent[];

function time(name: string, pass: () => number): void {
  let best = Infinity;
  let result = 0;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    result = pass();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  console.log(`${name.padEnd(10)} ${(events.length / best / 1e6).toFixed(2)}M events/CPU-s (best of ${rounds})  checksum ${result}`);
}

const eventRule = compileQuery(seedQuery(SEED_RULES.interactive_exec.seedFile));
const seqRule = compileQuery(seedQuery(SEED_RULES.api_request.seedFile));

function eventPass(q: CompiledQuery): number {
  const p = q.predicate as (e: EqlEvent) => boolean;
  let m = 0;
  for (let i = 0; i < events.length; i++) if (p(events[i] as EqlEvent)) m++;
  return m;
}

function sequencePass(q: CompiledQuery): number {
  const matcher = new SequenceMatcher(q);
  let m = 0;
  for (let i = 0; i < events.length; i++) {
    matcher.push(events[i] as EqlEvent);
    if ((i & 1023) === 1023) m += matcher.drain().length;
  }
  matcher.flush();
  return m + matcher.drain().length;
}

function timestampPass(q: CompiledQuery): number {
  let s = 0;
  for (let i = 0; i < events.length; i++) s += q.timestampOf(events[i] as EqlEvent) % 1000;
  return s;
}

function stagesPass(q: CompiledQuery): number {
  let m = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as EqlEvent;
    for (const st of q.stages) if (st.predicate(e)) m++;
  }
  return m;
}

// Hand-written minimum of seed 000 on these documents (no engine): the memory-latency floor.
const FLOOR_NAMES = new Set(['wget', 'curl', 'openssl', 'socat', 'ncat', 'kubectl']);
const FLOOR_STAGES = new Set(['ResponseComplete', 'ResponseStarted']);
type Loose = Record<string, Record<string, unknown> | undefined>;
function floorPass(): number {
  let m = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as unknown as Loose;
    m += parseCanonicalTimestamp(e['@timestamp'] as unknown as string) > 0 ? 0 : 1;
    const ev = e['event'];
    if (ev !== undefined && ev['dataset'] === 'kubernetes.audit_logs') {
      const audit = (e['kubernetes'] as Loose | undefined)?.['audit'];
      if (FLOOR_STAGES.has(audit?.['stage'] as string)) m++;
    }
    const cat = ev?.['category'];
    if (Array.isArray(cat) && cat[0] === 'process' && FLOOR_NAMES.has(e['process']?.['name'] as string)) m++;
  }
  return m;
}

const acc = compileFieldAccessor('process.entry_leader.entry_meta.type');
function fieldsPass(): number {
  let m = 0;
  for (let i = 0; i < events.length; i++) if (acc.first(events[i]) === 'container') m++;
  return m;
}

if (only === undefined || only === 'event') time('event', () => eventPass(eventRule));
if (only === undefined || only === 'sequence') time('sequence', () => sequencePass(seqRule));
if (only === undefined || only === 'stages') time('stages', () => stagesPass(seqRule));
if (only === undefined || only === 'floor') time('floor', floorPass);
if (only === undefined || only === 'timestamp') time('timestamp', () => timestampPass(seqRule));
if (only === undefined || only === 'fields') time('fields', fieldsPass);
