/**
 * Fast path for the timestamps nearly every event carries: the canonical ISO-8601 form
 * `YYYY-MM-DD[T t space]HH:mm:ss(.fraction)?(Z|z|±hh(:?mm)?)?` (what Elasticsearch, Beats and
 * Elastic Agent write). Parsed with char codes, no regex, no allocation (up to 3 fraction digits).
 *
 * Exactness contract: for every string it accepts, the result is bit-for-bit what `parseIsoDate`
 * (values.ts) returns; anything else (other shapes, years below 1000, out-of-range fields, day
 * overflow) returns NaN so the caller falls back to `parseIsoDate`, which decides. The fraction is
 * computed with the very same expression (`Number("0.digits") * 1000`), precomputed for 1–3 digits.
 */

/** FRACTION[d][k] = Number(`0.${k padded to d digits}`) * 1000, as parseIsoDate computes it. */
const FRACTION: Float64Array[] = [1, 2, 3].map((d) => {
  const table = new Float64Array(10 ** d);
  for (let k = 0; k < table.length; k++) table[k] = Number(`0.${String(k).padStart(d, '0')}`) * 1000;
  return table;
});

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (exact integer arithmetic). */
function daysFromCivil(y: number, m: number, d: number): number {
  // Only called with 1000 <= y <= 9999, so every quotient is of non-negative small integers.
  const yy = m <= 2 ? y - 1 : y;
  const era = (yy / 400) | 0;
  const yoe = yy - era * 400;
  const doy = (((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) | 0) + d - 1;
  const doe = yoe * 365 + ((yoe / 4) | 0) - ((yoe / 100) | 0) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Epoch milliseconds (with the sub-millisecond fraction) of a canonical ISO-8601 timestamp, or NaN
 * when `s` is not in the canonical shape handled here (the caller then uses `parseIsoDate`).
 */
export function parseCanonicalTimestamp(s: string): number {
  const len = s.length;
  if (len < 19 || len > 64) return NaN;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  if (y1 < 10 || y2 < 0) return NaN; // years below 1000 take the general path
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return NaN;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // T t space
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return NaN;
  const year = y1 * 100 + y2;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return NaN;

  let i = 19;
  let frac = 0;
  let c = s.charCodeAt(i);
  if (c === 46 || c === 44) {
    // . or ,
    const start = ++i;
    let k = 0;
    while (i < len) {
      const dgt = s.charCodeAt(i) - 48;
      if (dgt < 0 || dgt > 9) break;
      k = k * 10 + dgt;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 9) return NaN;
    frac = digits <= 3 ? ((FRACTION[digits - 1] as Float64Array)[k] as number) : Number(`0.${s.slice(start, i)}`) * 1000;
    c = s.charCodeAt(i);
  }
  let offsetMinutes = 0;
  if (i < len) {
    if (c === 90 || c === 122) {
      // Z z
      if (i + 1 !== len) return NaN;
    } else if (c === 43 || c === 45) {
      // + -
      const zh = two(s, i + 1);
      if (zh < 0) return NaN;
      let zm = 0;
      const rest = len - (i + 3);
      if (rest === 3 && s.charCodeAt(i + 3) === 58) zm = two(s, i + 4);
      else if (rest === 2) zm = two(s, i + 3);
      else if (rest !== 0) return NaN;
      if (zm < 0) return NaN;
      offsetMinutes = (c === 45 ? -1 : 1) * (zh * 60 + zm);
    } else return NaN;
  }
  let ms = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000;
  ms -= offsetMinutes * 60_000;
  return ms + frac;
}
