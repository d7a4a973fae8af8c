/**
 * Puts a generated scenario into Elasticsearch for the demo, the docker-compose trial stack and
 * integration tests: index templates with the integrations' field types (mappings.ts), then bulk
 * `create` of every document into its index.
 *
 * Safety: the loader only ever deletes or writes into indices it created itself (marked with
 * `_meta.managed_by` in their mappings). An index of the same name holding real integration data
 * makes it stop with an explanation rather than mix demo documents into it.
 */
import type { Client } from '@elastic/elasticsearch';
import { SEED_RULES, type SeedRule } from './attacks.js';
import { generateScenario, indexOfDoc, type Scenario, type ScenarioOptions } from './generate.js';
import type { ScenarioDoc } from './timeline.js';
import { MANAGED_BY, scenarioTemplates } from './mappings.js';

/**
 * The seed rules look back 6 minutes (`from = "now-6m"`), and sequence rules evaluate `@timestamp` only once
 * the worker's lateness tolerance (default 1 minute) has passed: recent scenarios end this long before now,
 * so a worker run right after loading evaluates every event of them.
 */
export const RECENT_SPAN_MS = 4 * 60_000;
export const RECENT_END_GAP_MS = 75_000;

export interface RecentScenarioOptions {
  events: number;
  attacks: number;
  /** First seed tried; later seeds are tried until every seed rule is expected to fire. */
  seed?: number;
  /** Reference "now" (epoch ms). */
  now: number;
  spanMs?: number;
}

/**
 * A scenario whose events (and their `event.ingested`, which the seed rules use as timestamp) fall in
 * the few minutes before `now`, so a worker started right after loading sees them in its first window.
 * With at least one attack, seeds are tried in turn (bounded) until both seed rules are expected to
 * fire: a newcomer must see both rules catch something. Deterministic for a given `now`.
 */
export function recentScenario(o: RecentScenarioOptions): Scenario {
  const spanMs = o.spanMs ?? RECENT_SPAN_MS;
  const base: ScenarioOptions = {
    events: o.events,
    attacks: o.attacks,
    spanMs,
    start: o.now - RECENT_END_GAP_MS - spanMs,
  };
  const first = o.seed ?? 1;
  const wanted = Object.keys(SEED_RULES) as SeedRule[];
  let last: Scenario | undefined;
  for (let seed = first; seed < first + 64; seed++) {
    last = generateScenario({ ...base, seed });
    if (o.attacks === 0) return last;
    const fired = new Set(last.expectedAlerts.map((a) => a.rule));
    if (wanted.every((r) => fired.has(r))) return last;
  }
  if (o.attacks >= 2) throw new Error(`no seed in [${first}, ${first + 63}] makes every seed rule fire with ${o.attacks} attack(s)`);
  return last!;
}

export interface LoadReport {
  /** Documents written per index. */
  indices: Record<string, number>;
  total: number;
  /** Expected alerts per seed rule (ground truth of the scenario). */
  expected: Record<SeedRule, number>;
  /** Event time range covered. */
  from: string;
  to: string;
}

export class LoadError extends Error {
  override name = 'LoadError';
}

export interface LoadOptions {
  /**
   * Data stream namespace (default "default"): documents go to `logs-<dataset>-<namespace>` with
   * `data_stream.namespace` set to match; the seed rules' index patterns cover every namespace.
   */
  namespace?: string;
  /** Delete earlier scenario indices (only ones the loader created) before loading. Default true. */
  replace?: boolean;
  /** Documents per bulk request. */
  batchSize?: number;
  onProgress?: (message: string) => void;
}

/** The document as written to another namespace (shared sub-objects are frozen: copy, never mutate). */
export function inNamespace(doc: ScenarioDoc, namespace: string): ScenarioDoc {
  const ds = doc['data_stream'] as { namespace?: string } | undefined;
  if (namespace === 'default' || ds?.namespace === namespace) return doc;
  return { ...doc, data_stream: { ...ds, namespace } };
}

async function managedState(client: Client, index: string): Promise<'absent' | 'managed' | 'foreign'> {
  const exists = await client.indices.exists({ index });
  if (!exists) return 'absent';
  const res = await client.indices.getMapping({ index });
  const entries = Object.values(res);
  if (entries.length !== 1) return 'foreign'; // an alias over several indices, or a data stream's backing indices
  const meta = entries[0]?.mappings?._meta as { managed_by?: unknown } | undefined;
  return meta?.managed_by === MANAGED_BY ? 'managed' : 'foreign';
}

/** Installs the templates and bulk-loads every document; returns what was written. */
export async function loadScenario(client: Client, scenario: Scenario, opts: LoadOptions = {}): Promise<LoadReport> {
  const progress = opts.onProgress ?? (() => undefined);
  const batchSize = opts.batchSize ?? 2000;
  const namespace = opts.namespace ?? 'default';
  const templates = scenarioTemplates(namespace);
  // Check every index before touching any, so a refusal leaves the cluster as it was.
  const states = await Promise.all(templates.map((t) => managedState(client, t.index)));
  for (const [i, t] of templates.entries()) {
    const state = states[i];
    if (state === 'foreign') {
      throw new LoadError(
        `${t.index} already exists and was not created by eqlwatch's scenario loader (it may hold real integration data); ` +
          'refusing to write demo documents into it. Point ES_URL at a test cluster, or delete that index yourself if it is disposable.',
      );
    }
  }
  for (const [i, t] of templates.entries()) {
    if (states[i] === 'managed' && opts.replace !== false) {
      await client.indices.delete({ index: t.index });
      progress(`deleted the previous demo index ${t.index}`);
    }
    await client.indices.putIndexTemplate(t.body);
    if (!(await client.indices.exists({ index: t.index }))) await client.indices.create({ index: t.index });
  }
  const known = new Set(templates.map((t) => t.index));
  const counts: Record<string, number> = {};
  for (let i = 0; i < scenario.events.length; i += batchSize) {
    const operations: unknown[] = [];
    for (const original of scenario.events.slice(i, i + batchSize)) {
      const doc = inNamespace(original, namespace);
      const index = indexOfDoc(doc);
      if (!known.has(index)) throw new LoadError(`document for unexpected index ${index}`);
      operations.push({ create: { _index: index } }, doc);
      counts[index] = (counts[index] ?? 0) + 1;
    }
    const res = await client.bulk({ operations });
    if (res.errors) {
      const failed = res.items.filter((it) => it.create?.error);
      const first = failed[0]?.create?.error;
      throw new LoadError(`${failed.length} document(s) were rejected, e.g. ${first?.type}: ${first?.reason}`);
    }
    progress(`loaded ${Math.min(i + batchSize, scenario.events.length)} / ${scenario.events.length} documents`);
  }
  await client.indices.refresh({ index: templates.map((t) => t.index) });
  const expected = { interactive_exec: 0, api_request: 0 } as Record<SeedRule, number>;
  for (const a of scenario.expectedAlerts) expected[a.rule]++;
  const times = scenario.events.map((e) => e['@timestamp'] as string);
  return {
    indices: counts,
    total: scenario.events.length,
    expected,
    from: times[0] ?? '',
    to: times[times.length - 1] ?? '',
  };
}
