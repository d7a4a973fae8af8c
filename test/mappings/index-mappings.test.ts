/**
 * The per-index mapping model (pure): merged types for the engine, per-index types for queries and key
 * narrowing, `ignore_above` that only counts when every index has it, fields stored unindexed, and the
 * timestamp sort across `date` / `date_nanos`.
 */
import { describe, expect, it } from 'vitest';
import { IndexSchema, parseIndexMapping, parseMappingsResponse } from '../../src/mappings/index-mappings.js';
import { keyTyping, termConversion } from '../../src/mappings/key-typing.js';
import { narrowByKeys } from '../../src/eql/pushdown.js';
import { cloudDefendProcessMapping } from '../fixtures/mappings.js';

const schema = (indices: Record<string, unknown>) => new IndexSchema(parseMappingsResponse(Object.fromEntries(Object.entries(indices).map(([k, v]) => [k, { mappings: v }]))));

describe('IndexSchema', () => {
  const s = schema({
    a: { properties: { source: { properties: { ip: { type: 'ip' } } }, pid: { type: 'long' }, name: { type: 'keyword', ignore_above: 64 }, t: { type: 'date' }, msg: { type: 'text', fields: { keyword: { type: 'keyword' } } } } },
    b: { properties: { source: { properties: { ip: { type: 'keyword' } } }, pid: { type: 'long' }, name: { type: 'wildcard' }, t: { type: 'date_nanos' }, host: { type: 'alias', path: 'pid' } } },
    c: { dynamic: false, properties: { t: { type: 'date' }, obj: { type: 'object', dynamic: true, properties: { x: { type: 'keyword' } } }, off: { type: 'object', enabled: false } } },
  });

  it('merges types for the engine: agreement keeps the type, keyword-like types merge, conflicts are unknown', () => {
    expect(s.evalTypeOf('pid')).toBe('long');
    expect(s.evalTypeOf('name')).toBe('keyword');
    expect(s.evalTypeOf('source.ip')).toBe('unknown');
    expect(s.evalTypeOf('t')).toBe('unknown');
    expect(s.evalTypeOf('msg')).toBe('keyword');
    expect(s.queryTypeOf('msg')).toBe('text');
    expect(s.evalTypeOf('host')).toBe('long');
    expect(s.evalTypeOf('nowhere')).toBeUndefined();
  });

  it('groups indices by type, for queries that must be valid on each', () => {
    expect(s.typeGroups('source.ip')).toEqual([
      { type: 'ip', indices: ['a'] },
      { type: 'keyword', indices: ['b'] },
    ]);
    expect(s.typeGroups('name')).toEqual([{ type: 'keyword', indices: ['a', 'b'] }]);
  });

  it('relies on ignore_above only when every index maps the field with one (an unmapped index may hold it unindexed)', () => {
    expect(s.ignoreAboveOf('name')).toBeUndefined();
    const both = schema({ a: { properties: { n: { type: 'keyword', ignore_above: 64 } } }, b: { properties: { n: { type: 'keyword', ignore_above: 32 } } } });
    expect(both.ignoreAboveOf('n')).toBe(32);
    const oneUnmapped = schema({ a: { properties: { n: { type: 'keyword', ignore_above: 64 } } }, b: { properties: { other: { type: 'keyword' } } } });
    expect(oneUnmapped.ignoreAboveOf('n')).toBeUndefined();
    expect(new IndexSchema([parseIndexMapping('x', cloudDefendProcessMapping())]).ignoreAboveOf('process.args')).toBe(1024);
  });

  it('knows where a field is stored but never indexed: dynamic false, disabled objects; not under dynamic true', () => {
    expect(s.hiddenIndicesOf('user.name')).toEqual(['c']);
    expect(s.hiddenIndicesOf('obj.y')).toEqual([]);
    expect(s.hiddenIndicesOf('off.anything')).toEqual(['c']);
    // Mapped in a and b, and c's root is dynamic: false.
    expect(s.hiddenIndicesOf('pid')).toEqual(['c']);
    expect(s.hiddenIndicesOf('t')).toEqual([]);
  });

  it('sorts date and date_nanos indices on one scale', () => {
    expect(s.sortNumericType('t')).toBe('date_nanos');
    expect(schema({ a: { properties: { t: { type: 'date' } } } }).sortNumericType('t')).toBeUndefined();
  });

  it('changes its fingerprint when what the rule reads changes, not otherwise', () => {
    const other = schema({ a: { properties: { pid: { type: 'keyword' } } } });
    expect(s.fingerprint(['pid'])).not.toBe(other.fingerprint(['pid']));
    expect(s.fingerprint(['pid', 'name'])).toBe(s.fingerprint(['name', 'pid']));
  });
});

describe('key typing', () => {
  it('converts key values as each type indexes them, and leaves out what a type cannot hold', () => {
    expect(termConversion('ip')!('x')).toBeUndefined();
    expect(termConversion('ip')!('10.0.0.1')).toBe('10.0.0.1');
    expect(termConversion('long')!('4242')).toBe(4242);
    expect(termConversion('long')!(2.7)).toBe(2);
    expect(termConversion('long')!('abc')).toBeUndefined();
    expect(termConversion('keyword')!(0)).toBe(0);
    expect(termConversion('boolean')!('true')).toBe(true);
    expect(termConversion('date')).toBeNull();
  });

  it('narrows each index with the values its type can hold, and keeps _ignored for the rest', () => {
    const s = schema({ a: { properties: { ip: { type: 'ip' } } }, b: { properties: { ip: { type: 'keyword' } } } });
    const q = narrowByKeys({ term: { 'process.name': 'curl' } }, ['ip'], [['x'], ['10.0.0.1']], (f) => keyTyping(s, f));
    expect(q).toEqual({
      bool: {
        filter: [
          { term: { 'process.name': 'curl' } },
          {
            bool: {
              should: [
                { bool: { filter: [{ terms: { _index: ['a'] } }, { term: { ip: '10.0.0.1' } }] } },
                { bool: { filter: [{ terms: { _index: ['b'] } }, { terms: { ip: ['x', '10.0.0.1'] } }] } },
                { term: { _ignored: 'ip' } },
              ],
              minimum_should_match: 1,
            },
          },
        ],
      },
    });
  });

  it('does not narrow on a key field some index maps as a date (formats), nor drop indices storing it unindexed', () => {
    const s = schema({ a: { properties: { k: { type: 'date' } } } });
    expect(narrowByKeys({ match_all: {} }, ['k'], [['2026-01-01']], (f) => keyTyping(s, f))).toEqual({ match_all: {} });
    const hidden = schema({ a: { properties: { k: { type: 'keyword' } } }, b: { dynamic: false, properties: {} } });
    const q = JSON.stringify(narrowByKeys({ match_all: {} }, ['k'], [['v']], (f) => keyTyping(hidden, f)));
    expect(q).toContain('{"terms":{"_index":["b"]}}');
  });
});
