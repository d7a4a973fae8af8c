/**
 * A rule compiled once for execution: its query, its exception predicates, and how its matches become
 * alert documents (with `max_signals`). Shared by the worker and `replay` so both write the same alerts.
 */
import { buildEventAlert, buildSequenceAlerts, type AlertContext, type BuiltAlert } from '../alerts/build.js';
import { compileExpression, compileQuery } from '../eql/compile.js';
import type { CompiledQuery, EqlEvent } from '../eql/compiled.js';
import type { Rule } from '../rules/schema.js';
import { RuleEngine, type RuleEngineOptions, type RuleEngineState, type RuleMatch } from './rule-engine.js';

export interface PreparedRule {
  rule: Rule;
  compiled: CompiledQuery;
  exceptions: ((event: EqlEvent) => boolean)[];
}

export function prepareRule(rule: Rule): PreparedRule {
  const options = {
    eventCategoryField: rule.eventCategoryField,
    timestampField: rule.timestampField,
    tiebreakerField: rule.tiebreakerField,
  };
  return {
    rule,
    compiled: compileQuery(rule.query, options),
    exceptions: rule.exceptions.map((e) => compileExpression(e, options)),
  };
}

export function newEngine(p: PreparedRule, options: RuleEngineOptions, state?: RuleEngineState | null): RuleEngine {
  return new RuleEngine(p.compiled, p.exceptions, options, state);
}

export interface AlertBatch {
  alerts: BuiltAlert[];
  /** Matches beyond max_signals, not alerted (logged as Kibana's "maximum alert limit" warning). */
  truncated: number;
  /** Matches on this rule's own alerts, not alerted again (Kibana's loop guard, see alerts/lineage.ts). */
  loopsPrevented: number;
}

/** At most `max_signals` matches (a sequence counts once, as in Kibana), earliest first. */
export function alertsForMatches(p: PreparedRule, matches: RuleMatch[], ctx: AlertContext): AlertBatch {
  const kept = matches.slice(0, p.rule.maxSignals);
  let loopsPrevented = 0;
  const alerts = kept.flatMap((m) => {
    const built = m.kind === 'event' ? [buildEventAlert(p.rule, m.hit, ctx)].filter((a) => a !== null) : buildSequenceAlerts(p.rule, m.hits, ctx);
    if (built.length === 0) loopsPrevented++;
    return built;
  });
  return { alerts, truncated: matches.length - kept.length, loopsPrevented };
}

/** Does an index name match a rule's index patterns (`*` wildcards, `-pattern` exclusions, `a,b` lists)? */
export function indexMatches(patterns: string[], index: string): boolean {
  let included = false;
  for (const raw of patterns.flatMap((p) => p.split(','))) {
    const p = raw.trim();
    if (p === '') continue;
    const exclude = p.startsWith('-');
    const re = globToRegExp(exclude ? p.slice(1) : p);
    // Data streams: events live in backing indices `.ds-<stream>-<date>-<n>`.
    const name = index.replace(/^\.ds-(.+)-\d{4}\.\d{2}\.\d{2}-\d+$/, '$1');
    if (re.test(index) || re.test(name)) {
      if (exclude) return false;
      included = true;
    }
  }
  return included;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}
