/**
 * One rule over a whole set of documents, as `eqlwatch replay` runs it: the reference the worker's alerts
 * are held to (for any schedule of runs, restarts and arrival times within the lateness tolerance, the
 * worker writes exactly these alerts). Pure: documents in, alert documents out.
 */
import type { AlertContext, BuiltAlert } from '../alerts/build.js';
import type { FieldSchema } from '../eql/compiled.js';
import type { Rule } from '../rules/schema.js';
import { alertsForMatches, inRuleTime, indexMatches, newEngine, prepareRule } from './prepared-rule.js';
import type { EngineHit } from './rule-engine.js';
import { evaluateSampleRule } from './sample-rule.js';

export interface ReplayInput {
  hit: EngineHit;
  /** A bare document (no index of its own): read by every rule. */
  bare: boolean;
}

export interface ReplayOutcome {
  alerts: BuiltAlert[];
  matches: number;
  /** Documents the rule evaluated. */
  events: number;
  /** Documents of the rule's indices without its time field: the worker never reads them. */
  untimed: number;
  truncated: number;
}

export function replayRule(rule: Rule, input: readonly ReplayInput[], o: { schema?: FieldSchema; maxPendingSequences: number; ctx: AlertContext }): ReplayOutcome {
  const prepared = prepareRule(rule, o.schema);
  const candidates = input.filter((h) => h.bare || indexMatches(rule.index, h.hit._index));
  // Copies: the engine annotates _source, and several rules may read the same hit.
  const mine = candidates.filter((h) => inRuleTime(prepared, h.hit._source)).map((h) => ({ ...h.hit, _source: { ...h.hit._source } }));
  // Sample rules: one window holding every document, in input order (Elasticsearch's index order).
  const engine = prepared.compiled.kind === 'sample' ? null : newEngine(prepared, { maxPendingPerStage: o.maxPendingSequences });
  const matches = engine ? [...engine.consume(mine), ...engine.flush()] : evaluateSampleRule(prepared, mine).matches;
  const { alerts, truncated } = alertsForMatches(prepared, matches, o.ctx);
  return { alerts, matches: matches.length, events: mine.length, untimed: candidates.length - mine.length, truncated };
}
