/**
 * What the mappings of every index a rule reads say about each field, as the worker and `replay` need it:
 *
 * - for the engine, a `FieldSchema` merged across indices, so values and join keys are coerced as
 *   Elasticsearch indexes them (a `long` joins 4242 with "4242", a `keyword` 0 with "0");
 * - for the pushdown, per index: the mapped type (a query must be valid on every index of the pattern,
 *   and key values converted per type), explicit `ignore_above`, and where a field's values can sit in
 *   `_source` without being indexed at all (unmapped under `dynamic: false` or a disabled object): such
 *   documents can only be found by their index, not by the field;
 * - for ordering, whether the timestamp is `date` in some indices and `date_nanos` in others (the sort
 *   then needs `numeric_type: date_nanos`, or all `date_nanos` documents sort after all `date` ones).
 *
 * Pure: it reads the JSON of `GET <index>/_mapping` (or a mapping file) and nothing else.
 */
import { FIELD_TYPES, type FieldSchema, type FieldType } from '../eql/compiled.js';

/** One field of one index. `type` is the mapped type; `evalType` the type EQL compares with. */
export interface IndexField {
  type: FieldType;
  /** A `text` field with a keyword sub-field compares (in EQL) as that keyword. */
  evalType: FieldType;
  ignoreAbove?: number;
  format?: string;
  /** Runtime fields are queryable but have no `ignore_above` and are never in `_ignored`. */
  runtime?: boolean;
}

type Dynamic = 'true' | 'false' | 'strict' | 'runtime';

export interface IndexMapping {
  index: string;
  fields: Map<string, IndexField>;
  /** Object paths with their effective `dynamic` (inherited) and whether they are `enabled: false`. */
  objects: Map<string, { dynamic: Dynamic; disabled: boolean }>;
  rootDynamic: Dynamic;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set<string>(FIELD_TYPES);
const KEYWORD_FAMILY: ReadonlySet<FieldType> = new Set<FieldType>(['keyword', 'constant_keyword', 'wildcard']);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function dynamicOf(v: unknown, inherited: Dynamic): Dynamic {
  if (v === true || v === 'true') return 'true';
  if (v === false || v === 'false') return 'false';
  if (v === 'strict') return 'strict';
  if (v === 'runtime') return 'runtime';
  return inherited;
}

function fieldType(declared: unknown, hasProperties: boolean): FieldType {
  if (declared === undefined) return hasProperties ? 'object' : 'unknown';
  return typeof declared === 'string' && KNOWN_TYPES.has(declared) ? (declared as FieldType) : 'unknown';
}

/**
 * One index's mapping from the `mappings` object of `GET <index>/_mapping` (`{dynamic?, properties,
 * runtime?}`). Aliases resolve to their target's field.
 */
export function parseIndexMapping(index: string, mappings: unknown): IndexMapping {
  const m = isObject(mappings) ? mappings : {};
  const rootDynamic = dynamicOf(m['dynamic'], 'true');
  const out: IndexMapping = { index, fields: new Map(), objects: new Map(), rootDynamic };
  const aliases: [string, string][] = [];
  const walk = (props: unknown, prefix: string, dynamic: Dynamic, disabled: boolean) => {
    if (!isObject(props)) return;
    for (const [name, node] of Object.entries(props)) {
      if (!isObject(node)) continue;
      const path = prefix + name;
      if (node['type'] === 'alias') {
        if (typeof node['path'] === 'string') aliases.push([path, node['path']]);
        continue;
      }
      const sub = isObject(node['properties']) ? node['properties'] : undefined;
      const type = fieldType(node['type'], sub !== undefined);
      if (type === 'object' || type === 'nested' || (node['type'] === undefined && sub !== undefined)) {
        const objDisabled = disabled || node['enabled'] === false;
        const objDynamic = dynamicOf(node['dynamic'], dynamic);
        out.objects.set(path, { dynamic: objDynamic, disabled: objDisabled });
        walk(sub, `${path}.`, objDynamic, objDisabled);
        continue;
      }
      if (node['type'] === undefined && node['enabled'] === false) {
        out.objects.set(path, { dynamic, disabled: true });
        continue;
      }
      if (disabled) continue;
      const multi = isObject(node['fields']) ? node['fields'] : undefined;
      let evalType: FieldType = type;
      if ((type === 'text' || type === 'match_only_text') && multi) {
        const exact = Object.values(multi).find((f) => isObject(f) && (f['type'] === 'keyword' || f['type'] === 'wildcard'));
        if (isObject(exact)) evalType = exact['type'] as FieldType;
      }
      const field: IndexField = { type, evalType };
      if (typeof node['ignore_above'] === 'number') field.ignoreAbove = node['ignore_above'];
      if (typeof node['format'] === 'string') field.format = node['format'];
      out.fields.set(path, field);
      if (multi) walk(multi, `${path}.`, dynamic, disabled);
    }
  };
  walk(m['properties'], '', rootDynamic, false);
  if (isObject(m['runtime'])) {
    for (const [path, node] of Object.entries(m['runtime'])) {
      if (!isObject(node)) continue;
      const type = fieldType(node['type'], false);
      out.fields.set(path, { type, evalType: type, runtime: true });
    }
  }
  for (const [path, target] of aliases) {
    const f = out.fields.get(target);
    if (f) out.fields.set(path, f);
  }
  return out;
}

/** Every index of a `GET <pattern>/_mapping` response (`{ <index>: { mappings } }`), in name order. */
export function parseMappingsResponse(res: unknown): IndexMapping[] {
  if (!isObject(res)) return [];
  return Object.keys(res)
    .sort()
    .map((index) => parseIndexMapping(index, (res[index] as Json | undefined)?.['mappings']));
}

/** Elasticsearch's `format` for a `date` field that sets none. */
const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

/** Field types that compare the same way in EQL (a query valid on one is valid on the other). */
function family(t: FieldType): string {
  return KEYWORD_FAMILY.has(t) ? 'keyword' : t;
}

/** Indices grouped by the type they map a field with. */
export interface TypeGroup {
  type: FieldType;
  indices: string[];
}

/**
 * The mappings of the indices one rule reads. `indices` may be empty (the pattern matches nothing yet):
 * every field is then unmapped and nothing is hidden.
 */
export class IndexSchema {
  readonly indices: readonly IndexMapping[];
  /** The merged schema the engine is compiled with (see `typeOf`). */
  readonly fieldSchema: FieldSchema;

  constructor(indices: readonly IndexMapping[]) {
    this.indices = indices;
    this.fieldSchema = {
      typeOf: (path) => this.evalTypeOf(path),
      formatsOf: (path) => this.formatsOf(path),
    };
  }

  get indexNames(): string[] {
    return this.indices.map((i) => i.index);
  }

  /**
   * The type EQL compares a field with: the one type every index that maps it agrees on (keyword,
   * constant_keyword and wildcard count as one), `unknown` when indices disagree (values then keep their
   * JSON types in both the worker and `replay`), undefined when no index maps it.
   */
  evalTypeOf(path: string): FieldType | undefined {
    return this.merged(path, (f) => f.evalType);
  }

  /** The mapped type across indices, for queries: as `evalTypeOf`, but a `text` field is `text`. */
  queryTypeOf(path: string): FieldType | undefined {
    return this.merged(path, (f) => f.type);
  }

  private merged(path: string, typeOf: (f: IndexField) => FieldType): FieldType | undefined {
    let seen: FieldType | undefined;
    for (const m of this.indices) {
      const f = m.fields.get(path);
      if (!f) continue;
      const t = typeOf(f);
      if (seen === undefined) seen = t;
      else if (family(seen) !== family(t)) return 'unknown';
      else if (seen !== t) seen = 'keyword';
    }
    return seen;
  }

  /** Indices per mapped type (indices that do not map the field are left out). */
  typeGroups(path: string): TypeGroup[] {
    const groups = new Map<string, TypeGroup>();
    for (const m of this.indices) {
      const f = m.fields.get(path);
      if (!f) continue;
      const key = family(f.type);
      const g = groups.get(key);
      if (g) g.indices.push(m.index);
      else groups.set(key, { type: KEYWORD_FAMILY.has(f.type) ? 'keyword' : f.type, indices: [m.index] });
    }
    return [...groups.values()];
  }

  /** Mapping `format`s of a date field across indices (empty when all use the default). */
  formatsOf(path: string): readonly string[] {
    const list: string[] = [];
    for (const m of this.indices) {
      const f = m.fields.get(path);
      if (!f || (f.type !== 'date' && f.type !== 'date_nanos')) continue;
      const format = f.format ?? DEFAULT_DATE_FORMAT;
      if (!list.includes(format)) list.push(format);
    }
    return list.length === 1 && list[0] === DEFAULT_DATE_FORMAT ? [] : list;
  }

  /**
   * `ignore_above` a term on the field can rely on: the smallest explicit limit, only when every index maps
   * the field as a keyword with one. An index that does not map it may still hold long values unindexed
   * (beyond the total-fields limit with `ignore_dynamic_beyond_limit`, listed in `_ignored`), so there
   * the `_ignored` branch must stay: undefined.
   */
  ignoreAboveOf(path: string): number | undefined {
    let min: number | undefined;
    for (const m of this.indices) {
      const f = m.fields.get(path);
      if (!f || f.type !== 'keyword' || f.ignoreAbove === undefined) return undefined;
      min = min === undefined ? f.ignoreAbove : Math.min(min, f.ignoreAbove);
    }
    return min;
  }

  /**
   * Indices where the field is not mapped but documents can still carry it in `_source` without
   * Elasticsearch indexing it or listing it in `_ignored`: under an object with `dynamic: false`, or
   * inside a disabled object. No query on the field can find those documents; the pushdown reads them
   * by index and lets the engine decide.
   */
  hiddenIndicesOf(path: string): string[] {
    const out: string[] = [];
    for (const m of this.indices) {
      if (m.fields.has(path)) continue;
      if (hiddenIn(m, path)) out.push(m.index);
    }
    return out;
  }

  /**
   * Sort option for the ordering field: `date_nanos` when some index maps it as `date_nanos` and another
   * as `date` (without it, Elasticsearch sorts the two kinds of documents separately).
   */
  sortNumericType(path: string): 'date_nanos' | undefined {
    const types = new Set(this.indices.map((m) => m.fields.get(path)?.type).filter((t) => t !== undefined));
    return types.has('date_nanos') && types.size > 1 ? 'date_nanos' : undefined;
  }

  /** A short, stable description of what the engine and pushdown depend on for `paths` (cache key). */
  fingerprint(paths: Iterable<string>): string {
    const parts: string[] = [this.indexNames.join(',')];
    for (const p of [...new Set(paths)].sort()) {
      const groups = this.typeGroups(p).map((g) => `${g.type}:${g.indices.length}`).join('+');
      parts.push(`${p}=${this.evalTypeOf(p) ?? '-'}/${groups}/${this.ignoreAboveOf(p) ?? '-'}/${this.hiddenIndicesOf(p).join('+')}/${this.formatsOf(p).join('|')}`);
    }
    return parts.join(';');
  }
}

/** Is `path`, unmapped in `m`, stored but unindexed there (see `hiddenIndicesOf`)? */
function hiddenIn(m: IndexMapping, path: string): boolean {
  // The deepest mapped object above the path decides, by its effective `dynamic` and `enabled`.
  const segments = path.split('.');
  for (let i = segments.length - 1; i >= 1; i--) {
    const parent = segments.slice(0, i).join('.');
    const obj = m.objects.get(parent);
    if (obj) return obj.disabled || obj.dynamic === 'false';
    // A leaf mapped on the way (e.g. `a` keyword for `a.b`) makes such documents unindexable: not hidden.
    if (m.fields.has(parent)) return false;
  }
  return m.rootDynamic === 'false';
}
