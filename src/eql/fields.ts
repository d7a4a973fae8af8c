/**
 * Field resolution on `_source`: one dotted EQL path ► the flattened list of leaf values.
 *
 * Elasticsearch expands dotted source keys into object paths at index time, so `{"a.b.c":1}`,
 * `{"a":{"b":{"c":1}}}` and `{"a":{"b.c":1}}` all feed the one field `a.b.c`; arrays of objects
 * are flattened (non-`nested` objects), arrays of arrays too. We mirror that by trying, at every
 * object level, each run of consecutive path segments as one own key. The key strings are
 * precomputed per path, so no string splitting or joining happens per event.
 *
 * Speed: each path (up to MAX_GENERATED_SEGMENTS segments) is compiled to JavaScript with the
 * keys as property-name literals (`generateAccessor`), so V8 caches every spelling's lookup per
 * document shape; `some`/`first`/`matcher` visit values without building arrays. The interpreted
 * `Walker` is the reference (and the path for longer paths); the tests compare the two.
 *
 * Events are attacker-controlled: only own properties are read (a `__proto__` or `constructor`
 * key in the JSON is data, never the prototype), recursion depth is bounded by the number of
 * path segments plus a cap on array nesting, and the number of values collected is capped.
 */

/** Arrays nested deeper than this (arrays of arrays of …) are not descended further. */
export const MAX_ARRAY_DEPTH = 32;
/** At most this many leaf values are collected per field and event (hostile huge arrays). */
export const MAX_VALUES_PER_FIELD = 100_000;

const hasOwn = Object.prototype.hasOwnProperty;

export type FieldValues = (doc: unknown) => unknown[];

/** A precompiled accessor for one dotted path. */
export interface FieldAccessor {
  readonly path: string;
  /** All non-null leaf values (objects at the leaf are not values). Do not mutate the result. */
  values(doc: unknown): unknown[];
  /** True if some leaf value satisfies `pred` (stops early; allocates nothing). */
  some(doc: unknown, pred: (value: unknown) => boolean): boolean;
  /** The first leaf value in document order, or undefined when the field is missing. */
  first(doc: unknown): unknown;
  /** Appends the leaf values to `out` (which the caller may reuse between documents). */
  collectInto(doc: unknown, out: unknown[]): void;
  /**
   * `(doc) => some(doc, pred)` as a function of its own. For hot predicates, give each one its own
   * accessor (`compileFieldAccessor(path).matcher(pred)`): with generated accessors the call to
   * `pred` then only ever sees that one predicate, which V8 can inline.
   */
  matcher(pred: (value: unknown) => boolean): (doc: unknown) => boolean;
}

/**
 * keys[i][j] = segments i..j joined with '.', for j >= i. Built once per path.
 */
function keyTable(segments: readonly string[]): string[][] {
  const n = segments.length;
  const table: string[][] = [];
  for (let i = 0; i < n; i++) {
    const row: string[] = [];
    let acc = '';
    for (let j = 0; j < n; j++) {
      if (j < i) {
        row.push('');
        continue;
      }
      acc = j === i ? (segments[j] as string) : `${acc}.${segments[j] as string}`;
      row.push(acc);
    }
    table.push(row);
  }
  return table;
}

/** Splits an EQL field path into segments. Empty paths resolve to nothing. */
function splitPath(path: string): string[] {
  return path.length === 0 ? [] : path.split('.');
}

/** Keys that exist on Object.prototype must be read with an own-property check. */
function inheritedName(key: string): boolean {
  return key in Object.prototype;
}

/**
 * Visits leaf values in document order (the reference walk). Own-property reads only: keys that could resolve
 * through the prototype chain (`constructor`, `__proto__`, `toString`…) are checked with
 * hasOwnProperty; any other key cannot be inherited from a JSON object, so a plain load is enough
 * (and much faster).
 */
class Walker {
  private readonly n: number;
  private readonly keys: string[][];
  private readonly unsafe: boolean[][];

  constructor(segments: readonly string[]) {
    this.n = segments.length;
    this.keys = keyTable(segments);
    this.unsafe = this.keys.map((row) => row.map((k) => k !== '' && inheritedName(k)));
  }

  visit(doc: unknown, cb: Visit, ctx: unknown): boolean {
    if (this.n === 0) return false;
    return this.node(doc, 0, cb, ctx, 0);
  }

  /** `node` holds the value reached after consuming segments [0, i). Returns true to stop. */
  private node(node: unknown, i: number, cb: Visit, ctx: unknown, arrayDepth: number): boolean {
    if (node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) {
      if (arrayDepth >= MAX_ARRAY_DEPTH) return false;
      for (let k = 0; k < node.length; k++) {
        if (this.node(node[k], i, cb, ctx, arrayDepth + 1)) return true;
      }
      return false;
    }
    const row = this.keys[i] as string[];
    const unsafeRow = this.unsafe[i] as boolean[];
    const last = this.n - 1;
    const obj = node as Record<string, unknown>;
    for (let j = i; j <= last; j++) {
      const key = row[j] as string;
      let child: unknown;
      if (unsafeRow[j] === true) {
        if (!hasOwn.call(obj, key)) continue;
        child = obj[key];
      } else {
        child = obj[key];
        if (child === undefined) continue;
      }
      if (j === last) {
        if (visitLeaf(child, cb, ctx, 0)) return true;
      } else if (child !== null && typeof child === 'object' && this.node(child, j + 1, cb, ctx, 0)) {
        return true;
      }
    }
    return false;
  }
}

/**
 * The walk, generated per path: one function per path level `i` (the value reached after
 * consuming segments [0, i)), each trying the keys `segments[i..j]` (j ≥ i) as property-name
 * literals, in the same order as `Walker` (the reference, kept for very long paths and for the
 * tests). Literal property loads get their own inline caches in V8, so on documents of a few
 * shapes a miss (a spelling the document does not use) costs about as much as a hit, where the
 * generic `obj[key]` of the walker goes through the megamorphic lookup for every spelling.
 * Key names are embedded with JSON.stringify (valid string literals; a path never becomes code).
 *
 * `walk(doc, cb, ctx)` calls `cb(value, ctx)` per leaf value in document order and stops as soon
 * as it returns true; returns whether it stopped.
 */
type Visit = (value: unknown, ctx: unknown) => boolean;
type Walk = (doc: unknown, cb: Visit, ctx: unknown, arrayDepth: number) => boolean;

/** Longest path compiled to code (the code grows with n²/2 property loads); longer ones use Walker. */
const MAX_GENERATED_SEGMENTS = 24;

/** Generic leaf: scalars, flattened arrays (bounded depth); null and objects are not values. */
function visitLeaf(value: unknown, cb: Visit, ctx: unknown, arrayDepth: number): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'object') {
    if (!Array.isArray(value) || arrayDepth >= MAX_ARRAY_DEPTH) return false;
    for (let k = 0; k < value.length; k++) {
      if (visitLeaf(value[k], cb, ctx, arrayDepth + 1)) return true;
    }
    return false;
  }
  return cb(value, ctx);
}

function generateAccessor(path: string, segments: readonly string[]): FieldAccessor {
  const n = segments.length;
  const keys = keyTable(segments);
  const fns: string[] = [];
  for (let i = 0; i < n; i++) {
    const body: string[] = [];
    for (let j = i; j < n; j++) {
      const key = JSON.stringify(keys[i]?.[j] as string);
      const then =
        j === n - 1
          ? `if (typeof c === 'string' ? cb(c, ctx) : leaf(c, cb, ctx, 0)) return true;`
          : `if (c !== null && typeof c === 'object' && L${j + 1}(c, cb, ctx, 0)) return true;`;
      body.push(
        inheritedName(keys[i]?.[j] as string)
          ? `if (hasOwn.call(node, ${key})) { c = node[${key}]; ${then} }`
          : `c = node[${key}]; if (c !== undefined) { ${then} }`,
      );
    }
    fns.push(`function L${i}(node, cb, ctx, ad) {
  if (node === null || typeof node !== 'object') return false;
  if (isArray(node)) {
    if (ad >= MAX_ARRAY_DEPTH) return false;
    for (let k = 0; k < node.length; k++) if (L${i}(node[k], cb, ctx, ad + 1)) return true;
    return false;
  }
  let c;
  ${body.join('\n  ')}
  return false;
}`);
  }
  // Only escaped string literals (JSON.stringify) and fixed text go into the code.
  const factory = new Function(
    'isArray',
    'hasOwn',
    'MAX_ARRAY_DEPTH',
    'MAX_VALUES_PER_FIELD',
    'path',
    `'use strict';\n${LEAF_SOURCE}\n${fns.join('\n')}\nconst walk = L0;\n${ACCESSOR_SOURCE}`,
  ) as (isArray: (v: unknown) => boolean, has: typeof hasOwn, maxDepth: number, maxValues: number, path: string) => FieldAccessor;
  return factory(Array.isArray, hasOwn, MAX_ARRAY_DEPTH, MAX_VALUES_PER_FIELD, path);
}

/** `visitLeaf` as source text, copied into each generated accessor (its own call feedback). */
const LEAF_SOURCE = `function leaf(value, cb, ctx, ad) {
  if (value === null || value === undefined) return false;
  if (typeof value === 'object') {
    if (!isArray(value) || ad >= MAX_ARRAY_DEPTH) return false;
    for (let k = 0; k < value.length; k++) if (leaf(value[k], cb, ctx, ad + 1)) return true;
    return false;
  }
  return cb(value, ctx);
}`;

/**
 * `accessorOf` (below) as source text, appended to each generated walk so that every accessor
 * has its own copy of these small functions: V8 keeps type feedback per function, so the
 * predicate calls inside `visit` see only the few predicates of one field (inlinable) instead of
 * every predicate of the process. Keep the two in step (the tests compare them on random documents).
 */
const ACCESSOR_SOURCE = `
const st = { pred: null, count: 0, hit: false };
function visit(value, s) {
  if (s.pred(value)) { s.hit = true; return true; }
  return ++s.count >= MAX_VALUES_PER_FIELD;
}
function some(doc, pred) {
  const p0 = st.pred, c0 = st.count, h0 = st.hit;
  st.pred = pred; st.count = 0; st.hit = false;
  try {
    walk(doc, visit, st, 0);
    return st.hit;
  } finally {
    st.pred = p0; st.count = c0; st.hit = h0;
  }
}
let limit = 0;
function push(value, out) {
  out.push(value);
  return out.length >= limit;
}
function collectInto(doc, out) {
  // push calls nothing that could re-enter this accessor, so \`limit\` cannot change under it.
  limit = MAX_VALUES_PER_FIELD + out.length;
  walk(doc, push, out, 0);
}
let seen = undefined;
function take(value) {
  seen = value;
  return true;
}
return {
  path,
  values(doc) {
    const out = [];
    collectInto(doc, out);
    return out;
  },
  some,
  matcher: (pred) => (doc) => some(doc, pred),
  first(doc) {
    seen = undefined;
    walk(doc, take, undefined, 0);
    const v = seen;
    seen = undefined;
    return v;
  },
  collectInto,
};`;

/** The walker as a `Walk` (reference behaviour; long paths). */
function walkerWalk(segments: readonly string[]): Walk {
  const walker = new Walker(segments);
  return (doc, cb, ctx) => walker.visit(doc, cb, ctx);
}

// Callbacks shared by every accessor. They call nothing that could re-enter a walk, so the
// module-level slots below are never overwritten while in use.
let collectLimit = 0;
function pushValue(value: unknown, out: unknown): boolean {
  (out as unknown[]).push(value);
  return (out as unknown[]).length >= collectLimit;
}
let firstSeen: unknown = undefined;
function takeFirst(value: unknown): boolean {
  firstSeen = value;
  return true;
}

function compileWalk(segments: readonly string[]): Walk {
  if (segments.length === 0) return () => false;
  return walkerWalk(segments);
}

/** State of one `some` call: the predicate, values seen (capped like `values`), and the outcome. */
interface SomeState {
  pred: (value: unknown) => boolean;
  count: number;
  hit: boolean;
}
function someVisit(value: unknown, ctx: unknown): boolean {
  const st = ctx as SomeState;
  if (st.pred(value)) {
    st.hit = true;
    return true;
  }
  return ++st.count >= MAX_VALUES_PER_FIELD;
}
const never = (): boolean => false;

function accessorOf(path: string, walk: Walk): FieldAccessor {
  // One state object per accessor, saved and restored around each call so that a predicate that
  // reads the same field again (re-entrancy) cannot disturb the outer call.
  const st: SomeState = { pred: never, count: 0, hit: false };
  function some(doc: unknown, pred: (value: unknown) => boolean): boolean {
    const { pred: p0, count: c0, hit: h0 } = st;
    st.pred = pred;
    st.count = 0;
    st.hit = false;
    try {
      walk(doc, someVisit, st, 0);
      return st.hit;
    } finally {
      st.pred = p0;
      st.count = c0;
      st.hit = h0;
    }
  }
  function collectInto(doc: unknown, out: unknown[]): void {
    collectLimit = MAX_VALUES_PER_FIELD + out.length;
    walk(doc, pushValue, out, 0);
  }
  return {
    path,
    values(doc) {
      const out: unknown[] = [];
      collectInto(doc, out);
      return out;
    },
    some,
    matcher: (pred) => (doc) => some(doc, pred),
    first(doc) {
      firstSeen = undefined;
      walk(doc, takeFirst, undefined, 0);
      const v = firstSeen;
      firstSeen = undefined;
      return v;
    },
    collectInto,
  };
}

/** Precompiles `path` into an accessor. */
export function compileFieldAccessor(path: string): FieldAccessor {
  const segments = splitPath(path);
  if (segments.length === 0 || segments.length > MAX_GENERATED_SEGMENTS || !codeGeneration) return accessorOf(path, compileWalk(segments));
  try {
    return generateAccessor(path, segments);
  } catch (e) {
    // Node run with --disallow-code-generation-from-strings: same results, interpreted.
    if (!(e instanceof EvalError)) throw e;
    codeGeneration = false;
    return accessorOf(path, compileWalk(segments));
  }
}

/** False once `new Function` has been refused by the runtime. */
let codeGeneration = true;

/**
 * The same accessor on the plain interpreted walker (no generated code): the reference the
 * generated accessors are tested against.
 */
export function compileReferenceFieldAccessor(path: string): FieldAccessor {
  return accessorOf(path, compileWalk(splitPath(path)));
}

/** `compileFieldPath(path)(doc)`: the flattened, non-null leaf values of `path` in `doc`. */
export function compileFieldPath(path: string): FieldValues {
  return compileFieldAccessor(path).values;
}
