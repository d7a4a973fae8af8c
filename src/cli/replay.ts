/**
 * `eqlwatch replay`: rules over an NDJSON export, no Elasticsearch. The same rule engine and alert builder
 * as the worker, over one window holding every event, so the alert documents (and ids) are the ones the
 * worker writes for the same hits.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { loadConfig, ConfigError } from '../config/load.js';
import { loadRules } from '../rules/load.js';
import { alertsForMatches, indexMatches, newEngine, prepareRule } from '../worker/prepared-rule.js';
import type { EngineHit } from '../worker/rule-engine.js';
import { evaluateSampleRule } from '../worker/sample-rule.js';
import type { LinkTarget } from '../alerts/links.js';

export interface ReplayOptions {
  rules?: string;
  only: string[];
  spaceId: string;
  now?: string;
  config?: string;
  input: string[];
}

export async function replayCommand(o: ReplayOptions): Promise<number> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  if (!o.rules || o.input.length !== 1) {
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
  if (o.config) {
    try {
      const { config } = loadConfig(o.config);
      alertsIndex = config.alerts.index;
      kibanaUrl = config.kibana.url ?? null;
      if (config.alerts.promotion.enabled) linkTarget = 'security';
    } catch (e) {
      if (e instanceof ConfigError) {
        err(e.format());
        return 1;
      }
      throw e;
    }
  }
  const report = await loadRules(o.rules);
  for (const e of report.errors) err(e.format());
  for (const s of report.skipped) err(`skipped ${s.file}: ${s.reason}`);
  const rules = report.rules.filter((r) => r.enabled && (o.only.length === 0 || o.only.includes(r.id)));
  if (rules.length === 0) {
    err('eqlwatch replay: no enabled rule to run');
    return 1;
  }
  const { hits, bad } = await readHits(o.input[0]!);
  err(`read ${hits.length} event(s)${bad ? `, ${bad} malformed line(s) skipped` : ''}; running ${rules.length} rule(s)`);
  const ctx = { now, spaceId: o.spaceId, executionId: randomUUID(), kibanaUrl, linkTarget };
  let total = 0;
  for (const rule of rules) {
    const prepared = prepareRule(rule);
    // Copies: the engine annotates _source, and several rules may read the same hit.
    const mine = hits.filter((h) => h.bare || indexMatches(rule.index, h.hit._index)).map((h) => ({ ...h.hit, _source: { ...h.hit._source } }));
    // Sample rules: one window holding every event, in file order (Elasticsearch's index order).
    const matches = prepared.compiled.kind === 'sample'
      ? evaluateSampleRule(prepared, mine).matches
      : newEngine(prepared, { reorderSlackMs: 0, maxPendingPerStage: 100_000 }).consume(mine, Infinity, true);
    const { alerts, truncated } = alertsForMatches(prepared, matches, ctx);
    for (const a of alerts) process.stdout.write(`${JSON.stringify({ _id: a.id, _index: alertsIndex, _source: a.doc })}\n`);
    total += alerts.length;
    err(`${rule.name}: ${mine.length} event(s), ${matches.length} match(es), ${alerts.length} alert document(s)` +
      `${truncated ? `, ${truncated} match(es) over max_signals=${rule.maxSignals} dropped` : ''}`);
  }
  err(`${total} alert document(s) written to stdout`);
  return report.errors.length > 0 ? 1 : 0;
}

async function readHits(file: string): Promise<{ hits: { hit: EngineHit; bare: boolean }[]; bad: number }> {
  const input = file === '-' ? process.stdin : createReadStream(file, 'utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  const hits: { hit: EngineHit; bare: boolean }[] = [];
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
