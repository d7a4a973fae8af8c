/** scripts/local-es.sh: idempotent start, status and url against the node the test run uses. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';

const script = path.join(REPO_ROOT, 'scripts/local-es.sh');

function run(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync('bash', [script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: res.status, stdout: res.stdout.trim(), stderr: res.stderr };
}

describe('local-es.sh without a running node', () => {
  it('status exits 3 and url fails when its state dir has no node', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eqlwatch-es-state-'));
    try {
      const status = run(['status'], { EQLWATCH_ES_STATE_DIR: dir });
      expect(status.status).toBe(3);
      expect(status.stdout).toBe('stopped');
      const url = run(['url'], { EQLWATCH_ES_STATE_DIR: dir });
      expect(url.status).toBe(3);
      expect(url.stdout).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown command and a malformed version', () => {
    expect(run(['bogus']).status).toBe(2);
    const bad = run(['fetch'], { EQLWATCH_ES_VERSION: '9.x' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad EQLWATCH_ES_VERSION/);
  });
});

const hasMaven = spawnSync('mvn', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasMaven)('local-es.sh fetch through Maven', () => {
  it('keeps Maven quiet: its output shows only when it fails, and then without ANSI escapes', () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'eqlwatch-es-cache-'));
    try {
      // A version that does not exist: Maven fails fast (its plugins come from the usual ~/.m2).
      const res = run(['fetch'], { EQLWATCH_CACHE: cache, EQLWATCH_ES_VERSION: '0.0.1' });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(/\[ERROR\]/);
      expect(res.stderr).toMatch(/error: Maven could not fetch Elasticsearch 0\.0\.1/);
      expect(res.stderr).not.toContain('\u001b');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

const local = inject('esLocal');
if (!local) console.warn('[local-es.sh] running-node checks skipped: tests use an external ES_URL');

describe.skipIf(!local)('local-es.sh with the running test node', () => {
  it('a second start says it is already running and prints the same URL', () => {
    const res = run(['start']);
    expect(res.status).toBe(0);
    expect(res.stderr).toMatch(/already running/);
    expect(res.stdout).toBe(inject('esUrl'));
  });

  it('status and url describe the running node', () => {
    const status = run(['status']);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`running: ${inject('esUrl')}`);
    expect(run(['url']).stdout).toBe(inject('esUrl'));
  });
});
