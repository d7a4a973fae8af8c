/**
 * The demo shares the local node with test runs through the protocol of test/setup/es-global-setup.ts:
 * each user of the node leaves a file named after its pid in `<state dir>/users`; a node started by tests
 * carries the `started-by-tests` marker and is stopped by the last test run out. The demo registers
 * itself, and stops a node it started only when no other live process uses it (else it hands the node
 * over to the tests' marker, so the last run out stops it).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const cache = process.env.EQLWATCH_CACHE ?? path.join(homedir(), '.cache/eqlwatch');
const stateDir = process.env.EQLWATCH_ES_STATE_DIR ?? path.join(cache, 'run');
const usersDir = path.join(stateDir, 'users');
const me = path.join(usersDir, String(process.pid));

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

export function otherLiveUsers(): number {
  if (!existsSync(usersDir)) return 0;
  return readdirSync(usersDir)
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && alive(pid)).length;
}

/** Lets the last test run using the node stop it (it was started by the demo, which leaves first). */
export function handOverToTests(): void {
  writeFileSync(path.join(stateDir, 'started-by-tests'), String(process.pid));
}
