/**
 * The Dockerfile: linted with hadolint (installed by scripts/install-hadolint.sh, which .ci/run calls;
 * skipped locally with a note when absent, required in CI), and checked for the properties the issue asks
 * for whatever the linter says: multi-stage, pinned base, non-root runtime user, health check, and COPY
 * sources that exist and are not excluded from the build context. Built when a Docker engine exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerEngine, hadolint, inCi, repoRoot, run } from './tools.js';

const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const ignore = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const stages = lines.reduce<string[][]>((acc, l) => {
  if (/^FROM\s/i.test(l)) acc.push([]);
  acc.at(-1)?.push(l);
  return acc;
}, []);
const finalStage = stages.at(-1) ?? [];

const lint = hadolint();
if (!lint) console.warn(`[packaging] hadolint not found: run scripts/install-hadolint.sh (or: docker run --rm -i hadolint/hadolint < Dockerfile)${inCi ? '' : '; lint skipped'}`);

describe.skipIf(!lint && !inCi)('hadolint', () => {
  it('finds no warning or error in the Dockerfile', () => {
    if (!lint) throw new Error('CI: hadolint is missing; .ci/run installs it with scripts/install-hadolint.sh');
    const r = run(lint, ['--no-color', '--failure-threshold', 'warning', 'Dockerfile'], 60_000);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('Dockerfile structure', () => {
  it('is multi-stage and ships only what the build stage produced', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(finalStage.some((l) => /^COPY\s+--from=/i.test(l))).toBe(true);
    expect(finalStage.some((l) => /\bnpm (ci|install)\b/.test(l))).toBe(false);
  });

  it('uses base images pinned to a version, never latest', () => {
    for (const stage of stages) {
      const image = stage[0]!.split(/\s+/)[1]!;
      expect(image, stage[0]).toMatch(/^[\w./-]+:(\d[\w.-]*)(@sha256:[0-9a-f]{64})?$|@sha256:[0-9a-f]{64}$/);
    }
  });

  it('runs as a non-root user in the final stage', () => {
    const users = finalStage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]!);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('has a health check and an entry point that exist in the image', () => {
    expect(finalStage.some((l) => /^HEALTHCHECK\s+.*CMD/i.test(l))).toBe(true);
    const entry = finalStage.find((l) => /^ENTRYPOINT\s/i.test(l))!;
    const args = JSON.parse(entry.replace(/^ENTRYPOINT\s+/i, '')) as string[];
    expect(existsSync(path.join(repoRoot, args[1]!))).toBe(true);
  });

  it('copies only sources that exist and are in the build context', () => {
    const sources = lines
      .filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))
      .flatMap((l) => l.split(/\s+/).slice(1).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const s of sources) {
      expect(existsSync(path.join(repoRoot, s)), s).toBe(true);
      expect(ignore.includes(s) || ignore.includes(`${s}/`), `${s} is excluded by .dockerignore`).toBe(false);
    }
  });

  it('keeps secrets and local state out of the build context', () => {
    for (const p of ['.env', 'node_modules', '.git', 'demo-output']) expect(ignore).toContain(p);
  });
});

const engine = dockerEngine();
if (!engine) console.warn('[packaging] docker build skipped: no Docker engine reachable (the CLI alone cannot build)');

describe.skipIf(!engine)('docker build', () => {
  it('builds the image', { timeout: 900_000 }, () => {
    const r = run('docker', ['build', '--quiet', '-t', 'eqlwatch:packaging-test', '.'], 900_000);
    expect(r.stderr.split('\n').filter((l) => /error/i.test(l))).toEqual([]);
    expect(r.status).toBe(0);
  });
});
