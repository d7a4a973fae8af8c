/**
 * The ECS field definitions eqlwatch maps alerts and promotion documents with, read from the `ecs_flat`
 * table of Elastic's `@elastic/ecs` package (every ECS field with its Elasticsearch type) instead of a
 * hand-written list. Pure data, computed once.
 *
 * Types are made portable to every Elasticsearch 8.x/9.x distribution, including the integration-test
 * distribution without x-pack or mapper-extras (as Kibana's own alerts index needs no x-pack type either):
 * `wildcard` and `constant_keyword` become `keyword`, `match_only_text` becomes `text`, `scaled_float`
 * becomes `float`. Every `keyword` gets an `ignore_above` so a long attacker-controlled value can never
 * exceed Lucene's term length limit (it stays in `_source` and is listed in `_ignored`).
 *
 * ECS `nested` fields (e.g. `threat.enrichments`, `process.pe.sections`) are left out of the mapping, as
 * Kibana leaves them out of its alerts mapping (traverse_and_mutate_doc.ts: "nested fields are excluded from
 * ecsFieldMap to prevent composite mapping conflicts"); their values must still be objects (see sanitize.ts).
 */
import { createRequire } from 'node:module';
import { EcsFlat } from '@elastic/ecs';

interface EcsFlatField {
  type: string;
  object_type?: string;
  ignore_above?: number;
  index?: boolean;
  doc_values?: boolean;
  multi_fields?: { name: string; type: string }[];
}

export type FieldMapping = Record<string, unknown>;

/** Longest keyword kept indexed for ECS `wildcard` fields (command lines, paths): 8191 × 4 bytes < 32766. */
const LONG_KEYWORD_IGNORE_ABOVE = 8191;
const DEFAULT_IGNORE_ABOVE = 1024;

const PORTABLE: Record<string, string> = {
  wildcard: 'keyword',
  constant_keyword: 'keyword',
  match_only_text: 'text',
  scaled_float: 'float',
};

function leafMapping(f: EcsFlatField): FieldMapping {
  const type = PORTABLE[f.type] ?? f.type;
  // Key/value objects (`labels`, `container.labels`): their keys are mapped as they come, as `object_type`.
  if (type === 'object' && f.object_type) return { type, dynamic: true };
  const m: FieldMapping = { type };
  if (type === 'keyword') m.ignore_above = f.ignore_above ?? (f.type === 'wildcard' ? LONG_KEYWORD_IGNORE_ABOVE : DEFAULT_IGNORE_ABOVE);
  if (f.index === false) m.index = false;
  if (f.doc_values === false) m.doc_values = false;
  if (f.multi_fields && f.multi_fields.length > 0) {
    m.fields = Object.fromEntries(f.multi_fields.map((mf) => [mf.name, { type: PORTABLE[mf.type] ?? mf.type }]));
  }
  return m;
}

function build(): { leaves: Map<string, FieldMapping>; nested: Set<string>; objects: Set<string>; keyValue: Map<string, string> } {
  const flat = EcsFlat as unknown as Record<string, EcsFlatField>;
  const nested = new Set(Object.keys(flat).filter((k) => flat[k]!.type === 'nested'));
  const underNested = (path: string): boolean => {
    for (let dot = path.indexOf('.'); dot > 0; dot = path.indexOf('.', dot + 1)) if (nested.has(path.slice(0, dot))) return true;
    return false;
  };
  const leaves = new Map<string, FieldMapping>();
  const objects = new Set<string>();
  for (const [path, f] of Object.entries(flat)) {
    if (nested.has(path) || underNested(path)) continue;
    leaves.set(path, leafMapping(f));
    for (let dot = path.indexOf('.'); dot > 0; dot = path.indexOf('.', dot + 1)) objects.add(path.slice(0, dot));
  }
  const keyValue = new Map(Object.entries(flat).filter(([, f]) => f.type === 'object' && f.object_type).map(([p, f]) => [p, PORTABLE[f.object_type!] ?? f.object_type!]));
  return { leaves, nested, objects, keyValue };
}

const built = build();

/** ECS field path → portable Elasticsearch mapping (object-typed ECS fields map as `{type: 'object'}`). */
export const ECS_FIELDS: ReadonlyMap<string, FieldMapping> = built.leaves;
/** ECS fields of type `nested` (not mapped; their values must be objects). */
export const ECS_NESTED_FIELDS: ReadonlySet<string> = built.nested;
/** ECS key/value objects (`labels`, `container.labels`) → the type of their values (`keyword`); values must be flat. */
export const ECS_KEY_VALUE_OBJECTS: ReadonlyMap<string, string> = built.keyValue;
/** Dynamic templates that map the keys of the key/value objects with their ECS `object_type`. */
export function keyValueTemplates(): Record<string, unknown>[] {
  return [...ECS_KEY_VALUE_OBJECTS].map(([path, type]) => ({
    [`ecs_${path.replace(/\./g, '_')}`]: { path_match: `${path}.*`, mapping: type === 'keyword' ? { type, ignore_above: DEFAULT_IGNORE_ABOVE } : { type } },
  }));
}
/** Paths that are objects in ECS because ECS fields live under them (`host`, `process.parent`, …). */
export const ECS_OBJECT_PATHS: ReadonlySet<string> = built.objects;
/** Version of the installed `@elastic/ecs` field table (recorded in the templates' `_meta`). */
export const ECS_PACKAGE_VERSION: string = (createRequire(import.meta.url)('@elastic/ecs/package.json') as { version: string }).version;
