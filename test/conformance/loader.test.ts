import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildDataset } from '../../src/conformance/dataset.js';
import { DataFormatError, filetimeNanosTransform, filetimeTimestampTransform, filetimeToUnixMillis, finaliseEvent, parseEvents } from '../../src/conformance/data.js';
import { DatasetCache } from '../../src/conformance/files.js';
import { parseLenientJson } from '../../src/conformance/json-lenient.js';
import { dynamicType, getPath, materialiseMappingFeatures, MappingSchema, parseMapping } from '../../src/conformance/mapping.js';
import { countCommentedOut, parseSuite, preprocessToml, SuiteFormatError } from '../../src/conformance/suite.js';
import { BUILTIN_SUITES } from '../../src/conformance/suites.js';

describe('TOML suites', () => {
  it('reads a bare null in arrays (test_extra.toml quirk) as the string "null"', () => {
    const text = `[[queries]]\nname = "a"\nquery = 'x where true'\nexpected_event_ids = [1]\njoin_keys = [null]\n\n[[queries]]\nname = "b"\nquery = 'x where true'\nexpected_event_ids = [2]\njoin_keys = ["tag1", null,\n   null]\n`;
    const specs = parseSuite(text, 't.toml');
    expect(specs.map((s) => s.joinKeys)).toEqual([['null'], ['tag1', 'null', 'null']]);
  });

  it('leaves null inside strings, comments and bare keys untouched', () => {
    const text = `# join_keys = [null]\nnullable = 1\nq = '''where x == null'''\nr = "null, [null]"\ns = [ 'a', null ]\n`;
    const out = preprocessToml(text);
    expect(out).toBe(`# join_keys = [null]\nnullable = 1\nq = '''where x == null'''\nr = "null, [null]"\ns = [ 'a', "null" ]\n`);
  });

  it('trims name and query, reads alternatives, size and max_samples_per_key, keeps unknown keys', () => {
    const text = `[[queries]]\nname = "  n1 "\nquery = '''\n  sample by host\n    [a where true]\n'''\nexpected_event_ids = [[1, 2], [3, 4]]\nsize = 2\nmax_samples_per_key = 3\nexpect_shard_failures = true\n\n[[queries]]\nname = "n2"\nquery = "a where false"\nexpected_event_ids = []\n`;
    const [a, b] = parseSuite(text, 't.toml');
    expect(a).toMatchObject({ name: 'n1', query: 'sample by host\n    [a where true]', expectedEventIds: [[1, 2], [3, 4]], size: 2, maxSamplesPerKey: 3 });
    expect(a?.unknownKeys).toEqual(['expect_shard_failures']);
    expect(b?.expectedEventIds).toEqual([[]]);
    expect(b?.joinKeys).toEqual([]);
  });

  it('counts commented-out entries (ES does not run them) without parsing them', () => {
    const text = `[[queries]]\nname = "a"\nquery = "x"\nexpected_event_ids = []\n#[[queries]]\n#name = "old"\n#query = 'x | unique a'\n  # [[queries]]\n`;
    expect(countCommentedOut(text)).toBe(2);
    expect(parseSuite(text, 't.toml').map((s) => s.name)).toEqual(['a']);
  });

  it('maps the legacy case flags to caseSensitive', () => {
    const text = `[[queries]]\nname = "a"\nquery = "x where true"\nexpected_event_ids = []\ncase_insensitive = true\n[[queries]]\nname = "b"\nquery = "x where true"\nexpected_event_ids = []\ncase_sensitive = true\n`;
    expect(parseSuite(text, 't.toml').map((s) => s.caseSensitive)).toEqual([false, true]);
  });

  it('rejects what EqlSpecLoader rejects: no expected ids, duplicate names, missing query', () => {
    expect(() => parseSuite(`[[queries]]\nname = "a"\nquery = "x where true"\n`, 't.toml')).toThrow(/expected_event_ids/);
    expect(() => parseSuite(`[[queries]]\nname = "a"\nquery = "x"\nexpected_event_ids = []\n[[queries]]\nname = "a"\nquery = "y"\nexpected_event_ids = []\n`, 't.toml')).toThrow(
      /duplicate test name "a"/,
    );
    expect(() => parseSuite(`[[queries]]\nname = "a"\nexpected_event_ids = []\n`, 't.toml')).toThrow(SuiteFormatError);
    expect(() => parseSuite(`[[queries]]\nname = "a"\nquery = "x"\nexpected_event_ids = [1, [2]]\n`, 't.toml')).toThrow(/invalid expected_event_ids/);
  });
});

describe('data files', () => {
  it('skips //// comment lines of .data files but keeps // inside strings', () => {
    const text = `[\n {"a": 1, "u": "http://x//y"},\n\n ////test2\n {"a": 2}, // trailing\n   //// test5\n {"a": 3}\n]\n`;
    expect(parseEvents(text, 'x.data')).toEqual([{ a: 1, u: 'http://x//y' }, { a: 2 }, { a: 3 }]);
  });

  it('reads NDJSON', () => {
    expect(parseEvents('{"a":1}\n{"a":2}\n\n', 'x.ndjson')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('reports non-object events and syntax errors with the file name and position', () => {
    expect(() => parseEvents('[1]', 'x.json')).toThrow(DataFormatError);
    expect(() => parseEvents('[{"a": }]', 'bad.json')).toThrow(/bad\.json: .*line 1, column 8/);
  });

  it('keeps integers beyond 2^53 exact until finalised, then gives plain numbers', () => {
    const [e] = parseEvents('[{"t": 131509374029999999, "s": 5}]', 'x.json');
    expect(e?.['t']).toBe(131509374029999999n);
    const plain = finaliseEvent(e!);
    expect(typeof plain['t']).toBe('number');
    expect(plain['s']).toBe(5);
  });

  it('keeps a "__proto__" key as a plain own property', () => {
    const v = parseLenientJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(Object.hasOwn(v, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('FILETIME → @timestamp (DataLoader.winFileTimeToUnix)', () => {
  it('converts the FILETIME epoch and a real endgame value', () => {
    expect(filetimeToUnixMillis(116444736000000000n)).toBe(0);
    expect(filetimeToUnixMillis(131485996510000000n)).toBe(1504126051000);
  });

  it('truncates exactly where a double would round up by a millisecond', () => {
    // 131509374029999999 as a double is 131509374030000000: the naive result would be ...3000.
    expect(Number(131509374029999999n) / 10000 - 11644473600000).toBe(1506463803000);
    const [e] = parseEvents('[{"timestamp": 131509374029999999}]', 'x.json');
    filetimeTimestampTransform(e!);
    expect(e?.['@timestamp']).toBe(1506463802999);
    expect(e?.['timestamp']).toBe(131509374029999999n);
  });

  it('date_nanos variant: FILETIME digits read as epoch nanos (DataLoader.timestampToUnixNanos)', () => {
    const [a, b] = parseEvents('[{"timestamp": 131509374395921780}, {"timestamp": 131485996510000000}]', 'x.json');
    filetimeNanosTransform(a!);
    filetimeNanosTransform(b!);
    expect(a?.['@timestamp']).toBe('131509374395.921780');
    expect(a?.['timestamp']).toBe(131509374395n);
    expect(b?.['@timestamp']).toBe('131485996510'); // a zero fraction is dropped
  });

  it('refuses an event without an integer timestamp, as DataLoader asserts', () => {
    const [e] = parseEvents('[{"timestamp": "2017"}]', 'x.json');
    expect(() => filetimeTimestampTransform(e!, 'x.json')).toThrow(/integer FILETIME/);
  });
});

const MAPPING = `# Text patterns like "[runtime_random_keyword_type]" will get replaced at runtime.
# See DataLoader class for pattern replacements.
{
  "properties": {
    "event_type": { "type": "[runtime_random_keyword_type]" },
    "seq": { "type": "long" },
    "event": { "properties": {
      "category": { "type": "alias", "path": "event_type" },
      "sequence": { "type": "alias", "path": "seq" }
    } },
    "hostname": { "type": "text", "fields": { "keyword": { "type": "keyword", "ignore_above": 256 } } },
    "body": { "type": "text" },
    "opt": { "type": "keyword", "null_value": "NULL" },
    "pretty": { "type": "date", "format": "dd-MM-yyyy" }
  }
}`;

describe('mappings', () => {
  it('drops leading # comment lines and substitutes the random keyword type', () => {
    const m = parseMapping(MAPPING, 'x.mapping');
    expect(m.fields.find((f) => f.path === 'event_type')?.type).toBe('keyword');
    expect(parseMapping(MAPPING, 'x.mapping', 'wildcard').fields.find((f) => f.path === 'event_type')?.type).toBe('wildcard');
  });

  it('reads aliases, multi-fields, formats and null_value', () => {
    const m = parseMapping(MAPPING, 'x.mapping');
    const byPath = new Map(m.fields.map((f) => [f.path, f]));
    expect(byPath.get('event.category')).toEqual({ path: 'event.category', type: 'alias', aliasPath: 'event_type' });
    expect(byPath.get('hostname')?.type).toBe('keyword'); // text + keyword sub-field: EQL uses the sub-field
    expect(byPath.get('hostname.keyword')?.type).toBe('keyword');
    expect(byPath.get('body')?.type).toBe('text');
    expect(byPath.get('opt')?.nullValue).toBe('NULL');
    expect(byPath.get('pretty')?.format).toBe('dd-MM-yyyy');
  });

  it('accepts the {mappings:{properties}} and GET _mapping shapes', () => {
    expect(parseMapping('{"mappings":{"properties":{"a":{"type":"ip"}}}}', 'm').fields).toEqual([{ path: 'a', type: 'ip' }]);
    expect(parseMapping('{"idx":{"mappings":{"properties":{"a":{"type":"long"}}}}}', 'm').fields).toEqual([{ path: 'a', type: 'long' }]);
    expect(() => parseMapping('{"nothing": 1}', 'm.json')).toThrow(/m\.json: no "properties"/);
  });
});

describe('materialising alias and null_value into documents', () => {
  const mapping = parseMapping(MAPPING, 'x.mapping');

  it('copies the alias target under the alias path, merging into an existing object', () => {
    const e: Record<string, unknown> = { event_type: 'process', seq: 4, event: { kind: 'event' } };
    materialiseMappingFeatures(e, mapping);
    expect(e['event']).toEqual({ kind: 'event', category: 'process', sequence: 4 });
  });

  it('does not invent a value for an absent target, nor overwrite a present alias value', () => {
    const absent: Record<string, unknown> = { seq: 1 };
    materialiseMappingFeatures(absent, mapping);
    expect(getPath(absent, 'event.category')).toBeUndefined();
    const present: Record<string, unknown> = { event_type: 'file', event: { category: 'network' } };
    materialiseMappingFeatures(present, mapping);
    expect(getPath(present, 'event.category')).toBe('network');
  });

  it('indexes explicit nulls of a null_value field as the stand-in, absent fields stay absent', () => {
    const explicit: Record<string, unknown> = { opt: null };
    const arr: Record<string, unknown> = { opt: ['a', null] };
    const absent: Record<string, unknown> = {};
    for (const e of [explicit, arr, absent]) materialiseMappingFeatures(e, mapping);
    expect(explicit['opt']).toBe('NULL');
    expect(arr['opt']).toEqual(['a', 'NULL']);
    expect('opt' in absent).toBe(false);
  });

  it('getPath resolves both dotted keys and nested objects', () => {
    expect(getPath({ 'process.pid': 1 }, 'process.pid')).toBe(1);
    expect(getPath({ process: { pid: 2 } }, 'process.pid')).toBe(2);
    expect(getPath({ a: { 'b.c': 3 } }, 'a.b.c')).toBe(3);
    expect(getPath({ a: 1 }, 'a.b')).toBeUndefined();
  });
});

describe('schema', () => {
  it('types explicit, alias and dynamically mapped fields; unmapped is undefined', () => {
    const ds = buildDataset([
      {
        dataFile: 'a.data',
        dataText: '[{"event_type":"x","seq":1,"transID":[12, 13],"ratio":0.5,"ok":true,"when":"2022-05-04T12:00:00.000Z","process.pid":7,"tags":[null,"t"]}]',
        mappingFile: 'a.mapping',
        mappingText: MAPPING,
      },
    ]);
    const s = ds.schema;
    expect(s.typeOf('event.category')).toBe('keyword');
    expect(s.typeOf('event.sequence')).toBe('long');
    expect(s.typeOf('transID')).toBe('long');
    expect(s.typeOf('ratio')).toBe('float');
    expect(s.typeOf('ok')).toBe('boolean');
    expect(s.typeOf('when')).toBe('date');
    expect(s.typeOf('process')).toBe('object');
    expect(s.typeOf('process.pid')).toBe('long');
    expect(s.typeOf('tags')).toBe('keyword');
    expect(s.typeOf('opt')).toBe('keyword'); // mapped, even with no document holding it
    expect(s.typeOf('nope')).toBeUndefined();
    expect(ds.events[0]?.['event']).toEqual({ category: 'x', sequence: 1 });
    expect(Object.isFrozen(ds.events[0])).toBe(true);
  });

  it('keeps each index\'s date format of a field', () => {
    const m1 = '{"properties":{"pretty":{"type":"date","format":"dd-MM-yyyy"}}}';
    const m2 = '{"properties":{"pretty":{"type":"date","format":"yyyy-MM-dd"},"plain":{"type":"date"}}}';
    const ds = buildDataset([
      { dataFile: '1', dataText: '[]', mappingText: m1 },
      { dataFile: '2', dataText: '[]', mappingText: m2 },
    ]);
    expect(ds.schema.formatsOf('pretty')).toEqual(['dd-MM-yyyy', 'yyyy-MM-dd']);
    expect(ds.schema.formatsOf('plain')).toEqual([]);
  });

  it('unions indices: a field mapped in any index is mapped', () => {
    const ds = buildDataset([
      { dataFile: '1.data', dataText: '[{"os":"win"}]' },
      { dataFile: '2.data', dataText: '[{"op_sys":"linux","port":3}]' },
    ]);
    expect(ds.schema.typeOf('os')).toBe('keyword');
    expect(ds.schema.typeOf('op_sys')).toBe('keyword');
    expect(ds.events.map((e) => Object.keys(e)[0])).toEqual(['os', 'op_sys']);
  });

  it('dynamic date detection only takes date-shaped strings', () => {
    expect(dynamicType('2022-12-17')).toBe('date');
    expect(dynamicType('1')).toBe('keyword');
    expect(dynamicType('17-12-2022')).toBe('keyword');
    expect(dynamicType([null, 3])).toBe('long');
    expect(dynamicType(null)).toBeUndefined();
  });
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const esEql = path.resolve(repoRoot, '../shared/conformance/es-eql');
const haveShared = existsSync(esEql);
if (!haveShared) console.warn(`[loader.test] ${esEql} absent: skipping the checks on Elasticsearch's QA files`);

describe.skipIf(!haveShared)("Elasticsearch's QA files", () => {
  const cache = new DatasetCache(esEql);

  it('every built-in suite loads with its data', () => {
    const counts = Object.fromEntries(
      BUILTIN_SUITES.map((s) => {
        const { specs, dataset } = cache.load(s.file, s.indices);
        return [s.file, [specs.length, dataset.events.length > 0]];
      }),
    );
    // Query counts as listed in the suites' README.
    expect(counts).toEqual({
      'test_queries.toml': [133, true],
      'additional_test_queries.toml': [61, true],
      'test_queries_date.toml': [4, true],
      'test_extra.toml': [40, true],
      'test_missing_events.toml': [26, true],
      'test_sample.toml': [25, true],
      'test_sample_multi.toml': [9, true],
    });
  });

  it('endgame events get @timestamp from FILETIME and event.category from the alias', () => {
    const { dataset } = cache.load('test_queries.toml', BUILTIN_SUITES[0]!.indices);
    const first = dataset.events[0]!;
    expect(first['@timestamp']).toBe(0);
    expect(getPath(first, 'event.category')).toBe(first['event_type']);
    expect(dataset.events.every((e) => typeof e['@timestamp'] === 'number')).toBe(true);
  });

  it('missing-events data with //// comment lines loads every event', () => {
    const suite = BUILTIN_SUITES.find((s) => s.file === 'test_missing_events.toml')!;
    const { dataset } = cache.load(suite.file, suite.indices);
    expect(dataset.events.length).toBe(48);
  });
});
