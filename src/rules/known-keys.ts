/**
 * Which keys a rule file may hold. A misspelt key (`intervall`) must be an error, not a detection that
 * silently runs on defaults; a key Elastic's detection-rules schema defines but eqlwatch does not use
 * (`setup`, `required_fields`, …) must be accepted, so every rule Elastic ships still loads.
 *
 * The keys eqlwatch uses are read from the zod schemas themselves (so a key added there is known here);
 * the rest are detection-rules' own, listed below.
 */
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';

/**
 * Every key of a detection-rules `[rule]` table, for all rule types: the fields of `BaseRuleData`,
 * `QueryRuleData`, `EQLRuleData`, `ESQLRuleData`, `ThresholdQueryRuleData`, `NewTermsRuleData`,
 * `MachineLearningRuleData` and `ThreatMatchRuleData` in elastic/detection-rules
 * `detection_rules/rule.py` at commit 14cf530f0d2177023092449cd9d9348b4a8884c2 (the commit of the corpus in
 * ../shared/corpus; rule.py last changed in f0acc6f8192704f4e4c5c943fd6c0ec0068a7a9d). `from_` is
 * serialised as `from`.
 */
export const DETECTION_RULES_RULE_KEYS: readonly string[] = [
  // BaseRuleData
  'actions', 'author', 'building_block_type', 'description', 'enabled', 'exceptions_list', 'false_positives',
  'filters', 'from', 'interval', 'investigation_fields', 'license', 'max_signals', 'meta', 'name', 'note',
  'references', 'related_integrations', 'required_fields', 'response_actions', 'revision', 'risk_score',
  'risk_score_mapping', 'rule_id', 'rule_name_override', 'setup', 'severity', 'severity_mapping', 'tags',
  'threat', 'threat_mappings', 'throttle', 'timeline_id', 'timeline_title', 'timestamp_override', 'to', 'type',
  'version',
  // QueryRuleData (and every rule type derived from it: eql, esql, threshold, new_terms, threat_match)
  'alert_suppression', 'data_view_id', 'index', 'language', 'query',
  // EQLRuleData
  'event_category_override', 'tiebreaker_field', 'timestamp_field',
  // MachineLearningRuleData
  'anomaly_threshold', 'machine_learning_job_id',
  // ThresholdQueryRuleData, NewTermsRuleData
  'threshold', 'new_terms',
  // ThreatMatchRuleData
  'concurrent_searches', 'items_per_search', 'threat_filters', 'threat_index', 'threat_indicator_path',
  'threat_language', 'threat_mapping', 'threat_query',
];

/** `definitions.RuleType` in detection_rules/schemas/definitions.py (same commit). */
export const DETECTION_RULES_TYPES: readonly string[] = [
  'query', 'saved_query', 'machine_learning', 'eql', 'esql', 'threshold', 'threat_match', 'new_terms',
];

/** `definitions.FilterLanguages` (same file and commit). */
export const DETECTION_RULES_LANGUAGES: readonly string[] = ['eql', 'esql', 'kuery', 'lucene'];

/**
 * Top-level tables of a detection-rules TOML file (`TOMLRuleContents`: metadata, rule, transform) plus
 * eqlwatch's own `[eqlwatch]`. `[metadata]` and `[transform]` are accepted as they are and not used.
 */
export const TOML_TABLES: readonly string[] = ['metadata', 'rule', 'transform', 'eqlwatch'];

/** The closest of `candidates` to `word`, when it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const w = word.toLowerCase();
  const best = closest(w, candidates as string[]);
  // One edit per three characters (at least one), or two swapped letters: "intervall" → "interval",
  // "naem" → "name", never "foo" → "from".
  return distance(w, best) <= Math.max(1, Math.floor(best.length / 3)) || isSwap(w, best) ? best : undefined;
}

/** `a` is `b` with two adjacent letters swapped. */
function isSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff = [...a].flatMap((c, i) => (c === b[i] ? [] : [i]));
  return diff.length === 2 && diff[1] === diff[0]! + 1 && a[diff[0]!] === b[diff[1]!] && a[diff[1]!] === b[diff[0]!];
}

export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const n = nearest(word, candidates);
  return n === undefined ? undefined : `did you mean ${n}?`;
}

/** A key that no schema defines, with the keys allowed where it stands. */
export interface UnknownKey {
  /** Path of the key itself (parents, array indexes as strings, then the key). */
  path: string[];
  key: string;
  allowed: string[];
}

type Schema = z.ZodType;

/** zod 4's definition of a schema: its kind and the parts the walker descends into. */
interface Def {
  type: string;
  shape?: Record<string, Schema>;
  element?: Schema;
  innerType?: Schema;
  in?: Schema;
}

function defOf(schema: Schema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object schema under optional/default/nullable/pipe wrappers, if any. */
function unwrap(schema: Schema): Schema {
  let s = schema;
  for (;;) {
    const def = defOf(s);
    if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable' || def.type === 'prefault') && def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else return s;
  }
}

/**
 * Keys of `value` (recursively, through objects and arrays) that `schema` does not define. `extra` adds
 * keys allowed at the top level beyond the schema's own (detection-rules keys eqlwatch does not read).
 * Values the schema leaves open (records, unknown) are not descended into.
 */
export function unknownKeys(value: unknown, schema: Schema, extra: readonly string[] = [], path: string[] = []): UnknownKey[] {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type === 'array' && def.element && Array.isArray(value)) {
    return value.flatMap((v, i) => unknownKeys(v, def.element!, [], [...path, String(i)]));
  }
  if (def.type !== 'object' || !def.shape || !isPlainObject(value)) return [];
  const shape = def.shape;
  const allowed = [...new Set([...Object.keys(shape), ...extra])].sort();
  const out: UnknownKey[] = [];
  for (const [key, v] of Object.entries(value)) {
    const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (child) out.push(...unknownKeys(v, child, [], [...path, key]));
    else if (!allowed.includes(key)) out.push({ path: [...path, key], key, allowed });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
