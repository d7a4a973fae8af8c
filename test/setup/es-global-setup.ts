/**
 * Vitest globalSetup of the `integration` project: provides the URL of a real Elasticsearch node as
 * `inject('esUrl')` (and `process.env.ES_URL`).
 *
 * - `ES_URL` set: that cluster is used as is (auth/TLS from the other ES_* variables, see
 *   src/config/es.ts); nothing is started or stopped.
 * - otherwise `scripts/local-es.sh start` runs (or finds the node already running) and the node is
 *   stopped at teardown if this setup started it and no other live test run is still using it
 *   (several engineers/terminals can share one node).
 *
 * Only the integration project has this setup, so `npx vitest run test/eql/...` never starts Elasticsearch.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    esUrl: string;
    /** True when the node is the one scripts/local-es.sh manages (not an external ES_URL). */
    esLocal: boolean;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repoRoot, 'scripts/local-es.sh');
const cache = process.env.EQLWATCH_CACHE ?? path.join(homedir(), '.cache/eqlwatch');
const stateDir = process.env.EQLWATCH_ES_STATE_DIR ?? path.join(cache, 'run');
/** One file per test run using the node: its pid. */
const usersDir = path.join(stateDir, 'users');
/** Present when a test run (not a person) started the node, so the last run out may stop it. */
const startedByTests = path.join(stateDir, 'started-by-tests');

function runScript(command: 'start' | 'stop' | 'url'): { ok: boolean; out: string } {
  const res = spawnSync('bash', [script, command], {
    cwd: repoRoot,
    encoding: 'utf8',
    // Progress and errors go straight to the terminal; stdout carries the URL.
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  return { ok: res.status === 0, out: (res.stdout ?? '').trim() };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function otherLiveUsers(): number {
  if (!existsSync(usersDir)) return 0;
  return readdirSync(usersDir)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && alive(pid)).length;
}

export default function setup(project: TestProject): () => void {
  const external = process.env.ES_URL;
  if (external !== undefined && external !== '') {
    project.provide('esUrl', external.split(',')[0]!.trim());
    project.provide('esLocal', false);
    return () => {};
  }

  mkdirSync(usersDir, { recursive: true });
  const me = path.join(usersDir, String(process.pid));
  writeFileSync(me, '');

  const running = runScript('url');
  let url = running.ok ? running.out : '';
  if (!running.ok) {
    const started = runScript('start');
    if (!started.ok || !/^https?:\/\//.test(started.out.split('\n').pop() ?? '')) {
      rmSync(me, { force: true });
      throw new Error('could not start the local Elasticsearch node (scripts/local-es.sh start); see the output above');
    }
    url = started.out.split('\n').pop()!;
    writeFileSync(startedByTests, String(process.pid));
  }
  process.env.ES_URL = url;
  project.provide('esUrl', url);
  project.provide('esLocal', true);

  return () => {
    rmSync(me, { force: true });
    if (existsSync(startedByTests) && otherLiveUsers() === 0) {
      rmSync(startedByTests, { force: true });
      runScript('stop');
    }
  };
}
