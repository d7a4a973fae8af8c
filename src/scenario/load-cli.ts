/**
 * Loads a recent attack scenario into Elasticsearch (docker-compose's `scenario-loader`, or by hand):
 *
 *   node dist/scenario/load-cli.js [--events 5000] [--attacks 2] [--seed 1] [--namespace default] [--keep]
 *
 * Connection from ES_URL / ES_USERNAME / ES_PASSWORD / ES_API_KEY … (as the worker). Events end about
 * 75 s before now so the seed rules (6-minute look-back, sequences evaluated after the 1-minute lateness
 * tolerance) see them on the next run.
 * Exit codes: 0 loaded, 1 failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { describeEsConfig, esConfigFromEnv } from '../config/es.js';
import { closeEsClient, createEsClient } from '../es/client.js';
import { SEED_RULES, type SeedRule } from './attacks.js';
import { loadScenario, recentScenario } from './load.js';
import { checkNamespace } from './mappings.js';

const USAGE = 'usage: load-cli [--events N (default 5000)] [--attacks K (default 2)] [--seed S] [--namespace NS (default "default")] [--keep]';

function count(name: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text)) throw new RangeError(`--${name}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let opts: { events: number; attacks: number; seed: number; namespace: string; keep: boolean };
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        events: { type: 'string' },
        attacks: { type: 'string' },
        seed: { type: 'string' },
        namespace: { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    opts = {
      events: count('events', values.events, 5000),
      attacks: count('attacks', values.attacks, 2),
      seed: count('seed', values.seed, 1),
      namespace: checkNamespace(values.namespace ?? 'default'),
      keep: Boolean(values.keep),
    };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const config = esConfigFromEnv({ ...env, ES_URL: env.ES_URL || 'http://127.0.0.1:9200' });
  let client: Awaited<ReturnType<typeof createEsClient>>;
  try {
    client = await createEsClient(config);
  } catch (err) {
    process.stderr.write(`scenario load failed: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const scenario = recentScenario({ events: opts.events, attacks: opts.attacks, seed: opts.seed, now: Date.now() });
    process.stdout.write(`loading ${scenario.events.length} events (${scenario.attacks.length} attacks, seed ${scenario.options.seed}) into ${describeEsConfig(config)}\n`);
    const report = await loadScenario(client, scenario, { namespace: opts.namespace, replace: !opts.keep, onProgress: (m) => process.stdout.write(`  ${m}\n`) });
    for (const [index, n] of Object.entries(report.indices)) process.stdout.write(`  ${index}: ${n} documents\n`);
    for (const [rule, n] of Object.entries(report.expected)) process.stdout.write(`  expected alerts from "${SEED_RULES[rule as SeedRule].name}": ${n}\n`);
    process.stdout.write(`events from ${report.from} to ${report.to}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`scenario load failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await closeEsClient(client);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
