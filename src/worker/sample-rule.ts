/**
 * A `sample by …` detection rule over the hits of one execution window. Pure.
 *
 * Kibana runs an EQL rule as one `_eql/search` per execution over `[now - from, now]` (the range filter on
 * `timestamp_override`, falling back to `@timestamp`), with `size = max_signals`. For a sample query
 * Elasticsearch answers in `hits.sequences` (`{join_keys, events}` per sample), and Kibana's EQL executor
 * (rule_types/eql/eql.ts: `if (events) wrapHits(…) else if (sequences) wrapSequences(…)`) wraps them exactly
 * like sequences: a shell alert plus one building block per event (alerts/build.ts `buildSequenceAlerts`).
 * Samples ignore chronology and carry no state from one execution to the next, so each execution evaluates
 * its whole window afresh; overlapping windows find the same samples again and their deterministic alert
 * ids make them one alert.
 *
 * The sample semantics are Elasticsearch's (eql/sample.ts via eql/evaluate.ts: join key groups in composite order, the first
 * candidates per stage in index order, `max_samples_per_key` 1); events matching one of the rule's
 * exceptions are left out first, as Kibana's exception filter leaves them out of the search.
 */
import { evaluate } from '../eql/evaluate.js';
import type { EqlEvent } from '../eql/compiled.js';
import type { PreparedRule } from './prepared-rule.js';
import type { EngineHit, RuleMatch } from './rule-engine.js';

export interface SampleRuleResult {
  /** At most `max_signals` samples, as sequence matches (events in stage order). */
  matches: RuleMatch[];
  /** Events left out by the rule's exceptions. */
  excluded: number;
}

/** Evaluates a sample rule over the hits of one window, given in index order (the order Elasticsearch reads them). */
export function evaluateSampleRule(p: PreparedRule, hits: readonly EngineHit[]): SampleRuleResult {
  if (p.compiled.kind !== 'sample') throw new Error(`evaluateSampleRule needs a sample rule; ${p.rule.id} is a ${p.compiled.kind} rule`);
  const hitOf = new Map<EqlEvent, EngineHit>();
  let excluded = 0;
  for (const h of hits) {
    if (p.exceptions.some((ex) => ex(h._source))) excluded++;
    else hitOf.set(h._source, h);
  }
  // `size` = max_signals, as Kibana sends it; `| head`/`| tail` pipes of the query apply first (Elasticsearch's order).
  const result = evaluate(p.compiled, hitOf.keys(), { size: p.rule.maxSignals });
  const samples = result.kind === 'samples' ? result.samples : [];
  return { matches: samples.map((s) => ({ kind: 'sequence', hits: s.events.map((e) => hitOf.get(e)!) })), excluded };
}
