/**
 * Kibana-compatible detection alert documents (see research/kibana-eql.md §2): the source event's fields plus
 * `kibana.alert.*`, with Kibana's deterministic ids so that the same match always yields the same `_id`.
 * Pure: the caller supplies the clock and execution id.
 */
import { createHash } from 'node:crypto';
import type { Rule } from '../rules/schema.js';
import { getPath } from './paths.js';
import { buildReason } from './reason.js';

export interface SourceHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

export interface AlertContext {
  now: Date;
  /** Kibana space the alerts belong to (`kibana.space_ids`, part of single-event ids). */
  spaceId: string;
  executionId: string;
  /** Base URL of Kibana, for `kibana.alert.url`; null when not configured. */
  kibanaUrl: string | null;
  /** Index/alias the alerts are written to (for `kibana.alert.url`). */
  alertsIndex: string;
}

export interface BuiltAlert {
  id: string;
  doc: Record<string, unknown>;
  /** Building blocks of a sequence: written, never notified on their own. */
  buildingBlock: boolean;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Kibana `wrap_hits`: sha256(index + id + version + spaceId + ':' + ruleUuid); EQL hits have no version. */
export function singleAlertId(hit: SourceHit, ruleUuid: string, spaceId: string): string {
  return sha256(`${hit._index}${hit._id}undefined${spaceId}:${ruleUuid}`);
}

/** Kibana `generate_building_block_ids`: one base over all events, then sha256(base + position). */
export function buildingBlockIds(hits: SourceHit[], ruleUuid: string): string[] {
  const base = hits.map((h) => `${h._id}${h._index}${ruleUuid}`).join('');
  return hits.map((_, i) => sha256(`${base}${i}`));
}

/** Kibana `generateAlertId` for the sequence shell: ancestors [e0, bb0, e1, bb1, …] (bb index ''). */
export function shellAlertId(hits: SourceHit[], bbIds: string[], ruleUuid: string): string {
  const ancestors = hits.map((h, i) => `${h._id}${h._index}${bbIds[i]}`).join('');
  return sha256(`${ancestors}${ruleUuid}`);
}

/** One alert for a single-event match. */
export function buildEventAlert(rule: Rule, hit: SourceHit, ctx: AlertContext): BuiltAlert {
  const id = singleAlertId(hit, rule.id, ctx.spaceId);
  const source = cleanSource(hit._source);
  const doc = {
    ...source,
    ...alertFields(rule, ctx, {
      id,
      originalTime: originalTime(hit),
      reason: buildReason(hit._source, rule.name, rule.severity),
      ancestors: [eventAncestor(hit)],
      depth: 1,
    }),
  };
  return { id, doc, buildingBlock: false };
}

/** A sequence: the shell alert first, then one building block per event (Kibana `wrap_sequences`). */
export function buildSequenceAlerts(rule: Rule, hits: SourceHit[], ctx: AlertContext): BuiltAlert[] {
  const bbIds = buildingBlockIds(hits, rule.id);
  const shellId = shellAlertId(hits, bbIds, rule.id);
  const blocks: BuiltAlert[] = hits.map((hit, i) => ({
    id: bbIds[i]!,
    buildingBlock: true,
    doc: {
      ...cleanSource(hit._source),
      ...alertFields(rule, ctx, {
        id: bbIds[i]!,
        originalTime: originalTime(hit),
        reason: buildReason(hit._source, rule.name, rule.severity),
        ancestors: [eventAncestor(hit)],
        depth: 1,
      }),
      'kibana.alert.building_block_type': 'default',
      'kibana.alert.group.id': shellId,
      'kibana.alert.group.index': i,
    },
  }));
  const common = intersect(hits.map((h) => cleanSource(h._source)));
  const shell: BuiltAlert = {
    id: shellId,
    buildingBlock: false,
    doc: {
      ...common,
      ...alertFields(rule, ctx, {
        id: shellId,
        originalTime: originalTime(hits[0]!),
        reason: buildReason(common, rule.name, rule.severity),
        ancestors: hits.flatMap((h, i) => [
          eventAncestor(h),
          { id: bbIds[i]!, type: 'signal', index: '', depth: 1, rule: rule.id },
        ]),
        depth: 2,
      }),
      'kibana.alert.group.id': shellId,
      // Not a Kibana field: lets people and notifications see the whole sequence without a join.
      'kibana.alert.sequence.events': hits.map((h) => ({ id: h._id, index: h._index, original_time: originalTime(h) })),
    },
  };
  return [shell, ...blocks];
}

interface Ancestor {
  id: string;
  type: string;
  index: string;
  depth: number;
  rule?: string;
}

function eventAncestor(hit: SourceHit): Ancestor {
  return { id: hit._id, type: 'event', index: hit._index, depth: 0 };
}

function originalTime(hit: SourceHit): string | undefined {
  const ts = getPath(hit._source, '@timestamp');
  const value = Array.isArray(ts) ? ts[0] : ts;
  if (typeof value === 'string') return value;
  // Event fields are attacker-controlled: a number outside the Date range must not throw (and stall the rule).
  if (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 8.64e15) return new Date(value).toISOString();
  return undefined;
}

function alertFields(
  rule: Rule,
  ctx: AlertContext,
  a: { id: string; originalTime: string | undefined; reason: string; ancestors: Ancestor[]; depth: number },
): Record<string, unknown> {
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
    'kibana.alert.severity': rule.severity,
    'kibana.alert.risk_score': rule.riskScore,
    'kibana.alert.rule.uuid': rule.id,
    'kibana.alert.rule.rule_id': rule.id,
    'kibana.alert.rule.name': rule.name,
    'kibana.alert.rule.description': rule.description,
    'kibana.alert.rule.severity': rule.severity,
    'kibana.alert.rule.risk_score': rule.riskScore,
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
    'kibana.alert.rule.parameters': {
      query: rule.query,
      language: 'eql',
      index: rule.index,
      timestamp_override: rule.timestampOverride ?? undefined,
      event_category_override: rule.eventCategoryField === 'event.category' ? undefined : rule.eventCategoryField,
      tiebreaker_field: rule.tiebreakerField ?? undefined,
      severity: rule.severity,
      risk_score: rule.riskScore,
      threat: rule.threat,
      max_signals: rule.maxSignals,
    },
    'kibana.space_ids': [ctx.spaceId],
    'kibana.alert.rule.producer_engine': 'eqlwatch',
  };
  if (rule.timestampOverride) fields['kibana.alert.rule.timestamp_override'] = rule.timestampOverride;
  if (rule.license) fields['kibana.alert.rule.license'] = rule.license;
  if (rule.note) fields['kibana.alert.rule.note'] = rule.note;
  if (rule.buildingBlockType) fields['kibana.alert.building_block_type'] = rule.buildingBlockType;
  if (a.originalTime !== undefined) fields['kibana.alert.original_time'] = a.originalTime;
  if (ctx.kibanaUrl) {
    const q = new URLSearchParams({ index: ctx.alertsIndex, timestamp: a.originalTime ?? now });
    fields['kibana.alert.url'] = `${ctx.kibanaUrl.replace(/\/+$/, '')}/app/security/alerts/redirect/${a.id}?${q}`;
  }
  return fields;
}

/**
 * Kibana's clean-up of the source: drop `kibana.*`, `signal.*`, `threshold_result` (an event must not be able
 * to forge alert fields; likewise eqlwatch's own `eqlwatch.*` bookkeeping), copy `event.*`/`data_stream.*` under `kibana.alert.original_*`, drop `event.kind`.
 */
export function cleanSource(source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const originalEvent: Record<string, unknown> = {};
  const originalDataStream: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'kibana' || key.startsWith('kibana.') || key === 'signal' || key.startsWith('signal.') || key === 'threshold_result') continue;
    // eqlwatch's own bookkeeping on alerts (notification delivery state, degraded marker) is not the event's.
    if (key === 'eqlwatch' || key.startsWith('eqlwatch.')) continue;
    // eqlwatch's own alert fields (notification delivery state, degraded marker) are written by eqlwatch only.
    if (key === 'eqlwatch' || key.startsWith('eqlwatch.')) continue;
    // NUL-prefixed keys are eqlwatch's in-memory bookkeeping (see worker/rule-engine.ts HIT_REF), never output.
    if (key.startsWith('\u0000')) continue;
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
  return out;
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
