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

/** Visitor returning true to stop the walk. */
type Visit = (value: unknown) => boolean;

class Walker {
  private readonly n: number;
  private readonly keys: string[][];
  /** Values visited in the current walk (for the cap). */
  private count = 0;

  constructor(segments: readonly string[]) {
    this.n = segments.length;
    this.keys = keyTable(segments);
  }

  walk(doc: unknown, visit: Visit): void {
    if (this.n === 0) return;
    this.count = 0;
    this.node(doc, 0, visit, 0);
  }

  /** `node` holds the value reached after consuming segments [0, i). Returns true to stop. */
  private node(node: unknown, i: number, visit: Visit, arrayDepth: number): boolean {
    if (node === null || typeof node !== 'object') return false;
    if (Array.isArray(node)) {
      if (arrayDepth >= MAX_ARRAY_DEPTH) return false;
      for (let k = 0; k < node.length; k++) {
        if (this.node(node[k], i, visit, arrayDepth + 1)) return true;
      }
      return false;
    }
    const row = this.keys[i] as string[];
    const n = this.n;
    for (let j = i; j < n; j++) {
      const key = row[j] as string;
      if (!hasOwn.call(node, key)) continue;
      const child = (node as Record<string, unknown>)[key];
      if (j === n - 1) {
        if (this.leaf(child, visit, 0)) return true;
      } else if (this.node(child, j + 1, visit, 0)) {
        return true;
      }
    }
    return false;
  }

  private leaf(value: unknown, visit: Visit, arrayDepth: number): boolean {
    if (value === null || value === undefined) return false;
    if (typeof value === 'object') {
      if (!Array.isArray(value) || arrayDepth >= MAX_ARRAY_DEPTH) return false;
      for (let k = 0; k < value.length; k++) {
        if (this.leaf(value[k], visit, arrayDepth + 1)) return true;
      }
      return false;
    }
    if (++this.count > MAX_VALUES_PER_FIELD) return true;
    return visit(value);
  }
}

/** Precompiles `path` into an accessor. */
export function compileFieldAccessor(path: string): FieldAccessor {
  const segments = splitPath(path);
  const walker = new Walker(segments);
  const n = segments.length;
  const first = segments[0] ?? '';
  const simple = n === 1;

  function values(doc: unknown): unknown[] {
    // Fast path: a one-segment path on a plain object holding a scalar.
    if (simple && doc !== null && typeof doc === 'object' && !Array.isArray(doc) && hasOwn.call(doc, first)) {
      const v = (doc as Record<string, unknown>)[first];
      if (v === null || v === undefined) return [];
      if (typeof v !== 'object') return [v];
    }
    const out: unknown[] = [];
    walker.walk(doc, (v) => {
      out.push(v);
      return false;
    });
    return out;
  }

  function some(doc: unknown, pred: (value: unknown) => boolean): boolean {
    let found = false;
    walker.walk(doc, (v) => {
      if (pred(v)) {
        found = true;
        return true;
      }
      return false;
    });
    return found;
  }

  function firstValue(doc: unknown): unknown {
    let result: unknown = undefined;
    walker.walk(doc, (v) => {
      result = v;
      return true;
    });
    return result;
  }

  return { path, values, some, first: firstValue };
}

/** `compileFieldPath(path)(doc)`: the flattened, non-null leaf values of `path` in `doc`. */
export function compileFieldPath(path: string): FieldValues {
  return compileFieldAccessor(path).values;
}
