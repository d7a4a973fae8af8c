/**
 * The rule model: Elastic detection-rules TOML (`[rule]` table, as shipped) plus eqlwatch's own optional
 * `[eqlwatch]` table (enable/disable, exceptions, extra tags). Defaults are Kibana's.
 */
import { z } from 'zod';
import { parseDuration, parseLookback } from './duration.js';
import { ruleParameters } from './parameters.js';

const duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'expected a duration such as "5m", "30s" or "1h" (positive integer + ms|s|m|h|d)',
});
const lookback = z.string().refine((s) => parseLookback(s) !== undefined, {
  message: 'expected relative date math such as "now-6m"',
});

const threatRef = z.object({ id: z.string(), name: z.string(), reference: z.string().optional() }).loose();
const technique = threatRef.extend({ subtechnique: z.array(threatRef).optional() });
export const threatSchema = z
  .object({
    framework: z.string(),
    tactic: threatRef,
    technique: z.array(technique).optional(),
  })
  .loose();

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** Kibana's per-event overrides (detection-rules `severity_mapping`, `risk_score_mapping`; operator `equals` only). */
const severityMappingItem = z.object({ field: z.string().min(1), operator: z.literal('equals'), value: z.string(), severity: z.enum(SEVERITIES) }).loose();
const riskScoreMappingItem = z.object({ field: z.string().min(1), operator: z.literal('equals'), value: z.string(), risk_score: z.number().int().min(0).max(100).optional() }).loose();

/** The `[rule]` table of a detection-rules TOML file (unknown keys are kept, not rejected). */
export const detectionRuleSchema = z
  .object({
    rule_id: z.string().min(1),
    name: z.string().min(1),
    description: z.string().default(''),
    type: z.string(),
    language: z.string().optional(),
    query: z.string().min(1),
    index: z.array(z.string().min(1)).min(1).optional(),
    from: lookback.default('now-6m'),
    interval: duration.default('5m'),
    max_signals: z.number().int().positive().max(10_000).default(100),
    timestamp_override: z.string().min(1).optional(),
    timestamp_override_fallback_disabled: z.boolean().default(false),
    event_category_override: z.string().min(1).optional(),
    timestamp_field: z.string().min(1).optional(),
    tiebreaker_field: z.string().min(1).optional(),
    severity: z.enum(SEVERITIES),
    risk_score: z.number().int().min(0).max(100),
    tags: z.array(z.string()).default([]),
    threat: z.array(threatSchema).default([]),
    author: z.array(z.string()).default([]),
    license: z.string().optional(),
    references: z.array(z.string()).default([]),
    false_positives: z.array(z.string()).default([]),
    note: z.string().optional(),
    version: z.number().int().optional(),
    building_block_type: z.string().optional(),
    enabled: z.boolean().optional(),
    severity_mapping: z.array(severityMappingItem).default([]),
    risk_score_mapping: z.array(riskScoreMappingItem).default([]),
    rule_name_override: z.string().min(1).optional(),
  })
  .loose();

/** eqlwatch's own per-rule settings, from an `[eqlwatch]` table (TOML) or top-level keys (YAML). */
export const localSettingsSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** EQL conditions; an event matching any of them is excluded from the rule (Kibana exception semantics). */
    exceptions: z.array(z.string().min(1)).default([]),
    tags: z.array(z.string()).default([]),
  })
  .strict();

export type DetectionRuleFields = z.infer<typeof detectionRuleSchema>;
export type Threat = z.infer<typeof threatSchema>;
export type Severity = (typeof SEVERITIES)[number];
export type SeverityMappingItem = z.infer<typeof severityMappingItem>;
export type RiskScoreMappingItem = z.infer<typeof riskScoreMappingItem>;

/** A loaded, validated rule, ready to compile and schedule. */
export interface Rule {
  /** detection-rules `rule_id`; also the alert's `kibana.alert.rule.uuid` and `rule_id`. */
  id: string;
  name: string;
  description: string;
  query: string;
  index: string[];
  lookbackMs: number;
  intervalMs: number;
  from: string;
  interval: string;
  maxSignals: number;
  /** Field the window's range applies to (e.g. `event.ingested`); ordering and maxspan stay on timestampField. */
  timestampOverride: string | null;
  /** Whether documents lacking `timestampOverride` fall back to `@timestamp` (Kibana default: yes). */
  timestampOverrideFallback: boolean;
  timestampField: string;
  eventCategoryField: string;
  tiebreakerField: string | null;
  severity: Severity;
  riskScore: number;
  tags: string[];
  threat: Threat[];
  author: string[];
  license: string | null;
  references: string[];
  falsePositives: string[];
  note: string | null;
  version: number;
  buildingBlockType: string | null;
  /** Per-event overrides of severity, risk score and name, applied to single-event alerts as Kibana does. */
  severityMapping: SeverityMappingItem[];
  riskScoreMapping: RiskScoreMappingItem[];
  ruleNameOverride: string | null;
  /** The rule's parameters as Kibana records them in `kibana.alert.rule.parameters` (snake_case, see parameters.ts). */
  parameters: Record<string, unknown>;
  enabled: boolean;
  exceptions: string[];
  /** Where the rule came from, for messages. */
  source: { file: string; format: 'toml' | 'yaml' | 'eql' };
}

/** Index patterns Kibana uses when a rule names none (the securitySolution:defaultIndex setting). */
export const DEFAULT_INDEX = [
  'apm-*-transaction*',
  'auditbeat-*',
  'endgame-*',
  'filebeat-*',
  'logs-*',
  'packetbeat-*',
  'traces-apm*',
  'winlogbeat-*',
  '-*elastic-cloud-logs-*',
];

export function toRule(
  fields: DetectionRuleFields,
  local: z.infer<typeof localSettingsSchema>,
  source: Rule['source'],
): Rule {
  return {
    id: fields.rule_id,
    name: fields.name,
    description: fields.description,
    query: fields.query,
    index: fields.index ?? DEFAULT_INDEX,
    lookbackMs: parseLookback(fields.from)!,
    intervalMs: parseDuration(fields.interval)!,
    from: fields.from,
    interval: fields.interval,
    maxSignals: fields.max_signals,
    timestampOverride: fields.timestamp_override ?? null,
    timestampOverrideFallback: !fields.timestamp_override_fallback_disabled,
    timestampField: fields.timestamp_field ?? '@timestamp',
    eventCategoryField: fields.event_category_override ?? 'event.category',
    tiebreakerField: fields.tiebreaker_field ?? null,
    severity: fields.severity,
    riskScore: fields.risk_score,
    tags: [...new Set([...fields.tags, ...local.tags])],
    threat: fields.threat,
    author: fields.author,
    license: fields.license ?? null,
    references: fields.references,
    falsePositives: fields.false_positives,
    note: fields.note ?? null,
    version: fields.version ?? 1,
    buildingBlockType: fields.building_block_type ?? null,
    severityMapping: fields.severity_mapping,
    riskScoreMapping: fields.risk_score_mapping,
    ruleNameOverride: fields.rule_name_override ?? null,
    parameters: ruleParameters(fields, fields.index ?? DEFAULT_INDEX),
    enabled: local.enabled && fields.enabled !== false,
    exceptions: local.exceptions,
    source,
  };
}
