/**
 * Date parsing and printing with Elasticsearch mapping `format`s: java.time patterns (`dd-MM-yyyy`,
 * `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, …), the built-in named formats (`strict_date_optional_time`,
 * `epoch_millis`, `basic_date`, …) and `a||b` alternatives tried in order, as ES `JavaDateFormatter`
 * does. Pure functions, no state.
 *
 * Values are event data (hostile): input text is capped in length, each pattern element reads at a
 * fixed position with bounded digit counts, optional sections `[…]` restore state on failure without
 * backtracking into earlier elements, and no regular expression runs over the input. Patterns come
 * from mappings; unsupported pattern letters (week-based fields, zone names, …) make that alternative
 * unusable rather than guessed at, so a value only it would parse stays unparsed.
 *
 * Resolution follows ES `DateFormatters.from`: missing date parts default to 1970-01-01, missing
 * time parts to 0, a missing offset to UTC; impossible dates (Feb 30, hour 24) fail.
 */
import { parseIsoDate } from './values.js';

/** Longest input looked at (longer values are not dates in any supported format). */
const MAX_INPUT = 128;
/** Longest pattern compiled. */
const MAX_PATTERN = 256;

type NumField = 'year' | 'month' | 'day' | 'hour' | 'hour12' | 'minute' | 'second' | 'dayOfYear' | 'dayOfWeek';

type Tok =
  | { k: 'lit'; s: string }
  /** Decimal field of `min..max` digits; `reserve` = digits kept for the fixed-width fields right after it. */
  | { k: 'num'; f: NumField; min: number; max: number; reserve: number; signed: boolean; width: number }
  /** `yy`: two digits, base 2000 (java `appendValueReduced(…, 2, 2, 2000)`). */
  | { k: 'year2' }
  /** Fraction of second, `min..max` digits (printed with at least `width`). */
  | { k: 'frac'; min: number; max: number; width: number }
  | { k: 'text'; f: 'month' | 'ampm' | 'dayOfWeek'; names: readonly string[] }
  /** Offset. `zulu`: accepts/prints `Z` for zero; `colon`: `+HH:MM`; `anyForm`: the built-ins' ±HH[[:]MM]. */
  | { k: 'offset'; zulu: boolean; colon: boolean; minutes: 'opt' | 'req'; anyForm: boolean }
  | { k: 'opt'; toks: Tok[] }
  /** Built-ins implemented directly. */
  | { k: 'iso' }
  | { k: 'epoch'; unitMs: number };

interface State {
  year?: number;
  month?: number;
  day?: number;
  hour?: number;
  hour12?: number;
  ampm?: number;
  minute?: number;
  second?: number;
  nanos?: number;
  dayOfYear?: number;
  dayOfWeek?: number;
  offsetMin?: number;
  /** Set by the `iso`/`epoch` built-ins: the whole instant. */
  instantMs?: number;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTHS_SHORT = MONTHS.map((m) => m.slice(0, 3));
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const DAYS_SHORT = DAYS.map((d) => d.slice(0, 3));
const AMPM = ['AM', 'PM'];

/** The built-in formats (`strict_` prefix optional) as patterns; ISO and epoch ones are special. */
const NAMED: Record<string, string> = {
  basic_date: 'yyyyMMdd',
  basic_date_time: "yyyyMMdd'T'HHmmss.SSS{offset}",
  basic_date_time_no_millis: "yyyyMMdd'T'HHmmss{offset}",
  basic_ordinal_date: 'yyyyDDD',
  basic_ordinal_date_time: "yyyyDDD'T'HHmmss.SSS{offset}",
  basic_ordinal_date_time_no_millis: "yyyyDDD'T'HHmmss{offset}",
  basic_time: 'HHmmss.SSS{offset}',
  basic_time_no_millis: 'HHmmss{offset}',
  basic_t_time: "'T'HHmmss.SSS{offset}",
  basic_t_time_no_millis: "'T'HHmmss{offset}",
  date: 'yyyy-MM-dd',
  date_hour: "yyyy-MM-dd'T'HH",
  date_hour_minute: "yyyy-MM-dd'T'HH:mm",
  date_hour_minute_second: "yyyy-MM-dd'T'HH:mm:ss",
  date_hour_minute_second_fraction: "yyyy-MM-dd'T'HH:mm:ss.{frac}",
  date_hour_minute_second_millis: "yyyy-MM-dd'T'HH:mm:ss.{frac}",
  date_time: "yyyy-MM-dd'T'HH:mm:ss.{frac}{offset}",
  date_time_no_millis: "yyyy-MM-dd'T'HH:mm:ss{offset}",
  hour: 'HH',
  hour_minute: 'HH:mm',
  hour_minute_second: 'HH:mm:ss',
  hour_minute_second_fraction: 'HH:mm:ss.{frac}',
  hour_minute_second_millis: 'HH:mm:ss.{frac}',
  ordinal_date: 'yyyy-DDD',
  ordinal_date_time: "yyyy-DDD'T'HH:mm:ss.{frac}{offset}",
  ordinal_date_time_no_millis: "yyyy-DDD'T'HH:mm:ss{offset}",
  time: 'HH:mm:ss.{frac}{offset}',
  time_no_millis: 'HH:mm:ss{offset}',
  t_time: "'T'HH:mm:ss.{frac}{offset}",
  t_time_no_millis: "'T'HH:mm:ss{offset}",
  year: 'yyyy',
  year_month: 'yyyy-MM',
  year_month_day: 'yyyy-MM-dd',
};

/** ISO-8601 built-ins, parsed by `parseIsoDate` and printed as `strict_date_optional_time`. */
const ISO_NAMES = new Set(['date_optional_time', 'date_optional_time_nanos', 'iso8601']);

// ---------------------------------------------------------------------------------------------
// Pattern compilation

/** One alternative (no `||`) compiled to tokens, or null when it uses something unsupported. */
function compileAlternative(spec: string): Tok[] | null {
  const name = spec.startsWith('strict_') ? spec.slice(7) : spec;
  if (name === 'epoch_millis') return [{ k: 'epoch', unitMs: 1 }];
  if (name === 'epoch_second') return [{ k: 'epoch', unitMs: 1000 }];
  if (ISO_NAMES.has(name)) return [{ k: 'iso' }];
  const named = Object.hasOwn(NAMED, name) ? NAMED[name] : undefined;
  if (named !== undefined) return compileNamed(named, spec !== name);
  return compilePattern(spec);
}

/** A named format's pattern with its `{frac}` (1–9 digits) and `{offset}` (Z, ±HH, ±HHMM, ±HH:MM) slots. */
function compileNamed(pattern: string, strict: boolean): Tok[] | null {
  const out: Tok[] = [];
  for (const part of pattern.split(/(\{frac\}|\{offset\})/)) {
    if (part === '{frac}') out.push({ k: 'frac', min: 1, max: 9, width: 3 });
    else if (part === '{offset}') out.push({ k: 'offset', zulu: true, colon: false, minutes: 'opt', anyForm: true });
    else if (part.length > 0) {
      const toks = compilePattern(part);
      if (toks === null) return null;
      out.push(...toks);
    }
  }
  // Non-strict variants accept 1–2 digit month/day/hour/minute/second (still printed with 2).
  if (!strict) relaxFixed(out);
  return withReserves(out);
}

function relaxFixed(toks: Tok[]): void {
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Tok;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    // Only between separators: adjacent digits (basic formats) must stay fixed-width.
    const separated = (prev === undefined || prev.k === 'lit') && (next === undefined || next.k === 'lit');
    if (t.k === 'num' && t.f !== 'year' && t.f !== 'dayOfYear' && t.min === 2 && separated) toks[i] = { ...t, min: 1 };
  }
}

const PATTERN_LETTERS = /[A-Za-z]/;

/** A java.time pattern (`DateTimeFormatter.ofPattern` syntax, the common subset). */
function compilePattern(p: string): Tok[] | null {
  if (p.length === 0 || p.length > MAX_PATTERN) return null;
  const stack: Tok[][] = [[]];
  let i = 0;
  const cur = (): Tok[] => stack[stack.length - 1] as Tok[];
  const lit = (s: string) => {
    const list = cur();
    const last = list[list.length - 1];
    if (last !== undefined && last.k === 'lit') list[list.length - 1] = { k: 'lit', s: last.s + s };
    else list.push({ k: 'lit', s });
  };
  while (i < p.length) {
    const c = p[i] as string;
    if (c === "'") {
      // Quoted text; `''` is a quote (inside or outside quoted text).
      if (p[i + 1] === "'") {
        lit("'");
        i += 2;
        continue;
      }
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= p.length) return null;
        if (p[j] === "'") {
          if (p[j + 1] !== "'") break;
          text += "'";
          j += 2;
        } else text += p[j++];
      }
      lit(text);
      i = j + 1;
      continue;
    }
    if (c === '[') {
      if (stack.length > 8) return null;
      stack.push([]);
      i++;
      continue;
    }
    if (c === ']') {
      if (stack.length < 2) return null;
      const toks = stack.pop() as Tok[];
      cur().push({ k: 'opt', toks: withReserves(toks) });
      i++;
      continue;
    }
    if (!PATTERN_LETTERS.test(c)) {
      if (c === '{' || c === '}' || c === '#') return null; // reserved by java.time
      lit(c);
      i++;
      continue;
    }
    let n = 1;
    while (p[i + n] === c) n++;
    const tok = letterToken(c, n);
    if (tok === null) return null;
    cur().push(tok);
    i += n;
  }
  if (stack.length !== 1) return null;
  return withReserves(stack[0] as Tok[]);
}

function num(f: NumField, min: number, max: number, signed = false): Tok {
  return { k: 'num', f, min, max, reserve: 0, signed, width: min };
}

/** java.time `DateTimeFormatterBuilder.appendPattern` semantics for one run of a letter. */
function letterToken(c: string, n: number): Tok | null {
  const fixedOrFree = (f: NumField, maxLen: number): Tok | null =>
    n === 1 ? num(f, 1, 10) : n === 2 ? num(f, 2, 2) : n <= maxLen ? num(f, n, n) : null;
  switch (c) {
    case 'y':
    case 'u':
      if (n === 2) return { k: 'year2' };
      // `y`/`yyy…`: at least n digits (java allows up to 19; 9 keeps the arithmetic exact).
      return num('year', n === 1 ? 1 : n, 9, c === 'u');
    case 'M':
    case 'L':
      if (n <= 2) return fixedOrFree('month', 2);
      if (n === 3) return { k: 'text', f: 'month', names: MONTHS_SHORT };
      if (n === 4) return { k: 'text', f: 'month', names: MONTHS };
      return null;
    case 'd':
      return n <= 2 ? fixedOrFree('day', 2) : null;
    case 'D':
      return n === 1 ? num('dayOfYear', 1, 3) : n <= 3 ? num('dayOfYear', n, 3) : null;
    case 'H':
      return n <= 2 ? fixedOrFree('hour', 2) : null;
    case 'h':
      return n <= 2 ? fixedOrFree('hour12', 2) : null;
    case 'm':
      return n <= 2 ? fixedOrFree('minute', 2) : null;
    case 's':
      return n <= 2 ? fixedOrFree('second', 2) : null;
    case 'S':
      return n <= 9 ? { k: 'frac', min: n, max: n, width: n } : null;
    case 'a':
      return n === 1 ? { k: 'text', f: 'ampm', names: AMPM } : null;
    case 'E':
      if (n <= 3) return { k: 'text', f: 'dayOfWeek', names: DAYS_SHORT };
      if (n === 4) return { k: 'text', f: 'dayOfWeek', names: DAYS };
      return null;
    case 'X':
      // X: ±HH[MM]; XX: ±HHMM; XXX: ±HH:MM; XXXX/XXXXX with optional seconds are not supported.
      if (n === 1) return { k: 'offset', zulu: true, colon: false, minutes: 'opt', anyForm: false };
      if (n === 2) return { k: 'offset', zulu: true, colon: false, minutes: 'req', anyForm: false };
      if (n === 3) return { k: 'offset', zulu: true, colon: true, minutes: 'req', anyForm: false };
      return null;
    case 'x':
      if (n === 1) return { k: 'offset', zulu: false, colon: false, minutes: 'opt', anyForm: false };
      if (n === 2) return { k: 'offset', zulu: false, colon: false, minutes: 'req', anyForm: false };
      if (n === 3) return { k: 'offset', zulu: false, colon: true, minutes: 'req', anyForm: false };
      return null;
    case 'Z':
      if (n <= 3) return { k: 'offset', zulu: false, colon: false, minutes: 'req', anyForm: false };
      if (n === 5) return { k: 'offset', zulu: true, colon: true, minutes: 'req', anyForm: false };
      return null;
    default:
      return null; // G, Q, w, W, e, c, k, K, n, N, A, V, z, O, …
  }
}

/**
 * java.time adjacent value parsing: a variable-width number directly followed by fixed-width
 * numbers leaves them their digits (`yyyyMMdd` reads "20221217" as 2022-12-17).
 */
function withReserves(toks: Tok[]): Tok[] {
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Tok;
    if (t.k !== 'num' || t.min === t.max) continue;
    let reserve = 0;
    for (let j = i + 1; j < toks.length; j++) {
      const u = toks[j] as Tok;
      if (u.k === 'num' && u.min === u.max) reserve += u.min;
      else if (u.k === 'year2') reserve += 2;
      else if (u.k === 'frac' && u.min === u.max) reserve += u.min;
      else break;
    }
    if (reserve > 0) toks[i] = { ...t, reserve };
  }
  return toks;
}

// ---------------------------------------------------------------------------------------------
// Parsing

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function allDigits(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return s.length > from;
}

/** Parses `toks` from `pos` into `st`; the position after them, or -1. */
function parseToks(toks: readonly Tok[], s: string, pos: number, st: State): number {
  for (const t of toks) {
    if (pos < 0) return -1;
    pos = parseTok(t, s, pos, st);
  }
  return pos;
}

function parseTok(t: Tok, s: string, pos: number, st: State): number {
  switch (t.k) {
    case 'lit':
      return s.startsWith(t.s, pos) ? pos + t.s.length : -1;
    case 'num': {
      let sign = 1;
      let p = pos;
      if (t.signed && (s[p] === '-' || s[p] === '+')) {
        sign = s[p] === '-' ? -1 : 1;
        p++;
      }
      let run = 0;
      while (run < t.max + t.reserve && isDigit(s.charCodeAt(p + run))) run++;
      const take = Math.min(t.max, run - t.reserve);
      if (take < t.min) return -1;
      const v = sign * Number(s.slice(p, p + take));
      if (!setField(st, t.f, v)) return -1;
      return p + take;
    }
    case 'year2': {
      if (!isDigit(s.charCodeAt(pos)) || !isDigit(s.charCodeAt(pos + 1))) return -1;
      return setField(st, 'year', 2000 + Number(s.slice(pos, pos + 2))) ? pos + 2 : -1;
    }
    case 'frac': {
      let n = 0;
      while (n < t.max && isDigit(s.charCodeAt(pos + n))) n++;
      if (n < t.min) return -1;
      st.nanos = Number(s.slice(pos, pos + n).padEnd(9, '0'));
      return pos + n;
    }
    case 'text': {
      for (let i = 0; i < t.names.length; i++) {
        const name = t.names[i] as string;
        if (s.startsWith(name, pos)) {
          if (t.f === 'month') st.month = i + 1;
          else if (t.f === 'ampm') st.ampm = i;
          else st.dayOfWeek = i + 1;
          return pos + name.length;
        }
      }
      return -1;
    }
    case 'offset':
      return parseOffset(t, s, pos, st);
    case 'opt': {
      const trial: State = { ...st };
      const end = parseToks(t.toks, s, pos, trial);
      if (end < 0) return pos;
      Object.assign(st, trial);
      return end;
    }
    case 'iso': {
      // The rest of the input is the ISO date (the named format is the whole alternative). A bare
      // signed integer is not a signed year here: like the default parsing it is left to epoch_millis.
      const rest = s.slice(pos);
      if ((rest[0] === '-' || rest[0] === '+') && allDigits(rest, 1)) return -1;
      const ms = parseIsoDate(rest);
      if (Number.isNaN(ms)) return -1;
      st.instantMs = ms;
      return s.length;
    }
    case 'epoch': {
      const ms = parseEpoch(s.slice(pos), t.unitMs);
      if (Number.isNaN(ms)) return -1;
      st.instantMs = ms;
      return s.length;
    }
  }
}

function setField(st: State, f: NumField, v: number): boolean {
  if (st[f] !== undefined && st[f] !== v) return false; // the same field twice must agree
  st[f] = v;
  return true;
}

function twoDigits(s: string, pos: number): number {
  const a = s.charCodeAt(pos);
  const b = s.charCodeAt(pos + 1);
  return isDigit(a) && isDigit(b) ? (a - 48) * 10 + (b - 48) : -1;
}

function parseOffset(t: Extract<Tok, { k: 'offset' }>, s: string, pos: number, st: State): number {
  if (s[pos] === 'Z' && t.zulu) {
    st.offsetMin = 0;
    return pos + 1;
  }
  const c = s[pos];
  if (c !== '+' && c !== '-') return -1;
  const hh = twoDigits(s, pos + 1);
  if (hh < 0 || hh > 18) return -1;
  let p = pos + 3;
  let mm = 0;
  if (t.anyForm) {
    // Built-ins: ±HH, ±HHMM or ±HH:MM.
    const withColon = s[p] === ':' ? twoDigits(s, p + 1) : -1;
    const bare = withColon < 0 ? twoDigits(s, p) : -1;
    if (withColon >= 0) [mm, p] = [withColon, p + 3];
    else if (bare >= 0) [mm, p] = [bare, p + 2];
  } else if (t.colon) {
    const m = s[p] === ':' ? twoDigits(s, p + 1) : -1;
    if (m < 0) return -1;
    [mm, p] = [m, p + 3];
  } else {
    const m = twoDigits(s, p);
    if (m >= 0) [mm, p] = [m, p + 2];
    else if (t.minutes === 'req') return -1;
  }
  if (mm > 59) return -1;
  st.offsetMin = (c === '-' ? -1 : 1) * (hh * 60 + mm);
  return p;
}

/** `epoch_millis` / `epoch_second`: optional `-`, up to 19 digits, optional fraction. */
function parseEpoch(s: string, unitMs: number): number {
  let p = 0;
  if (s[0] === '-') p = 1;
  const start = p;
  while (p < s.length && p - start < 19 && isDigit(s.charCodeAt(p))) p++;
  if (p === start) return NaN;
  let end = p;
  if (s[p] === '.') {
    let q = p + 1;
    while (q < s.length && q - p <= 9 && isDigit(s.charCodeAt(q))) q++;
    if (q === p + 1) return NaN;
    end = q;
  }
  if (end !== s.length) return NaN;
  return Number(s) * unitMs;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** The parsed fields to epoch ms (fraction = sub-ms), NaN when they do not form a valid instant. */
function resolve(st: State): number {
  if (st.instantMs !== undefined) return st.instantMs;
  const year = st.year ?? 1970;
  let days: number;
  if (st.dayOfYear !== undefined) {
    if (st.dayOfYear < 1 || st.dayOfYear > (isLeap(year) ? 366 : 365)) return NaN;
    days = daysFromCivil(year, 1, 1) + st.dayOfYear - 1;
    if (st.month !== undefined || st.day !== undefined) {
      const check = daysFromCivil(year, st.month ?? 1, st.day ?? 1);
      if (st.month !== undefined && st.day !== undefined && check !== days) return NaN;
    }
  } else {
    const month = st.month ?? 1;
    const day = st.day ?? 1;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
    days = daysFromCivil(year, month, day);
  }
  // The day of week, when given, must agree with the date (java STRICT cross-check).
  if (st.dayOfWeek !== undefined && ((((days % 7) + 7 + 3) % 7) + 1) !== st.dayOfWeek) return NaN;
  let hour = st.hour;
  if (st.hour12 !== undefined) {
    if (st.hour12 < 1 || st.hour12 > 12) return NaN;
    const h = (st.hour12 % 12) + (st.ampm === 1 ? 12 : 0);
    if (hour !== undefined && hour !== h) return NaN;
    hour = h;
  } else if (st.ampm !== undefined && hour !== undefined && (hour >= 12 ? 1 : 0) !== st.ampm) return NaN;
  const h = hour ?? 0;
  const mi = st.minute ?? 0;
  const se = st.second ?? 0;
  if (h > 23 || mi > 59 || se > 59) return NaN;
  const ms = days * 86_400_000 + h * 3_600_000 + mi * 60_000 + se * 1000 - (st.offsetMin ?? 0) * 60_000;
  return ms + (st.nanos ?? 0) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Printing (what the `fields` API returns for a date: the first alternative of the format)

function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= width ? s : '0'.repeat(width - s.length) + s);
}

interface Civil {
  year: number;
  month: number;
  day: number;
  doy: number;
  dow: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
}

function civilOf(ms: number): Civil {
  const whole = Math.floor(ms);
  const days = Math.floor(whole / 86_400_000);
  const rem = whole - days * 86_400_000;
  // civil_from_days
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doyMar = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doyMar + 2) / 153);
  const day = doyMar - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return {
    year,
    month,
    day,
    doy: days - daysFromCivil(year, 1, 1) + 1,
    dow: ((((days % 7) + 7 + 3) % 7) + 1),
    hour: Math.floor(rem / 3_600_000),
    minute: Math.floor(rem / 60_000) % 60,
    second: Math.floor(rem / 1000) % 60,
    nanos: Math.round((ms - whole) * 1e6) + (rem % 1000) * 1e6,
  };
}

function printToks(toks: readonly Tok[], c: Civil, ms: number): string {
  let out = '';
  for (const t of toks) {
    switch (t.k) {
      case 'lit':
        out += t.s;
        break;
      case 'num': {
        const v = t.f === 'hour12' ? (c.hour % 12 === 0 ? 12 : c.hour % 12) : t.f === 'dayOfYear' ? c.doy : t.f === 'dayOfWeek' ? c.dow : c[t.f];
        // Year: `+` when wider than the pad (java SignStyle.EXCEEDS_PAD).
        const s = pad(v, t.width);
        out += t.f === 'year' && t.width >= 4 && v > 9999 ? `+${s}` : s;
        break;
      }
      case 'year2':
        out += pad(((c.year % 100) + 100) % 100, 2);
        break;
      case 'frac': {
        let s = pad(c.nanos, 9).slice(0, t.max);
        while (s.length > t.width && s.endsWith('0')) s = s.slice(0, -1);
        out += s;
        break;
      }
      case 'text':
        out += t.f === 'month' ? (t.names[c.month - 1] as string) : t.f === 'ampm' ? (t.names[c.hour >= 12 ? 1 : 0] as string) : (t.names[c.dow - 1] as string);
        break;
      case 'offset':
        // Values are printed in UTC.
        out += t.zulu ? 'Z' : t.colon ? '+00:00' : t.minutes === 'opt' ? '+00' : '+0000';
        break;
      case 'opt':
        out += printToks(t.toks, c, ms);
        break;
      case 'iso':
        out += printIso(c);
        break;
      case 'epoch':
        out += String(t.unitMs === 1 ? Math.floor(ms) : Math.floor(ms / 1000));
        break;
    }
  }
  return out;
}

/** `strict_date_optional_time` printing: `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (Z for UTC). */
function printIso(c: Civil): string {
  const y = c.year >= 0 && c.year <= 9999 ? pad(c.year, 4) : c.year > 9999 ? `+${c.year}` : pad(c.year, 4);
  return `${y}-${pad(c.month, 2)}-${pad(c.day, 2)}T${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}.${pad(Math.floor(c.nanos / 1e6), 3)}Z`;
}

// ---------------------------------------------------------------------------------------------
// Public API

/** One mapping `format` value (possibly `a||b||…`), compiled. */
export interface DateFormat {
  /** The `format` text as given. */
  readonly source: string;
  /** True when at least one alternative is supported. */
  readonly usable: boolean;
  /** Epoch ms (sub-ms digits as a fraction), or NaN when no alternative parses the text. */
  parse(text: string): number;
  /** The instant as the `fields` API prints it (first alternative), or null when that one is unsupported. */
  print(ms: number): string | null;
}

/** Splits `a||b` and compiles each alternative (unsupported ones are skipped when parsing). */
export function compileDateFormat(format: string): DateFormat {
  const alternatives = format.split('||').map((a) => compileAlternative(a.trim()));
  const usable = alternatives.filter((a): a is Tok[] => a !== null);
  const first = alternatives[0] ?? null;
  return {
    source: format,
    usable: usable.length > 0,
    parse(text: string): number {
      if (text.length === 0 || text.length > MAX_INPUT) return NaN;
      for (const toks of usable) {
        const st: State = {};
        if (parseToks(toks, text, 0, st) !== text.length) continue;
        const ms = resolve(st);
        if (Number.isFinite(ms)) return ms;
      }
      return NaN;
    },
    print(ms: number): string | null {
      if (first === null || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
      return printToks(first, civilOf(ms), ms);
    },
  };
}

/** The text Elasticsearch hands a date parser for a JSON value (numbers as written), or null. */
export function dateText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/**
 * The mapping formats of a field across indices, compiled: `parse` tries each index's format in
 * order and returns the first instant found; `which` tells which format parsed (for printing).
 * Null when no format is usable (callers then keep the default ISO/epoch parsing).
 */
export interface DateFormatSet {
  readonly formats: readonly DateFormat[];
  /** Epoch ms, or NaN. */
  parse(v: unknown): number;
  /** Index in `formats` of the first format parsing the value, or -1. */
  which(v: unknown): number;
}

export function compileDateFormats(formats: readonly string[]): DateFormatSet | null {
  const compiled = formats.map(compileDateFormat).filter((f) => f.usable);
  if (compiled.length === 0) return null;
  const which = (v: unknown): number => {
    const text = dateText(v);
    if (text === null) return -1;
    for (let i = 0; i < compiled.length; i++) if (!Number.isNaN((compiled[i] as DateFormat).parse(text))) return i;
    return -1;
  };
  return {
    formats: compiled,
    parse(v: unknown): number {
      const text = dateText(v);
      if (text === null) return NaN;
      for (const f of compiled) {
        const ms = f.parse(text);
        if (!Number.isNaN(ms)) return ms;
      }
      return NaN;
    },
    which,
  };
}
