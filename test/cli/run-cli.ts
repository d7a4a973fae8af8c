/**
 * Runs the real `eqlwatch` command (`node bin/eqlwatch.js …`) as a subprocess, built from the current
 * sources (see ensureBuilt). Shared by the CLI and worker tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/shared.js';

/** The command run by `runCli`: the snapshot made by `ensureBuilt`, else the repository's own bin. */
export let BIN = path.join(REPO_ROOT, 'bin/eqlwatch.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}


/**
 * Builds the CLI from the current sources into a private snapshot (`<tmp>/eqlwatch-test-build-<hash>/`, with
 * copies of bin/eqlwatch.js and package.json beside its dist/), keyed by a hash of src/. Other engineers edit
 * src/ and rebuild dist/ while tests run; a snapshot never changes under a running command. A lock directory
 * keeps test files that run in parallel from building the same snapshot twice. Type errors in files under
 * construction elsewhere do not stop tsc from emitting, so only a missing cli.js is fatal.
 */
export function ensureBuilt(): void {
  const key = createHash('sha256');
  for (const f of sourceFiles(path.join(REPO_ROOT, 'src'))) key.update(f).update(readFileSync(f));
  const root = path.join(tmpdir(), `eqlwatch-test-build-${key.digest('hex').slice(0, 16)}`);
  const lock = `${root}.lock`;
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than 5 minutes belongs to a dead run.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 5 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`could not take the build lock ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    const cli = path.join(root, 'dist/cli.js');
    if (!existsSync(cli)) {
      removeOldSnapshots();
      // Built aside and renamed into place, so a snapshot is complete or absent.
      const partial = `${root}.partial`;
      rmSync(partial, { recursive: true, force: true });
      const res = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(partial, 'dist')], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 4 * 60_000,
      });
      if (!existsSync(path.join(partial, 'dist/cli.js'))) throw new Error(`build failed:\n${res.stdout}\n${res.stderr}`);
      mkdirSync(path.join(partial, 'bin'), { recursive: true });
      copyFileSync(path.join(REPO_ROOT, 'bin/eqlwatch.js'), path.join(partial, 'bin/eqlwatch.js'));
      copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(partial, 'package.json'));
      // dist/ resolves its packages by walking up from its own directory.
      symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(partial, 'node_modules'), 'dir');
      rmSync(root, { recursive: true, force: true });
      renameSync(partial, root);
    }
    BIN = path.join(root, 'bin/eqlwatch.js');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Snapshots of sources long gone (older than a day). */
function removeOldSnapshots(): void {
  for (const e of readdirSync(tmpdir())) {
    if (!/^eqlwatch-test-build-[0-9a-f]{16}$/.test(e)) continue;
    const full = path.join(tmpdir(), e);
    if (Date.now() - statSync(full).mtimeMs > 24 * 3_600_000) rmSync(full, { recursive: true, force: true });
  }
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(full));
    else if (e.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** Runs `eqlwatch <args>`; env is added to a copy of this process's environment (undefined removes a key). */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** The JSON log lines of a run (pino writes them to stdout). */
export function logLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
