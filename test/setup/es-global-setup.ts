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
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { handOverToTests, lastTestUserOut, registerUser, unregisterUser } from '../../scripts/local-es-users.js';

declare module 'vitest' {
  export interface ProvidedContext {
    esUrl: string;
    /** True when the node is the one scripts/local-es.sh manages (not an external ES_URL). */
    esLocal: boolean;
  }
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repoRoot, 'scripts/local-es.sh');

function runScript(command: 'start' | 'stop' | 'url'): { ok: boolean; out: string } {
  const res = spawnSync('bash', [script, command], {
    cwd: repoRoot,
    encoding: 'utf8',
    // Progress and errors go straight to the terminal; stdout carries the URL. `url` only asks whether a node
    // runs already: its "not running" is the expected answer at the start of a test run, not news.
    stdio: ['ignore', 'pipe', command === 'url' ? 'ignore' : 'inherit'],
    timeout: 15 * 60_000,
  });
  return { ok: res.status === 0, out: (res.stdout ?? '').trim() };
}

export default function setup(project: TestProject): () => void {
  const external = process.env.ES_URL;
  if (external !== undefined && external !== '') {
    project.provide('esUrl', external.split(',')[0]!.trim());
    project.provide('esLocal', false);
    return () => {};
  }

  registerUser();

  const running = runScript('url');
  let url = running.ok ? running.out : '';
  if (!running.ok) {
    const started = runScript('start');
    if (!started.ok || !/^https?:\/\//.test(started.out.split('\n').pop() ?? '')) {
      unregisterUser();
      throw new Error('could not start the local Elasticsearch node (scripts/local-es.sh start); see the output above');
    }
    url = started.out.split('\n').pop()!;
    handOverToTests();
  }
  process.env.ES_URL = url;
  project.provide('esUrl', url);
  project.provide('esLocal', true);

  return () => {
    unregisterUser();
    if (lastTestUserOut()) runScript('stop');
  };
}
