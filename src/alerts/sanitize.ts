/**
 * Fits an event's fields to the ECS mapping of the alerts index, as Kibana's `traverse_and_mutate_doc.ts`
 * does before it writes an alert: a value that the mapping cannot take (an object where ECS has a keyword, a
 * string where it has an object, text in a `long`, a non-IP in an `ip` field, a scalar in an ECS `nested`
 * field, a key below an ECS leaf such as `host.name.first`) is dropped from the alert, and every value that
 * fits is kept, so one hostile event never rejects its alert nor changes how later alerts are indexed.
 * Fields outside ECS are kept: the alerts index is `dynamic: false`, so they stay in `_source` unindexed.
 *
 * Beyond Kibana: subtrees deeper than MAX_DEPTH are dropped (Elasticsearch refuses documents nested deeper
 * than 1000 levels). The dropped paths are returned so the alert can say which of its event's values are
 * only in the source event. Pure; the input is never modified (several rules may share one event).
 */
import { isIP } from 'node:net';
import { ECS_FIELDS, ECS_KEY_VALUE_OBJECTS, ECS_NESTED_FIELDS, ECS_OBJECT_PATHS } from './ecs-fields.js';

export const MAX_DEPTH = 100;

export interface Fitted {
  doc: Record<string, unknown>;
  /** Dotted paths of the values that were dropped (one entry per path, in document order). */
  removed: string[];
}

export function fitToEcs(doc: Record<string, unknown>): Fitted {
  const removed = new Set<string>();
  const out = fitObject(doc, '', 1, removed);
  return { doc: out ?? {}, removed: [...removed] };
}

function fitObject(obj: Record<string, unknown>, prefix: string, depth: number, removed: Set<string>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key of Object.keys(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const value = fitValue(obj[key], path, depth, removed);
    if (value !== undefined) {
      out[key] = value;
      kept++;
    }
  }
  return kept > 0 ? out : undefined;
}

function fitValue(value: unknown, path: string, depth: number, removed: Set<string>): unknown {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    for (const item of value) {
      const v = fitValue(item, path, depth, removed);
      if (v !== undefined) kept.push(v);
    }
    return kept.length > 0 ? kept : undefined;
  }
  if (!fits(value, path)) {
    removed.add(path);
    return undefined;
  }
  if (isPlainObject(value)) {
    if (depth >= MAX_DEPTH) {
      removed.add(path);
      return undefined;
    }
    return fitObject(value, path, depth + 1, removed);
  }
  return value;
}

/** Kibana `computeIsEcsCompliant`: does this (non-array) value fit the ECS mapping at `path`? */
export function fits(value: unknown, path: string): boolean {
  if (!parentsAreObjects(path, value)) return false;
  if (ECS_NESTED_FIELDS.has(path)) return isPlainObject(value);
  const field = ECS_FIELDS.get(path);
  if (field === undefined) return ECS_OBJECT_PATHS.has(path) ? isPlainObject(value) : true;
  switch (field.type) {
    case 'geo_point':
      return true;
    case 'object':
    case 'flattened':
      return isPlainObject(value);
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'unsigned_long':
    case 'float':
    case 'double':
    case 'half_float':
      return isNumeric(value);
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0;
    case 'date':
      return isDate(value);
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false' || value === '';
    default:
      return !isPlainObject(value);
  }
}

/**
 * A dotted key below an ECS leaf (`host.name.first` where `host.name` is a keyword) has no place in the mapping;
 * below a key/value object (`labels.*`) only flat values do (ECS: "should not contain nested objects").
 */
function parentsAreObjects(path: string, value: unknown): boolean {
  for (let dot = path.indexOf('.'); dot > 0; dot = path.indexOf('.', dot + 1)) {
    const prefix = path.slice(0, dot);
    if (ECS_KEY_VALUE_OBJECTS.has(prefix)) return !isPlainObject(value) && path.indexOf('.', dot + 1) < 0;
    const parent = ECS_FIELDS.get(prefix);
    if (parent !== undefined && parent.type !== 'object' && parent.type !== 'flattened' && parent.type !== 'geo_point') return false;
  }
  return true;
}

function isNumeric(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
}

function isDate(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  return typeof v === 'string' && (/^\d{1,19}$/.test(v) || !Number.isNaN(Date.parse(v)));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Only the ECS part of a document (values at ECS fields, below ECS object/flattened fields, or at ECS object
 * paths), for documents read by ECS-only consumers such as the promotion documents. Pure.
 */
export function pickEcs(doc: Record<string, unknown>): Record<string, unknown> {
  return pickObject(doc, '') ?? {};
}

function pickObject(obj: Record<string, unknown>, prefix: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (const key of Object.keys(obj)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const value = pickValue(obj[key], path);
    if (value !== undefined) {
      out[key] = value;
      kept++;
    }
  }
  return kept > 0 ? out : undefined;
}

function pickValue(value: unknown, path: string): unknown {
  if (Array.isArray(value)) {
    const kept = value.map((v) => pickValue(v, path)).filter((v) => v !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  const field = ECS_FIELDS.get(path);
  if (field !== undefined) return value;
  if (ECS_NESTED_FIELDS.has(path)) return value;
  if (ECS_OBJECT_PATHS.has(path) && isPlainObject(value)) return pickObject(value, path);
  return undefined;
}
