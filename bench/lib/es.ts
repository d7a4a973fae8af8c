/**
 * The Elasticsearch side of the end-to-end benchmark: which node to use, and loading a scenario
 * into indices of its own.
 *
 * The benchmark never touches the scenario loader's `-default` indices (integration tests and demos
 * use those concurrently): it writes into `…-eqlwatchbench` indices that it creates, marks with
 * `_meta.managed_by`, and deletes. Documents get their scenario line as `_id`, so the ground truth
 * (lines) can be compared with the alerts' ancestors (ids).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Client, estypes } from '@elastic/elasticsearch';
import { indexOfDoc, type Scenario } from '../../src/scenario/index.js';
import { cloudDefendProcessMappings, kubernetesAuditMappings } from '../../src/scenario/mappings.js';
import { PROCESS_INDEX } from '../../src/scenario/process-events.js';
import { AUDIT_INDEX } from '../../src/scenario/audit-events.js';

const run = promisify(execFile);

export const BENCH_MANAGED_BY = 'eqlwatch-bench';
/** The bench's index per scenario index (same data stream names, namespace `eqlwatchbench`). */
export const BENCH_INDEX: Readonly<Record<string, string>> = Object.freeze({
  [PROCESS_INDEX]: PROCESS_INDEX.replace(/-default$/, '-eqlwatchbench'),
  [AUDIT_INDEX]: AUDIT_INDEX.replace(/-default$/, '-eqlwatchbench'),
});

export interface EsNode {
  url: string;
  /** True when this process started the node (and so must stop it). */
  started: boolean;
  stop(): Promise<void>;
}

/** ES_URL if set, else the repo's local node (reused when running, started otherwise). */
export async function esNode(repoRoot: string, log: (s: string) => void): Promise<EsNode> {
  const fromEnv = process.env.ES_URL?.trim();
  if (fromEnv) return { url: fromEnv, started: false, stop: async () => undefined };
  const script = `${repoRoot}/scripts/local-es.sh`;
  try {
    const { stdout } = await run(script, ['url'], { timeout: 30_000 });
    return { url: stdout.trim(), started: false, stop: async () => undefined };
  } catch {
    log('no local Elasticsearch running: starting one with scripts/local-es.sh start (stopped at the end)');
    const { stdout } = await run(script, ['start'], { timeout: 300_000 });
    return {
      url: stdout.trim().split('\n').pop()!.trim(),
      started: true,
      stop: async () => {
        await run(script, ['stop'], { timeout: 120_000 });
      },
    };
  }
}

async function isOurs(client: Client, index: string): Promise<'absent' | 'ours' | 'foreign'> {
  if (!(await client.indices.exists({ index }))) return 'absent';
  const res = await client.indices.getMapping({ index });
  const meta = Object.values(res)[0]?.mappings?._meta as { managed_by?: unknown } | undefined;
  return Object.keys(res).length === 1 && meta?.managed_by === BENCH_MANAGED_BY ? 'ours' : 'foreign';
}

/** True when both bench indices were loaded by the bench with scenario `key` and hold `events` documents. */
export async function scenarioLoaded(client: Client, key: string, events: number): Promise<boolean> {
  let total = 0;
  for (const index of Object.values(BENCH_INDEX)) {
    if ((await isOurs(client, index)) !== 'ours') return false;
    const res = await client.indices.getMapping({ index });
    if ((Object.values(res)[0]?.mappings?._meta as { scenario?: unknown } | undefined)?.scenario !== key) return false;
    total += (await client.count({ index })).count;
  }
  return total === events;
}

/** Deletes the bench's scenario indices (only if the bench created them). */
export async function dropBenchIndices(client: Client): Promise<void> {
  for (const index of Object.values(BENCH_INDEX)) {
    if ((await isOurs(client, index)) === 'ours') await client.indices.delete({ index });
  }
}

export interface LoadResult {
  indices: Record<string, number>;
  seconds: number;
}

/**
 * Recreates the bench indices with the integrations' mappings and bulk-loads every document
 * (two bulk requests in flight, refresh disabled during the load, one refresh at the end).
 */
export async function loadBench(client: Client, scenario: Scenario, opts: { key: string; batchSize?: number; onProgress?: (s: string) => void }): Promise<LoadResult> {
  const started = performance.now();
  const batchSize = opts.batchSize ?? 5000;
  const mappings: Record<string, estypes.MappingTypeMapping> = {
    [BENCH_INDEX[PROCESS_INDEX]!]: cloudDefendProcessMappings(),
    [BENCH_INDEX[AUDIT_INDEX]!]: kubernetesAuditMappings(),
  };
  for (const [index, m] of Object.entries(mappings)) {
    const state = await isOurs(client, index);
    if (state === 'foreign') throw new Error(`${index} exists and was not created by the benchmark; refusing to touch it`);
    if (state === 'ours') await client.indices.delete({ index });
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1', 'mapping.total_fields.limit': 2000 },
      mappings: { ...m, _meta: { managed_by: BENCH_MANAGED_BY, scenario: opts.key } },
      wait_for_active_shards: 1,
    });
  }
  const counts: Record<string, number> = {};
  const batch = async (from: number): Promise<void> => {
    const operations: unknown[] = [];
    const end = Math.min(from + batchSize, scenario.events.length);
    for (let line = from; line < end; line++) {
      const doc = scenario.events[line]!;
      const index = BENCH_INDEX[indexOfDoc(doc)];
      if (!index) throw new Error(`document ${line} belongs to unexpected index ${indexOfDoc(doc)}`);
      operations.push({ create: { _index: index, _id: String(line) } }, doc);
      counts[index] = (counts[index] ?? 0) + 1;
    }
    const res = await client.bulk({ operations });
    if (res.errors) {
      const failed = res.items.filter((it) => it.create?.error);
      throw new Error(`${failed.length} document(s) rejected, e.g. ${JSON.stringify(failed[0]?.create?.error)}`);
    }
  };
  const starts: number[] = [];
  for (let i = 0; i < scenario.events.length; i += batchSize) starts.push(i);
  for (let i = 0; i < starts.length; i += 2) {
    await Promise.all(starts.slice(i, i + 2).map(batch));
    opts.onProgress?.(`loaded ${Math.min((i + 2) * batchSize, scenario.events.length)} / ${scenario.events.length}`);
  }
  const names = Object.keys(mappings);
  await client.indices.putSettings({ index: names, settings: { refresh_interval: '1s' } });
  await client.indices.refresh({ index: names });
  return { indices: counts, seconds: (performance.now() - started) / 1000 };
}
