/**
 * Checks each rule against the cluster before it runs, so a rule that cannot fire does not look like a quiet
 * one: its index patterns match no index, or fields its query needs (non-optional references, join keys,
 * the category and timestamp fields) are mapped in none of the indices they match. Kibana warns about both
 * (index patterns without indices; `required_fields`). A warning names the rule, the patterns and the fields;
 * `once` and `run` log and count it (`/metrics`), `validate --es` prints it (and fails with `--strict`).
 *
 * One `_field_caps` request per rule, asking only for the needed fields and their parents: a field under a
 * `flattened` parent is searchable although field caps does not list it.
 */
import type { Client } from '@elastic/elasticsearch';
import { requiredFields } from '../eql/required-fields.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import type { Rule } from '../rules/schema.js';

export type PreflightProblem = 'no_index' | 'unmapped_fields' | 'check_failed';

export interface PreflightWarning {
  ruleId: string;
  ruleName: string;
  file: string;
  patterns: string[];
  problem: PreflightProblem;
  /** The needed fields no matching index maps (unmapped_fields). */
  fields: string[];
  /** How many indices the patterns match. */
  indices: number;
  message: string;
  /** check_failed: the error of the request. */
  cause?: string;
}

/** What one rule needs mapped: the query's required fields, plus the override timestamp when there is no fallback. */
export function neededFields(rule: Rule): string[] {
  const fields = requiredFields(rule.query, { eventCategoryField: rule.eventCategoryField, timestampField: rule.timestampField });
  if (rule.timestampOverride && !rule.timestampOverrideFallback) fields.push(rule.timestampOverride);
  if (rule.tiebreakerField) fields.push(rule.tiebreakerField);
  return [...new Set(fields)].sort();
}

/** Every dotted parent of each field (`a.b.c` → `a`, `a.b`). */
function parents(fields: readonly string[]): string[] {
  const out = new Set<string>();
  for (const f of fields) {
    const parts = f.split('.');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return [...out];
}

/** The needed fields that a `_field_caps` answer shows mapped nowhere (pure). */
export function unmappedFields(needed: readonly string[], caps: Record<string, Record<string, unknown>>): string[] {
  const isFlattened = (p: string) => Object.hasOwn(caps, p) && Object.hasOwn(caps[p]!, 'flattened');
  return needed.filter((f) => {
    if (Object.hasOwn(caps, f) && Object.keys(caps[f]!).some((t) => t !== 'unmapped')) return false;
    return !parents([f]).some(isFlattened);
  });
}

async function checkRule(client: Client, rule: Rule, signal?: AbortSignal): Promise<PreflightWarning | null> {
  const base = { ruleId: rule.id, ruleName: rule.name, file: rule.source.file, patterns: rule.index };
  const needed = neededFields(rule);
  const patterns = rule.index.join(', ');
  try {
    const res = await client.fieldCaps(
      { index: rule.index, fields: [...needed, ...parents(needed)], ignore_unavailable: true, allow_no_indices: true },
      signal ? { signal } : undefined,
    );
    const indices = ([] as string[]).concat(res.indices ?? []);
    if (indices.length === 0) {
      return { ...base, problem: 'no_index', fields: [], indices: 0,
        message: `rule "${rule.name}" (${rule.id}) cannot fire: its index pattern(s) ${patterns} match no index` };
    }
    const missing = unmappedFields(needed, res.fields as Record<string, Record<string, unknown>>);
    if (missing.length === 0) return null;
    return { ...base, problem: 'unmapped_fields', fields: missing, indices: indices.length,
      message: `rule "${rule.name}" (${rule.id}) may never fire: field(s) ${missing.join(', ')} are not mapped in any of the ` +
        `${indices.length} index(es) matching ${patterns}` };
  } catch (err) {
    if (signal?.aborted) throw err;
    const cause = (err as Error).message;
    return { ...base, problem: 'check_failed', fields: [], indices: 0, cause,
      message: `rule "${rule.name}" (${rule.id}): could not check index pattern(s) ${patterns} against the cluster: ${cause}` };
  }
}

/** Checks every rule (a few at a time); resolves to the warnings, in rule order. */
export async function preflightRules(client: Client, rules: readonly Rule[], opts: { concurrency?: number; signal?: AbortSignal } = {}): Promise<PreflightWarning[]> {
  const results: (PreflightWarning | null)[] = new Array(rules.length).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rules.length) {
      const i = next++;
      results[i] = await checkRule(client, rules[i]!, opts.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, rules.length) }, worker));
  return results.filter((w): w is PreflightWarning => w !== null);
}

/**
 * The worker's start check (`once`, `run`): every warning is logged and exported as
 * `eqlwatch_rule_preflight_warning{rule_id,rule_name,problem}` = 1, with the total in `eqlwatch_preflight_warnings`.
 * Never throws: a rule that cannot be checked is itself a warning, and the rules still run.
 */
export async function checkRulesAgainstCluster(client: Client, rules: readonly Rule[], logger: Logger, metrics: Metrics): Promise<PreflightWarning[]> {
  const perRule = metrics.gauge('eqlwatch_rule_preflight_warning', 'Start check: 1 when a rule\'s index patterns match no index (no_index), its needed fields are unmapped (unmapped_fields), or the check failed (check_failed)');
  const total = metrics.gauge('eqlwatch_preflight_warnings', 'Start check: rules with a warning');
  const warnings = await preflightRules(client, rules);
  for (const w of warnings) {
    perRule({ rule_id: w.ruleId, rule_name: w.ruleName, problem: w.problem }, 1);
    logger.warn({ 'rule.id': w.ruleId, 'rule.name': w.ruleName, 'file.path': w.file, 'eqlwatch.preflight': { problem: w.problem, patterns: w.patterns, fields: w.fields, indices: w.indices } }, w.message);
  }
  total({}, warnings.length);
  logger.info({ rules: rules.length, warnings: warnings.length }, `start check: ${rules.length} rule(s) checked against the cluster, ${warnings.length} warning(s)`);
  return warnings;
}
