/**
 * A rule compiled once for execution: its query, its exception predicates, and how its matches become
 * alert documents (with `max_signals`). Shared by the worker and `replay` so both write the same alerts.
 */
import { buildEventAlert, buildSequenceAlerts, type AlertContext, type BuiltAlert } from '../alerts/build.js';
import { compileExpression, compileQuery } from '../eql/compile.js';
import type { CompiledQuery, EqlEvent, FieldSchema } from '../eql/compiled.js';
import { parseExpression } from '../eql/parser.js';
import { expressionFields, queryFields } from '../eql/query-fields.js';
import type { IndexSchema } from '../mappings/index-mappings.js';
import type { Rule } from '../rules/schema.js';
import { compileFieldAccessor } from '../eql/fields.js';
import { RuleEngine, type RuleEngineOptions, type RuleEngineState, type RuleMatch } from './rule-engine.js';

const accessors = new Map<string, ReturnType<typeof compileFieldAccessor>>();
/** The first value of a dotted field path in a document (nested or literal dotted keys). */
export function fieldValue(source: EqlEvent, path: string): unknown {
  let a = accessors.get(path);
  if (!a) accessors.set(path, (a = compileFieldAccessor(path)));
  return a.first(source);
}

export interface PreparedRule {
  rule: Rule;
  compiled: CompiledQuery;
  exceptions: ((event: EqlEvent) => boolean)[];
  /** Every field the query and the exceptions read, plus the category, timestamp and tiebreaker fields. */
  fields: string[];
}

/**
 * Compiles a rule, against `schema` when given: values and join keys are then coerced as Elasticsearch
 * indexes them (the worker and `replay` must use the same schema to agree).
 */
export function prepareRule(rule: Rule, schema?: FieldSchema): PreparedRule {
  const options = {
    eventCategoryField: rule.eventCategoryField,
    timestampField: rule.timestampField,
    tiebreakerField: rule.tiebreakerField,
    ...(schema ? { schema } : {}),
  };
  const compiled = compileQuery(rule.query, options);
  const fields = new Set(queryFields(compiled.query));
  for (const e of rule.exceptions) for (const f of expressionFields(parseExpression(e))) fields.add(f);
  for (const f of [rule.eventCategoryField, rule.timestampField, rule.tiebreakerField, rule.timestampOverride]) if (f) fields.add(f);
  return { rule, compiled, exceptions: rule.exceptions.map((e) => compileExpression(e, options)), fields: [...fields].sort() };
}

const compiledFor = new WeakMap<PreparedRule, { key: string; prepared: PreparedRule }>();

/**
 * The rule compiled against the mappings of the indices it reads now. Cached per rule on what the
 * mappings say about the fields it reads, so a run only recompiles when those change.
 */
export function prepareForIndices(p: PreparedRule, schema: IndexSchema): PreparedRule {
  const key = schema.fingerprint(p.fields);
  const hit = compiledFor.get(p);
  if (hit && hit.key === key) return hit.prepared;
  const prepared = prepareRule(p.rule, schema.fieldSchema);
  compiledFor.set(p, { key, prepared });
  return prepared;
}

export function newEngine(p: PreparedRule, options: RuleEngineOptions, state?: RuleEngineState | null): RuleEngine {
  return new RuleEngine(p.compiled, p.exceptions, options, state);
}

/**
 * Whether a document can ever be in one of the rule's windows (what `replay` must leave out to agree
 * with the worker): single-event rules need the override field, or `@timestamp` where the fallback
 * applies; sequence rules need `@timestamp` (and the override when the fallback is disabled).
 */
export function inRuleTime(p: PreparedRule, source: EqlEvent): boolean {
  const r = p.rule;
  const has = (field: string): boolean => {
    const v = fieldValue(source, field);
    return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
  };
  if (r.timestampOverride && !r.timestampOverrideFallback && !has(r.timestampOverride)) return false;
  if (p.compiled.kind === 'sequence') return Number.isFinite(p.compiled.timestampOf(source));
  return has(r.timestampOverride ?? r.timestampField) || has(r.timestampField);
}

export interface AlertBatch {
  alerts: BuiltAlert[];
  /** Matches beyond max_signals, not alerted (logged as Kibana's "maximum alert limit" warning). */
  truncated: number;
}

/** At most `max_signals` matches (a sequence counts once, as in Kibana), earliest first. */
export function alertsForMatches(p: PreparedRule, matches: RuleMatch[], ctx: AlertContext): AlertBatch {
  const kept = matches.slice(0, p.rule.maxSignals);
  // A match on this rule's own alert builds nothing (Kibana's loop guard, see alerts/lineage.ts).
  const alerts = kept.flatMap((m) => (m.kind === 'event' ? [buildEventAlert(p.rule, m.hit, ctx)].filter((a) => a !== null) : buildSequenceAlerts(p.rule, m.hits, ctx)));
  return { alerts, truncated: matches.length - kept.length };
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
