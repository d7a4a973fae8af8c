/**
 * `eqlwatch replay`: rules over an NDJSON export. The same rule engine and alert builder as the worker,
 * over one window holding every event, so the alert documents (and ids) are the ones the worker writes
 * for the same hits. With the indices' mappings (`--mapping <file>`, or `--es` to read them from the
 * cluster) values and join keys are coerced as Elasticsearch indexes them, as the worker does; without,
 * values keep their JSON types. Documents the worker can never read for a rule (no time field) are left
 * out and counted.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { LinkTarget } from '../alerts/links.js';
import { loadRules } from '../rules/load.js';
import { readFile } from 'node:fs/promises';
import { closeEsClient, createEsClient } from '../es/client.js';
import { fetchIndexSchema } from '../es/mappings.js';
import { IndexSchema, parseIndexMapping, parseMappingsResponse, type IndexMapping } from '../mappings/index-mappings.js';
import type { Rule } from '../rules/schema.js';
import { indexMatches } from '../worker/prepared-rule.js';
import { replayRule, type ReplayInput } from '../worker/replay-rule.js';

export interface ReplayOptions {
  rules?: string;
  only: string[];
  spaceId: string;
  now?: string;
  config?: string;
  /** Mapping file: `GET <pattern>/_mapping` output, or one index's `{mappings}` / `{properties}` for all. */
  mapping?: string;
  /** Read the mappings from the cluster of the config (or ES_URL). */
  es?: boolean;
  input: string[];
}

/** Where replay gets a rule's mappings from. */
type SchemaSource = { of: (rule: Rule) => Promise<IndexSchema | undefined>; close: () => Promise<void> };

async function schemaSource(o: ReplayOptions, config: Config | null): Promise<SchemaSource | string> {
  if (o.mapping && o.es) return 'use either --mapping or --es, not both';
  if (o.mapping) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(o.mapping, 'utf8'));
    } catch (e) {
      return `cannot read the mapping file ${o.mapping}: ${(e as Error).message}`;
    }
    const rec = (json ?? {}) as Record<string, unknown>;
    const single = 'properties' in rec || 'mappings' in rec;
    const indices: IndexMapping[] = single ? [parseIndexMapping('*', 'mappings' in rec ? rec.mappings : rec)] : parseMappingsResponse(json);
    if (indices.every((i) => i.fields.size === 0)) return `${o.mapping}: no field mappings found (expected the output of GET <index>/_mapping)`;
    return { of: async (rule) => new IndexSchema(single ? indices : indices.filter((i) => indexMatches(rule.index, i.index))), close: async () => {} };
  }
  if (o.es) {
    const esConfig = config?.elasticsearch ?? loadConfig(undefined).config.elasticsearch;
    let client: Awaited<ReturnType<typeof createEsClient>>;
    try {
      client = await createEsClient(esConfig);
    } catch (e) {
      return (e as Error).message;
    }
    return { of: (rule) => fetchIndexSchema(client, rule.index), close: () => closeEsClient(client) };
  }
  return { of: async () => undefined, close: async () => {} };
}

export async function replayCommand(o: ReplayOptions): Promise<number> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const missing = [
    ...(o.rules ? [] : ['--rules <dir|file> (the rules to evaluate)']),
    ...(o.input.length === 0 ? ['the events file (an NDJSON export, or "-" for standard input)'] : []),
  ];
  if (missing.length > 0 || o.input.length > 1) {
    err(missing.length > 0 ? `eqlwatch replay: missing ${missing.join(' and ')}` : `eqlwatch replay: one events file expected, got ${o.input.length}: ${o.input.join(' ')}`);
    err('Usage: eqlwatch replay --rules <dir|file> <events.ndjson|->');
    return 2;
  }
  const now = o.now ? new Date(o.now) : new Date();
  if (Number.isNaN(now.getTime())) {
    err(`eqlwatch replay: --now "${o.now}" is not a date; use ISO 8601, e.g. 2026-01-01T00:00:00Z`);
    return 2;
  }
  let alertsIndex = 'eqlwatch-alerts-default';
  let kibanaUrl: string | null = null;
  let linkTarget: LinkTarget = 'discover';
  let config: Config | null = null;
  let maxPending = 10_000;
  if (o.config) {
    try {
      config = loadConfig(o.config).config;
      alertsIndex = config.alerts.index;
      kibanaUrl = config.kibana.url ?? null;
      if (config.alerts.promotion.enabled) linkTarget = 'security';
      maxPending = config.worker.maxPendingSequences;
    } catch (e) {
      if (e instanceof ConfigError) {
        err(e.format());
        return 2;
      }
      throw e;
    }
  }
  const source = await schemaSource(o, config);
  if (typeof source === 'string') {
    err(`eqlwatch replay: ${source}`);
    return 2;
  }
  try {
    return await replayWith(o, source, { now, alertsIndex, kibanaUrl, linkTarget, maxPending });
  } finally {
    await source.close();
  }
}

async function replayWith(o: ReplayOptions, source: SchemaSource, c: { now: Date; alertsIndex: string; kibanaUrl: string | null; linkTarget: LinkTarget; maxPending: number }): Promise<number> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const { now, alertsIndex, kibanaUrl, linkTarget, maxPending } = c;
  let report;
  try {
    report = await loadRules(o.rules!);
  } catch (e) {
    err(`eqlwatch replay: cannot read rules at ${o.rules}: ${(e as Error).message}\nhint: pass --rules <dir|file> pointing at your rule files`);
    return 2;
  }
  for (const e of report.errors) err(e.format());
  for (const s of report.skipped) err(`skipped ${s.file}: ${s.reason}`);
  const rules = report.rules.filter((r) => r.enabled && (o.only.length === 0 || o.only.includes(r.id)));
  if (rules.length === 0) {
    err('eqlwatch replay: no enabled rule to run');
    return 1;
  }
  const input = o.input[0]!;
  if (input !== '-' && !existsSync(input)) {
    err(`eqlwatch replay: cannot read events file ${input}: no such file\nhint: give an NDJSON export, or "-" to read standard input`);
    return 2;
  }
  const { hits, bad } = await readHits(input);
  err(`read ${hits.length} event(s)${bad ? `, ${bad} malformed line(s) skipped` : ''}; running ${rules.length} rule(s)`);
  const ctx = { now, spaceId: o.spaceId, executionId: randomUUID(), kibanaUrl, linkTarget };
  let total = 0;
  for (const rule of rules) {
    const schema = await source.of(rule);
    const out = replayRule(rule, hits, { ...(schema ? { schema: schema.fieldSchema } : {}), maxPendingSequences: maxPending, ctx });
    for (const a of out.alerts) process.stdout.write(`${JSON.stringify({ _id: a.id, _index: alertsIndex, _source: a.doc })}\n`);
    total += out.alerts.length;
    err(`${rule.name}: ${out.events} event(s), ${out.matches} match(es), ${out.alerts.length} alert document(s)` +
      `${out.untimed ? `, ${out.untimed} event(s) without the rule's time field left out (the worker never reads them)` : ''}` +
      `${out.truncated ? `, ${out.truncated} match(es) over max_signals=${rule.maxSignals} dropped` : ''}`);
  }
  err(`${total} alert document(s) written to stdout`);
  return report.errors.length > 0 ? 1 : 0;
}

async function readHits(file: string): Promise<{ hits: ReplayInput[]; bad: number }> {
  const input = file === '-' ? process.stdin : createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  const hits: ReplayInput[] = [];
  let bad = 0;
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      bad++;
      process.stderr.write(`${file}:${n}: not JSON, skipped\n`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      bad++;
      process.stderr.write(`${file}:${n}: not a JSON object, skipped\n`);
      continue;
    }
    const o = v as Record<string, unknown>;
    if (typeof o._source === 'object' && o._source !== null && typeof o._id === 'string' && typeof o._index === 'string') {
      hits.push({ hit: { _index: o._index, _id: o._id, _source: o._source as Record<string, unknown> }, bare: false });
    } else {
      // A bare document: a stable id from its content, so re-running gives the same alert ids.
      const id = createHash('sha256').update(line).digest('hex').slice(0, 20);
      hits.push({ hit: { _index: 'replay', _id: id, _source: o }, bare: true });
    }
  }
  return { hits, bad };
}
