/**
 * Writes kibana/eqlwatch-saved-objects.ndjson: the alerts data view and saved search that `eqlwatch setup`
 * creates through Kibana's API, for import by hand (Stack Management → Saved objects → Import).
 *
 *   npm run kibana:export [-- --alias eqlwatch-alerts-default] [-- --out kibana/eqlwatch-saved-objects.ndjson] [-- --check]
 *
 * --check exits 1 when the committed file differs from what the code generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configSchema } from '../src/config/schema.js';
import { savedObjectsNdjson } from '../src/kibana/saved-objects.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const EXPORT_FILE = path.join(repoRoot, 'kibana/eqlwatch-saved-objects.ndjson');
/** The alias a default configuration writes alerts to. */
export const DEFAULT_ALIAS = configSchema.parse({}).alerts.index;

function main(): number {
  const { values } = parseArgs({ options: { alias: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean' } }, strict: true });
  const out = path.resolve(values.out ?? EXPORT_FILE);
  const text = savedObjectsNdjson(values.alias ?? DEFAULT_ALIAS);
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      /* missing counts as different */
    }
    if (current !== text) {
      process.stderr.write(`${path.relative(process.cwd(), out)} is out of date; run "npm run kibana:export"\n`);
      return 1;
    }
    process.stdout.write(`${path.relative(process.cwd(), out)} is up to date\n`);
    return 0;
  }
  writeFileSync(out, text);
  process.stdout.write(`wrote ${path.relative(process.cwd(), out)} (${text.trimEnd().split('\n').length} saved objects)\n`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
