/**
 * Small helpers shared by the benchmarks: integer options from flags or env, summary statistics,
 * aligned text tables, machine facts (load matters on a shared box) and the JSON results file.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';

/** A non-negative integer from a flag or an env variable (`1_000_000` allowed), else the default. */
export function intOption(flag: string | undefined, env: string, dflt: number): number {
  const text = flag ?? process.env[env];
  if (text === undefined || text === '') return dflt;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${env}: expected a non-negative integer, got "${text}"`);
  return n;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, samples };
}

export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
export const mb = (bytes: number): number => round(bytes / 1048576, 1);

/** Renders rows as an aligned table (numbers right-aligned). */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number)[], raw: (string | number)[]) =>
    r.map((c, i) => (typeof raw[i] === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ');
  return [line(header, header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r, j) => line(cells[j + 1]!, r))].join('\n');
}

export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    totalMemMB: mb(totalmem()),
    node: process.version,
    loadavg: loadavg().map((x) => round(x, 2)),
  };
}

/** Writes `bench/results/<name>-<timestamp>.json` (the directory is gitignored) and returns the path. */
export async function writeResults(repoRoot: string, name: string, data: unknown): Promise<string> {
  const dir = path.join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Writes a report's JSON (see `writeResults`), Markdown and PNG side by side and, when asked, copies the plot to
 * `docs/images/<name>.png` (the README's figure). Returns the JSON path and a one-line description for the log.
 */
export async function writeReport(
  repoRoot: string,
  name: string,
  report: { data: unknown; markdown: string; png: Buffer },
  copyPlot: boolean,
): Promise<{ json: string; said: string }> {
  const json = await writeResults(repoRoot, name, report.data);
  const base = json.replace(/\.json$/, '');
  await writeFile(`${base}.md`, report.markdown);
  await writeFile(`${base}.png`, report.png);
  if (copyPlot) await copyFile(`${base}.png`, path.join(repoRoot, 'docs', 'images', `${name}.png`));
  return { json, said: `results: ${path.relative(repoRoot, json)} (.md, .png${copyPlot ? `; plot copied to docs/images/${name}.png` : ''})` };
}

/** Least-squares slope of y over x (NaN with fewer than two distinct x). */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}
