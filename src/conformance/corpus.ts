/**
 * The detection-rules corpus check: how many of Elastic's shipped EQL rule queries the engine
 * parses and compiles (default options, no mapping known — as for a rule file dropped in `queries/`).
 */
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
