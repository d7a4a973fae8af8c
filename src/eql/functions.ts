/**
 * The EQL function library with Elasticsearch semantics (the `*FunctionProcessor` classes of
 * x-pack/plugin/eql and the EQL function reference):
 * - null in ► null out (every function; `concat` is null if any argument is null);
 * - integer vs double arithmetic like Java: integer `/` truncates toward zero, `%` takes the sign of
 *   the dividend, integer division/modulo by zero is an error in Elasticsearch (here: null), results
 *   outside the exactly representable integer range are an overflow error there (here: null);
 * - case-insensitive variants (`fn~`) lower-case with Java `toLowerCase(Locale.ROOT)` (Unicode);
 * - type errors (Elasticsearch fails the query) evaluate to null here, so the predicate is false.
 *
 * Values are plain JS values. Whether a number is a double matters for `divide`, `modulo` and for
 * string formatting (`string(4.0)` is "4.0"); callers pass a static `NumType` per argument:
 * 'long' / 'double' when known (literal type or mapping), 'dynamic' = decide per value
 * (`Number.isInteger`).
 */
import type { FunctionName } from './ast.js';
import { cidrContains, javaToString, parseCidr, parseIp, parseNumeric, type Cidr } from './values.js';

export type NumType = 'long' | 'double' | 'dynamic';

/** Static result type of an expression, as far as the compiler knows it. */
export type StaticType = 'string' | 'boolean' | 'null' | NumType | 'unknown';

export type EvalFn = (args: readonly unknown[]) => unknown;

export interface CompiledFunction {
  fn: EvalFn;
  type: StaticType;
}

/** Functions whose result is boolean (Elasticsearch eliminates `f(...) == true`). */
export const BOOLEAN_FUNCTIONS: ReadonlySet<FunctionName> = new Set<FunctionName>([
  'cidrMatch',
  'endsWith',
  'startsWith',
  'stringContains',
]);

/** Functions that accept the `~` case-insensitive suffix. */
export const CASE_INSENSITIVE_FUNCTIONS: ReadonlySet<FunctionName> = new Set<FunctionName>([
  'between',
  'endsWith',
  'indexOf',
  'startsWith',
  'stringContains',
]);

/** Allowed argument counts [min, max] (max = Infinity for variadic). */
export const ARITY: Readonly<Record<FunctionName, readonly [number, number]>> = {
  add: [2, 2],
  between: [3, 4],
  cidrMatch: [2, Infinity],
  concat: [1, Infinity],
  divide: [2, 2],
  endsWith: [2, 2],
  indexOf: [2, 3],
  length: [1, 1],
  modulo: [2, 2],
  multiply: [2, 2],
  number: [1, 2],
  startsWith: [2, 2],
  string: [1, 1],
  stringContains: [2, 2],
  substring: [2, 3],
  subtract: [2, 2],
};

const lower = (s: string): string => s.toLowerCase();

/**
 * A value as a string argument: strings as is; numbers/booleans by their Java string form (a
 * keyword field stores a JSON number as its text). Anything else is not a string (null).
 */
export function asStringArg(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return javaToString(v);
  return null;
}

/** A value as a numeric argument: numbers, or numeric strings (a numeric field's source text). */
export function asNumberArg(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = parseNumeric(v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

function isIntegral(v: number, t: NumType): boolean {
  if (t === 'double') return false;
  if (t === 'long') return Number.isInteger(v);
  return Number.isInteger(v);
}

/** Result numeric type of a binary arithmetic operation on static types. */
export function arithType(a: StaticType, b: StaticType): NumType {
  if (a === 'double' || b === 'double') return 'double';
  if (a === 'long' && b === 'long') return 'long';
  return 'dynamic';
}

function numType(t: StaticType): NumType {
  return t === 'long' || t === 'double' ? t : 'dynamic';
}

export type ArithName = 'add' | 'subtract' | 'multiply' | 'divide' | 'modulo';

/** Integer results must stay exactly representable (Java would overflow-check long math). */
function checkedInt(r: number): number | null {
  return Number.isSafeInteger(r) ? r : null;
}

/** Builds a binary arithmetic evaluator for the argument types. */
export function arithmetic(op: ArithName, ta: StaticType, tb: StaticType): (a: unknown, b: unknown) => unknown {
  const na = numType(ta);
  const nb = numType(tb);
  return (av, bv) => {
    const a = asNumberArg(av);
    const b = asNumberArg(bv);
    if (a === null || b === null) return null;
    const ints = isIntegral(a, na) && isIntegral(b, nb);
    switch (op) {
      case 'add':
        return ints ? checkedInt(a + b) : a + b;
      case 'subtract':
        return ints ? checkedInt(a - b) : a - b;
      case 'multiply':
        return ints ? checkedInt(a * b) : a * b;
      case 'divide':
        if (ints) return b === 0 ? null : checkedInt(Math.trunc(a / b));
        return a / b;
      case 'modulo':
        if (ints) return b === 0 ? null : a % b;
        return a % b;
    }
  };
}

/** Unary minus. */
export function negate(v: unknown): unknown {
  const n = asNumberArg(v);
  return n === null ? null : n === 0 ? 0 : -n;
}

/** `substring` with Python slice semantics (StringUtils.substringSlice). */
export function substringSlice(s: string, start: number, end: number): string {
  if (s.length === 0) return s;
  const len = s.length;
  if (start < 0) start += len;
  if (start < 0) start = 0;
  if (end < 0) end += len;
  if (end < 0) end = 0;
  else if (end > len) end = len;
  if (start >= end) return '';
  return s.substring(start, end);
}

/** `between` (StringUtils.between). Null where Java would throw (greedy right bound before left). */
export function betweenImpl(s: string, left: string, right: string, greedy: boolean, ci: boolean): string | null {
  if (s.length === 0 || left.length === 0 || right.length === 0) return s;
  let m = s;
  let l = left;
  let r = right;
  if (ci) {
    m = lower(m);
    l = lower(l);
    r = lower(r);
  }
  let idx = m.indexOf(l);
  if (idx === -1) return '';
  const start = idx + l.length;
  idx = greedy ? m.lastIndexOf(r) : m.indexOf(r, start);
  if (idx === -1) return '';
  if (idx < start) return null;
  return s.substring(start, idx);
}

/** Java int truncation of a number argument (`Number.intValue()`). */
function intValue(n: number): number {
  if (Number.isNaN(n)) return 0;
  if (n >= 2147483647) return 2147483647;
  if (n <= -2147483648) return -2147483648;
  return Math.trunc(n);
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

/** `number(str, base)` (ToNumberFunctionProcessor): null when not convertible. */
export function toNumberImpl(sv: unknown, bv: unknown): number | null {
  if (sv === null || sv === undefined) return null;
  if (typeof sv !== 'string') return null;
  let s = sv.trim();
  const hex = s.startsWith('0x') || s.startsWith('0X');
  let radix: number;
  if (bv === null || bv === undefined) radix = hex ? 16 : 10;
  else if (typeof bv === 'number' && Number.isInteger(bv)) radix = bv;
  else return null;
  if (radix < 2 || radix > 36) return null;
  if (hex && radix === 16) s = s.slice(2);
  if (s.length === 0 || s.length > 400) return null;
  if (radix === 10) {
    if (!DECIMAL.test(s)) return null;
    return Number(s);
  }
  let sign = 1;
  if (s[0] === '+' || s[0] === '-') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s.length === 0) return null;
  let acc = 0;
  for (let i = 0; i < s.length; i++) {
    const d = parseInt(s[i] as string, 36);
    if (Number.isNaN(d) || d >= radix) return null;
    acc = acc * radix + d;
  }
  return checkedInt(sign * acc);
}

/** `cidrMatch(ip, blocks…)`: null on null/invalid input. */
export function cidrMatchImpl(ip: unknown, blocks: readonly (Cidr | null)[]): boolean | null {
  const s = asStringArg(ip);
  if (s === null) return null;
  const addr = parseIp(s);
  if (addr === null) return null;
  let any = false;
  for (const b of blocks) {
    if (b === null) return null;
    if (cidrContains(b, addr)) any = true;
  }
  return any;
}

/** Parses CIDR arguments once when they are literals. */
export function cidrArg(v: unknown): Cidr | null {
  return typeof v === 'string' ? parseCidr(v) : null;
}

/**
 * Compiles a call. `argTypes` are the static types of the arguments. The returned function takes the
 * evaluated argument values (in order) and returns the result (null per the rules above).
 */
export function compileFunction(name: FunctionName, caseInsensitive: boolean, argTypes: readonly StaticType[]): CompiledFunction {
  const ci = caseInsensitive;
  switch (name) {
    case 'add':
    case 'subtract':
    case 'multiply':
    case 'divide':
    case 'modulo': {
      const ta = argTypes[0] ?? 'unknown';
      const tb = argTypes[1] ?? 'unknown';
      const op = arithmetic(name, ta, tb);
      return { fn: (a) => op(a[0], a[1]), type: arithType(ta, tb) };
    }
    case 'between':
      return {
        type: 'string',
        fn: (a) => {
          const s = asStringArg(a[0]);
          if (s === null) return null;
          const l = asStringArg(a[1]);
          const r = asStringArg(a[2]);
          if (l === null || r === null) return null;
          const g = a.length > 3 ? a[3] : false;
          if (typeof g !== 'boolean') return null;
          return betweenImpl(s, l, r, g, ci);
        },
      };
    case 'cidrMatch':
      return {
        type: 'boolean',
        fn: (a) => {
          const blocks: (Cidr | null)[] = [];
          for (let i = 1; i < a.length; i++) blocks.push(cidrArg(a[i]));
          return cidrMatchImpl(a[0], blocks);
        },
      };
    case 'concat': {
      const types = argTypes;
      return {
        type: 'string',
        fn: (a) => {
          let out = '';
          for (let i = 0; i < a.length; i++) {
            const v = a[i];
            if (v === null || v === undefined) return null;
            out += javaToString(v, types[i] === 'double');
          }
          return out;
        },
      };
    }
    case 'endsWith':
    case 'startsWith':
    case 'stringContains':
      return {
        type: 'boolean',
        fn: (a) => {
          let s = asStringArg(a[0]);
          let sub = asStringArg(a[1]);
          if (s === null || sub === null) return null;
          if (name === 'stringContains' && (s.length === 0 || sub.length === 0)) return false;
          if (ci) {
            s = lower(s);
            sub = lower(sub);
          }
          if (name === 'startsWith') return s.startsWith(sub);
          if (name === 'endsWith') return s.endsWith(sub);
          return s.includes(sub);
        },
      };
    case 'indexOf':
      return {
        type: 'long',
        fn: (a) => {
          let s = asStringArg(a[0]);
          let sub = asStringArg(a[1]);
          if (s === null || sub === null) return null;
          const st = a.length > 2 ? a[2] : null;
          let start = 0;
          if (st !== null && st !== undefined) {
            const n = asNumberArg(st);
            if (n === null) return null;
            start = intValue(n);
          }
          if (ci) {
            s = lower(s);
            sub = lower(sub);
          }
          const r = s.indexOf(sub, Math.max(0, start));
          return r < 0 ? null : r;
        },
      };
    case 'length':
      return {
        type: 'long',
        fn: (a) => {
          const s = asStringArg(a[0]);
          return s === null ? null : s.length;
        },
      };
    case 'number':
      return { type: 'dynamic', fn: (a) => toNumberImpl(a[0], a.length > 1 ? a[1] : null) };
    case 'string': {
      const isDouble = argTypes[0] === 'double';
      return {
        type: 'string',
        fn: (a) => {
          const v = a[0];
          if (v === null || v === undefined) return null;
          if (typeof v === 'object') return null;
          return javaToString(v, isDouble);
        },
      };
    }
    case 'substring':
      return {
        type: 'string',
        fn: (a) => {
          const s = asStringArg(a[0]);
          if (s === null) return null;
          const st = a[1];
          if (st === null || st === undefined) return s;
          const start = asNumberArg(st);
          if (start === null) return null;
          const en = a.length > 2 ? a[2] : null;
          let end = s.length;
          if (en !== null && en !== undefined) {
            const e = asNumberArg(en);
            if (e === null) return null;
            end = intValue(e);
          }
          return substringSlice(s, intValue(start), end);
        },
      };
  }
}
