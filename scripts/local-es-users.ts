/**
 * Who uses the node scripts/local-es.sh manages, so that test runs and the demo can share one node: each user
 * leaves a file named after its pid in `<state dir>/users`; a node started by a test run (or handed over to
 * them by the demo) carries the `started-by-tests` marker and is stopped by the last live user out.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const cache = process.env.EQLWATCH_CACHE ?? path.join(homedir(), '.cache/eqlwatch');
const stateDir = process.env.EQLWATCH_ES_STATE_DIR ?? path.join(cache, 'run');
/** One file per process using the node: its pid. */
const usersDir = path.join(stateDir, 'users');
const me = path.join(usersDir, String(process.pid));
/** Present when a test run (not a person) owns the node, so the last run out may stop it. */
const startedByTests = path.join(stateDir, 'started-by-tests');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function registerUser(): void {
  mkdirSync(usersDir, { recursive: true });
  writeFileSync(me, '');
}

export function unregisterUser(): void {
  rmSync(me, { force: true });
}

/** Live processes other than this one that registered as users of the node. */
export function otherLiveUsers(): number {
  if (!existsSync(usersDir)) return 0;
  return readdirSync(usersDir)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && alive(pid)).length;
}

/** Marks the node as owned by test runs: the last live user out stops it. */
export function handOverToTests(): void {
  writeFileSync(startedByTests, String(process.pid));
}

/** True (and the mark is cleared) when the node is owned by test runs and nobody else uses it any more. */
export function lastTestUserOut(): boolean {
  if (!existsSync(startedByTests) || otherLiveUsers() > 0) return false;
  rmSync(startedByTests, { force: true });
  return true;
}
