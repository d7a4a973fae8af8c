/**
 * Which rules run together (group-run.ts): rules that read the same index patterns on the same read field
 * at the same interval share one read per window. Single-event and sample rules read by arrival
 * (`timestamp_override` with the `@timestamp` fallback), sequence rules by `@timestamp`, so they form
 * separate groups. A group's shared query is the disjunction of its rules' filters: groups are split so
 * that it stays within a clause budget (Elasticsearch's `indices.query.bool.max_clause_count` is 1,024 on
 * its smallest nodes; a rule over the budget on its own is a group of one). A group is also the unit a
 * worker holds a lease on, so several workers spread the groups between them.
 */
import { pushdownAny, pushdownQuery, type QueryDsl } from '../eql/pushdown.js';
import type { PreparedRule } from './prepared-rule.js';

export interface RuleGroup {
  /** Stable id (what the scheduler and the logs name). */
  id: string;
  rules: PreparedRule[];
  intervalMs: number;
}

export interface GroupOptions {
  /** false: every rule is a group of its own (rule by rule, as before shared scans). */
  shared: boolean;
  /** A worker-wide interval for every rule (near-real-time mode), instead of each rule's own. */
  intervalMs?: number;
  /** Largest estimated number of query clauses of one group's shared read. */
  clauseBudget?: number;
}

export const DEFAULT_CLAUSE_BUDGET = 800;

/** Leaf queries of a query (what counts against the clause limit, roughly). */
export function clauseCount(q: unknown): number {
  if (Array.isArray(q)) return q.reduce((n: number, x) => n + clauseCount(x), 0);
  if (typeof q !== 'object' || q === null) return 0;
  const o = q as Record<string, unknown>;
  if ('bool' in o) {
    const b = o.bool as Record<string, unknown>;
    return ['filter', 'must', 'should', 'must_not'].reduce((n, k) => n + clauseCount(b[k]), 0);
  }
  return 1;
}

/** The rule's filter as estimated before its indices' mappings are known (types widen nothing here). */
function estimate(p: PreparedRule): number {
  const plan = pushdownQuery(p.compiled.query, { eventCategoryField: p.rule.eventCategoryField, ignoredAware: true });
  // Sequences add their key narrowing: about one clause per key field and stage.
  const q: QueryDsl = pushdownAny(plan);
  return clauseCount(q) + (p.compiled.kind === 'sequence' ? 2 * p.compiled.stages.length : 0);
}

function keyOf(p: PreparedRule, intervalMs: number): string {
  const r = p.rule;
  const read =
    p.compiled.kind === 'sequence'
      ? ['ordering', r.timestampField, r.timestampOverride && !r.timestampOverrideFallback ? r.timestampOverride : null]
      : ['arrival', r.timestampOverride, r.timestampOverrideFallback, r.timestampField];
  return JSON.stringify({ index: [...r.index].sort(), read, intervalMs });
}

export function formGroups(rules: readonly PreparedRule[], o: GroupOptions): RuleGroup[] {
  const interval = (p: PreparedRule) => o.intervalMs ?? p.rule.intervalMs;
  if (!o.shared) return rules.map((p) => ({ id: p.rule.id, rules: [p], intervalMs: interval(p) }));
  const budget = o.clauseBudget ?? DEFAULT_CLAUSE_BUDGET;
  const byKey = new Map<string, PreparedRule[]>();
  for (const p of rules) {
    const k = keyOf(p, interval(p));
    byKey.set(k, [...(byKey.get(k) ?? []), p]);
  }
  const groups: RuleGroup[] = [];
  for (const members of byKey.values()) {
    // Greedy, in a stable order: rules fill a group until the next would exceed the budget.
    const sorted = [...members].sort((a, b) => (a.rule.id < b.rule.id ? -1 : 1));
    let current: PreparedRule[] = [];
    let used = 0;
    const flush = () => {
      if (current.length === 0) return;
      groups.push({ id: current.length === 1 ? current[0]!.rule.id : `group(${current.map((p) => p.rule.id).join(',')})`, rules: current, intervalMs: interval(current[0]!) });
      current = [];
      used = 0;
    };
    for (const p of sorted) {
      const n = estimate(p);
      if (current.length > 0 && used + n > budget) flush();
      current.push(p);
      used += n;
    }
    flush();
  }
  return groups;
}
