/**
 * Per-event overrides of a single-event alert's severity, risk score and rule name, as Kibana applies them
 * (security_solution server/lib/detection_engine/rule_types/utils/mappings/build_severity_from_mapping.ts,
 * build_risk_score_from_mapping.ts, build_rule_name_from_mapping.ts, called from
 * factories/utils/transform_hit_to_alert.ts with `applyOverrides: true` for single events only; sequence
 * shells and building blocks keep the rule's values). Read from the event as it was stored.
 */
import type { RiskScoreMappingItem, Rule, Severity, SeverityMappingItem } from '../rules/schema.js';
import { getPath } from './paths.js';

export interface Overrides {
  name: string;
  severity: Severity;
  riskScore: number;
}

const ORDER: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };
const ECS_SEVERITY = 'event.severity';

export function applyOverrides(rule: Rule, source: Record<string, unknown>): Overrides {
  return {
    name: ruleName(source, rule.name, rule.ruleNameOverride),
    severity: severity(source, rule.severity, rule.severityMapping),
    riskScore: riskScore(source, rule.riskScore, rule.riskScoreMapping),
  };
}

/** The event's value at `rule_name_override`, when it is a string. */
function ruleName(source: Record<string, unknown>, name: string, field: string | null): string {
  if (field === null) return name;
  const v = getPath(source, field);
  return typeof v === 'string' ? v : name;
}

/** The highest severity whose mapping value equals one of the event's values (`event.severity` compared as integers). */
function severity(source: Record<string, unknown>, dflt: Severity, mapping: readonly SeverityMappingItem[]): Severity {
  let match: Severity | null = null;
  for (const m of [...mapping].sort((a, b) => ORDER[a.severity] - ORDER[b.severity])) {
    const numeric = m.field === ECS_SEVERITY;
    const values = new Set<string | number>();
    for (const v of asArray(getPath(source, m.field))) {
      if (typeof v === 'number' && Number.isSafeInteger(v)) values.add(numeric ? v : String(v));
      else if (!numeric && typeof v === 'string') values.add(v);
    }
    if (values.has(numeric ? Math.floor(Number(m.value)) : m.value)) match = m.severity;
  }
  return match ?? dflt;
}

/** The largest value in [0, 100] of the first mapping's field (numbers or numeric strings). */
function riskScore(source: Record<string, unknown>, dflt: number, mapping: readonly RiskScoreMappingItem[]): number {
  const first = mapping[0];
  if (first === undefined) return dflt;
  let best = -1;
  for (const v of asArray(getPath(source, first.field))) {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
    if (Number.isFinite(n) && n >= 0 && n <= 100 && n > best) best = n;
  }
  return best >= 0 ? best : dflt;
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}
