/**
 * Field resolution on `_source`: one dotted EQL path ► the flattened list of leaf values.
 *
 * Elasticsearch expands dotted source keys into object paths at index time, so `{"a.b.c":1}`,
 * `{"a":{"b":{"c":1}}}` and `{"a":{"b.c":1}}` all feed the one field `a.b.c`; arrays of objects
 * are flattened (non-`nested` objects), arrays of arrays too. We mirror that by trying, at every
 * object level, each run of consecutive path segments as one own key. The key strings are
 * precomputed per path, so no string splitting or joining happens per event.
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
 * Collects leaf values into `out` (up to `limit`). Own-property reads only: keys that could resolve
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

  collect(doc: unknown, out: unknown[], limit: number): void {
    if (this.n === 0) return;
    this.node(doc, 0, out, limit, 0);
  }

  /** `node` holds the value reached after consuming segments [0, i). Returns true to stop. */
  private node(node: unknown, i: number, out: unknown[], limit: number, arrayDepth: number): boolean {
    if (node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) {
      if (arrayDepth >= MAX_ARRAY_DEPTH) return false;
      for (let k = 0; k < node.length; k++) {
        if (this.node(node[k], i, out, limit, arrayDepth + 1)) return true;
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
        if (leaf(child, out, limit, 0)) return true;
      } else if (child !== null && typeof child === 'object' && this.node(child, j + 1, out, limit, 0)) {
        return true;
      }
    }
    return false;
  }
}

/** Appends the scalar(s) of a leaf; returns true when `limit` values have been collected. */
function leaf(value: unknown, out: unknown[], limit: number, arrayDepth: number): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'object') {
    if (!Array.isArray(value) || arrayDepth >= MAX_ARRAY_DEPTH) return false;
    for (let k = 0; k < value.length; k++) {
      if (leaf(value[k], out, limit, arrayDepth + 1)) return true;
    }
    return false;
  }
  out.push(value);
  return out.length >= limit;
}

/** Precompiles `path` into an accessor. */
export function compileFieldAccessor(path: string): FieldAccessor {
  const segments = splitPath(path);
  const walker = new Walker(segments);

  function values(doc: unknown): unknown[] {
    const out: unknown[] = [];
    walker.collect(doc, out, MAX_VALUES_PER_FIELD);
    return out;
  }

  function some(doc: unknown, pred: (value: unknown) => boolean): boolean {
    const vs = values(doc);
    for (let i = 0; i < vs.length; i++) if (pred(vs[i])) return true;
    return false;
  }

  function firstValue(doc: unknown): unknown {
    const out: unknown[] = [];
    walker.collect(doc, out, 1);
    return out.length > 0 ? out[0] : undefined;
  }

  return {
    path,
    values,
    some,
    first: firstValue,
    collectInto: (doc, out) => walker.collect(doc, out, MAX_VALUES_PER_FIELD + out.length),
  };
}

/** `compileFieldPath(path)(doc)`: the flattened, non-null leaf values of `path` in `doc`. */
export function compileFieldPath(path: string): FieldValues {
  return compileFieldAccessor(path).values;
}
