/**
 * Value helpers shared by the functions and the compiler: Java-compatible number formatting,
 * code-point string order, numeric-string parsing, IP addresses and date strings as
 * Elasticsearch parses them. Pure functions, no state.
 */

/** `Double.toString` of Java (what Elasticsearch prints for a double). */
export function javaDoubleToString(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(d);
    return s.includes('.') ? s : `${s}.0`;
  }
  // Computerized scientific notation: mantissa with at least one fractional digit, `E` exponent.
  const [mant, exp] = d.toExponential().split('e') as [string, string];
  const m = mant.includes('.') ? mant : `${mant}.0`;
  const e = exp.startsWith('+') ? exp.slice(1) : exp;
  return `${m}E${e}`;
}

/** String form of a primitive as Java's `toString` would print it (`isDouble` for double-typed numbers). */
export function javaToString(v: unknown, isDouble = false): string {
  if (typeof v === 'number') {
    if (isDouble || !Number.isInteger(v)) return javaDoubleToString(v);
    return String(v);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

/**
 * Compares two strings by Unicode code point (= Lucene term order for UTF-8 keyword terms),
 * unlike JS `<`, which compares UTF-16 code units.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Map code units so that surrogates (astral code points) sort after U+E000..U+FFFF.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

const NUMERIC_STRING = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a string the way Elasticsearch number fields accept it (decimal, optional sign, fraction
 * and exponent, surrounding whitespace trimmed). Returns NaN when it is not a number.
 */
export function parseNumeric(s: string): number {
  const t = s.trim();
  if (t.length === 0 || t.length > 400 || !NUMERIC_STRING.test(t)) return NaN;
  return Number(t);
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** Parses an IPv4 or IPv6 address into 16 bytes (IPv4 as IPv4-mapped IPv6), or null. */
export function parseIp(s: string): Uint8Array | null {
  if (s.length === 0 || s.length > 64) return null;
  if (s.includes(':')) return parseIpv6(s);
  const v4 = parseIpv4(s);
  if (v4 === null) return null;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

function parseIpv4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    if (!/^\d{1,3}$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | null {
  let s = input;
  // Zone ids (`fe80::1%eth0`) are not part of the address value.
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const words: number[] = [];
  let tailV4: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  const lastPart = s.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    tailV4 = parseIpv4(lastPart);
    if (tailV4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::') && dbl >= 0) return null;
  const parseWords = (part: string): number[] | null => {
    if (part.length === 0) return [];
    const ws = part.split(':');
    const out: number[] = [];
    for (const w of ws) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
      out.push(parseInt(w, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const left = parseWords(s.slice(0, dbl));
    const right = parseWords(s.slice(dbl + 2));
    if (left === null || right === null) return null;
    const fill = 8 - left.length - right.length;
    if (fill < 1) return null;
    words.push(...left, ...new Array<number>(fill).fill(0), ...right);
  } else {
    const all = parseWords(s);
    if (all === null || all.length !== 8) return null;
    words.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  }
  if (tailV4 !== null) out.set(tailV4, 12);
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Canonical text of an IP (what an `ip` field returns): IPv4 and IPv4-mapped IPv6 as dotted quad,
 * other IPv6 in RFC 5952 form. Null when not an address.
 */
export function normalizeIp(s: string): string | null {
  const b = parseIp(s);
  if (b === null) return null;
  if (isV4Mapped(b)) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((b[2 * i] as number) << 8) | (b[2 * i + 1] as number));
  // Longest run (>= 2) of zero words is compressed.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (w: number) => w.toString(16);
  if (bestLen < 2) return words.map(hex).join(':');
  const left = words.slice(0, bestStart).map(hex).join(':');
  const right = words.slice(bestStart + bestLen).map(hex).join(':');
  return `${left}::${right}`;
}

export interface Cidr {
  bytes: Uint8Array;
  /** Prefix length in bits over the 16-byte form. */
  prefix: number;
}

/**
 * Parses `addr/len` (or a bare address = full length) like Elasticsearch `CIDRUtils`: an IPv4 block
 * covers IPv4 addresses (and their IPv4-mapped IPv6 form). Null when malformed.
 */
export function parseCidr(s: string): Cidr | null {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const bytes = parseIp(addr);
  if (bytes === null) return null;
  const isV4 = !addr.includes(':');
  const max = isV4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return null;
    len = Number(l);
    if (len > max) return null;
  }
  return { bytes, prefix: isV4 ? len + 96 : len };
}

/** True when the 16-byte address lies in the block. */
export function cidrContains(block: Cidr, addr: Uint8Array): boolean {
  let bits = block.prefix;
  for (let i = 0; i < 16 && bits > 0; i++) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((block.bytes[i] as number) & mask) !== ((addr[i] as number) & mask)) return false;
    bits -= 8;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Dates

const ISO_DATE =
  /^([+-]?\d{4,6})(?:-(\d{2})(?:-(\d{2})(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?)?$/;

/**
 * Parses an ISO-8601 date/time (`strict_date_optional_time` family, up to nanoseconds; no zone =
 * UTC as Elasticsearch assumes) to epoch milliseconds, keeping sub-millisecond digits as a
 * fraction. NaN when not a date.
 */
export function parseIsoDate(s: string): number {
  if (s.length > 64) return NaN;
  const m = ISO_DATE.exec(s);
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return NaN;
  const frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year >= 0 && year < 100) {
    // Date.UTC maps years 0..99 to 1900..1999.
    const d = new Date(ms);
    d.setUTCFullYear(year);
    ms = d.getTime();
  }
  // Reject day overflow (e.g. 02-30).
  if (new Date(ms).getUTCDate() !== day) return NaN;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    ms -= sign * (zh * 60 + zm) * 60_000;
  }
  return ms + frac;
}

/**
 * A date value (epoch ms number, numeric string = epoch ms, or ISO string) to epoch ms; `nanos`
 * keeps the sub-millisecond fraction, otherwise it is truncated (a `date` field has ms precision).
 * `parse`, when given, replaces that default (`strict_date_optional_time||epoch_millis`) with a
 * field's mapping formats (see `dates.ts` `compileDateFormats`); it returns epoch ms or NaN.
 */
export function toEpochMillis(v: unknown, nanos = false, parse?: (v: unknown) => number): number {
  let ms: number;
  if (parse !== undefined) ms = parse(v);
  else if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const n = /^-?\d+(?:\.\d+)?$/.test(v) ? Number(v) : parseIsoDate(v);
    ms = n;
  } else return NaN;
  if (!Number.isFinite(ms)) return NaN;
  return nanos ? ms : Math.floor(ms);
}
