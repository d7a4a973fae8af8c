/**
 * The detection-rules corpus check: how many of Elastic's shipped EQL rule queries the engine
 * parses and compiles (default options, no mapping known — as for a rule file dropped in `queries/`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { listRuleFiles } from '../rules/load.js';
import type { Engine } from './engine.js';

export interface CorpusRule {
  name: string;
  path?: string;
  query: string;
}

export interface CorpusFailure {
  name: string;
  path?: string;
  message: string;
}

export interface CorpusResult {
  parsed: number;
  failed: number;
  failures: CorpusFailure[];
}

/** Rules of `detection-rules-eql.json` (`{ rules: [{ name, path, query, … }] }`, or a bare array). */
export function parseCorpus(text: string): CorpusRule[] {
  const doc = JSON.parse(text) as unknown;
  const list = Array.isArray(doc) ? doc : (doc as { rules?: unknown }).rules;
  if (!Array.isArray(list)) throw new Error('corpus: expected { "rules": [...] } or an array of rules');
  return list.map((r, i) => {
    const rule = r as Record<string, unknown>;
    if (typeof rule['query'] !== 'string') throw new Error(`corpus: rule #${i + 1} has no string "query"`);
    const out: CorpusRule = { name: typeof rule['name'] === 'string' ? rule['name'] : `rule #${i + 1}`, query: rule['query'] };
    if (typeof rule['path'] === 'string') out.path = rule['path'];
    return out;
  });
}

/**
 * The EQL rules of a detection-rules checkout (or any tree of rule TOML files): every `.toml` whose `[rule]`
 * has `type = "eql"` and a query, named by its path relative to `dir`. Files that are not TOML rules are left out.
 */
export async function corpusFromTomlTree(dir: string): Promise<CorpusRule[]> {
  const out: CorpusRule[] = [];
  for (const file of (await listRuleFiles(dir)).filter((f) => f.endsWith('.toml'))) {
    let rule: Record<string, unknown> | undefined;
    try {
      rule = (parseToml(readFileSync(file, 'utf8')) as { rule?: Record<string, unknown> }).rule;
    } catch {
      continue;
    }
    if (rule?.type !== 'eql' || typeof rule.query !== 'string') continue;
    out.push({ name: typeof rule.name === 'string' ? rule.name : file, path: path.relative(dir, file), query: rule.query });
  }
  return out;
}

export function runCorpus(engine: Engine, rules: readonly CorpusRule[]): CorpusResult {
  const failures: CorpusFailure[] = [];
  for (const rule of rules) {
    try {
      engine.compileQuery(rule.query, {});
    } catch (e) {
      const message = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
      failures.push(rule.path === undefined ? { name: rule.name, message } : { name: rule.name, path: rule.path, message });
    }
  }
  return { parsed: rules.length - failures.length, failed: failures.length, failures };
}
