/**
 * Kibana-compatible detection alert documents (see research/kibana-eql.md §2): the source event's fields
 * (fitted to the ECS mapping, see sanitize.ts) plus `kibana.alert.*`, with Kibana's deterministic ids so that
 * the same match always yields the same `_id`, Kibana's lineage for events that are themselves alerts
 * (lineage.ts) and Kibana's per-event overrides for single events (overrides.ts). eqlwatch's own fields
 * live under `eqlwatch.*`, never inside Kibana's namespace. Pure: the caller supplies the clock and execution id.
 */
import type { Rule, Severity } from '../rules/schema.js';
import { alertLink, type LinkTarget } from './links.js';
import { ancestorsOf, buildingBlockIds, descendsFromRule, parentOf, shellAlertId, singleAlertId, type Ancestor, type SourceHit } from './lineage.js';
import { applyOverrides } from './overrides.js';
import { getPath } from './paths.js';
import { buildReason } from './reason.js';
import { fitToEcs } from './sanitize.js';

export type { SourceHit } from './lineage.js';
export { buildingBlockIds, shellAlertId, singleAlertId } from './lineage.js';

export interface AlertContext {
  now: Date;
  /** Kibana space the alerts belong to (`kibana.space_ids`, part of single-event ids, link prefix). */
  spaceId: string;
  executionId: string;
  /** Base URL of Kibana, for `kibana.alert.url`; null when not configured. */
  kibanaUrl: string | null;
  /** Where `kibana.alert.url` points: the promoted Security alert, or Discover (default). */
  linkTarget?: LinkTarget;
}

export interface BuiltAlert {
  id: string;
  doc: Record<string, unknown>;
  /** Building blocks of a sequence: written, never notified on their own. */
  buildingBlock: boolean;
}

/** At most this many dropped paths are listed on an alert (`eqlwatch.ignored_fields`). */
const MAX_IGNORED_LISTED = 100;

/** One alert for a single-event match, or null when Kibana's loop guard applies (the event is this rule's alert). */
export function buildEventAlert(rule: Rule, hit: SourceHit, ctx: AlertContext): BuiltAlert | null {
  const ancestors = ancestorsOf(hit);
  if (descendsFromRule(ancestors, rule.id)) return null;
  const id = singleAlertId(hit, rule.id, ctx.spaceId);
  const o = applyOverrides(rule, hit._source);
  const { doc: source, removed } = cleanSource(hit._source);
  const doc = {
    ...source,
    ...alertFields(rule, ctx, {
      id,
      originalTime: originalTime(hit),
      reason: buildReason(hit._source, o.name, o.severity),
      ancestors,
      depth: parentOf(hit).depth + 1,
      name: o.name,
      severity: o.severity,
      riskScore: o.riskScore,
    }),
    ...ignoredFields(removed),
  };
  return { id, doc, buildingBlock: false };
}

/**
 * A sequence (or a sample, which Kibana alerts on the same way): the shell alert first, then one building
 * block per event (Kibana `buildAlertGroupFromSequence`); nothing when an event descends from this rule.
 */
export function buildSequenceAlerts(rule: Rule, hits: SourceHit[], ctx: AlertContext): BuiltAlert[] {
  const blockAncestors = hits.map(ancestorsOf);
  if (blockAncestors.some((a) => descendsFromRule(a, rule.id))) return [];
  const bbIds = buildingBlockIds(blockAncestors, rule.id);
  const bbDepths = hits.map((h) => parentOf(h).depth + 1);
  const shellAncestors = blockAncestors.flatMap((ancestors, i): Ancestor[] => [
    ...ancestors,
    { id: bbIds[i]!, type: 'signal', index: '', depth: bbDepths[i]!, rule: rule.id },
  ]);
  const shellId = shellAlertId(shellAncestors, rule.id);
  const base = { name: rule.name, severity: rule.severity, riskScore: rule.riskScore };
  const cleaned = hits.map((h) => cleanSource(h._source));
  const blocks: BuiltAlert[] = hits.map((hit, i) => ({
    id: bbIds[i]!,
    buildingBlock: true,
    doc: {
      ...cleaned[i]!.doc,
      ...alertFields(rule, ctx, {
        ...base,
        id: bbIds[i]!,
        originalTime: originalTime(hit),
        reason: buildReason(hit._source, rule.name, rule.severity),
        ancestors: blockAncestors[i]!,
        depth: bbDepths[i]!,
        // Building blocks are not promoted: in Security their link opens the sequence's (promoted) shell.
        linkId: ctx.linkTarget === 'security' ? shellId : bbIds[i]!,
      }),
      'kibana.alert.building_block_type': 'default',
      'kibana.alert.group.id': shellId,
      'kibana.alert.group.index': i,
      ...ignoredFields(cleaned[i]!.removed),
    },
  }));
  const common = intersect(cleaned.map((c) => c.doc));
  const shell: BuiltAlert = {
    id: shellId,
    buildingBlock: false,
    doc: {
      ...common,
      ...alertFields(rule, ctx, {
        ...base,
        id: shellId,
        originalTime: originalTime(hits[0]!),
        reason: buildReason(common, rule.name, rule.severity),
        ancestors: shellAncestors,
        depth: Math.max(...bbDepths) + 1,
      }),
      'kibana.alert.group.id': shellId,
      // eqlwatch's own field: people and notifications see the whole sequence without a join.
      'eqlwatch.sequence.events': hits.map((h) => ({ id: h._id, index: h._index, original_time: originalTime(h) })),
    },
  };
  return [shell, ...blocks];
}

function ignoredFields(removed: readonly string[]): Record<string, unknown> {
  if (removed.length === 0) return {};
  const listed = removed.slice(0, MAX_IGNORED_LISTED);
  if (removed.length > listed.length) listed.push(`(${removed.length - listed.length} more)`);
  return { 'eqlwatch.ignored_fields': listed };
}

/** Kibana `getValidDateFromDoc`: the event's `@timestamp` as an ISO date, or nothing when it is not a date. */
function originalTime(hit: SourceHit): string | undefined {
  const ts = getPath(hit._source, '@timestamp');
  const value = Array.isArray(ts) ? ts[0] : ts;
  const ms = typeof value === 'string' ? (/^\d+$/.test(value) ? Number(value) : Date.parse(value)) : typeof value === 'number' ? value : Number.NaN;
  // Event fields are attacker-controlled: a number outside the Date range must not throw (and stall the rule).
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : undefined;
}

interface AlertSpecifics {
  id: string;
  originalTime: string | undefined;
  reason: string;
  ancestors: Ancestor[];
  depth: number;
  name: string;
  severity: Severity;
  riskScore: number;
  /** The alert the link opens (default: this one). */
  linkId?: string;
}

function alertFields(rule: Rule, ctx: AlertContext, a: AlertSpecifics): Record<string, unknown> {
  const now = ctx.now.toISOString();
  const fields: Record<string, unknown> = {
    '@timestamp': now,
    'event.kind': 'signal',
    'kibana.alert.uuid': a.id,
    'kibana.alert.start': now,
    'kibana.alert.last_detected': now,
    'kibana.alert.intended_timestamp': now,
    'kibana.alert.status': 'active',
    'kibana.alert.workflow_status': 'open',
    'kibana.alert.workflow_tags': [],
    'kibana.alert.workflow_assignee_ids': [],
    'kibana.alert.depth': a.depth,
    'kibana.alert.ancestors': a.ancestors,
    'kibana.alert.reason': a.reason,
    'kibana.alert.severity': a.severity,
    'kibana.alert.risk_score': a.riskScore,
    'kibana.alert.rule.uuid': rule.id,
    'kibana.alert.rule.rule_id': rule.id,
    'kibana.alert.rule.name': a.name,
    'kibana.alert.rule.description': rule.description,
    'kibana.alert.rule.severity': rule.severity,
    'kibana.alert.rule.risk_score': rule.riskScore,
    'kibana.alert.rule.severity_mapping': rule.severityMapping,
    'kibana.alert.rule.risk_score_mapping': rule.riskScoreMapping,
    'kibana.alert.rule.tags': rule.tags,
    'kibana.alert.rule.threat': rule.threat,
    'kibana.alert.rule.from': rule.from,
    'kibana.alert.rule.to': 'now',
    'kibana.alert.rule.interval': rule.interval,
    'kibana.alert.rule.indices': rule.index,
    'kibana.alert.rule.max_signals': rule.maxSignals,
    'kibana.alert.rule.author': rule.author,
    'kibana.alert.rule.references': rule.references,
    'kibana.alert.rule.false_positives': rule.falsePositives,
    'kibana.alert.rule.exceptions_list': [],
    'kibana.alert.rule.version': rule.version,
    'kibana.alert.rule.type': 'eql',
    'kibana.alert.rule.rule_type_id': 'siem.eqlRule',
    'kibana.alert.rule.category': 'Event Correlation Rule',
    'kibana.alert.rule.consumer': 'siem',
    'kibana.alert.rule.producer': 'siem',
    'kibana.alert.rule.immutable': false,
    'kibana.alert.rule.enabled': rule.enabled,
    'kibana.alert.rule.execution.uuid': ctx.executionId,
    'kibana.alert.rule.execution.type': 'scheduled',
    'kibana.alert.rule.execution.timestamp': now,
    'kibana.alert.rule.parameters': rule.parameters,
    'kibana.space_ids': [ctx.spaceId],
  };
  if (rule.timestampOverride) fields['kibana.alert.rule.timestamp_override'] = rule.timestampOverride;
  if (rule.ruleNameOverride) fields['kibana.alert.rule.rule_name_override'] = rule.ruleNameOverride;
  if (rule.license) fields['kibana.alert.rule.license'] = rule.license;
  if (rule.note) fields['kibana.alert.rule.note'] = rule.note;
  if (rule.buildingBlockType) fields['kibana.alert.building_block_type'] = rule.buildingBlockType;
  if (a.originalTime !== undefined) fields['kibana.alert.original_time'] = a.originalTime;
  // Kibana's alert URL carries the alert's own @timestamp (build time), never the event time.
  const url = alertLink({ kibanaUrl: ctx.kibanaUrl, spaceId: ctx.spaceId, target: ctx.linkTarget ?? 'discover' }, a.linkId ?? a.id, now);
  if (url !== undefined) fields['kibana.alert.url'] = url;
  return fields;
}

/**
 * Kibana's clean-up of the source (traverse_and_mutate_doc.ts): drop `kibana.*`, `signal.*`,
 * `threshold_result` (an event must not be able to forge alert fields; likewise eqlwatch's own `eqlwatch.*`
 * and its NUL-prefixed in-memory bookkeeping, see worker/rule-engine.ts HIT_REF), drop every value that does not
 * fit the ECS mapping (sanitize.ts), then copy `event.*`/`data_stream.*` under `kibana.alert.original_*` and
 * drop `event.kind`. Returns the dropped paths too.
 */
export function cleanSource(source: Record<string, unknown>): { doc: Record<string, unknown>; removed: string[] } {
  const allowed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    const top = key.split('.', 1)[0]!;
    if (top === 'kibana' || top === 'signal' || top === 'threshold_result' || top === 'eqlwatch' || key.startsWith('\u0000')) continue;
    allowed[key] = value;
  }
  const { doc: fitted, removed } = fitToEcs(allowed);
  const out: Record<string, unknown> = {};
  const originalEvent: Record<string, unknown> = {};
  const originalDataStream: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fitted)) {
    if (key === 'event' && isObject(value)) {
      const { kind: _kind, ...rest } = value;
      void _kind;
      Object.assign(originalEvent, value);
      if (Object.keys(rest).length > 0) out.event = rest;
      continue;
    }
    if (key.startsWith('event.')) {
      originalEvent[key.slice(6)] = value;
      if (key !== 'event.kind') out[key] = value;
      continue;
    }
    if (key === 'data_stream' && isObject(value)) Object.assign(originalDataStream, value);
    else if (key.startsWith('data_stream.')) originalDataStream[key.slice(12)] = value;
    out[key] = value;
  }
  if (Object.keys(originalEvent).length > 0) out['kibana.alert.original_event'] = originalEvent;
  if (Object.keys(originalDataStream).length > 0) out['kibana.alert.original_data_stream'] = originalDataStream;
  return { doc: out, removed };
}

/** Kibana `objectArrayIntersection`: keys whose values are equal in every document (arrays intersected). */
export function intersect(docs: Record<string, unknown>[]): Record<string, unknown> {
  if (docs.length === 0) return {};
  const [first, ...rest] = docs;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first!)) {
    let acc: unknown = value;
    for (const other of rest) {
      acc = intersectValues(acc, other[key]);
      if (acc === undefined) break;
    }
    if (acc !== undefined) out[key] = acc;
  }
  return out;
}

function intersectValues(a: unknown, b: unknown): unknown {
  if (a === undefined || b === undefined) return undefined;
  if (isObject(a) && isObject(b)) {
    const r = intersect([a, b]);
    return Object.keys(r).length > 0 ? r : undefined;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const keys = new Set(b.map((x) => JSON.stringify(x)));
    const r = a.filter((x) => keys.has(JSON.stringify(x)));
    return r.length > 0 ? r : undefined;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? a : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
