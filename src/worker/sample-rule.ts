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

/**
 * Evaluates a sample rule over the hits of one window. Which event of a stage a sample takes depends on
 * their order, so the hits are first put in one canonical order (timestamp, then index and id): the worker
 * (which reads by timestamp, page by page) and `replay` (an export in any order) pick the same events.
 */
export function evaluateSampleRule(p: PreparedRule, hits: readonly EngineHit[]): SampleRuleResult {
  if (p.compiled.kind !== 'sample') throw new Error(`evaluateSampleRule needs a sample rule; ${p.rule.id} is a ${p.compiled.kind} rule`);
  const c = p.compiled;
  const ordered = hits
    .map((h) => ({ h, ts: c.timestampOf(h._source) }))
    .sort((a, b) => {
      const at = Number.isFinite(a.ts) ? a.ts : Infinity;
      const bt = Number.isFinite(b.ts) ? b.ts : Infinity;
      if (at !== bt) return at < bt ? -1 : 1;
      if (a.h._index !== b.h._index) return a.h._index < b.h._index ? -1 : 1;
      return a.h._id < b.h._id ? -1 : a.h._id > b.h._id ? 1 : 0;
    })
    .map((x) => x.h);
  const hitOf = new Map<EqlEvent, EngineHit>();
  let excluded = 0;
  for (const h of ordered) {
    if (p.exceptions.some((ex) => ex(h._source))) excluded++;
    else hitOf.set(h._source, h);
  }
  // `size` = max_signals, as Kibana sends it; `| head`/`| tail` pipes of the query apply first (Elasticsearch's order).
  const result = evaluate(p.compiled, hitOf.keys(), { size: p.rule.maxSignals });
  const samples = result.kind === 'samples' ? result.samples : [];
  return { matches: samples.map((s) => ({ kind: 'sequence', hits: s.events.map((e) => hitOf.get(e)!) })), excluded };
}
