/**
 * Extract what a notification shows from an alert document, with byte caps applied (values remain
 * raw text; context escaping happens in the templates).
 */
import { type AlertDoc, type AlertSummary, type MitreRef, type MitreThreat, getString, getStrings, getValues, parseSeverity } from '../types.js';
import { truncateBytes } from './escape.js';

export interface SummaryLimits {
  /** Cap per field in UTF-8 bytes (default 1 KB). */
  fieldBytes: number;
  /** Cap for the process command line / args in UTF-8 bytes (default 64 KB). */
  argsBytes: number;
}

export const DEFAULT_LIMITS: SummaryLimits = { fieldBytes: 1024, argsBytes: 65_536 };

/** Fields shown in the email table under the main ones, when present. */
export const EXTRA_FIELDS = [
  'process.executable',
  'process.parent.executable',
  'container.image.name',
  'kubernetes.audit.verb',
  'kubernetes.audit.objectRef.resource',
  'kubernetes.audit.objectRef.subresource',
  'kubernetes.audit.requestURI',
  'source.ip',
  'event.action',
] as const;

const MAX_TAGS = 30;
const MAX_TECHNIQUES = 10;

function first(doc: AlertDoc, paths: string[], cap: number): string | undefined {
  for (const p of paths) {
    const v = getString(doc, p);
    if (v !== undefined) return truncateBytes(v, cap);
  }
  return undefined;
}

function mitreRef(v: unknown, cap: number): MitreRef | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const id = getString(v as AlertDoc, 'id');
  const name = getString(v as AlertDoc, 'name');
  if (id === undefined && name === undefined) return undefined;
  const reference = getString(v as AlertDoc, 'reference');
  return {
    id: truncateBytes(id ?? '', cap),
    name: truncateBytes(name ?? '', cap),
    ...(reference !== undefined ? { reference: truncateBytes(reference, cap) } : {}),
  };
}

function threats(doc: AlertDoc, cap: number): MitreThreat[] {
  const out: MitreThreat[] = [];
  for (const t of getValues(doc, 'kibana.alert.rule.threat').slice(0, MAX_TECHNIQUES)) {
    if (typeof t !== 'object' || t === null) continue;
    const tactic = mitreRef(getValues(t as AlertDoc, 'tactic')[0], cap);
    const techniques: MitreRef[] = [];
    for (const te of getValues(t as AlertDoc, 'technique').slice(0, MAX_TECHNIQUES)) {
      const r = mitreRef(te, cap);
      if (r) techniques.push(r);
    }
    out.push({ ...(tactic ? { tactic } : {}), techniques });
  }
  return out;
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

export function summarizeAlert(doc: AlertDoc, limits: SummaryLimits = DEFAULT_LIMITS): AlertSummary {
  const cap = limits.fieldBytes;
  const rawCmd = getString(doc, 'process.command_line') ?? (getStrings(doc, 'process.args').join(' ') || undefined);
  const risk = Number(getValues(doc, 'kibana.alert.risk_score')[0] ?? getValues(doc, 'kibana.alert.rule.risk_score')[0]);
  const extra: Array<[string, string]> = [];
  for (const f of EXTRA_FIELDS) {
    const v = getString(doc, f);
    if (v !== undefined) extra.push([f, truncateBytes(v, cap)]);
  }
  return {
    alertId: first(doc, ['kibana.alert.uuid', '_id'], 256) ?? 'unknown',
    ...optional('url', first(doc, ['kibana.alert.url'], 4096)),
    ...optional('timestamp', first(doc, ['@timestamp'], 64)),
    ...optional('originalTime', first(doc, ['kibana.alert.original_time'], 64)),
    ...optional('ruleUuid', first(doc, ['kibana.alert.rule.uuid'], 256)),
    ...optional('ruleId', first(doc, ['kibana.alert.rule.rule_id'], 256)),
    ruleName: first(doc, ['kibana.alert.rule.name'], cap) ?? 'unnamed rule',
    severity: parseSeverity(getValues(doc, 'kibana.alert.severity')[0] ?? getValues(doc, 'kibana.alert.rule.severity')[0]),
    ...optional('riskScore', Number.isFinite(risk) ? risk : undefined),
    ...optional('reason', first(doc, ['kibana.alert.reason'], cap)),
    tags: getStrings(doc, 'kibana.alert.rule.tags').slice(0, MAX_TAGS).map((t) => truncateBytes(t, 256)),
    ...optional('groupId', first(doc, ['kibana.alert.group.id'], 256)),
    ...optional('host', first(doc, ['host.name', 'host.hostname'], cap)),
    ...optional('containerId', first(doc, ['container.id'], cap)),
    ...optional('containerName', first(doc, ['container.name'], cap)),
    ...optional('pod', first(doc, ['orchestrator.resource.name', 'kubernetes.pod.name'], cap)),
    ...optional('namespace', first(doc, ['orchestrator.namespace', 'kubernetes.namespace', 'kubernetes.audit.objectRef.namespace'], cap)),
    ...optional('user', first(doc, ['user.name', 'kubernetes.audit.user.username'], cap)),
    ...optional('commandLine', rawCmd === undefined ? undefined : truncateBytes(rawCmd, limits.argsBytes)),
    threat: threats(doc, cap),
    extra,
  };
}

/** Building-block alerts (sequence members) are never notified on their own: their shell alert is. */
export function isBuildingBlock(doc: AlertDoc): boolean {
  return getValues(doc, 'kibana.alert.building_block_type').length > 0;
}

/** "host/pod" style locator used in subjects and digests. */
export function locator(a: AlertSummary): string {
  const parts = [a.host, a.pod ?? a.containerName].filter((x): x is string => x !== undefined);
  return parts.join('/');
}
