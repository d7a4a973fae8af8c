/**
 * EQL AST ► closures, once per rule. Semantics are Elasticsearch's (which evaluates each `where`
 * as Query DSL on indexed values, see research/es-eql-semantics.md §0–§3):
 *
 * - Every atomic predicate is "some value of the field satisfies it" (term/range/wildcard queries
 *   on multi-valued fields); a missing field (absent, null, [] or only objects) satisfies nothing.
 * - `not`, `!=`, `not in` are plain boolean negation of that (`bool.must_not`): true on a missing
 *   field. `f == null` is true iff the field is missing, `f != null` iff present.
 * - A bare field `f` means `f == true`; `fn(..) == true` means `fn(..)`, `fn(..) == false` means
 *   `not fn(..)` (Elasticsearch's BooleanFunctionEqualsElimination) for boolean functions.
 * - Predicates with functions/arithmetic (Painless scripts in Elasticsearch) are evaluated over
 *   every combination of the values of the fields they read — each field occurrence is its own
 *   loop, a missing field contributes one null — and are true if some combination is true
 *   (`nullSafeFilter`: null is false). At most `MAX_SCRIPT_COMBINATIONS` combinations are tried.
 * - `:`/`in~`/`like~`/`regex~` on a field fold ASCII only (Elasticsearch `case_insensitive` is
 *   ASCII); inside scripts (function on the left) folding is Java `toLowerCase` (Unicode).
 * - Constant null (a null literal inside an expression, or `?field` unmapped per `options.schema`)
 *   folds with 3-valued logic like Elasticsearch's optimizer: `?f == null` is true, `?f == 1`,
 *   `not (?f == 1)`, bare `?f` are false.
 *
 * Value comparison without a schema (values keep their JSON types): numbers compare numerically;
 * a number and a numeric string compare numerically ("4" == 4, as a numeric field coerces its
 * input and a keyword field indexes the number's text); a non-numeric string never equals a
 * number; booleans equal `true`/`false` or the strings "true"/"false"; strings order by code point.
 * With `options.schema`, values and literals are first coerced as Elasticsearch indexes them for
 * the field's mapped type (numbers for numeric fields, text for keyword fields, epoch ms for
 * dates, canonical text for ip, booleans from "true"/"false"/"").
 *
 * Performance: each field path is resolved at most once per call (a one-entry cache keyed by event
 * identity and invalidated by every top-level call, so mutating an event between calls is safe),
 * `in` lists are Sets, `and`/`or` short-circuit with cheap operands first (predicates are pure),
 * and fast-path predicates allocate nothing beyond the field's value array.
 *
 * Known differences from Elasticsearch (documented, deliberate or unavoidable):
 * - Values over `ignore_above` still count (DESIGN.md's one deliberate difference).
 * - Where Elasticsearch fails the whole search (type errors in scripts, integer overflow, division
 *   by zero, a non-numeric string compared with a numeric field) the predicate is false here.
 * - `startsWith`/`endsWith`/`stringContains(field, "lit")` follow the pushed-down prefix/wildcard
 *   query: the literal is literal (no wildcard meaning) and `""` matches every present value.
 * - Script-side `regex` (function on the left) uses the Lucene translation, not Java regex syntax.
 * - A non-optional field the schema does not know is treated as a normal (missing) field rather
 *   than rejected; a `constant_keyword` value that only lives in the mapping is not seen.
 * - Dates in custom mapping formats (`FieldSchema.formatsOf`) parse with any of the field's formats
 *   across indices, not only their own index's (the event's index is unknown here); a value no
 *   format parses is compared (and joined) as text where Elasticsearch would reject the document.
 */
import type { Call, Compare, EventFilter, Expr, FieldRef, In, Literal, Match, Query } from './ast.js';
import type {
  CompileOptions,
  CompiledQuery,
  CompiledStage,
  EqlEvent,
  FieldSchema,
  FieldType,
  KeyTuple,
} from './compiled.js';
import { EqlError } from './errors.js';
import { compileFieldAccessor, type FieldAccessor } from './fields.js';
import {
  ARITY,
  BOOLEAN_FUNCTIONS,
  CASE_INSENSITIVE_FUNCTIONS,
  arithmetic,
  asStringArg,
  cidrArg,
  cidrMatchImpl,
  compileFunction,
  negate,
  type StaticType,
} from './functions.js';
import { compileDateFormats, type DateFormatSet } from './dates.js';
import { parseExpression, parseQuery } from './parser.js';
import { parseCanonicalTimestamp } from './timestamp.js';
import { compileRegex } from './regex.js';
import {
  compareCodePoints,
  javaToString,
  normalizeIp,
  parseCidr,
  parseNumeric,
  toEpochMillis,
} from './values.js';
import { asciiLower, compileWildcard, foldCase, hasWildcard, type CaseFold } from './wildcard.js';

/** Cap on value combinations a script-like predicate evaluates per event (hostile arrays). */
export const MAX_SCRIPT_COMBINATIONS = 100_000;
/** Cap on join-key tuples produced per event and stage. */
export const MAX_KEY_TUPLES = 1_000;

type Tri = boolean | null;
type Pred = (e: EqlEvent) => boolean;
type Env = unknown[];

const TRUE: Pred = () => true;
const FALSE: Pred = () => false;

// ---------------------------------------------------------------------------------------------
// Public helpers

/**
 * Canonical, collision-free id of a key tuple: JSON of the typed values (4 and "4" differ, null is
 * distinct from "null"); non-finite numbers get a tagged string form JSON cannot otherwise carry.
 */
export function keyId(tuple: KeyTuple): string {
  let plain = true;
  for (const v of tuple) {
    if (typeof v === 'number' && !Number.isFinite(v)) plain = false;
    else if (v !== null && typeof v === 'object') plain = false;
  }
  if (plain) return JSON.stringify(tuple);
  return JSON.stringify(
    tuple.map((v) => (typeof v === 'number' && !Number.isFinite(v) ? { n: String(v) } : v)),
  );
}

// ---------------------------------------------------------------------------------------------
// Type coercion as Elasticsearch indexes values

type Domain = 'number' | 'integer' | 'string' | 'version' | 'boolean' | 'date' | 'date_nanos' | 'ip' | 'raw';

function domainOf(t: FieldType | undefined): Domain {
  switch (t) {
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'unsigned_long':
      return 'integer';
    case 'double':
    case 'float':
    case 'half_float':
    case 'scaled_float':
      return 'number';
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'text':
    case 'match_only_text':
    case 'flattened':
      return 'string';
    case 'version':
      return 'version';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'date_nanos':
      return 'date_nanos';
    case 'ip':
      return 'ip';
    default:
      return 'raw';
  }
}

/** Marker for a literal that can never equal an indexed value of the field. */
const IMPOSSIBLE = Symbol('impossible');

/**
 * A source value as indexed for the domain, or undefined when it would not be indexed.
 * `parseDate`: the field's mapping date formats (undefined = the default ISO/epoch_millis).
 */
function coerceValue(v: unknown, d: Domain, parseDate?: (v: unknown) => number): unknown {
  switch (d) {
    case 'raw':
      return v;
    case 'string':
    case 'version':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? javaToString(v) : undefined;
    case 'integer':
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? parseNumeric(v) : NaN;
      if (Number.isNaN(n)) return undefined;
      return d === 'integer' ? Math.trunc(n) : n;
    }
    case 'boolean':
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false' || v === '') return false;
      return undefined;
    case 'date':
    case 'date_nanos': {
      // A string no format parses stays text (compares with same text); ES would reject the document.
      const ms = toEpochMillis(v, d === 'date_nanos', parseDate);
      return Number.isNaN(ms) ? (typeof v === 'string' ? v : undefined) : ms;
    }
    case 'ip':
      return typeof v === 'string' ? (normalizeIp(v) ?? undefined) : undefined;
  }
}

/** A query literal as Elasticsearch converts it for a field of the domain (dates: with the field's formats). */
function coerceLiteral(v: unknown, d: Domain, isDouble: boolean, parseDate?: (v: unknown) => number): unknown {
  if (v === null) return null;
  switch (d) {
    case 'raw':
      return v;
    case 'string':
    case 'version':
      return typeof v === 'number' ? javaToString(v, isDouble) : typeof v === 'boolean' ? javaToString(v) : v;
    case 'integer':
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? parseNumeric(v) : NaN;
      return Number.isNaN(n) ? IMPOSSIBLE : n;
    }
    case 'boolean':
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false' || v === '') return false;
      return IMPOSSIBLE;
    case 'date':
    case 'date_nanos': {
      const ms = toEpochMillis(v, d === 'date_nanos', parseDate);
      return Number.isNaN(ms) ? (typeof v === 'string' ? v : IMPOSSIBLE) : ms;
    }
    case 'ip':
      return typeof v === 'string' ? (normalizeIp(v) ?? IMPOSSIBLE) : IMPOSSIBLE;
  }
}

// ---------------------------------------------------------------------------------------------
// Loose comparison (no schema, or values already coerced to one domain)

function boolOfString(s: string): boolean | undefined {
  return s === 'true' ? true : s === 'false' ? false : undefined;
}

/** Sign of a - b, or null when incomparable. */
export function looseCompare(a: unknown, b: unknown): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  const ta = typeof a;
  const tb = typeof b;
  if (ta === 'number' && tb === 'number') return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : (a as number) === (b as number) ? 0 : null;
  if (ta === 'string' && tb === 'string') return compareCodePoints(a as string, b as string);
  if (ta === 'number' && tb === 'string') {
    const n = parseNumeric(b as string);
    return Number.isNaN(n) ? null : looseCompare(a, n);
  }
  if (ta === 'string' && tb === 'number') {
    const n = parseNumeric(a as string);
    return Number.isNaN(n) ? null : looseCompare(n, b);
  }
  if (ta === 'boolean' || tb === 'boolean') {
    const x = ta === 'boolean' ? (a as boolean) : ta === 'string' ? boolOfString(a as string) : undefined;
    const y = tb === 'boolean' ? (b as boolean) : tb === 'string' ? boolOfString(b as string) : undefined;
    if (x === undefined || y === undefined) return null;
    return Number(x) - Number(y);
  }
  return null;
}

const SEMVER = /^(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/**
 * Order of a `version` field: semantic versioning precedence (numeric parts, a pre-release sorts
 * before its release, identifiers numeric < alphanumeric); invalid versions sort after valid ones,
 * among themselves by code point.
 */
export function compareVersions(a: string, b: string): number {
  const ma = SEMVER.exec(a);
  const mb = SEMVER.exec(b);
  if (ma === null || mb === null) {
    if (ma !== null) return -1;
    if (mb !== null) return 1;
    return compareCodePoints(a, b);
  }
  const pa = (ma[1] as string).split('.');
  const pb = (mb[1] as string).split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = i < pa.length ? Number(pa[i]) : -1;
    const y = i < pb.length ? Number(pb[i]) : -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  const ra = ma[2];
  const rb = mb[2];
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1;
  const ia = ra.split('.');
  const ib = rb.split('.');
  for (let i = 0; i < Math.min(ia.length, ib.length); i++) {
    const x = ia[i] as string;
    const y = ib[i] as string;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) < Number(y) ? -1 : 1;
    if (nx !== ny) return nx ? -1 : 1;
    return compareCodePoints(x, y);
  }
  return ia.length - ib.length;
}

function versionCompareLoose(a: unknown, b: unknown): number | null {
  return typeof a === 'string' && typeof b === 'string' ? compareVersions(a, b) : looseCompare(a, b);
}

/** Equality test against one (coerced) literal, specialised by the literal's type. */
function eqTest(lit: unknown): (v: unknown) => boolean {
  if (lit === IMPOSSIBLE) return () => false;
  if (typeof lit === 'string') {
    const num = parseNumeric(lit);
    const bool = boolOfString(lit);
    return (v) =>
      typeof v === 'string' ? v === lit : typeof v === 'number' ? v === num : typeof v === 'boolean' ? v === bool : false;
  }
  if (typeof lit === 'number') {
    return (v) => (typeof v === 'number' ? v === lit : typeof v === 'string' ? parseNumeric(v) === lit : false);
  }
  if (typeof lit === 'boolean') {
    const s = lit ? 'true' : 'false';
    return (v) => v === lit || v === s;
  }
  return () => false;
}

/** Ordering test `value op lit` (`cmp` defaults to the loose comparison). */
function rangeTest(op: '<' | '<=' | '>' | '>=', lit: unknown, cmp: (a: unknown, b: unknown) => number | null = looseCompare): (v: unknown) => boolean {
  if (lit === IMPOSSIBLE) return () => false;
  switch (op) {
    case '<':
      return (v) => {
        const c = cmp(v, lit);
        return c !== null && c < 0;
      };
    case '<=':
      return (v) => {
        const c = cmp(v, lit);
        return c !== null && c <= 0;
      };
    case '>':
      return (v) => {
        const c = cmp(v, lit);
        return c !== null && c > 0;
      };
    case '>=':
      return (v) => {
        const c = cmp(v, lit);
        return c !== null && c >= 0;
      };
  }
}

/** Membership in a literal list (`in`), Set-based. */
function inTest(lits: readonly unknown[]): (v: unknown) => boolean {
  const strs = new Set<string>();
  const nums = new Set<number>();
  const bools = new Set<boolean>();
  for (const l of lits) {
    if (typeof l === 'string') {
      strs.add(l);
      const n = parseNumeric(l);
      if (!Number.isNaN(n)) nums.add(n);
      const b = boolOfString(l);
      if (b !== undefined) bools.add(b);
    } else if (typeof l === 'number') nums.add(l);
    else if (typeof l === 'boolean') bools.add(l);
  }
  // String values only match numeric literals typed as numbers (strings compare as strings).
  const numLits = new Set<number>();
  for (const l of lits) if (typeof l === 'number') numLits.add(l);
  const boolLits = new Set<boolean>();
  for (const l of lits) if (typeof l === 'boolean') boolLits.add(l);
  return (v) => {
    if (typeof v === 'string') {
      if (strs.has(v)) return true;
      if (numLits.size > 0) {
        const n = parseNumeric(v);
        if (numLits.has(n)) return true;
      }
      if (boolLits.size > 0) {
        const b = boolOfString(v);
        return b !== undefined && boolLits.has(b);
      }
      return false;
    }
    if (typeof v === 'number') return nums.has(v);
    if (typeof v === 'boolean') return bools.has(v);
    return false;
  };
}

// ---------------------------------------------------------------------------------------------
// Compiler

interface FieldRes {
  path: string;
  domain: Domain;
  /** Coerced, non-null values (cached per event identity). */
  values: (e: EqlEvent) => unknown[];
  first: (e: EqlEvent) => unknown;
  /**
   * Raw domain only (values are not coerced): a predicate "some value satisfies `test`" that walks
   * the event without allocating, on an accessor of its own (see FieldAccessor.matcher).
   */
  anyOf?: (test: (v: unknown) => boolean) => Pred;
  /** Mapping date formats of a date field that has custom ones (resolved once, at compile time). */
  dates?: DateFormatSet;
}

interface Ctx {
  schema: FieldSchema | undefined;
  fields: Map<string, FieldRes>;
  /** Bumped on every top-level call: field caches only serve the call that filled them. */
  clock: { gen: number };
}

/** Wraps a top-level entry point so field caches never outlive one call (events may be mutated). */
function entry<T>(ctx: Ctx, fn: (e: EqlEvent) => T): (e: EqlEvent) => T {
  const clock = ctx.clock;
  return (e) => {
    clock.gen++;
    return fn(e);
  };
}

function makeFieldRes(path: string, schema: FieldSchema | undefined, clock: { gen: number }): FieldRes {
  const acc: FieldAccessor = compileFieldAccessor(path);
  const domain = schema === undefined ? 'raw' : domainOf(schema.typeOf(path));
  const dates = domain === 'date' || domain === 'date_nanos' ? dateFormatsOf(schema, path) : undefined;
  const parseDate = dates?.parse;
  // One-entry cache keyed by event identity within one top-level call, so a field read by several
  // leaves is resolved once (a fresh array per event: truncating a reused array is slower in V8
  // than allocating). Callers must not mutate the returned array.
  let lastEvent: unknown = undefined;
  let lastGen = -1;
  let buf: unknown[] = [];
  const values =
    domain === 'raw'
      ? (e: EqlEvent): unknown[] => {
          if (e === lastEvent && clock.gen === lastGen) return buf;
          buf = [];
          acc.collectInto(e, buf);
          lastEvent = e;
          lastGen = clock.gen;
          return buf;
        }
      : (e: EqlEvent): unknown[] => {
          if (e === lastEvent && clock.gen === lastGen) return buf;
          const raw: unknown[] = [];
          acc.collectInto(e, raw);
          buf = [];
          for (let i = 0; i < raw.length; i++) {
            const c = coerceValue(raw[i], domain, parseDate);
            if (c !== undefined) buf.push(c);
          }
          lastEvent = e;
          lastGen = clock.gen;
          return buf;
        };
  const res: FieldRes = {
    path,
    domain,
    values,
    first: (e) => {
      const vs = values(e);
      return vs.length > 0 ? vs[0] : undefined;
    },
  };
  if (dates !== undefined) res.dates = dates;
  if (domain === 'raw') res.anyOf = (test) => compileFieldAccessor(path).matcher(test);
  return res;
}

/** The compiled custom formats of a date field, or undefined for the default format. */
function dateFormatsOf(schema: FieldSchema | undefined, path: string): DateFormatSet | undefined {
  const formats = schema?.formatsOf?.(path);
  if (formats === undefined || formats.length === 0) return undefined;
  return compileDateFormats(formats) ?? undefined;
}

function fieldRes(ctx: Ctx, path: string): FieldRes {
  let f = ctx.fields.get(path);
  if (f === undefined) {
    f = makeFieldRes(path, ctx.schema, ctx.clock);
    ctx.fields.set(path, f);
  }
  return f;
}

function err(kind: 'semantic' | 'unsupported', message: string, node: { pos: { line: number; column: number; offset: number } }, hint?: string): EqlError {
  const init = { kind, message, line: node.pos.line, column: node.pos.column, offset: node.pos.offset };
  return new EqlError(hint === undefined ? init : { ...init, hint });
}

/** `?field` that the schema says is unmapped: it is the literal null. */
function isNullField(ctx: Ctx, f: FieldRef): boolean {
  return f.optional && ctx.schema !== undefined && ctx.schema.typeOf(f.path) === undefined;
}

function isNullLiteral(e: Expr): boolean {
  return e.kind === 'literal' && e.value === null;
}

/**
 * For `a == b` / `a != b`: the operand tested for null when this is a null check, else null.
 * Elasticsearch moves a literal to the right when the other side is not one (LiteralsOnTheRight),
 * then rewrites `x == null` to IsNull(x) (ReplaceNullChecks); `null == "a"` (both constant) is a
 * comparison with null instead, which folds to null.
 */
function nullCheckOperand(ctx: Ctx, e: Compare): Expr | null {
  if (isNullConst(ctx, e.right)) return e.left;
  if (isNullConst(ctx, e.left) && !isConstant(ctx, e.right)) return e.right;
  return null;
}

/** The literal null, or an unmapped `?field` (which Elasticsearch replaces by it). */
function isNullConst(ctx: Ctx, e: Expr): boolean {
  return isNullLiteral(e) || (e.kind === 'field' && isNullField(ctx, e));
}

/** True when the expression reads no event field (unmapped optional fields are constants). */
function isConstant(ctx: Ctx, e: Expr): boolean {
  switch (e.kind) {
    case 'literal':
      return true;
    case 'field':
      return isNullField(ctx, e);
    case 'not':
    case 'negate':
      return isConstant(ctx, e.expr);
    case 'and':
    case 'or':
      return e.operands.every((o) => isConstant(ctx, o));
    case 'compare':
    case 'arith':
      return isConstant(ctx, e.left) && isConstant(ctx, e.right);
    case 'match':
      return isConstant(ctx, e.left) && e.patterns.every((p) => isConstant(ctx, p));
    case 'in':
      return isConstant(ctx, e.left) && e.values.every((p) => isConstant(ctx, p));
    case 'call':
      return e.args.every((a) => isConstant(ctx, a));
  }
}

/**
 * Elasticsearch's FoldNull: a nullable operation with a constant-null operand is null whatever the
 * other operands are (`concat(f, null)`, `f > null`, `?unmapped : "x"`). `== null`/`!= null` are
 * null checks instead.
 */
function foldsToNull(ctx: Ctx, e: Expr): boolean {
  switch (e.kind) {
    case 'literal':
      return e.value === null;
    case 'field':
      return isNullField(ctx, e);
    case 'negate':
      return foldsToNull(ctx, e.expr);
    case 'arith':
      return foldsToNull(ctx, e.left) || foldsToNull(ctx, e.right);
    case 'compare':
      if ((e.op === '==' || e.op === '!=') && nullCheckOperand(ctx, e) !== null) return false;
      return foldsToNull(ctx, e.left) || foldsToNull(ctx, e.right);
    case 'match':
      return foldsToNull(ctx, e.left);
    case 'in':
      return foldsToNull(ctx, e.left);
    case 'call':
      // cidrMatch/concat/… are null on any null argument; the optional 4th `between` and 3rd
      // `indexOf`/`substring` arguments default when null.
      if (e.name === 'number' || e.name === 'indexOf' || e.name === 'substring' || e.name === 'between') {
        return e.args.length > 0 && foldsToNull(ctx, e.args[0] as Expr);
      }
      return e.args.some((a) => foldsToNull(ctx, a));
    case 'not':
      return foldsToNull(ctx, e.expr);
    case 'and':
    case 'or':
      return false;
  }
}

function literalStatic(l: Literal): StaticType {
  return l.type;
}

function fieldStatic(res: FieldRes): StaticType {
  switch (res.domain) {
    case 'integer':
    case 'date':
      return 'long';
    case 'number':
    case 'date_nanos':
      return 'double';
    case 'string':
    case 'ip':
      return 'string';
    case 'boolean':
      return 'boolean';
    default:
      return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Script-side evaluation (value expressions over one combination of field values)

interface Slots {
  fields: FieldRes[];
}

interface ValueFn {
  ev: (env: Env) => unknown;
  type: StaticType;
}

function compileValue(ctx: Ctx, e: Expr, slots: Slots): ValueFn {
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      return { ev: () => v, type: literalStatic(e) };
    }
    case 'field': {
      if (isNullField(ctx, e)) return { ev: () => null, type: 'null' };
      const res = fieldRes(ctx, e.path);
      const idx = slots.fields.length;
      slots.fields.push(res);
      return { ev: (env) => env[idx], type: fieldStatic(res) };
    }
    case 'negate': {
      const inner = compileValue(ctx, e.expr, slots);
      return { ev: (env) => negate(inner.ev(env)), type: inner.type === 'double' || inner.type === 'long' ? inner.type : 'dynamic' };
    }
    case 'arith': {
      const l = compileValue(ctx, e.left, slots);
      const r = compileValue(ctx, e.right, slots);
      const names = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '%': 'modulo' } as const;
      const op = arithmetic(names[e.op], l.type, r.type);
      const type: StaticType = l.type === 'double' || r.type === 'double' ? 'double' : l.type === 'long' && r.type === 'long' ? 'long' : 'dynamic';
      return { ev: (env) => op(l.ev(env), r.ev(env)), type };
    }
    case 'call':
      return compileCall(ctx, e, slots);
    default: {
      const t = compileScriptTri(ctx, e, slots);
      return { ev: t, type: 'boolean' };
    }
  }
}

function compileCall(ctx: Ctx, e: Call, slots: Slots): ValueFn {
  const [min, max] = ARITY[e.name];
  if (e.args.length < min || e.args.length > max) {
    throw err('semantic', `function ${e.name} takes ${max === Infinity ? `at least ${min}` : min === max ? `${min}` : `${min} to ${max}`} arguments, got ${e.args.length}`, e);
  }
  if (e.caseInsensitive && !CASE_INSENSITIVE_FUNCTIONS.has(e.name)) {
    throw err('semantic', `function ${e.name} has no case-insensitive (~) variant`, e);
  }
  if (e.name === 'cidrMatch') {
    for (const a of e.args.slice(1)) {
      if (a.kind === 'literal' && typeof a.value === 'string' && parseCidr(a.value) === null) {
        throw err('semantic', `invalid CIDR block ${JSON.stringify(a.value)} in cidrMatch`, a);
      }
    }
  }
  const args = e.args.map((a) => compileValue(ctx, a, slots));
  const fn = compileFunction(
    e.name,
    e.caseInsensitive,
    args.map((a) => a.type),
  );
  const scratch: unknown[] = new Array<unknown>(args.length);
  const n = args.length;
  return {
    type: fn.type,
    ev: (env) => {
      for (let i = 0; i < n; i++) scratch[i] = (args[i] as ValueFn).ev(env);
      return fn.fn(scratch);
    },
  };
}

function constPatterns(ctx: Ctx, exprs: readonly Expr[], owner: Expr): unknown[] {
  return exprs.map((p) => {
    if (!isConstant(ctx, p)) throw err('semantic', 'the right-hand side of this operator must be a constant (literal) value', owner);
    return evalConst(ctx, p);
  });
}

/** Builds a string matcher for `:`/like/regex patterns (a value is tested against each). */
function patternMatcher(op: Match['op'], ci: boolean, patterns: readonly unknown[], fold: CaseFold, node: Match): (s: string) => boolean {
  const matchers: ((s: string) => boolean)[] = [];
  const exact = new Set<string>();
  const useFold: CaseFold = ci || op === ':' ? fold : 'none';
  for (const p of patterns) {
    if (p === null || p === undefined) continue;
    const text = asStringArg(p);
    if (text === null) continue;
    if (op === 'regex') {
      matchers.push(compileRegex(text, ci, node.pos));
    } else if (!hasWildcard(text)) {
      exact.add(foldCase(text, useFold));
    } else {
      matchers.push(compileWildcard(foldCase(text, useFold), 'none'));
    }
  }
  if (op === 'regex') {
    if (matchers.length === 1) return matchers[0] as (s: string) => boolean;
    return (s) => {
      for (let i = 0; i < matchers.length; i++) if ((matchers[i] as (s: string) => boolean)(s)) return true;
      return false;
    };
  }
  const foldValue: (s: string) => string =
    useFold === 'none' ? (s) => s : useFold === 'ascii' ? asciiLower : (s) => s.toLowerCase();
  const m = matchers.length;
  return (s) => {
    const f = foldValue(s);
    if (exact.has(f)) return true;
    for (let i = 0; i < m; i++) if ((matchers[i] as (s: string) => boolean)(f)) return true;
    return false;
  };
}

function triNot(t: Tri): Tri {
  return t === null ? null : !t;
}

/** Script-side 3-valued evaluation of a boolean expression over one value combination. */
function compileScriptTri(ctx: Ctx, e: Expr, slots: Slots): (env: Env) => Tri {
  switch (e.kind) {
    case 'literal': {
      // A non-boolean literal in boolean position is not a truth value (null).
      const b: Tri = typeof e.value === 'boolean' ? e.value : null;
      return () => b;
    }
    case 'field': {
      const v = compileValue(ctx, e, slots);
      return (env) => {
        const x = v.ev(env);
        if (x === null || x === undefined) return null;
        return x === true || x === 'true' ? true : x === false || x === 'false' ? false : null;
      };
    }
    case 'not': {
      const inner = compileScriptTri(ctx, e.expr, slots);
      return (env) => triNot(inner(env));
    }
    case 'and': {
      const ops = e.operands.map((o) => compileScriptTri(ctx, o, slots));
      return (env) => {
        let sawNull = false;
        for (const o of ops) {
          const t = o(env);
          if (t === false) return false;
          if (t === null) sawNull = true;
        }
        return sawNull ? null : true;
      };
    }
    case 'or': {
      const ops = e.operands.map((o) => compileScriptTri(ctx, o, slots));
      return (env) => {
        let sawNull = false;
        for (const o of ops) {
          const t = o(env);
          if (t === true) return true;
          if (t === null) sawNull = true;
        }
        return sawNull ? null : false;
      };
    }
    case 'compare': {
      if (e.op === '==' || e.op === '!=') {
        const nullSide = nullCheckOperand(ctx, e);
        if (nullSide !== null) {
          const v = compileValue(ctx, nullSide, slots);
          const wantNull = e.op === '==';
          return (env) => {
            const x = v.ev(env);
            return (x === null || x === undefined) === wantNull;
          };
        }
      }
      const l = compileValue(ctx, e.left, slots);
      const r = compileValue(ctx, e.right, slots);
      const op = e.op;
      return (env) => {
        const a = l.ev(env);
        const b = r.ev(env);
        if (a === null || a === undefined || b === null || b === undefined) return null;
        const c = looseCompare(a, b);
        if (c === null) return op === '==' ? false : op === '!=' ? true : null;
        switch (op) {
          case '==':
            return c === 0;
          case '!=':
            return c !== 0;
          case '<':
            return c < 0;
          case '<=':
            return c <= 0;
          case '>':
            return c > 0;
          case '>=':
            return c >= 0;
        }
      };
    }
    case 'match': {
      const l = compileValue(ctx, e.left, slots);
      const pats = constPatterns(ctx, e.patterns, e);
      const m = patternMatcher(e.op, e.caseInsensitive, pats, 'unicode', e);
      return (env) => {
        const s = asStringArg(l.ev(env));
        return s === null ? null : m(s);
      };
    }
    case 'in': {
      const l = compileValue(ctx, e.left, slots);
      const vals = e.values.map((v) => compileValue(ctx, v, slots));
      const ci = e.caseInsensitive;
      const neg = e.negated;
      return (env) => {
        const a = l.ev(env);
        if (a === null || a === undefined) return null;
        let sawNull = false;
        let found = false;
        for (const vf of vals) {
          const b = vf.ev(env);
          if (b === null || b === undefined) {
            sawNull = true;
            continue;
          }
          if (ci && typeof a === 'string' && typeof b === 'string') {
            if (a.toLowerCase() === b.toLowerCase()) {
              found = true;
              break;
            }
          } else if (looseCompare(a, b) === 0) {
            found = true;
            break;
          }
        }
        const r: Tri = found ? true : sawNull ? null : false;
        return neg ? triNot(r) : r;
      };
    }
    case 'call': {
      const v = compileCall(ctx, e, slots);
      return (env) => {
        const x = v.ev(env);
        return typeof x === 'boolean' ? x : null;
      };
    }
    case 'arith':
    case 'negate':
      throw err('semantic', 'a condition must be boolean; this expression is a number', e);
  }
}

/** Evaluates a constant expression (no event fields), 3-valued for booleans. */
function evalConst(ctx: Ctx, e: Expr): unknown {
  const slots: Slots = { fields: [] };
  const v = compileValue(ctx, e, slots);
  return v.ev([]);
}

/** Runs a script predicate over every value combination: true if some combination is true. */
function scriptLeaf(ctx: Ctx, e: Expr): Pred {
  const slots: Slots = { fields: [] };
  const tri = compileScriptTri(ctx, e, slots);
  const fields = slots.fields;
  const n = fields.length;
  if (n === 0) {
    const r = tri([]) === true;
    return r ? TRUE : FALSE;
  }
  const env: Env = new Array<unknown>(n);
  const arrays: unknown[][] = new Array<unknown[]>(n);
  const idx = new Int32Array(n);
  if (n === 1) {
    const f = fields[0] as FieldRes;
    return (ev) => {
      const vs = f.values(ev);
      if (vs.length === 0) {
        env[0] = null;
        return tri(env) === true;
      }
      const lim = Math.min(vs.length, MAX_SCRIPT_COMBINATIONS);
      for (let i = 0; i < lim; i++) {
        env[0] = vs[i];
        if (tri(env) === true) return true;
      }
      return false;
    };
  }
  const NULL_ONLY: unknown[] = [null];
  return (ev) => {
    for (let i = 0; i < n; i++) {
      const vs = (fields[i] as FieldRes).values(ev);
      arrays[i] = vs.length === 0 ? NULL_ONLY : vs;
      idx[i] = 0;
      env[i] = (arrays[i] as unknown[])[0];
    }
    for (let count = 0; count < MAX_SCRIPT_COMBINATIONS; count++) {
      if (tri(env) === true) return true;
      // Odometer increment.
      let k = n - 1;
      while (k >= 0) {
        const arr = arrays[k] as unknown[];
        const next = (idx[k] as number) + 1;
        if (next < arr.length) {
          idx[k] = next;
          env[k] = arr[next];
          break;
        }
        idx[k] = 0;
        env[k] = arr[0];
        k--;
      }
      if (k < 0) return false;
    }
    return false;
  };
}

// ---------------------------------------------------------------------------------------------
// Boolean context (query-DSL side): and/or/not over leaf predicates

function anyValue(f: FieldRes, test: (v: unknown) => boolean): Pred {
  // Raw values: walk the document and stop at the first match, no array (re-walking a field read
  // by several leaves is cheaper than allocating its value array per event).
  if (f.anyOf !== undefined) return f.anyOf(test);
  return (e) => {
    const vs = f.values(e);
    for (let i = 0; i < vs.length; i++) if (test(vs[i])) return true;
    return false;
  };
}

/** A conjunct of `adaptiveAnd` with its static cost (`costOf`). */
interface Conjunct {
  p: Pred;
  cost: number;
}

/** The conjuncts of predicates made by `adaptiveAnd`, so that enclosing `and`s can merge them. */
const conjunctsOf = new WeakMap<Pred, readonly Conjunct[]>();

/** Calls between two reorderings of an `adaptiveAnd`. */
const REORDER_PERIOD = 1024;

/**
 * `and` of pure, total predicates, evaluated with short-circuit in an order learned at run time:
 * every REORDER_PERIOD calls the conjuncts are sorted by observed failure rate per unit of cost,
 * so the one that rejects most events is tried first. Order cannot change the result (no side
 * effects, no exceptions); it only changes how much of each event is read — on large event
 * streams mostly cache misses, so skipping fields that never reject pays more than it costs.
 * The static `byCost` order is the starting point; counts decay so the order follows the stream.
 */
function adaptiveAnd(conjuncts: readonly Conjunct[]): Pred {
  const flat: Conjunct[] = [];
  for (const c of conjuncts) {
    const inner = conjunctsOf.get(c.p);
    if (inner !== undefined) flat.push(...inner);
    else flat.push(c);
  }
  const n = flat.length;
  const entries = flat.map((c) => ({ p: c.p, cost: Math.max(1, c.cost), evals: 0, fails: 0 }));
  const score = (x: (typeof entries)[number]): number => (x.fails + 1) / (x.evals + 2) / x.cost;
  let calls = 0;
  const reorder = (): void => {
    const ranked = entries.map((x, i) => ({ x, i, s: score(x) })).sort((a, b) => b.s - a.s || a.i - b.i);
    for (let i = 0; i < n; i++) {
      const x = (ranked[i] as (typeof ranked)[number]).x;
      x.evals /= 2;
      x.fails /= 2;
      entries[i] = x;
    }
  };
  const pred: Pred = (ev) => {
    if (++calls >= REORDER_PERIOD) {
      calls = 0;
      reorder();
    }
    for (let i = 0; i < n; i++) {
      const x = entries[i] as (typeof entries)[number];
      x.evals++;
      if (!x.p(ev)) {
        x.fails++;
        return false;
      }
    }
    return true;
  };
  conjunctsOf.set(pred, flat);
  return pred;
}

function isBoolCall(e: Expr): e is Call {
  return e.kind === 'call' && BOOLEAN_FUNCTIONS.has(e.name);
}

/** Does some leaf under and/or/not fold to a constant null (needs 3-valued logic under `not`)? */
function hasNullLeaf(ctx: Ctx, e: Expr): boolean {
  switch (e.kind) {
    case 'and':
    case 'or':
      return e.operands.some((o) => hasNullLeaf(ctx, o));
    case 'not':
      return hasNullLeaf(ctx, e.expr);
    default:
      return leafConst(ctx, e) === null;
  }
}

/** The constant value of a leaf (true/false/null), or undefined when it depends on the event. */
function leafConst(ctx: Ctx, e: Expr): Tri | undefined {
  if (isConstant(ctx, e)) {
    const v = evalConst(ctx, bareToCompare(e));
    return typeof v === 'boolean' ? v : null;
  }
  if (e.kind === 'field') return undefined;
  if (foldsToNull(ctx, e)) return null;
  return undefined;
}

/** A bare field or literal in boolean context means `x == true`. */
function bareToCompare(e: Expr): Expr {
  if (e.kind === 'field') {
    return { kind: 'compare', op: '==', left: e, right: { kind: 'literal', type: 'boolean', value: true, pos: e.pos }, pos: e.pos };
  }
  return e;
}

/** 3-valued compile of the boolean structure (used only where a constant null leaf exists). */
function compileTri(ctx: Ctx, e: Expr): (ev: EqlEvent) => Tri {
  switch (e.kind) {
    case 'and': {
      const ops = e.operands.map((o) => compileTri(ctx, o));
      return (ev) => {
        let sawNull = false;
        for (const o of ops) {
          const t = o(ev);
          if (t === false) return false;
          if (t === null) sawNull = true;
        }
        return sawNull ? null : true;
      };
    }
    case 'or': {
      const ops = e.operands.map((o) => compileTri(ctx, o));
      return (ev) => {
        let sawNull = false;
        for (const o of ops) {
          const t = o(ev);
          if (t === true) return true;
          if (t === null) sawNull = true;
        }
        return sawNull ? null : false;
      };
    }
    case 'not': {
      const inner = compileTri(ctx, e.expr);
      return (ev) => triNot(inner(ev));
    }
    default: {
      const c = leafConst(ctx, e);
      if (c !== undefined) return () => c;
      const p = compileLeaf(ctx, e);
      return p;
    }
  }
}

/**
 * Rough relative cost of evaluating a condition, used to run cheap operands of `and`/`or` first
 * (predicates are pure, so the order cannot change the result).
 */
function costOf(e: Expr): number {
  switch (e.kind) {
    case 'and':
    case 'or':
      return e.operands.reduce((a, o) => a + costOf(o), 0);
    case 'not':
      return costOf(e.expr);
    case 'literal':
      return 0;
    case 'field':
      return 1;
    case 'compare':
      return e.left.kind === 'field' ? 1 : 20;
    case 'in':
      return e.left.kind === 'field' ? 1 : 20;
    case 'match':
      if (e.left.kind !== 'field') return 20;
      return e.op === 'regex' ? 8 : 2;
    case 'call':
      return e.args[0]?.kind === 'field' && e.name !== 'cidrMatch' ? 3 : 20;
    default:
      return 20;
  }
}

/** Operands in ascending cost (stable: equal costs keep source order). */
function byCost(operands: readonly Expr[]): Expr[] {
  return operands
    .map((o, i) => ({ o, i, c: costOf(o) }))
    .sort((a, b) => a.c - b.c || a.i - b.i)
    .map((x) => x.o);
}

function compileBool(ctx: Ctx, e: Expr): Pred {
  switch (e.kind) {
    case 'and': {
      const sorted = byCost(e.operands);
      const ops = sorted.map((o) => compileBool(ctx, o));
      const live = ops.map((p, i) => ({ p, cost: costOf(sorted[i] as Expr) })).filter((x) => x.p !== TRUE);
      if (live.some((x) => x.p === FALSE)) return FALSE;
      if (live.length === 0) return TRUE;
      if (live.length === 1) return (live[0] as (typeof live)[number]).p;
      return adaptiveAnd(live);
    }
    case 'or': {
      const ops = byCost(e.operands).map((o) => compileBool(ctx, o)).filter((p) => p !== FALSE);
      if (ops.some((p) => p === TRUE)) return TRUE;
      if (ops.length === 0) return FALSE;
      if (ops.length === 1) return ops[0] as Pred;
      if (ops.length === 2) {
        const [a, b] = ops as [Pred, Pred];
        return (ev) => a(ev) || b(ev);
      }
      const n = ops.length;
      return (ev) => {
        for (let i = 0; i < n; i++) if ((ops[i] as Pred)(ev)) return true;
        return false;
      };
    }
    case 'not': {
      if (hasNullLeaf(ctx, e.expr)) {
        const t = compileTri(ctx, e.expr);
        return (ev) => t(ev) === false;
      }
      const inner = compileBool(ctx, e.expr);
      if (inner === TRUE) return FALSE;
      if (inner === FALSE) return TRUE;
      return (ev) => !inner(ev);
    }
    default: {
      const c = leafConst(ctx, e);
      if (c !== undefined) return c === true ? TRUE : FALSE;
      return compileLeaf(ctx, e);
    }
  }
}

const FLIP: Record<Compare['op'], Compare['op']> = { '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** One atomic predicate (depends on the event). */
function compileLeaf(ctx: Ctx, e: Expr): Pred {
  switch (e.kind) {
    case 'field':
      return compileLeaf(ctx, bareToCompare(e));
    case 'compare':
      return compileCompare(ctx, e);
    case 'in':
      return compileIn(ctx, e);
    case 'match':
      return compileMatch(ctx, e);
    case 'call':
      if (!BOOLEAN_FUNCTIONS.has(e.name)) {
        throw err('semantic', `a condition must be boolean; ${e.name}(…) does not return a boolean`, e, 'compare the result, e.g. `length(x) > 0`');
      }
      return compileBoolCall(ctx, e);
    case 'arith':
    case 'negate':
      throw err('semantic', 'a condition must be boolean; this expression is a number', e);
    case 'literal':
      return e.value === true ? TRUE : FALSE;
    default:
      return compileBool(ctx, e);
  }
}

function compileCompare(ctx: Ctx, e: Compare): Pred {
  // Normalise `literal op field` to `field op' literal`.
  if (!isConstant(ctx, e.right) && isConstant(ctx, e.left)) {
    return compileCompare(ctx, { ...e, op: FLIP[e.op], left: e.right, right: e.left });
  }
  if (e.op === '!=') {
    const eq = compileCompare(ctx, { ...e, op: '==' });
    return (ev) => !eq(ev);
  }
  // fn(..) == true ► fn(..); fn(..) == false ► not fn(..)
  if (isBoolCall(e.left) && e.right.kind === 'literal' && typeof e.right.value === 'boolean' && e.op === '==') {
    const p = compileBoolCall(ctx, e.left);
    if (e.right.value) return p;
    return (ev) => !p(ev);
  }
  if (e.left.kind === 'field' && isConstant(ctx, e.right)) {
    const f = fieldRes(ctx, e.left.path);
    const raw = evalConst(ctx, e.right);
    if (raw === null || raw === undefined) {
      if (e.op === '==') return (ev) => f.values(ev).length === 0;
      return FALSE;
    }
    const isDouble = e.right.kind === 'literal' && e.right.type === 'double';
    const lit = coerceLiteral(raw, f.domain, isDouble, f.dates?.parse);
    if (e.op === '==') return anyValue(f, eqTest(lit));
    return anyValue(f, rangeTest(e.op, lit, f.domain === 'version' ? versionCompareLoose : looseCompare));
  }
  return scriptLeaf(ctx, e);
}

function compileIn(ctx: Ctx, e: In): Pred {
  if (e.negated) {
    const p = compileIn(ctx, { ...e, negated: false });
    return (ev) => !p(ev);
  }
  if (e.left.kind === 'field' && e.values.every((v) => isConstant(ctx, v))) {
    const f = fieldRes(ctx, e.left.path);
    const consts = e.values.map((v) => ({ raw: evalConst(ctx, v), isDouble: v.kind === 'literal' && v.type === 'double' }));
    const present = consts.filter((c) => c.raw !== null && c.raw !== undefined);
    const raws = present.map((c) => c.raw);
    if (e.caseInsensitive) {
      // OR of case-insensitive term queries; `*`/`?` are literal here.
      const set = new Set<string>();
      for (const r of raws) {
        const s = asStringArg(coerceLiteral(r, f.domain === 'raw' ? 'raw' : 'string', false));
        if (s !== null) set.add(asciiLower(s));
      }
      return anyValue(f, (v) => {
        const s = asStringArg(v);
        return s !== null && set.has(asciiLower(s));
      });
    }
    const lits = present.map((c) => coerceLiteral(c.raw, f.domain, c.isDouble, f.dates?.parse)).filter((l) => l !== IMPOSSIBLE);
    if (lits.length === 0) return FALSE;
    if (lits.length === 1) return anyValue(f, eqTest(lits[0]));
    return anyValue(f, inTest(lits));
  }
  return scriptLeaf(ctx, e);
}

function compileMatch(ctx: Ctx, e: Match): Pred {
  if (e.left.kind === 'field') {
    const f = fieldRes(ctx, e.left.path);
    const pats = constPatterns(ctx, e.patterns, e);
    const m = patternMatcher(e.op, e.caseInsensitive, pats, 'ascii', e);
    return anyValue(f, (v) => {
      const s = asStringArg(v);
      return s !== null && m(s);
    });
  }
  return scriptLeaf(ctx, e);
}

/**
 * startsWith/endsWith/stringContains(field, "literal") run as prefix/wildcard queries on the field
 * (any value; `~` folds ASCII); cidrMatch(field, blocks…) as a terms query on an ip field.
 * Everything else is a script.
 */
function compileBoolCall(ctx: Ctx, e: Call): Pred {
  const [first, ...rest] = e.args;
  if (first !== undefined && first.kind === 'field' && !isNullField(ctx, first) && rest.every((a) => isConstant(ctx, a))) {
    const consts = rest.map((a) => evalConst(ctx, a));
    if (consts.every((c) => c !== null && c !== undefined)) {
      const f = fieldRes(ctx, first.path);
      if (e.name === 'cidrMatch') {
        compileCall(ctx, e, { fields: [] }); // validates arity and CIDR literals (clear errors)
        const blocks = consts.map(cidrArg);
        return anyValue(f, (v) => cidrMatchImpl(v, blocks) === true);
      }
      const sub = asStringArg(consts[0]);
      if (sub !== null && e.args.length === 2) {
        const ci = e.caseInsensitive;
        const needle = ci ? asciiLower(sub) : sub;
        const fold = ci ? asciiLower : (s: string) => s;
        const test =
          e.name === 'startsWith'
            ? (s: string) => fold(s).startsWith(needle)
            : e.name === 'endsWith'
              ? (s: string) => fold(s).endsWith(needle)
              : (s: string) => fold(s).includes(needle);
        compileCall(ctx, e, { fields: [] });
        return anyValue(f, (v) => {
          const s = asStringArg(v);
          return s !== null && test(s);
        });
      }
    }
  }
  return scriptLeaf(ctx, e);
}

// ---------------------------------------------------------------------------------------------
// Queries, stages, keys

function defaultsOf(options: CompileOptions | undefined): CompiledQuery['options'] {
  const o: CompiledQuery['options'] = {
    eventCategoryField: options?.eventCategoryField ?? 'event.category',
    timestampField: options?.timestampField ?? '@timestamp',
    tiebreakerField: options?.tiebreakerField ?? null,
  };
  if (options?.schema !== undefined) o.schema = options.schema;
  return o;
}

function newCtx(options: CompileOptions | undefined): Ctx {
  return { schema: options?.schema, fields: new Map(), clock: { gen: 0 } };
}

function compileFilter(ctx: Ctx, filter: EventFilter, categoryField: string): Pred {
  const cond = compileBool(ctx, filter.condition);
  if (filter.category === null) return cond;
  const cat = filter.category;
  // Category: `term` on the category field (case-sensitive, any value). Not schema-coerced.
  const acc = compileFieldAccessor(categoryField);
  const isCat = (v: unknown): boolean => v === cat;
  const catTest = (e: EqlEvent): boolean => acc.some(e, isCat);
  if (cond === TRUE) return catTest;
  if (cond === FALSE) return FALSE;
  // The category is one more conjunct (cost of a field comparison).
  return adaptiveAnd([{ p: catTest, cost: 1 }, { p: cond, cost: costOf(filter.condition) }]);
}

function formatDateKey(v: unknown): unknown {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 8.64e15) return v;
  return new Date(Math.floor(v)).toISOString();
}

/**
 * Sequence keys on a date field with custom formats, as the `fields` API prints them: each raw value
 * reformatted with the first alternative of the format that parsed it (= its index's format when
 * indices' formats do not overlap). Values no format parses stay as they are (like `coerceValue`).
 */
function customDateKeys(path: string, dates: DateFormatSet): (e: EqlEvent) => unknown[] {
  const acc = compileFieldAccessor(path);
  return (e) => {
    const out: unknown[] = [];
    for (const raw of acc.values(e)) {
      if (raw === null || raw === undefined) continue;
      const i = dates.which(raw);
      const fmt = dates.formats[i];
      if (fmt === undefined) {
        if (typeof raw === 'string') out.push(raw);
        continue;
      }
      const ms = Math.floor(dates.parse(raw));
      out.push(fmt.print(ms) ?? formatDateKey(ms));
    }
    return out;
  };
}

/**
 * How join keys on `date` fields are rendered. `sequence`: as the `fields` API returns them
 * (formatted text, test_extra `byDate`). `sample`: epoch ms, as composite aggregation keys are (a
 * date's doc value; test_sample `customDateFormat*` expects "1671235200000").
 */
type KeyStyle = 'sequence' | 'sample';

function compileKeys(ctx: Ctx, keys: readonly FieldRef[], style: KeyStyle): (e: EqlEvent) => KeyTuple[] {
  const n = keys.length;
  if (n === 0) {
    return () => [[]];
  }
  const parts = keys.map((k) => {
    const res = fieldRes(ctx, k.path);
    const isDate = style === 'sequence' && res.domain === 'date';
    const custom = isDate && res.dates !== undefined ? customDateKeys(k.path, res.dates) : undefined;
    return { optional: k.optional, alwaysNull: isNullField(ctx, k), res, isDate, custom };
  });
  const valuesOf = (e: EqlEvent, i: number): unknown[] => {
    const p = parts[i] as (typeof parts)[number];
    if (p.alwaysNull) return [null];
    // Sequence join keys compare as the `fields` API returns them: a `date` as its formatted text.
    let vs = p.custom !== undefined ? p.custom(e) : p.res.values(e);
    if (p.custom === undefined && p.isDate) vs = vs.map(formatDateKey);
    if (vs.length === 0) return p.optional ? [null] : [];
    if (vs.length === 1) return vs;
    // Deduplicate (doc values are deduplicated).
    const seen = new Set<string>();
    const out: unknown[] = [];
    for (const v of vs) {
      const id = keyId([v]);
      if (!seen.has(id)) {
        seen.add(id);
        out.push(v);
      }
    }
    return out;
  };
  if (n === 1) {
    return (e) => {
      const vs = valuesOf(e, 0);
      const out: KeyTuple[] = [];
      const lim = Math.min(vs.length, MAX_KEY_TUPLES);
      for (let i = 0; i < lim; i++) out.push([vs[i]]);
      return out;
    };
  }
  return (e) => {
    let tuples: unknown[][] = [[]];
    for (let i = 0; i < n; i++) {
      const vs = valuesOf(e, i);
      if (vs.length === 0) return [];
      const next: unknown[][] = [];
      for (const t of tuples) {
        for (const v of vs) {
          if (next.length >= MAX_KEY_TUPLES) break;
          next.push([...t, v]);
        }
      }
      tuples = next;
    }
    return tuples;
  };
}

function compileStage(
  ctx: Ctx,
  filter: EventFilter,
  keys: readonly FieldRef[],
  missing: boolean,
  categoryField: string,
  keyStyle: KeyStyle = 'sequence',
): CompiledStage {
  return {
    category: filter.category,
    predicate: entry(ctx, compileFilter(ctx, filter, categoryField)),
    keys: entry(ctx, compileKeys(ctx, keys, keyStyle)),
    missing,
  };
}

/** Compiles a boolean expression (a `where` condition) into a predicate on events. */
export function compileExpression(expr: Expr | string, options?: CompileOptions): (event: EqlEvent) => boolean {
  const e = typeof expr === 'string' ? parseExpression(expr) : expr;
  const ctx = newCtx(options);
  return entry(ctx, compileBool(ctx, e));
}

/** Compiles a whole query once; see `CompiledQuery` in compiled.ts for the contract. */
export function compileQuery(query: Query | string, options?: CompileOptions): CompiledQuery {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const opts = defaultsOf(options);
  const ctx = newCtx(options);
  const cat = opts.eventCategoryField;

  const tsField = compileFieldAccessor(opts.timestampField);
  const tsNanos = opts.schema?.typeOf(opts.timestampField) === 'date_nanos';
  const tsParse = dateFormatsOf(opts.schema, opts.timestampField)?.parse;
  const timestampOf = (e: EqlEvent): number => {
    const v = tsField.first(e);
    if (v === undefined) return NaN;
    // Canonical ISO text (nearly every event) without the regex; other forms: toEpochMillis.
    if (tsParse === undefined && typeof v === 'string') {
      const ms = parseCanonicalTimestamp(v);
      if (ms === ms) return tsNanos ? ms : Math.floor(ms);
    }
    return toEpochMillis(v, tsNanos, tsParse);
  };
  const tbField = opts.tiebreakerField === null ? null : compileFieldAccessor(opts.tiebreakerField);
  const tiebreakerOf = (e: EqlEvent): unknown => {
    if (tbField === null) return null;
    const v = tbField.first(e);
    return v === undefined ? null : v;
  };

  const base = { query: q, kind: q.kind, pipes: q.pipes, timestampOf, tiebreakerOf, options: opts };
  switch (q.kind) {
    case 'event':
      return { ...base, predicate: entry(ctx, compileFilter(ctx, q.filter, cat)), stages: [], until: null, maxspanMs: null };
    case 'sequence': {
      const stages: CompiledStage[] = [];
      for (const s of q.stages) {
        const st = compileStage(ctx, s.filter, [...q.by, ...s.by], s.missing, cat);
        const runs = Math.max(1, s.runs);
        for (let i = 0; i < runs; i++) stages.push(st);
      }
      const until = q.until === null ? null : compileStage(ctx, q.until.filter, [...q.by, ...q.until.by], false, cat);
      return { ...base, stages, until, maxspanMs: q.maxspanMs };
    }
    case 'sample': {
      const stages = q.stages.map((s) => compileStage(ctx, s.filter, [...q.by, ...s.by], false, cat, 'sample'));
      return { ...base, stages, until: null, maxspanMs: null };
    }
  }
}
