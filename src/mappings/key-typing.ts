/**
 * How join-key values become terms, index by index: the bridge between a rule's `IndexSchema` and the
 * pushdown's key narrowing. A key value the field's type cannot hold in some index (an `ip` field and
 * "x", a `long` and "abc") is left out of that index's terms instead of making the query fail there:
 * Elasticsearch kept such a value only in `_source` (ignore_malformed) and listed the field in
 * `_ignored`, which the narrowed query always includes, so the event is still read and joined locally.
 */
import type { FieldType } from '../eql/compiled.js';
import type { KeyFieldTyping } from '../eql/pushdown.js';
import { normalizeIp, parseNumeric } from '../eql/values.js';
import type { IndexSchema } from './index-mappings.js';

type TermValue = string | number | boolean;
type Convert = (v: unknown) => TermValue | undefined;

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' ? parseNumeric(v) : NaN);

const INTEGER_TYPES: ReadonlySet<FieldType> = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const FLOAT_TYPES: ReadonlySet<FieldType> = new Set(['double', 'float', 'half_float', 'scaled_float']);

/** Term conversion for a mapped type, or null when terms on it are not used for narrowing. */
export function termConversion(type: FieldType): Convert | null {
  if (type === 'keyword' || type === 'constant_keyword' || type === 'wildcard' || type === 'flattened') {
    // Elasticsearch indexes a number or boolean in a keyword field as its text.
    return (v) => (typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ? v : undefined);
  }
  if (INTEGER_TYPES.has(type)) {
    return (v) => {
      const n = toNumber(v);
      // `coerce` (the default) truncates a fraction at index time.
      return Number.isFinite(n) ? Math.trunc(n) : undefined;
    };
  }
  if (FLOAT_TYPES.has(type)) {
    return (v) => {
      const n = toNumber(v);
      return Number.isFinite(n) ? n : undefined;
    };
  }
  if (type === 'ip') return (v) => (typeof v === 'string' ? (normalizeIp(v) ?? undefined) : undefined);
  if (type === 'boolean') {
    return (v) => (v === true || v === 'true' ? true : v === false || v === 'false' || v === '' ? false : undefined);
  }
  // Dates (formats), versions, text (analysed), unknown: not narrowed.
  return null;
}

/**
 * The typing of key field `field` across the schema's indices: one group per mapped type (scoped to its
 * indices when there are several), or not narrowable when any index maps it with a type terms cannot be
 * trusted on. Without any mapping (no index matches yet, or the field is unmapped everywhere) values are
 * used as they are.
 */
export function keyTyping(schema: IndexSchema, field: string): KeyFieldTyping {
  const hidden = schema.hiddenIndicesOf(field);
  const groups = schema.typeGroups(field);
  if (groups.length === 0) {
    return { groups: [{ indices: null, convert: termConversion('keyword')! }], hidden };
  }
  const out: NonNullable<KeyFieldTyping['groups']> = [];
  for (const g of groups) {
    const convert = termConversion(g.type);
    if (convert === null) return { groups: null, hidden };
    out.push({ indices: groups.length === 1 ? null : g.indices, convert });
  }
  return { groups: out, hidden };
}
