import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompileOptions, FieldSchema, FieldType } from '../../src/eql/compiled.js';
import { MAX_SCRIPT_COMBINATIONS, compileExpression, compileQuery, keyId } from '../../src/eql/compile.js';
import { EqlError } from '../../src/eql/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');

function schema(types: Record<string, FieldType>): FieldSchema {
  return { typeOf: (p) => types[p] };
}

/** Compiles `cond` once and tests it on each document. */
function where(cond: string, options?: CompileOptions): (doc: Record<string, unknown>) => boolean {
  return compileExpression(cond, options);
}

describe('atomic predicates on multi-valued and missing fields', () => {
  it('== is true if any value matches', () => {
    const p = where('process.args == "curl"');
    expect(p({ process: { args: ['sh', 'curl'] } })).toBe(true);
    expect(p({ process: { args: ['sh'] } })).toBe(false);
    expect(p({})).toBe(false);
  });

  it('!= and not are plain negation: true on a missing field, false if any value matches', () => {
    const ne = where('process.args != "curl"');
    expect(ne({ process: { args: ['sh', 'curl'] } })).toBe(false);
    expect(ne({ process: { args: ['sh'] } })).toBe(true);
    expect(ne({})).toBe(true);
    const not = where('not process.name == "x"');
    expect(not({})).toBe(true);
    expect(not({ process: { name: 'x' } })).toBe(false);
  });

  it('== null is true iff missing; != null iff present', () => {
    const isNull = where('a == null');
    const notNull = where('a != null');
    for (const doc of [{}, { a: null }, { a: [] }, { a: [null] }, { a: { b: 1 } }]) {
      expect(isNull(doc)).toBe(true);
      expect(notNull(doc)).toBe(false);
    }
    expect(isNull({ a: 0 })).toBe(false);
    expect(notNull({ a: '' })).toBe(true);
  });

  it('each atomic predicate is evaluated independently over the values', () => {
    const p = where('pid > 100 and pid < 200');
    expect(p({ pid: [50, 300] })).toBe(true);
    expect(p({ pid: [50] })).toBe(false);
  });

  it('a bare field means == true (boolean or "true")', () => {
    const p = where('process.interactive');
    expect(p({ process: { interactive: true } })).toBe(true);
    expect(p({ process: { interactive: 'true' } })).toBe(true);
    expect(p({ process: { interactive: false } })).toBe(false);
    expect(p({})).toBe(false);
    expect(where('process.interactive == false')({ process: { interactive: false } })).toBe(true);
    expect(where('process.interactive != true')({})).toBe(true);
  });

  it('in / not in use sets and any-value semantics', () => {
    const p = where('process.name in ("bash", "sh", "zsh")');
    expect(p({ process: { name: 'sh' } })).toBe(true);
    expect(p({ process: { name: 'SH' } })).toBe(false);
    expect(p({ process: { name: ['x', 'zsh'] } })).toBe(true);
    const q = where('process.args not in ("which", "man")');
    expect(q({ process: { args: ['curl', 'man'] } })).toBe(false);
    expect(q({ process: { args: ['curl'] } })).toBe(true);
    expect(q({})).toBe(true);
  });

  it('in~ is ASCII case-insensitive and treats * literally', () => {
    const p = where('a in~ ("CMD.exe", "x*")');
    expect(p({ a: 'cmd.EXE' })).toBe(true);
    expect(p({ a: 'x*' })).toBe(true);
    expect(p({ a: 'xyz' })).toBe(false);
    expect(where('a in~ ("é")')({ a: 'É' })).toBe(false);
  });

  it(': is ASCII case-insensitive with wildcards, list = any pattern', () => {
    const p = where('process.name : ("*SH", "cmd.exe")');
    expect(p({ process: { name: 'bash' } })).toBe(true);
    expect(p({ process: { name: 'CMD.EXE' } })).toBe(true);
    expect(p({ process: { name: 'cmd.exe.bak' } })).toBe(false);
    expect(where('a : "é*"')({ a: 'Éa' })).toBe(false);
    expect(where('a : "é*"')({ a: 'éa' })).toBe(true);
  });

  it('like is case-sensitive, like~ insensitive; a lone * requires a value', () => {
    expect(where('a like "A*"')({ a: 'abc' })).toBe(false);
    expect(where('a like~ "A*"')({ a: 'abc' })).toBe(true);
    expect(where('a like ("x", "*c")')({ a: 'abc' })).toBe(true);
    const any = where('container.id like "*"');
    expect(any({ container: { id: 'abc' } })).toBe(true);
    expect(any({ container: { id: '' } })).toBe(true);
    expect(any({})).toBe(false);
  });

  it('regex / regex~ (Lucene syntax, whole value)', () => {
    expect(where('a regex "ab.*"')({ a: 'abc' })).toBe(true);
    expect(where('a regex "b.*"')({ a: 'abc' })).toBe(false);
    expect(where('a regex~ "AB.*"')({ a: 'abc' })).toBe(true);
    expect(where('a regex ("x", "a.c")')({ a: ['zzz', 'abc'] })).toBe(true);
  });

  it('string ordering is by code point', () => {
    expect(where('a < "b"')({ a: 'a' })).toBe(true);
    expect(where('a < "b"')({ a: 'B' })).toBe(true);
    expect(where('a > "\uffff"')({ a: '😀' })).toBe(true);
  });

  it('literal on the left is normalised', () => {
    expect(where('5 < a')({ a: 6 })).toBe(true);
    expect(where('5 < a')({ a: 4 })).toBe(false);
    expect(where('"x" == a')({ a: 'x' })).toBe(true);
  });
});

describe('value types without a schema', () => {
  it('numbers and numeric strings compare numerically', () => {
    expect(where('pid == 4')({ pid: 4 })).toBe(true);
    expect(where('pid == 4')({ pid: '4' })).toBe(true);
    expect(where('pid == "4"')({ pid: 4 })).toBe(true);
    expect(where('pid == 4.0')({ pid: 4 })).toBe(true);
    expect(where('pid > 10')({ pid: '9' })).toBe(false);
    expect(where('pid > 10')({ pid: '11' })).toBe(true);
    expect(where('pid in (1, 2)')({ pid: '2' })).toBe(true);
    expect(where('pid in ("1", "2")')({ pid: 2 })).toBe(true);
  });

  it('a non-numeric string never equals a number; strings compare as strings', () => {
    expect(where('pid == 4')({ pid: 'four' })).toBe(false);
    expect(where('a == "4"')({ a: '4.0' })).toBe(false);
    expect(where('a in ("4")')({ a: '04' })).toBe(false);
  });
});

describe('with a schema (values coerced as Elasticsearch indexes them)', () => {
  it('keyword fields hold text: a JSON number is its string form', () => {
    const opts = { schema: schema({ pid: 'keyword' }) };
    expect(where('pid == "4"', opts)({ pid: 4 })).toBe(true);
    expect(where('pid == 4', opts)({ pid: '4' })).toBe(true);
    // Lexicographic order on keyword.
    expect(where('pid > "10"', opts)({ pid: 9 })).toBe(true);
  });

  it('numeric fields coerce numeric strings', () => {
    const opts = { schema: schema({ n: 'long' }) };
    expect(where('n == "12"', opts)({ n: '12' })).toBe(true);
    expect(where('n > 9', opts)({ n: '10' })).toBe(true);
    expect(where('n == "x"', opts)({ n: 1 })).toBe(false);
  });

  it('boolean fields accept "true"/"false"/""', () => {
    const opts = { schema: schema({ b: 'boolean' }) };
    expect(where('b == false', opts)({ b: '' })).toBe(true);
    expect(where('b', opts)({ b: 'true' })).toBe(true);
  });

  it('date fields compare as instants', () => {
    const opts = { schema: schema({ t: 'date' }) };
    expect(where('t > "2020-01-01T00:00:00Z"', opts)({ t: '2020-01-01T01:00:00+00:00' })).toBe(true);
    expect(where('t == "2020-01-01T00:00:00Z"', opts)({ t: 1577836800000 })).toBe(true);
  });

  it('version fields order by semantic version; invalid versions sort after valid ones', () => {
    const opts = { schema: schema({ v: 'version' }) };
    expect(where('v > "1.5.0"', opts)({ v: '1.11.3' })).toBe(true);
    expect(where('v > "1.5.0"')({ v: '1.11.3' })).toBe(false); // without a schema: code-point order
    expect(where('v < "1.5.0"', opts)({ v: '1.2.4-SNAPSHOT' })).toBe(true);
    expect(where('v < "1.2.4"', opts)({ v: '1.2.4-SNAPSHOT' })).toBe(true);
    expect(where('v < "1.5.0"', opts)({ v: 'bad' })).toBe(false);
    expect(where('v > "1.5.0"', opts)({ v: 'bad' })).toBe(true);
  });

  it('dates in a format we cannot parse stay text', () => {
    const opts = { schema: schema({ d: 'date' }) };
    expect(where('d == "17-12-2022"', opts)({ d: '17-12-2022' })).toBe(true);
    const c = compileQuery('sequence by d [any where true] [any where true]', opts);
    expect(c.stages[0]!.keys({ d: 0 })).toEqual([['1970-01-01T00:00:00.000Z']]);
    expect(c.stages[0]!.keys({ d: '1970-01-02T00:00:00Z' })).toEqual([['1970-01-02T00:00:00.000Z']]);
    expect(c.stages[0]!.keys({ d: '17-12-2022' })).toEqual([['17-12-2022']]);
  });

  it('ip fields compare canonical addresses', () => {
    const opts = { schema: schema({ ip: 'ip' }) };
    expect(where('ip == "2001:db8::1"', opts)({ ip: '2001:0db8:0:0:0:0:0:1' })).toBe(true);
    expect(where('ip == "10.0.0.1"', opts)({ ip: '::ffff:10.0.0.1' })).toBe(true);
  });
});

describe('optional fields', () => {
  const opts = { schema: schema({ mapped: 'keyword' }) };
  it('unmapped ?field is the literal null (3-valued folding)', () => {
    expect(where('?missing == null', opts)({})).toBe(true);
    expect(where('?missing != null', opts)({})).toBe(false);
    expect(where('?missing == "x"', opts)({ missing: 'x' })).toBe(false);
    expect(where('not ?missing == "x"', opts)({})).toBe(false);
    expect(where('?missing', opts)({ missing: true })).toBe(false);
    expect(where('?missing == "x" or mapped == "y"', opts)({ mapped: 'y' })).toBe(true);
    expect(where('not (?missing == "x" and mapped == "y")', opts)({ mapped: 'z' })).toBe(true);
    expect(where('not (?missing == "x" and mapped == "y")', opts)({ mapped: 'y' })).toBe(false);
  });

  it('?x == ?y with both unmapped is a null check (null == null), as in the ES QA suite', () => {
    expect(where('?x == ?y', opts)({})).toBe(true);
    expect(where('?x != ?y', opts)({})).toBe(false);
  });

  it('null on the left of an expression is moved right and becomes a null check', () => {
    const p = where('null == (exit_code > -1)');
    expect(p({})).toBe(true);
    expect(p({ exit_code: 0 })).toBe(false);
    expect(where('concat(a, null) == "x"')({ a: 'x' })).toBe(false);
    expect(where('not concat(a, null) == "x"')({ a: 'x' })).toBe(false); // folds to null, not negated
  });

  it('mapped ?field and ?field without a schema behave as normal fields', () => {
    expect(where('?mapped == "x"', opts)({ mapped: 'x' })).toBe(true);
    expect(where('?missing == "x"')({ missing: 'x' })).toBe(true);
    expect(where('?missing != "x"')({})).toBe(true);
  });
});

describe('functions (script semantics)', () => {
  it('evaluates over every value combination, any-semantics', () => {
    const p = where('length(a) == 3');
    expect(p({ a: ['xx', 'yyy'] })).toBe(true);
    expect(p({ a: ['xx'] })).toBe(false);
    const q = where('concat(a, b) == "13"');
    expect(q({ a: [1, 2], b: [4, 3] })).toBe(true);
    expect(q({ a: [2], b: [3] })).toBe(false);
  });

  it('the same field referenced twice is two independent loops (cartesian)', () => {
    expect(where('concat(a, a) == "xy"')({ a: ['x', 'y'] })).toBe(true);
  });

  it('not of a function condition is true when the field is missing', () => {
    expect(where('not length(a) == 1')({})).toBe(true);
    expect(where('length(a) != 1')({})).toBe(true);
    expect(where('length(a) == 1')({})).toBe(false);
  });

  it('boolean functions: f(..) == false is not f(..) (true on missing)', () => {
    expect(where('startsWith(a, "x") == false')({})).toBe(true);
    expect(where('startsWith(a, "x") == true')({ a: 'xy' })).toBe(true);
    expect(where('startsWith(a, "x") != true')({ a: 'xy' })).toBe(false);
  });

  it('field-first startsWith/endsWith/stringContains use any value and ASCII folding', () => {
    expect(where('stringContains(a, "cmd")')({ a: ['x', 'run cmd now'] })).toBe(true);
    expect(where('endsWith~(a, ".EXE")')({ a: 'x.exe' })).toBe(true);
    expect(where('startsWith~(a, "é")')({ a: 'Éx' })).toBe(false);
    expect(where('startsWith(a, "x")')({})).toBe(false);
  });

  it('functions with the field not first are scripts (Unicode folding)', () => {
    expect(where('startsWith~("Éxyz", a)')({ a: 'éx' })).toBe(true);
    expect(where('stringContains("ABCDEFGHIexplorer.exeJKLMNOP", a)')({ a: 'explorer.exe' })).toBe(true);
  });

  it('cidrMatch on a field', () => {
    const p = where('cidrMatch(ip, "10.0.0.0/8", "192.168.0.0/16")');
    expect(p({ ip: ['1.1.1.1', '10.2.3.4'] })).toBe(true);
    expect(p({ ip: '8.8.8.8' })).toBe(false);
    expect(p({})).toBe(false);
  });

  it('arithmetic: integer division truncates', () => {
    expect(where('a / 3 == 1')({ a: 4 })).toBe(true);
    expect(where('a / 3.0 == 1')({ a: 4 })).toBe(false);
    expect(where('a % 40 == 2')({ a: 82 })).toBe(true);
    expect(where('-a == -5')({ a: 5 })).toBe(true);
    expect(where('divide(4, a) == 1')({ a: 3 })).toBe(true);
  });

  it('conformance examples from the Elasticsearch QA suite', () => {
    expect(where('concat(serial_event_id, ":", process_name, opcode) : "5:winINIT.exe3"')({ serial_event_id: 5, process_name: 'wininit.exe', opcode: 3 })).toBe(true);
    expect(where('between~(process_name, "s", "E") : "yst"')({ process_name: 'System' })).toBe(true);
    expect(where('substring(file_name, -4, -1) : ".ex"')({ file_name: 'cmd.exe' })).toBe(true);
    expect(where('indexOf~(file_name, "plore") == 2 and indexOf~(file_name, ".pf") == null')({ file_name: 'explorer.exe' })).toBe(true);
    expect(where('serial_event_id == number("0x32", 16)')({ serial_event_id: 50 })).toBe(true);
  });

  it('caps the combinations evaluated on hostile arrays', () => {
    const big = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    // 1000 × 1000 > cap: the match (last × last) lies beyond it and is not found.
    expect(1000 * 1000).toBeGreaterThan(MAX_SCRIPT_COMBINATIONS);
    expect(where('concat(a, b) == "v999v999"')({ a: big, b: big })).toBe(false);
    expect(where('concat(a, b) == "v0v5"')({ a: big, b: big })).toBe(true);
  });
});

describe('compile-time errors', () => {
  it('rejects a malformed CIDR literal', () => {
    expect(() => where('cidrMatch(ip, "10.0.0.0/99")')).toThrow(EqlError);
  });
  it('rejects a non-boolean condition', () => {
    expect(() => where('length(a)')).toThrow(EqlError);
    expect(() => where('a + 1')).toThrow(EqlError);
  });
  it('rejects ~ on functions without a case-insensitive variant', () => {
    expect(() => compileExpression({
      kind: 'call', name: 'length', caseInsensitive: true, args: [{ kind: 'field', path: 'a', optional: false, pos: { line: 1, column: 1, offset: 0 } }], pos: { line: 1, column: 1, offset: 0 },
    })).toThrow(EqlError);
  });
});

describe('compileQuery', () => {
  it('event query: category is an any-value, case-sensitive term', () => {
    const c = compileQuery('process where process.name == "x"');
    expect(c.kind).toBe('event');
    expect(c.predicate!({ event: { category: ['network', 'process'] }, process: { name: 'x' } })).toBe(true);
    expect(c.predicate!({ event: { category: 'Process' }, process: { name: 'x' } })).toBe(false);
    expect(c.predicate!({ process: { name: 'x' } })).toBe(false);
    expect(compileQuery('any where true').predicate!({})).toBe(true);
    const custom = compileQuery('process where true', { eventCategoryField: 'cat' });
    expect(custom.predicate!({ cat: 'process' })).toBe(true);
    expect(custom.options.eventCategoryField).toBe('cat');
  });

  it('sequence: runs expansion, keys, until, maxspan, options', () => {
    const c = compileQuery(
      'sequence by host.id with maxspan=2s [process where true] by user.name with runs=2 [file where true] by ?owner until [any where stop == true] by x',
    );
    expect(c.kind).toBe('sequence');
    expect(c.stages).toHaveLength(3);
    expect(c.maxspanMs).toBe(2000);
    expect(c.until).not.toBeNull();
    const [s0, s1, s2] = c.stages;
    expect(s0!.category).toBe('process');
    expect(s0!.missing).toBe(false);
    expect(s1).toBe(s0);
    expect(s2!.category).toBe('file');
    const ev = { host: { id: ['h1', 'h2', 'h1'] }, user: { name: 'u' } };
    expect(s0!.keys(ev)).toEqual([['h1', 'u'], ['h2', 'u']]);
    expect(s0!.keys({ host: { id: 'h1' } })).toEqual([]); // non-optional key missing
    expect(s2!.keys({ host: { id: 'h1' } })).toEqual([['h1', null]]); // optional key may be null
    expect(c.until!.predicate({ stop: true })).toBe(true);
    expect(c.options.timestampField).toBe('@timestamp');
    expect(c.options.tiebreakerField).toBeNull();
  });

  it('sample stages carry keys', () => {
    const c = compileQuery('sample by h [process where true] [file where true]');
    expect(c.kind).toBe('sample');
    expect(c.stages).toHaveLength(2);
    expect(c.stages[1]!.keys({ h: 1 })).toEqual([[1]]);
  });

  it('missing-event stages are flagged', () => {
    const c = compileQuery('sequence with maxspan=1h [process where true] ![file where true]');
    expect(c.stages.map((s) => s.missing)).toEqual([false, true]);
  });

  it('timestampOf and tiebreakerOf', () => {
    const c = compileQuery('process where true', { tiebreakerField: 'seq' });
    expect(c.timestampOf({ '@timestamp': '2020-01-01T00:00:00.000Z' })).toBe(Date.UTC(2020, 0, 1));
    expect(c.timestampOf({ '@timestamp': '2020-01-01T00:00:00.123456789Z' })).toBe(Date.UTC(2020, 0, 1) + 123);
    expect(c.timestampOf({ '@timestamp': 1000 })).toBe(1000);
    expect(c.timestampOf({ '@timestamp': '1000' })).toBe(1000);
    expect(c.timestampOf({})).toBeNaN();
    expect(c.timestampOf({ '@timestamp': 'garbage' })).toBeNaN();
    expect(c.tiebreakerOf({ seq: [7, 8] })).toBe(7);
    expect(c.tiebreakerOf({})).toBeNull();
    const nanos = compileQuery('any where true', { schema: schema({ '@timestamp': 'date_nanos' }) });
    expect(nanos.timestampOf({ '@timestamp': '2020-01-01T00:00:00.000000500Z' })).toBeCloseTo(Date.UTC(2020, 0, 1) + 0.0005, 6);
  });

  it('keys are deduplicated and capped, tuples are fresh arrays', () => {
    const c = compileQuery('sequence by a [any where true] [any where true]');
    expect(c.stages[0]!.keys({ a: ['x', 'x', 'y'] })).toEqual([['x'], ['y']]);
    expect(c.stages[0]!.keys({ a: [1, '1'] })).toEqual([[1], ['1']]);
  });
});

describe('field caching', () => {
  it('re-reads an event mutated between calls (caches never outlive one call)', () => {
    const p = where('a == "x" and length(a) == 1');
    const ev: Record<string, unknown> = { a: 'x' };
    expect(p(ev)).toBe(true);
    ev['a'] = 'y';
    expect(p(ev)).toBe(false);
    const c = compileQuery('sequence by k [process where a == 1] [process where a == 2]');
    const e2: Record<string, unknown> = { event: { category: 'process' }, a: 1, k: 'p' };
    expect(c.stages[0]!.predicate(e2)).toBe(true);
    expect(c.stages[1]!.predicate(e2)).toBe(false);
    e2['a'] = 2;
    e2['k'] = 'q';
    expect(c.stages[1]!.predicate(e2)).toBe(true);
    expect(c.stages[1]!.keys(e2)).toEqual([['q']]);
  });
});

describe('keyId', () => {
  it('is canonical and type-aware', () => {
    expect(keyId(['a', 1])).toBe(keyId(['a', 1]));
    expect(keyId([4])).not.toBe(keyId(['4']));
    expect(keyId([null])).not.toBe(keyId(['null']));
    expect(keyId([true])).not.toBe(keyId(['true']));
    expect(keyId(['a,b'])).not.toBe(keyId(['a', 'b']));
    expect(keyId([NaN])).not.toBe(keyId([null]));
  });
});

describe('hostile events', () => {
  it('prototype keys are data, not inherited properties', () => {
    const p = where('constructor == "x" or toString == "y"');
    expect(p({})).toBe(false);
    expect(p(JSON.parse('{"constructor": "x"}') as Record<string, unknown>)).toBe(true);
    const q = where('a.__proto__.b == 1');
    expect(q(JSON.parse('{"a": {"__proto__": {"b": 1}}}') as Record<string, unknown>)).toBe(true);
    expect(q({ a: {} })).toBe(false);
  });

  it('objects, nested arrays and odd types never throw', () => {
    const p = where('a == "x" or length(a) > 2 or a : "*y*" or a regex "z.*" or cidrMatch(a, "10.0.0.0/8")');
    for (const a of [{}, [[['x']]], [{ b: 1 }], 1e308, -0, true, '', '\u0000', 'y'.repeat(100_000)]) {
      expect(() => p({ a })).not.toThrow();
    }
    expect(p({ a: [[['x']]] })).toBe(true);
  });
});

const seedsDir = path.join(shared, 'seeds');
const haveSeeds = existsSync(seedsDir);
if (!haveSeeds) console.warn(`[compile.test] ${seedsDir} not found: seed-rule tests skipped`);

describe.skipIf(!haveSeeds)('seed rules', () => {
  const extract = (name: string): string => {
    const text = readFileSync(path.join(seedsDir, name), 'utf8');
    const start = text.indexOf('text code block:') + 'text code block:'.length;
    return text.slice(start, text.indexOf('Install detection rules', start)).trim();
  };
  const exec = {
    '@timestamp': '2026-01-01T00:00:00.000Z',
    event: { category: ['process'], type: ['start'], action: 'exec' },
    host: { os: { type: 'linux' } },
    process: {
      name: 'bash',
      args: ['bash', '-c', '/usr/bin/curl'],
      interactive: true,
      entry_leader: { entry_meta: { type: 'container' }, same_as_process: true },
    },
    container: { id: 'abc' },
    orchestrator: { resource: { name: 'pod-1' } },
  };
  const audit = {
    '@timestamp': '2026-01-01T00:00:00.500Z',
    event: { dataset: 'kubernetes.audit_logs' },
    kubernetes: { audit: { stage: 'ResponseComplete', user: { extra: { 'authentication.kubernetes.io/pod-name': ['pod-1'] } } } },
  };

  it('interactive exec into container (004)', () => {
    const c = compileQuery(extract('004_ea0a7b3e1b19da3b.txt'));
    expect(c.predicate!(exec)).toBe(true);
    expect(c.predicate!({ ...exec, container: {} })).toBe(false);
    expect(c.predicate!({ ...exec, process: { ...exec.process, interactive: false } })).toBe(false);
    expect(c.predicate!({ ...exec, process: { ...exec.process, name: 'python' } })).toBe(false);
  });

  it('direct interactive Kubernetes API request (000): stages and join keys', () => {
    const c = compileQuery(extract('000_e5629a0eea7e32f8.txt'));
    expect(c.maxspanMs).toBe(1000);
    const [s0, s1] = c.stages;
    expect(s0!.predicate(exec)).toBe(true);
    expect(s0!.keys(exec)).toEqual([['pod-1']]);
    expect(s1!.predicate(audit)).toBe(true);
    expect(s1!.keys(audit)).toEqual([['pod-1']]);
    // Excluded helper argument.
    expect(s0!.predicate({ ...exec, process: { ...exec.process, args: ['bash', 'curl', 'which'] } })).toBe(false);
    // Dotted-key storage of the join key.
    expect(s1!.keys({ ...audit, kubernetes: { audit: { stage: 'ResponseStarted' } }, 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name': 'pod-2' })).toEqual([['pod-2']]);
  });
});
