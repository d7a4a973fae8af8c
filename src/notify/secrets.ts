/** Resolve secrets given inline, as `{ env: NAME }` or as `{ file: path }`. */
import { readFileSync } from 'node:fs';
import type { SecretRef } from '../config/notify.js';

export function resolveSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string {
  if (typeof ref === 'string') return ref;
  if ('env' in ref) {
    const v = env[ref.env];
    if (v === undefined || v === '') throw new Error(`environment variable ${ref.env} is not set (referenced by the notify configuration)`);
    return v;
  }
  let text: string;
  try {
    text = readFileSync(ref.file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read secret file ${ref.file}: ${(e as Error).message}`);
  }
  return text.replace(/\r?\n$/, '');
}
