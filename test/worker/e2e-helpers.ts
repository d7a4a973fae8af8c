/**
 * Set-up shared by the worker's end-to-end tests: unique event indices with the integrations' mappings,
 * a temporary config (unique alerts alias, state and outbox indices), and rule files rewritten to read
 * only this test's indices (their queries are untouched).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { cloudDefendProcessMapping, kubernetesAuditMapping } from '../fixtures/mappings.js';
import { REPO_ROOT } from '../helpers/shared.js';
import type { EsTestContext } from '../helpers/es.js';
import type { ScenarioEvent } from './attack-scenario.js';

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export interface EventIndices {
  process: string;
  audit: string;
}

/** Two plain indices named like the integrations' data streams, deleted after the file's tests. */
export async function createEventIndices(es: EsTestContext): Promise<EventIndices> {
  const tag = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const indices = { process: `logs-cloud_defend.process-${tag}`, audit: `logs-kubernetes.audit_logs-${tag}` };
  await es.client.indices.create({ index: indices.process, mappings: cloudDefendProcessMapping() });
  await es.client.indices.create({ index: indices.audit, mappings: kubernetesAuditMapping() });
  es.onCleanup(() => es.client.indices.delete({ index: [indices.process, indices.audit] }));
  return indices;
}

export async function indexEvents(client: Client, indices: EventIndices, events: ScenarioEvent[]): Promise<void> {
  const operations = events.flatMap((e) => [{ create: { _index: indices[e.index], _id: e.id } }, e.source]);
  const res = await client.bulk({ operations, refresh: true });
  if (res.errors) throw new Error(`indexing failed: ${JSON.stringify(res.items.find((i) => i.create?.error))}`);
}

export interface WorkerEnv {
  dir: string;
  rulesDir: string;
  configFile: string;
  alerts: string;
  state: string;
  outbox: string;
}

export interface TestEnvOptions {
  rules: Record<string, string>;
  /** Names the config's writer in its first line. */
  writer: string;
  /** Lines of the `worker:` section, verbatim (each indented by two spaces). */
  workerYaml: string;
  /** YAML inserted verbatim inside the `notify:` section, indented by two spaces (channels, routes). */
  notifyYaml?: string;
  /** Serve /healthz and /metrics on a free port (else the ops server is off). */
  http: boolean;
  /** Share alerts/state/outbox with another environment (several workers on one cluster). */
  shareWith?: WorkerEnv;
}

/**
 * A temp dir with `rules/` and `eqlwatch.yml` (unique alerts alias, state and outbox indices unless shared).
 * `rules` maps a file name to its text.
 */
export async function testEnv(es: EsTestContext, o: TestEnvOptions): Promise<WorkerEnv> {
  const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-test-'));
  es.onCleanup(() => rm(dir, { recursive: true, force: true }));
  const rulesDir = path.join(dir, 'rules');
  await mkdir(rulesDir);
  for (const [name, text] of Object.entries(o.rules)) await writeFile(path.join(rulesDir, name), text);
  const env: WorkerEnv = {
    dir,
    rulesDir,
    configFile: path.join(dir, 'eqlwatch.yml'),
    alerts: o.shareWith?.alerts ?? es.name('alerts'),
    state: o.shareWith?.state ?? es.name('state'),
    outbox: o.shareWith?.outbox ?? es.name('outbox'),
  };
  await writeFile(
    env.configFile,
    `# written by the ${o.writer}
rules:
  dir: ${rulesDir}
alerts:
  index: ${env.alerts}
state:
  index: ${env.state}
notify:
  outbox:
    index: ${env.outbox}
${o.notifyYaml ?? ''}
http:
${o.http ? '  enabled: true\n  host: 127.0.0.1\n  port: 0' : '  enabled: false'}
worker:
${o.workerYaml}`,
  );
  return env;
}

/** The end-to-end tests' environment: ops server off, a fixed worker id, `extra` lines for `worker:`. */
export function workerEnv(es: EsTestContext, rules: Record<string, string>, extra = ''): Promise<WorkerEnv> {
  return testEnv(es, { rules, writer: 'worker e2e tests', http: false, workerYaml: `  id: e2e-worker\n${extra}` });
}

/** A seed rule from queries/ with its index patterns narrowed to this test's indices; query and ids unchanged. */
export async function seedRuleFor(file: string, indices: EventIndices): Promise<string> {
  const text = await readFile(path.join(REPO_ROOT, 'queries', file), 'utf8');
  const replaced = text.replace(/^index = \[[^\]]*\]/m, (block) =>
    block
      .replace('"logs-cloud_defend.process*"', `"${indices.process}*"`)
      .replace('"logs-kubernetes.audit_logs-*"', `"${indices.audit}*"`),
  );
  if (replaced === text) throw new Error(`no index list to rewrite in ${file}`);
  return replaced;
}

export const EXEC_RULE_FILE = 'execution_interactive_exec_into_container.toml';
export const API_RULE_FILE = 'execution_direct_interactive_kubernetes_api_request_by_common_utilities.toml';

export interface AlertHit {
  _id: string;
  _index: string;
  _source: Record<string, unknown>;
}

/** Every document behind the alerts alias (refreshed first). */
export async function allAlerts(client: Client, alias: string): Promise<AlertHit[]> {
  const exists = await client.indices.exists({ index: alias });
  if (!exists) return [];
  await client.indices.refresh({ index: alias });
  const res = await client.search<Record<string, unknown>>({ index: alias, size: 1000, query: { match_all: {} }, sort: ['_doc'] });
  return res.hits.hits.map((h) => ({ _id: h._id!, _index: h._index, _source: h._source! }));
}

/** Kibana's id formulas (research/kibana-eql.md §2c), computed here independently of src/alerts. */
export function expectedSingleId(index: string, id: string, ruleId: string, space = 'default'): string {
  return sha256(`${index}${id}undefined${space}:${ruleId}`);
}

export function expectedSequenceIds(events: { index: string; id: string }[], ruleId: string): { shell: string; blocks: string[] } {
  const base = events.map((e) => `${e.id}${e.index}${ruleId}`).join('');
  const blocks = events.map((_, i) => sha256(`${base}${i}`));
  const shell = sha256(`${events.map((e, i) => `${e.id}${e.index}${blocks[i]}`).join('')}${ruleId}`);
  return { shell, blocks };
}
