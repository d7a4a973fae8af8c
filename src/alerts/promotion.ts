/**
 * Promotion documents: for every eqlwatch alert that analysts see (single-event alerts and sequence shells,
 * not building blocks), one ECS document with `event.kind: alert`, which a Kibana query rule (kibana/
 * promotion-rule.ts) turns into a real Security alert, as Elastic's prebuilt "External Alerts" rule does
 * for third-party alerts. The Security app only reads its own `.alerts-security.alerts-<space>` index, which
 * only Kibana's detection engine writes.
 *
 * The document carries what the promotion rule maps (`message` → rule name override, `event.severity` →
 * severity mapping, `event.risk_score` → risk score mapping, `event.ingested` → timestamp override), the
 * ECS `rule.*` and `threat.*` of the eqlwatch rule, the source event's ECS fields (the alert's own, already
 * fitted to ECS), `event.id` = the eqlwatch alert id (ECS, so it stays searchable in Kibana's alerts index:
 * eqlwatch links filter on it) and `eqlwatch.alert.{id,index}`. Pure.
 */
import type { Severity } from '../rules/schema.js';
import type { BuiltAlert } from './build.js';
import { pickEcs } from './sanitize.js';

export const PROMOTION_DATASET = 'eqlwatch.alerts';
export const PROMOTION_MODULE = 'eqlwatch';

/** The data stream (or index) promotion documents go to: `logs-eqlwatch.alerts-<namespace>`. */
export function promotionIndex(namespace: string): string {
  return `logs-${PROMOTION_DATASET}-${namespace}`;
}

/** `event.severity` numbers the promotion rule's severity mapping turns back into Kibana severities. */
export const SEVERITY_NUMBER: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

export interface PromotionDoc {
  id: string;
  doc: Record<string, unknown>;
}

/** Source-event fields the promotion document sets itself. */
const OWN_TOP_LEVEL = new Set(['@timestamp', 'message', 'rule', 'threat', 'tags', 'data_stream', 'ecs']);

/**
 * The promotion document of an alert, or null for building blocks: a sequence's (promoted through its shell)
 * and those of a building-block rule (`building_block_type`), which Kibana keeps out of the Alerts table too.
 */
export function promotionDoc(alert: BuiltAlert, alertsIndex: string, namespace: string, now: Date): PromotionDoc | null {
  if (alert.buildingBlock || alert.doc['kibana.alert.building_block_type'] !== undefined) return null;
  const a = alert.doc;
  const str = (path: string): string | undefined => {
    const v = a[path];
    return typeof v === 'string' ? v : undefined;
  };
  const severity = (str('kibana.alert.severity') ?? 'low') as Severity;
  const source: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(pickEcs(a))) if (!OWN_TOP_LEVEL.has(k.split('.', 1)[0]!)) source[k] = v;
  const sourceEvent = { ...(isObject(source.event) ? source.event : {}) };
  delete source.event;
  for (const k of Object.keys(source)) if (k.startsWith('event.')) delete source[k];
  const ruleName = str('kibana.alert.rule.name') ?? '';
  const version = a['kibana.alert.rule.version'];
  const doc: Record<string, unknown> = {
    ...source,
    '@timestamp': str('kibana.alert.original_time') ?? str('@timestamp'),
    message: ruleName,
    event: {
      ...pick(sourceEvent, ['category', 'type', 'action', 'outcome', 'provider', 'reason']),
      kind: 'alert',
      module: PROMOTION_MODULE,
      dataset: PROMOTION_DATASET,
      id: alert.id,
      severity: SEVERITY_NUMBER[severity] ?? SEVERITY_NUMBER.low,
      risk_score: a['kibana.alert.risk_score'],
      created: str('@timestamp'),
      ingested: now.toISOString(),
      ...(str('kibana.alert.reason') ? { reason: str('kibana.alert.reason') } : {}),
    },
    rule: {
      id: str('kibana.alert.rule.rule_id'),
      uuid: str('kibana.alert.rule.uuid'),
      name: ruleName,
      description: str('kibana.alert.rule.description'),
      ...(version !== undefined ? { version: String(version) } : {}),
      author: a['kibana.alert.rule.author'],
      ...(str('kibana.alert.rule.license') ? { license: str('kibana.alert.rule.license') } : {}),
      category: str('kibana.alert.rule.category'),
      ruleset: 'eqlwatch',
    },
    ...ecsThreat(a['kibana.alert.rule.threat']),
    tags: a['kibana.alert.rule.tags'],
    data_stream: { type: 'logs', dataset: PROMOTION_DATASET, namespace },
    eqlwatch: { alert: { id: alert.id, index: alertsIndex } },
  };
  return { id: alert.id, doc };
}

/** Kibana's `threat` rule array as ECS `threat.*` (multi-valued tactic, technique, subtechnique fields). */
function ecsThreat(threat: unknown): Record<string, unknown> {
  if (!Array.isArray(threat) || threat.length === 0) return {};
  const tactic = { id: [] as string[], name: [] as string[], reference: [] as string[] };
  const technique = { id: [] as string[], name: [] as string[], reference: [] as string[] };
  const subtechnique = { id: [] as string[], name: [] as string[], reference: [] as string[] };
  const frameworks = new Set<string>();
  const add = (to: typeof tactic, ref: unknown) => {
    if (!isObject(ref)) return;
    for (const k of ['id', 'name', 'reference'] as const) if (typeof ref[k] === 'string' && !to[k].includes(ref[k])) to[k].push(ref[k]);
  };
  for (const t of threat) {
    if (!isObject(t)) continue;
    if (typeof t.framework === 'string') frameworks.add(t.framework);
    add(tactic, t.tactic);
    for (const tech of Array.isArray(t.technique) ? t.technique : []) {
      add(technique, tech);
      for (const sub of isObject(tech) && Array.isArray(tech.subtechnique) ? tech.subtechnique : []) add(subtechnique, sub);
    }
  }
  const nonEmpty = (o: typeof tactic) => Object.fromEntries(Object.entries(o).filter(([, v]) => v.length > 0));
  const tech = nonEmpty(technique);
  const sub = nonEmpty(subtechnique);
  return {
    threat: {
      ...(frameworks.size > 0 ? { framework: [...frameworks][0] } : {}),
      tactic: nonEmpty(tactic),
      ...(Object.keys(tech).length > 0 || Object.keys(sub).length > 0 ? { technique: { ...tech, ...(Object.keys(sub).length > 0 ? { subtechnique: sub } : {}) } } : {}),
    },
  };
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

