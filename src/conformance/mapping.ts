/**
 * Elasticsearch index mappings, as the QA suites ship them, turned into what the local engine needs:
 * - a `FieldSchema` (`typeOf(path)`) = the explicit mapping plus what dynamic mapping would add for
 *   the loaded documents (Elasticsearch maps unmapped fields at index time, so they are "mapped" for
 *   EQL and `?field` semantics);
 * - index-time mapping features the engine cannot see in `_source`, materialised into the events:
 *   `alias` fields (e.g. `event.category` → `event_type`) and `null_value` (an explicit null indexed
 *   as a stand-in value). Elasticsearch resolves both at search time through the index; the local
 *   engine evaluates documents, so the loader writes them into the documents instead.
 */
import { FIELD_TYPES as ALL_FIELD_TYPES, type EqlEvent, type FieldSchema, type FieldType } from '../eql/compiled.js';
import { parseLenientJson, type LenientJson } from './json-lenient.js';

export interface MappedField {
  path: string;
  type: FieldType | 'alias';
  /** `alias` target path. */
  aliasPath?: string;
  /** Mapping `format` (dates); the engine gets it through `MappingSchema.formatsOf`. */
  format?: string;
  /** Mapping `null_value`. */
  nullValue?: unknown;
}

export interface ParsedMapping {
  fields: MappedField[];
}

export class MappingFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'MappingFormatError';
  }
}

/** The placeholder `DataLoader` replaces with a random one of keyword/wildcard. */
const RANDOM_KEYWORD_PLACEHOLDER = '[runtime_random_keyword_type]';

const FIELD_TYPES: ReadonlySet<string> = new Set<string>(ALL_FIELD_TYPES);

/**
 * Parse a mapping file: lines starting with `#` are dropped and the random keyword-type placeholder
 * is replaced, as `DataLoader.readMapping` does. Accepts `{properties}`, `{mappings:{properties}}`
 * or the `GET <index>/_mapping` response shape.
 */
export function parseMapping(text: string, file: string, keywordType: 'keyword' | 'wildcard' = 'keyword'): ParsedMapping {
  const cleaned = text
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('#'))
    .join('\n')
    .split(RANDOM_KEYWORD_PLACEHOLDER)
    .join(keywordType);
  let doc: LenientJson;
  try {
    doc = parseLenientJson(cleaned);
  } catch (e) {
    throw new MappingFormatError(file, (e as Error).message);
  }
  const properties = findProperties(doc);
  if (!properties) throw new MappingFormatError(file, 'no "properties" object found');
  const fields: MappedField[] = [];
  walkProperties(properties, '', fields);
  return { fields };
}

function isObject(v: unknown): v is Record<string, LenientJson> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function findProperties(doc: LenientJson): Record<string, LenientJson> | undefined {
  if (!isObject(doc)) return undefined;
  if (isObject(doc['properties'])) return doc['properties'];
  if (isObject(doc['mappings'])) return findProperties(doc['mappings']);
  // GET _mapping: { "<index>": { "mappings": { … } } } — take the first index.
  const first = Object.values(doc)[0];
  return first === undefined ? undefined : findProperties(first);
}

function walkProperties(properties: Record<string, LenientJson>, prefix: string, out: MappedField[]): void {
  for (const [name, node] of Object.entries(properties)) {
    if (!isObject(node)) continue;
    const path = prefix + name;
    const declared = typeof node['type'] === 'string' ? node['type'] : undefined;
    if (declared === 'alias') {
      if (typeof node['path'] === 'string') out.push({ path, type: 'alias', aliasPath: node['path'] });
      continue;
    }
    const sub = isObject(node['properties']) ? node['properties'] : undefined;
    const multi = isObject(node['fields']) ? node['fields'] : undefined;
    let type: FieldType = declared === undefined ? (sub ? 'object' : 'unknown') : FIELD_TYPES.has(declared) ? (declared as FieldType) : 'unknown';
    // A text field with an exact (keyword/wildcard) sub-field: EQL compares on the sub-field
    // (QL `exactAttribute`), so for evaluation it behaves as that keyword.
    if ((type === 'text' || type === 'match_only_text') && multi) {
      const exact = Object.values(multi).find((f) => isObject(f) && (f['type'] === 'keyword' || f['type'] === 'wildcard'));
      if (exact && isObject(exact)) type = exact['type'] as FieldType;
    }
    const field: MappedField = { path, type };
    if (typeof node['format'] === 'string') field.format = node['format'];
    if ('null_value' in node) field.nullValue = node['null_value'];
    out.push(field);
    if (multi) walkProperties(multi, `${path}.`, out);
    if (sub) walkProperties(sub, `${path}.`, out);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Dynamic mapping (what Elasticsearch adds for unmapped fields of indexed documents).              */
/* ------------------------------------------------------------------------------------------------ */

/** `strict_date_optional_time` and `yyyy/MM/dd HH:mm:ss Z||yyyy/MM/dd Z`, the default `dynamic_date_formats`. */
const DYNAMIC_DATE = [
  /^\d{4}-\d{2}-\d{2}(?:T\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/,
  /^\d{4}\/\d{2}\/\d{2}(?: \d{2}:\d{2}:\d{2})? ?(?:Z|[+-]\d{2}:?\d{2})$/,
];

/** Dynamic mapping of one JSON value (first non-null array element for arrays). */
export function dynamicType(value: unknown): FieldType | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const t = dynamicType(v);
      if (t) return t;
    }
    return undefined;
  }
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
    case 'bigint':
      return Number.isInteger(Number(value)) ? 'long' : 'float';
    case 'string':
      // A dynamic string is `text` with a `.keyword` sub-field that EQL uses for exact matching.
      return DYNAMIC_DATE.some((re) => re.test(value)) ? 'date' : 'keyword';
    case 'object':
      return value === null ? undefined : 'object';
    default:
      return undefined;
  }
}

/** Collect dynamic types of all leaf and object paths of a document (dotted keys expanded). */
function collectDynamic(value: unknown, prefix: string, out: Map<string, FieldType>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectDynamic(v, prefix, out);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    const path = prefix + key;
    const t = dynamicType(v);
    // Dotted keys are expanded by Elasticsearch into objects: `{"a.b": 1}` maps `a` (object) and `a.b`.
    const parts = key.split('.');
    for (let i = 1; i < parts.length; i++) {
      const parent = prefix + parts.slice(0, i).join('.');
      if (!out.has(parent)) out.set(parent, 'object');
    }
    if (t && !out.has(path)) out.set(path, t);
    if (t === 'object') collectDynamic(v, `${path}.`, out);
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Schema                                                                                           */
/* ------------------------------------------------------------------------------------------------ */

/** One index: its mapping (optional) and its documents. */
export interface IndexContents {
  mapping?: ParsedMapping;
  events: readonly EqlEvent[];
}

/** Elasticsearch's `format` for a `date` field that sets none. */
export const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

export class MappingSchema implements FieldSchema {
  private readonly types = new Map<string, FieldType>();
  private readonly aliases = new Map<string, string>();
  /** Mapping `format` per path and index (dates): indices may disagree (sample1 vs sample2). */
  private readonly formats = new Map<string, string[]>();

  /** Union over indices (a field is mapped if any index maps it; the first type seen wins). */
  constructor(indices: readonly IndexContents[]) {
    for (const index of indices) {
      for (const f of index.mapping?.fields ?? []) {
        if (f.type === 'alias') {
          if (f.aliasPath && !this.aliases.has(f.path)) this.aliases.set(f.path, f.aliasPath);
        } else if (!this.types.has(f.path)) {
          this.types.set(f.path, f.type);
        }
        // An index mapping the date without `format` uses the default one: recorded so that a field
        // with a custom format in another index still parses this index's values.
        const format = f.format ?? (f.type === 'date' || f.type === 'date_nanos' ? DEFAULT_DATE_FORMAT : undefined);
        if (format !== undefined) {
          const list = this.formats.get(f.path) ?? [];
          if (!list.includes(format)) list.push(format);
          this.formats.set(f.path, list);
        }
      }
      const dynamic = new Map<string, FieldType>();
      for (const e of index.events) collectDynamic(e, '', dynamic);
      for (const [path, t] of dynamic) if (!this.types.has(path) && !this.aliases.has(path)) this.types.set(path, t);
    }
  }

  typeOf(path: string): FieldType | undefined {
    const target = this.aliases.get(path);
    return this.types.get(target ?? path);
  }

  /**
   * `FieldSchema.formatsOf`: mapping `format`s of a field, one per distinct format across indices in
   * index order (an index without `format` contributes the default); empty when every index uses the
   * default `strict_date_optional_time||epoch_millis`. E.g. `dd-MM-yyyy` and `yyyy-MM-dd` for
   * `@timestamp_pretty` in test_sample.toml.
   */
  formatsOf(path: string): readonly string[] {
    const list = this.formats.get(this.aliases.get(path) ?? path) ?? [];
    return list.length === 1 && list[0] === DEFAULT_DATE_FORMAT ? [] : list;
  }

  /** Every mapped path with its type (aliases resolved), sorted; for `--verbose` and tests. */
  entries(): [string, FieldType][] {
    const all = new Map(this.types);
    for (const [alias, target] of this.aliases) {
      const t = this.types.get(target);
      if (t) all.set(alias, t);
    }
    return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Materialisation of alias and null_value into documents                                            */
/* ------------------------------------------------------------------------------------------------ */

const MISSING = Symbol('missing');

/** Value at a dotted path, trying every split of the path into source keys (`a.b` or `a` › `b`). */
export function getPath(doc: unknown, path: string): unknown {
  const v = lookup(doc, path.split('.'));
  return v === MISSING ? undefined : v;
}

function lookup(doc: unknown, segments: string[]): unknown {
  if (segments.length === 0) return doc;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return MISSING;
  const rec = doc as Record<string, unknown>;
  for (let i = segments.length; i >= 1; i--) {
    const key = segments.slice(0, i).join('.');
    if (Object.hasOwn(rec, key)) {
      const v = lookup(rec[key], segments.slice(i));
      if (v !== MISSING) return v;
    }
  }
  return MISSING;
}

/** Set a value at a dotted path as nested objects; false when an existing non-object value is in the way. */
function setPath(doc: Record<string, unknown>, path: string, value: unknown): boolean {
  const segments = path.split('.');
  let cur: Record<string, unknown> = doc;
  for (let i = 0; i < segments.length - 1; i++) {
    const seg = segments[i]!;
    const next = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(cur, seg, { value: created, enumerable: true, writable: true, configurable: true });
      cur = created;
    } else if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      cur = next as Record<string, unknown>;
    } else {
      return false;
    }
  }
  Object.defineProperty(cur, segments[segments.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return true;
}

/**
 * Apply a mapping's `null_value`s and `alias`es to one document, in place.
 * `null_value`: an explicit `null` (or null array element) becomes the stand-in, as indexed.
 * `alias`: the target's value is copied under the alias path unless the document already has one.
 */
export function materialiseMappingFeatures(event: EqlEvent, mapping: ParsedMapping): void {
  for (const f of mapping.fields) {
    if (f.nullValue === undefined) continue;
    const v = getPath(event, f.path);
    if (v === null) setPath(event, f.path, f.nullValue);
    else if (Array.isArray(v) && v.includes(null)) {
      setPath(
        event,
        f.path,
        v.map((x) => (x === null ? f.nullValue : x)),
      );
    }
  }
  for (const f of mapping.fields) {
    if (f.type !== 'alias' || !f.aliasPath) continue;
    const target = getPath(event, f.aliasPath);
    if (target === undefined || getPath(event, f.path) !== undefined) continue;
    setPath(event, f.path, structuredClone(target));
  }
}
