/**
 * Runs bench/python/eql_bench.py in the project-local virtualenv `.venv-bench`, creating it
 * (python3 -m venv + pip install -r bench/python/requirements.txt) on first use.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface PythonQueryResult {
  id: string;
  query: string;
  matches: number;
  matchLines: number[][];
  cpuSeconds: number[];
  wallSeconds: number[];
}

export interface PythonResult {
  engine: 'python-eql';
  eqlVersion: string;
  python: string;
  events: number;
  loadSeconds: number;
  maxRssMB: number;
  queries: PythonQueryResult[];
}

export async function ensureVenv(repoRoot: string, log: (s: string) => void): Promise<string> {
  const venv = path.join(repoRoot, '.venv-bench');
  const python = path.join(venv, 'bin', 'python');
  const requirements = path.join(repoRoot, 'bench', 'python', 'requirements.txt');
  if (!existsSync(python)) {
    log(`creating ${venv} (python3 -m venv) …`);
    await exec('python3', ['-m', 'venv', venv], { timeout: 120_000 });
  }
  try {
    await exec(python, ['-c', 'import eql'], { timeout: 60_000 });
  } catch {
    log(`installing ${requirements} into ${venv} …`);
    await exec(python, ['-m', 'pip', 'install', '-q', '-r', requirements], { timeout: 300_000 });
  }
  return python;
}

export async function runPythonBench(
  python: string,
  repoRoot: string,
  files: { events: string; queries: string; out: string },
  iterations: number,
  warmup: number,
  timeoutMs: number,
): Promise<void> {
  const script = path.join(repoRoot, 'bench', 'python', 'eql_bench.py');
  await exec(python, [script, '--events', files.events, '--queries', files.queries, '--iterations', String(iterations), '--warmup', String(warmup), '--out', files.out], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
}
