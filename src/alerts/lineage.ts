/**
 * Alert lineage and ids, as Kibana builds them (security_solution server/lib/detection_engine/rule_types/):
 * factories/utils/build_alert.ts `buildParent`, `buildAncestors`, `generateAlertId`;
 * factories/utils/generate_building_block_ids.ts; factories/wrap_hits.ts (single-event ids and the loop
 * guard); eql/build_alert_group_from_sequence.ts (sequence loop guard).
 *
 * An event that is itself an alert (a Kibana or eqlwatch alert document read by a rule) keeps its lineage:
 * its ancestors come first, then the alert itself as a `signal` ancestor with its depth and rule, so the new
 * alert's depth is one more. Kibana's loop guard: a rule never alerts on an alert whose lineage contains that
 * rule. Hardening beyond Kibana: a document counts as an alert only when its `kibana.alert.uuid` is its own
 * `_id` (true of every Kibana and eqlwatch alert), so an event cannot claim a forged lineage, e.g. to
 * silence a rule through its loop guard, unless it can also choose its document id.
 */
import { createHash } from 'node:crypto';
import { getPath } from './paths.js';

export interface SourceHit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
}

export interface Ancestor {
  id: string;
  type: 'event' | 'signal';
  index: string;
  depth: number;
  rule?: string;
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function isAlertDoc(hit: SourceHit): boolean {
  const uuid = getPath(hit._source, 'kibana.alert.uuid');
  return uuid === hit._id;
}

/** Kibana `buildParent`. */
export function parentOf(hit: SourceHit): Ancestor {
  if (!isAlertDoc(hit)) return { id: hit._id, type: 'event', index: hit._index, depth: 0 };
  const depth = getPath(hit._source, 'kibana.alert.depth');
  const rule = getPath(hit._source, 'kibana.alert.rule.uuid');
  return {
    id: hit._id,
    type: 'signal',
    index: hit._index,
    depth: typeof depth === 'number' && Number.isInteger(depth) && depth > 0 ? depth : 1,
    ...(typeof rule === 'string' ? { rule } : {}),
  };
}

/** Kibana `buildAncestors`: the hit's own ancestors (when it is an alert), then the hit. */
export function ancestorsOf(hit: SourceHit): Ancestor[] {
  const own = isAlertDoc(hit) ? getPath(hit._source, 'kibana.alert.ancestors') : undefined;
  const existing = Array.isArray(own) ? own.map(toAncestor).filter((a): a is Ancestor => a !== null) : [];
  return [...existing, parentOf(hit)];
}

/** Only well-formed ancestors are carried over (the field is copied from a document). */
function toAncestor(v: unknown): Ancestor | null {
  if (typeof v !== 'object' || v === null) return null;
  const a = v as Record<string, unknown>;
  if (typeof a.id !== 'string' || typeof a.index !== 'string' || (a.type !== 'event' && a.type !== 'signal')) return null;
  const depth = typeof a.depth === 'number' && Number.isInteger(a.depth) && a.depth >= 0 ? a.depth : 0;
  return { id: a.id, type: a.type, index: a.index, depth, ...(typeof a.rule === 'string' ? { rule: a.rule } : {}) };
}

/** Kibana's loop guard: does this lineage already contain the rule? */
export function descendsFromRule(ancestors: readonly Ancestor[], ruleUuid: string): boolean {
  return ancestors.some((a) => a.rule === ruleUuid);
}

/** Kibana `wrap_hits`: sha256(index + id + version + spaceId + ':' + ruleUuid); EQL hits have no version. */
export function singleAlertId(hit: SourceHit, ruleUuid: string, spaceId: string): string {
  return sha256(`${hit._index}${hit._id}undefined${spaceId}:${ruleUuid}`);
}

/** Kibana `generateBuildingBlockIds`: one base over every block's ancestors, then sha256(base + position). */
export function buildingBlockIds(ancestorsPerBlock: readonly (readonly Ancestor[])[], ruleUuid: string): string[] {
  const base = ancestorsPerBlock.map((ancestors) => `${ancestors.map((a) => `${a.id}${a.index}`).join('')}${ruleUuid}`).join('');
  return ancestorsPerBlock.map((_, i) => sha256(`${base}${i}`));
}

/** Kibana `generateAlertId` (the sequence shell): sha256(Σ ancestor id + index, then ruleUuid). */
export function shellAlertId(shellAncestors: readonly Ancestor[], ruleUuid: string): string {
  return sha256(`${shellAncestors.map((a) => `${a.id}${a.index}`).join('')}${ruleUuid}`);
}
