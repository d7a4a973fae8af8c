import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ARRAY_DEPTH, MAX_VALUES_PER_FIELD, compileFieldAccessor, compileFieldPath, compileReferenceFieldAccessor } from '../../src/eql/fields.js';

const POD = 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name';

describe('compileFieldPath', () => {
  it('resolves nested objects', () => {
    expect(compileFieldPath('a.b.c')({ a: { b: { c: 1 } } })).toEqual([1]);
  });

  it('resolves a literal dotted key', () => {
    expect(compileFieldPath('a.b.c')({ 'a.b.c': 1 })).toEqual([1]);
  });

  it('resolves mixed nesting and dotted keys both ways', () => {
    expect(compileFieldPath('a.b.c')({ a: { 'b.c': 1 } })).toEqual([1]);
    expect(compileFieldPath('a.b.c')({ 'a.b': { c: 2 } })).toEqual([2]);
  });

  it('collects values reachable through several spellings at once', () => {
    const doc = { a: { b: { c: 1 }, 'b.c': 2 }, 'a.b.c': 3 };
    expect(compileFieldPath('a.b.c')(doc).sort()).toEqual([1, 2, 3]);
  });

  it('flattens arrays of objects and arrays of arrays', () => {
    const doc = { a: [{ b: [1, [2, [3]]] }, { b: 4 }, { c: 5 }] };
    expect(compileFieldPath('a.b')(doc)).toEqual([1, 2, 3, 4]);
  });

  it('drops nulls and objects at the leaf', () => {
    expect(compileFieldPath('a')({ a: [null, 'x', { y: 1 }, [null]] })).toEqual(['x']);
    expect(compileFieldPath('a')({ a: { b: 1 } })).toEqual([]);
    expect(compileFieldPath('a')({ a: null })).toEqual([]);
    expect(compileFieldPath('a')({ a: [] })).toEqual([]);
  });

  it('keeps falsy scalars', () => {
    expect(compileFieldPath('a')({ a: [0, '', false] })).toEqual([0, '', false]);
  });

  it('returns nothing for missing paths and non-object documents', () => {
    const get = compileFieldPath('a.b');
    expect(get({})).toEqual([]);
    expect(get({ a: 1 })).toEqual([]);
    expect(get({ a: 'str' })).toEqual([]);
    expect(get(null)).toEqual([]);
    expect(get(42)).toEqual([]);
    expect(compileFieldPath('')({ '': 1 })).toEqual([]);
  });

  it('handles the seed join key stored as kubernetes audit logs store it', () => {
    const get = compileFieldPath(POD);
    expect(get({ kubernetes: { audit: { user: { extra: { 'authentication.kubernetes.io/pod-name': ['p'] } } } } })).toEqual(['p']);
    expect(get({ [POD]: 'q' })).toEqual(['q']);
    expect(
      get({ kubernetes: { audit: { user: { extra: { authentication: { kubernetes: { 'io/pod-name': ['r', 's'] } } } } } } }),
    ).toEqual(['r', 's']);
  });

  it('does not treat a path segment as splittable inside a key', () => {
    // `io/pod-name` is one segment: a key `io` with child `/pod-name` is not the same field.
    expect(compileFieldPath(POD)({ kubernetes: { audit: { user: { extra: { 'authentication.kubernetes.io': { '/pod-name': 'x' } } } } } })).toEqual([]);
  });
});

describe('hostile documents', () => {
  it('reads only own properties (__proto__, constructor, toString)', () => {
    const doc = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": {}}') as Record<string, unknown>;
    expect(compileFieldPath('__proto__.polluted')(doc)).toEqual(['yes']);
    expect(compileFieldPath('polluted')(doc)).toEqual([]);
    expect(compileFieldPath('a.constructor')({ a: {} })).toEqual([]);
    expect(compileFieldPath('toString')({})).toEqual([]);
    expect(compileFieldPath('a.hasOwnProperty')({ a: { hasOwnProperty: 'x' } })).toEqual(['x']);
    // Nothing leaked into Object.prototype.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('works on null-prototype objects', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['a'] = 'v';
    expect(compileFieldPath('a')(o)).toEqual(['v']);
  });

  it('survives very deep nesting off the path', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    expect(compileFieldPath('a')({ a: 1, x: deep })).toEqual([1]);
    expect(compileFieldPath('x.x.x')({ x: deep })).toEqual([]);
  });

  it('caps array nesting depth', () => {
    let arr: unknown = 'v';
    for (let i = 0; i < MAX_ARRAY_DEPTH + 5; i++) arr = [arr];
    expect(compileFieldPath('a')({ a: arr })).toEqual([]);
    let shallow: unknown = 'v';
    for (let i = 0; i < MAX_ARRAY_DEPTH - 1; i++) shallow = [shallow];
    expect(compileFieldPath('a')({ a: shallow })).toEqual(['v']);
  });

  it('caps the number of values collected from huge arrays', () => {
    const big = new Array<number>(MAX_VALUES_PER_FIELD + 10).fill(7);
    expect(compileFieldPath('a')({ a: big })).toHaveLength(MAX_VALUES_PER_FIELD);
  });
});

describe('compileFieldAccessor', () => {
  it('some() stops at the first satisfying value', () => {
    const seen: unknown[] = [];
    const acc = compileFieldAccessor('a');
    expect(
      acc.some({ a: [1, 2, 3] }, (v) => {
        seen.push(v);
        return v === 2;
      }),
    ).toBe(true);
    expect(seen).toEqual([1, 2]);
    expect(acc.some({ a: [1] }, (v) => v === 9)).toBe(false);
  });

  it('first() returns the first value in document order or undefined', () => {
    const acc = compileFieldAccessor('a.b');
    expect(acc.first({ a: [{ b: 'x' }, { b: 'y' }] })).toBe('x');
    expect(acc.first({})).toBeUndefined();
  });
});

describe('generated accessors = reference walker', () => {
  // Documents as JSON text (so `__proto__` is an own key), built from the spellings of short paths.
  const SEGMENTS = ['a', 'b', 'c', 'constructor', '__proto__', 'toString'];
  const keyArb = fc
    .array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 3 })
    .map((parts) => parts.join('.'));
  const { json } = fc.letrec<{ json: string; obj: string; arr: string; scalar: string }>((tie) => ({
    scalar: fc.oneof(
      fc.constantFrom('null', 'true', 'false', '0', '""', '"x"', '"y"', '7', '-1.5'),
      fc.string({ maxLength: 4 }).map((s) => JSON.stringify(s)),
    ),
    arr: fc.array(tie('json'), { maxLength: 3 }).map((xs) => `[${xs.join(',')}]`),
    obj: fc
      .array(fc.tuple(keyArb, tie('json')), { maxLength: 4 })
      .map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
    json: fc.oneof({ maxDepth: 5, depthSize: 'small' }, tie('scalar'), tie('obj'), tie('arr')),
  }));
  const docArb = fc.oneof(json, json.map((j) => `{"a":${j}}`)).map((t) => JSON.parse(t) as unknown);
  const pathArb = fc.array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));

  it('values, first, some (visit order) and collectInto agree on random documents', () => {
    fc.assert(
      fc.property(pathArb, fc.array(docArb, { minLength: 1, maxLength: 5 }), (path, docs) => {
        const gen = compileFieldAccessor(path);
        const ref = compileReferenceFieldAccessor(path);
        for (const doc of docs) {
          expect(gen.values(doc)).toEqual(ref.values(doc));
          expect(gen.first(doc)).toEqual(ref.first(doc));
          const seenGen: unknown[] = [];
          const seenRef: unknown[] = [];
          const stopAt = (seen: unknown[]) => (v: unknown) => (seen.push(v), v === 'y');
          expect(gen.some(doc, stopAt(seenGen))).toBe(ref.some(doc, stopAt(seenRef)));
          expect(seenGen).toEqual(seenRef);
          const outGen: unknown[] = ['pre'];
          const outRef: unknown[] = ['pre'];
          gen.collectInto(doc, outGen);
          ref.collectInto(doc, outRef);
          expect(outGen).toEqual(outRef);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('some() sees only the first MAX_VALUES_PER_FIELD values, like values()', () => {
    const big = new Array<number>(MAX_VALUES_PER_FIELD + 10).fill(1);
    big[MAX_VALUES_PER_FIELD + 5] = 2;
    expect(compileFieldAccessor('a').some({ a: big }, (v) => v === 2)).toBe(false);
    big[MAX_VALUES_PER_FIELD - 1] = 2;
    expect(compileFieldAccessor('a').some({ a: big }, (v) => v === 2)).toBe(true);
  });

  it('some() is re-entrant (a predicate reading the same field again)', () => {
    const acc = compileFieldAccessor('a.b');
    const doc = { a: [{ b: 1 }, { b: 2 }] };
    const seen: unknown[] = [];
    const found = acc.some(doc, (v) => {
      seen.push(v);
      return acc.some(doc, (w) => w === 2) && v === 2;
    });
    expect(found).toBe(true);
    expect(seen).toEqual([1, 2]);
  });

  it('uses the interpreted walker for very long paths, with the same results', () => {
    const path = Array.from({ length: 30 }, (_, i) => `s${i}`).join('.');
    const nested = path.split('.').reduceRight<unknown>((v, k) => ({ [k]: v }), 'deep');
    expect(compileFieldAccessor(path).values(nested)).toEqual(['deep']);
    expect(compileFieldAccessor(path).values({ [path]: ['flat'] })).toEqual(['flat']);
  });

  it('never turns a path into code (quotes, backslashes, line separators)', () => {
    for (const key of ['"); throw 1; ("', '\\', '\u2028', '`${x}`', "'"]) {
      expect(compileFieldAccessor(key).values({ [key]: 'ok' })).toEqual(['ok']);
      expect(compileFieldAccessor(`a.${key}`).values({ a: { [key]: 'ok' } })).toEqual(['ok']);
    }
  });
});

describe('without code generation', () => {
  it('falls back to the interpreted walker when the runtime refuses new Function', () => {
    const script = [
      "const { compileFieldAccessor } = await import('./src/eql/fields.ts');",
      "const acc = compileFieldAccessor('a.b');",
      "process.stdout.write(JSON.stringify([acc.values({ a: { b: [1, 2] }, 'a.b': 3 }), acc.first({ a: [{ b: 'x' }] }), acc.matcher((v) => v === 2)({ a: { b: 2 } })]));",
    ].join('\n');
    const out = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(JSON.parse(out)).toEqual([[1, 2, 3], 'x', true]);
  });
});
