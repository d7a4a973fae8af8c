/**
 * Writes a generated scenario as NDJSON:
 *   <out>                                  every document, in @timestamp order (one per line)
 *   <out minus .ndjson>.<data stream>.ndjson one file per data stream (the index to load it into)
 *   <out minus .ndjson>.truth.json           ground truth: attacks and the alerts each seed rule must raise
 *
 *   tsx scripts/scenario.ts --events 100000 --attacks 20 --seed 42 --out /tmp/scenario.ndjson
 *     [--span 1h] [--start 2026-01-20T10:00:00Z] [--attack-rate 0.001]
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateScenario, indexOfDoc, type ScenarioOptions } from '../src/scenario/index.js';
import { groundTruth } from '../src/scenario/truth.js';

const USAGE = 'usage: tsx scripts/scenario.ts --out FILE.ndjson [--events N] [--attacks K | --attack-rate R] [--seed S] [--span 1h|90m|3600000] [--start ISO]';

function parseSpan(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new Error(`--span: expected e.g. 3600000, 90m, 1h; got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`--${name}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

async function write(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

async function close(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      events: { type: 'string' },
      attacks: { type: 'string' },
      'attack-rate': { type: 'string' },
      seed: { type: 'string' },
      span: { type: 'string' },
      start: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help || !values.out) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const options: ScenarioOptions = {
    events: int('events', values.events) ?? 10_000,
    attacks: int('attacks', values.attacks),
    seed: int('seed', values.seed) ?? 1,
  };
  if (values['attack-rate'] !== undefined) options.attackRate = Number(values['attack-rate']);
  if (values.span !== undefined) options.spanMs = parseSpan(values.span);
  if (values.start !== undefined) options.start = values.start;

  const scenario = generateScenario(options);
  const out = path.resolve(values.out);
  const base = out.endsWith('.ndjson') ? out.slice(0, -'.ndjson'.length) : out;
  await mkdir(path.dirname(out), { recursive: true });

  const combined = createWriteStream(out);
  const perIndex = new Map<string, WriteStream>();
  for (const doc of scenario.events) {
    const line = `${JSON.stringify(doc)}\n`;
    await write(combined, line);
    const index = indexOfDoc(doc);
    let s = perIndex.get(index);
    if (!s) perIndex.set(index, (s = createWriteStream(`${base}.${index}.ndjson`)));
    await write(s, line);
  }
  await close(combined);
  for (const s of perIndex.values()) await close(s);
  const truthFile = `${base}.truth.json`;
  await writeFile(truthFile, `${JSON.stringify(groundTruth(scenario), null, 2)}\n`);

  const counts = scenario.expectedAlerts.reduce<Record<string, number>>((acc, a) => ({ ...acc, [a.rule]: (acc[a.rule] ?? 0) + 1 }), {});
  console.log(`wrote ${scenario.events.length} events to ${out}`);
  for (const index of perIndex.keys()) console.log(`  ${base}.${index}.ndjson`);
  console.log(`ground truth: ${truthFile} (${scenario.attacks.length} attacks; expected alerts ${JSON.stringify(counts)})`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  console.error(USAGE);
  process.exitCode = 1;
});
