/** Finding the external tools the packaging checks use, and running them with bounded time. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const inCi = Boolean(process.env.CI);

export function run(cmd: string, args: string[], timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: timeoutMs, env, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * A Compose CLI: `docker compose` (the v2 plugin) where it exists, else Debian's `docker-compose` (v1.29, which
 * .ci/run installs: same file format for everything this stack uses), or the reason there is none.
 */
export function dockerCompose(): { ok: true; cmd: string; args: string[] } | { ok: false; reason: string } {
  const v2 = run('docker', ['compose', 'version'], 20_000);
  if (!v2.error && v2.status === 0) return { ok: true, cmd: 'docker', args: ['compose'] };
  const v1 = run('docker-compose', ['version'], 20_000);
  if (!v1.error && v1.status === 0) return { ok: true, cmd: 'docker-compose', args: [] };
  return { ok: false, reason: `neither the docker compose plugin nor docker-compose is installed (${v2.error ? 'no docker CLI' : (v2.stderr || v2.stdout).trim().split('\n')[0]})` };
}

/** A reachable Docker engine (not just the CLI). */
export function dockerEngine(): boolean {
  const r = run('docker', ['version', '--format', '{{.Server.Version}}'], 20_000);
  return !r.error && r.status === 0 && r.stdout.trim() !== '';
}

/** hadolint from $HADOLINT, the repo's tool venv (scripts/install-hadolint.sh), or PATH. */
export function hadolint(): string | null {
  const candidates = [process.env.HADOLINT, path.join(repoRoot, '.venv-tools/bin/hadolint')].filter((c): c is string => Boolean(c));
  for (const c of candidates) if (existsSync(c)) return c;
  const r = run('sh', ['-c', 'command -v hadolint'], 10_000);
  return r.status === 0 ? r.stdout.trim() : null;
}
