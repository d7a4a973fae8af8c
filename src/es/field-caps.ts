/**
 * Field types across the indices a rule searches (`_field_caps`), as the `FieldSchema` the compiler
 * and the pushdown take. A field mapped with different types in different indices is `'unknown'`
 * unless all of them are keyword-like (then `'keyword'`), so the pushdown only emits queries that are
 * valid on every index.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { FIELD_TYPES as ALL_FIELD_TYPES, type FieldSchema, type FieldType } from '../eql/compiled.js';

const KNOWN: ReadonlySet<string> = new Set<string>(ALL_FIELD_TYPES);

const KEYWORD_LIKE: ReadonlySet<string> = new Set(['keyword', 'constant_keyword', 'wildcard']);

/** Reduce the per-type capabilities of one field to a single FieldType. */
export function resolveFieldType(types: readonly string[]): FieldType {
  const mapped = types.filter((t) => t !== 'unmapped');
  if (mapped.length === 0) return 'unknown';
  if (mapped.length === 1) {
    const t = mapped[0]!;
    return KNOWN.has(t) ? (t as FieldType) : 'unknown';
  }
  if (mapped.every((t) => KEYWORD_LIKE.has(t))) return 'keyword';
  return 'unknown';
}

/** Build a schema from a `_field_caps` response body (pure). */
export function schemaFromFieldCaps(res: Pick<estypes.FieldCapsResponse, 'fields'>): FieldSchema & {
  fields(): string[];
} {
  const map = new Map<string, FieldType>();
  for (const [path, caps] of Object.entries(res.fields)) {
    if (path.startsWith('_')) continue; // metadata fields
    map.set(path, resolveFieldType(Object.keys(caps)));
  }
  return {
    typeOf: (path) => map.get(path),
    fields: () => [...map.keys()],
  };
}

/** Fetch the field types of `index` (patterns allowed; missing indices are ignored). */
export async function fetchFieldSchema(
  client: Client,
  index: string[],
  signal?: AbortSignal,
): Promise<FieldSchema & { fields(): string[] }> {
  if (index.length === 0) return schemaFromFieldCaps({ fields: {} });
  const res = await client.fieldCaps(
    { index, fields: '*', ignore_unavailable: true, allow_no_indices: true },
    signal ? { signal } : undefined,
  );
  return schemaFromFieldCaps(res);
}

/**
 * `ignore_above` per keyword field across indices, from `GET <index>/_mapping` (pure). A field gets a
 * limit only when EVERY index maps it as keyword with an explicit `ignore_above` (the smallest wins):
 * defaults vary (index.mapping.ignore_above, logsdb mode), and the pushdown keeps its `_ignored`
 * branch for anything unknown. An index where the field is not mapped holds no indexed values of it;
 * a mapping added there later (dynamic field) is picked up when the worker refetches mappings, which
 * it does every run.
 */
export function ignoreAboveFromMappings(res: estypes.IndicesGetMappingResponse): (path: string) => number | undefined {
  const perIndex: Map<string, number | null>[] = [];
  const walk = (props: Record<string, estypes.MappingProperty> | undefined, prefix: string, out: Map<string, number | null>) => {
    for (const [name, prop] of Object.entries(props ?? {})) {
      const path = prefix + name;
      const p = prop as estypes.MappingProperty & {
        ignore_above?: number;
        properties?: Record<string, estypes.MappingProperty>;
        fields?: Record<string, estypes.MappingProperty>;
      };
      if (p.type === 'keyword') out.set(path, typeof p.ignore_above === 'number' ? p.ignore_above : null);
      else if (p.type !== undefined && p.type !== 'object') out.set(path, null);
      if (p.properties) walk(p.properties, `${path}.`, out);
      if (p.fields) walk(p.fields, `${path}.`, out);
    }
  };
  for (const idx of Object.values(res)) {
    const out = new Map<string, number | null>();
    walk(idx.mappings.properties, '', out);
    perIndex.push(out);
  }
  return (path) => {
    let min: number | undefined;
    let seen = false;
    for (const m of perIndex) {
      if (!m.has(path)) continue; // unmapped in that index: no values there
      seen = true;
      const v = m.get(path);
      if (v === null || v === undefined) return undefined;
      min = min === undefined ? v : Math.min(min, v);
    }
    return seen ? min : undefined;
  };
}

/** Fetch `ignore_above` limits of `index` (patterns allowed; missing indices are ignored). */
export async function fetchIgnoreAbove(
  client: Client,
  index: string[],
  signal?: AbortSignal,
): Promise<(path: string) => number | undefined> {
  if (index.length === 0) return () => undefined;
  const res = await client.indices.getMapping(
    { index, ignore_unavailable: true, allow_no_indices: true },
    signal ? { signal } : undefined,
  );
  return ignoreAboveFromMappings(res);
}
