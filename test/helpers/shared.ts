/**
 * Location of the read-only reference material (`../shared` next to the repository). Tests that
 * need it use `describe.skipIf(!HAS_SHARED)` and say so, so the suite still runs without it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DIR = path.resolve(REPO_ROOT, '../shared');
export const HAS_SHARED = existsSync(SHARED_DIR);

/** Logs once why a shared-material suite is skipped. */
export function noteSharedMissing(suite: string): void {
  if (!HAS_SHARED) console.warn(`[${suite}] skipped: reference material not found at ${SHARED_DIR}`);
}
