/**
 * Orderings shared by the matchers: event ordinals (timestamp, tiebreaker, arrival), join-key
 * comparison as Elasticsearch sorts completed sequences, and a canonical key id for maps.
 */
import { createHash } from 'node:crypto';
import type { KeyTuple } from './compiled.js';

/** Key strings longer than this are identified by their SHA-256 digest. */
const LONG_KEY = 256;

/** Type rank used when two values of different JSON types meet (Elasticsearch would reject the mix). */
function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number' || typeof v === 'bigint') return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

/** Java-like `compareTo` for tiebreaker / key values: numbers numerically, strings by UTF-16 code units. */
export function compareScalar(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (ra === 4) {
    const sa = JSON.stringify(a);
    const sb = JSON.stringify(b);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  return 0;
}

/**
 * Ordinal order of two events (ES `Ordinal.compareTo`): timestamp; on equal timestamps a non-null
 * tiebreaker sorts before a null one, two non-null compare by value; remaining ties by arrival order.
 */
export function compareOrdinal(
  tsA: number,
  tbA: unknown,
  seqA: number,
  tsB: number,
  tbB: unknown,
  seqB: number,
): number {
  if (tsA !== tsB) return tsA < tsB ? -1 : 1;
  const nullA = tbA === null || tbA === undefined;
  const nullB = tbB === null || tbB === undefined;
  if (!nullA && !nullB) {
    const c = compareScalar(tbA, tbB);
    if (c !== 0) return c;
  } else if (nullA !== nullB) {
    return nullA ? 1 : -1;
  }
  return seqA - seqB;
}

/**
 * ES `SequenceKey.compareTo`: element-wise, skipping positions holding null (not Comparable in Java),
 * then by length. Used to order sequences completed by the same event.
 */
export function compareKeys(a: KeyTuple, b: KeyTuple): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || x === undefined || y === null || y === undefined) continue;
    const c = compareScalar(x, y);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * Composite-aggregation order of key tuples (samples): per position ascending, null first,
 * strings by UTF-8 byte order (= code point order), numbers numerically, false before true.
 */
export function compareCompositeKeys(a: KeyTuple, b: KeyTuple): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    const xn = x === null || x === undefined;
    const yn = y === null || y === undefined;
    if (xn || yn) {
      if (xn && yn) continue;
      return xn ? -1 : 1;
    }
    const c = typeof x === 'string' && typeof y === 'string' ? compareCodePoints(x, y) : compareScalar(x, y);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(j) as number;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return a.length - i - (b.length - j);
}

/** Canonical, collision-free id of a key tuple (type-tagged so "1" and 1, null and NaN differ). */
export function tupleId(tuple: KeyTuple): string {
  let out = '';
  for (const v of tuple) {
    if (v === null || v === undefined) out += 'z;';
    // Key values are event data: a long one is kept as its digest, so ids (map keys, stored state) stay small.
    else if (typeof v === 'string') out += v.length > LONG_KEY ? `h${createHash('sha256').update(v).digest('base64')};` : `s${v.length}:${v};`;
    else if (typeof v === 'number') out += `n${Object.is(v, -0) ? '0' : String(v)};`;
    else if (typeof v === 'boolean') out += v ? 't;' : 'f;';
    else if (typeof v === 'bigint') out += `b${v.toString()};`;
    else {
      const s = JSON.stringify(v) ?? '';
      out += `o${s.length}:${s};`;
    }
  }
  return out;
}
