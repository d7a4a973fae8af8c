import { describe, expect, it } from 'vitest';
import { MAX_ARRAY_DEPTH, MAX_VALUES_PER_FIELD, compileFieldAccessor, compileFieldPath } from '../../src/eql/fields.js';

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
