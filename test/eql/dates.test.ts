import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildDataset } from '../../src/conformance/dataset.js';
import { DEFAULT_DATE_FORMAT } from '../../src/conformance/mapping.js';
import { compileExpression, compileQuery } from '../../src/eql/compile.js';
import type { EqlEvent, FieldSchema, FieldType } from '../../src/eql/compiled.js';
import { compileDateFormat, compileDateFormats, dateText } from '../../src/eql/dates.js';
import { evaluate } from '../../src/eql/evaluate.js';

const DEC17 = Date.UTC(2022, 11, 17);

function parse(format: string, text: string): number {
  return compileDateFormat(format).parse(text);
}

describe('java.time patterns', () => {
  it('parses day/month/year patterns with literal separators', () => {
    expect(parse('dd-MM-yyyy', '17-12-2022')).toBe(DEC17);
    expect(parse('yyyy-MM-dd', '2022-12-17')).toBe(DEC17);
    expect(parse('uuuu/MM/dd', '2022/12/17')).toBe(DEC17);
    expect(parse('d.M.yyyy', '7.2.2022')).toBe(Date.UTC(2022, 1, 7));
    expect(parse('yy-MM-dd', '22-12-17')).toBe(DEC17);
    expect(parse('yyyy-DDD', '2022-351')).toBe(DEC17);
  });

  it('parses times, fractions, quoted literals and offsets', () => {
    expect(parse("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", '2022-12-17T01:02:03.456+01:00')).toBe(DEC17 + 2 * 60_000 + 3456);
    expect(parse("yyyy-MM-dd'T'HH:mm:ssXXX", '2022-12-17T01:02:03Z')).toBe(DEC17 + 3_723_000);
    expect(parse('yyyy-MM-dd HH:mm:ss Z', '2022-12-17 01:02:03 -0130')).toBe(DEC17 + 3_723_000 + 90 * 60_000);
    expect(parse("dd/MMM/yyyy:HH:mm:ss Z", '17/Dec/2022:00:00:00 +0000')).toBe(DEC17);
    expect(parse('EEE, dd MMMM yyyy', 'Sat, 17 December 2022')).toBe(DEC17);
    expect(parse("HH 'o''clock'", "07 o'clock")).toBe(7 * 3_600_000);
    expect(parse('hh:mm a', '12:30 PM')).toBe(12.5 * 3_600_000);
    expect(parse('hh:mm a', '12:30 AM')).toBe(0.5 * 3_600_000);
  });

  it('reads adjacent numbers as java.time does (the variable-width year leaves the fixed fields their digits)', () => {
    expect(parse('yyyyMMdd', '20221217')).toBe(DEC17);
    expect(parse('yyyyMMddHHmm', '202212170130')).toBe(DEC17 + 90 * 60_000);
    expect(parse('yyyyMMdd', '2022121')).toBeNaN();
  });

  it('optional sections apply when present and are skipped when absent', () => {
    expect(parse('yyyy-MM-dd[ HH:mm[:ss]]', '2022-12-17')).toBe(DEC17);
    expect(parse('yyyy-MM-dd[ HH:mm[:ss]]', '2022-12-17 10:30')).toBe(DEC17 + 10.5 * 3_600_000);
    expect(parse('yyyy-MM-dd[ HH:mm[:ss]]', '2022-12-17 10:30:05')).toBe(DEC17 + 10.5 * 3_600_000 + 5000);
    expect(parse('yyyy-MM-dd[ HH:mm[:ss]]', '2022-12-17 10:')).toBeNaN();
  });

  it('rejects impossible or partial values', () => {
    expect(parse('dd-MM-yyyy', '30-02-2022')).toBeNaN();
    expect(parse('dd-MM-yyyy', '29-02-2023')).toBeNaN();
    expect(parse('dd-MM-yyyy', '29-02-2024')).toBe(Date.UTC(2024, 1, 29));
    expect(parse('yyyy-MM-dd HH:mm', '2022-12-17 24:00')).toBeNaN();
    expect(parse('dd-MM-yyyy', '17-12-2022x')).toBeNaN();
    expect(parse('dd-MM-yyyy', '17-12')).toBeNaN();
    expect(parse('dd-MM-yyyy', '2022-12-17')).toBeNaN();
    expect(parse('EEE, dd MMM yyyy', 'Fri, 17 Dec 2022')).toBeNaN(); // 17 Dec 2022 was a Saturday
    expect(parse('yyyy-MM-dd', '')).toBeNaN();
  });

  it('a pattern with unsupported letters is unusable rather than guessed at', () => {
    for (const f of ["YYYY-'W'ww-e", 'yyyy-MM-dd VV', 'yyyy-MM-dd zzz', 'yyyy-MM-dd[', "yyyy-'unterminated"]) {
      const d = compileDateFormat(f);
      expect(d.usable, f).toBe(false);
      expect(d.parse('2022-12-17'), f).toBeNaN();
    }
  });
});

describe('built-in named formats', () => {
  it('strict_date_optional_time||epoch_millis (the default) takes ISO text and epoch millis', () => {
    const d = compileDateFormat('strict_date_optional_time||epoch_millis');
    expect(d.parse('2022-12-17')).toBe(DEC17);
    expect(d.parse('2022-12-17T00:00:00.000Z')).toBe(DEC17);
    expect(d.parse('2022-12-17T01:00:00+01:00')).toBe(DEC17);
    expect(d.parse('1671235200000')).toBe(DEC17);
    expect(d.parse('-1000')).toBe(-1000);
    expect(d.parse('17-12-2022')).toBeNaN();
  });

  it('epoch_second, basic_date, date vs strict_date, date_time', () => {
    expect(parse('epoch_second', '1671235200')).toBe(DEC17);
    expect(parse('epoch_second', '1671235200.5')).toBe(DEC17 + 500);
    expect(parse('basic_date', '20221217')).toBe(DEC17);
    expect(parse('strict_basic_date', '2022-12-17')).toBeNaN();
    expect(parse('date', '2022-1-5')).toBe(Date.UTC(2022, 0, 5));
    expect(parse('strict_date', '2022-1-5')).toBeNaN();
    expect(parse('strict_date', '2022-01-05')).toBe(Date.UTC(2022, 0, 5));
    expect(parse('strict_date_time', '2022-12-17T00:00:00.1+01')).toBe(DEC17 - 3_600_000 + 100);
    expect(parse('strict_date_time', '2022-12-17T00:00:00.100+0100')).toBe(DEC17 - 3_600_000 + 100);
    expect(parse('strict_date_time_no_millis', '2022-12-17T00:00:00Z')).toBe(DEC17);
    expect(parse('strict_year_month', '2022-12')).toBe(Date.UTC(2022, 11, 1));
    expect(parse('strict_hour_minute', '10:30')).toBe(10.5 * 3_600_000);
    expect(parse('basic_date_time', '20221217T000000.000Z')).toBe(DEC17);
  });

  it('tries `a||b` alternatives in order and skips unsupported ones', () => {
    const d = compileDateFormat('dd-MM-yyyy||week_date||yyyy-MM-dd||epoch_millis');
    expect(d.usable).toBe(true);
    expect(d.parse('17-12-2022')).toBe(DEC17);
    expect(d.parse('2022-12-17')).toBe(DEC17);
    expect(d.parse('1671235200000')).toBe(DEC17);
    // The first alternative that parses wins: `yyyy` reads at most 9 digits, so this is epoch millis.
    expect(compileDateFormat('yyyy||epoch_millis').parse('1671235200000')).toBe(DEC17);
    expect(compileDateFormat('yyyy||epoch_millis').parse('2022')).toBe(Date.UTC(2022, 0, 1));
  });
});

describe('printing (fields API: first alternative)', () => {
  it('prints with the first alternative of the format', () => {
    expect(compileDateFormat('dd-MM-yyyy||yyyy-MM-dd').print(DEC17)).toBe('17-12-2022');
    expect(compileDateFormat('strict_date_optional_time||epoch_millis').print(DEC17 + 5)).toBe('2022-12-17T00:00:00.005Z');
    expect(compileDateFormat('epoch_millis||strict_date_optional_time').print(DEC17)).toBe('1671235200000');
    expect(compileDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").print(DEC17 + 3_723_004)).toBe('2022-12-17T01:02:03.004Z');
    expect(compileDateFormat('EEE, d MMM yyyy hh:mm a Z').print(DEC17 + 13 * 3_600_000)).toBe('Sat, 17 Dec 2022 01:00 PM +0000');
    expect(compileDateFormat('date').print(Date.UTC(2022, 0, 5))).toBe('2022-01-05');
    expect(compileDateFormat('week_date||yyyy').print(DEC17)).toBeNull();
  });

  it('print then parse is the identity at the pattern precision (property)', () => {
    const patterns = ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 'dd/MMM/yyyy:HH:mm:ss.SSS Z', 'yyyyMMddHHmmssSSS', 'strict_date_optional_time', 'epoch_millis'];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), fc.constantFrom(...patterns), (ms, p) => {
        const d = compileDateFormat(p);
        const text = d.print(ms);
        expect(text).not.toBeNull();
        expect(d.parse(text as string)).toBe(ms);
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile input', () => {
  it('never throws and returns NaN or a finite instant for arbitrary text (property)', () => {
    const d = compileDateFormat("dd-MM-yyyy||yyyy-MM-dd[ HH:mm[:ss.SSS]]XXX||yyyyMMdd||EEE, dd MMM yyyy||strict_date_optional_time||epoch_millis");
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const ms = d.parse(s);
        expect(Number.isNaN(ms) || Number.isFinite(ms)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('caps input length and digit runs', () => {
    expect(parse('epoch_millis', '9'.repeat(5000))).toBeNaN();
    expect(parse('yyyy-MM-dd', `${'1'.repeat(50)}-12-17`)).toBeNaN();
    expect(parse('yyyy-MM-dd', `2022-12-17${' '.repeat(200)}`)).toBeNaN();
  });
});

describe('compileDateFormats (a field mapped with different formats in several indices)', () => {
  it('parses with any index format and tells which one parsed', () => {
    const set = compileDateFormats(['dd-MM-yyyy', 'yyyy-MM-dd']);
    expect(set).not.toBeNull();
    expect(set?.parse('17-12-2022')).toBe(DEC17);
    expect(set?.parse('2022-12-17')).toBe(DEC17);
    expect(set?.which('17-12-2022')).toBe(0);
    expect(set?.which('2022-12-17')).toBe(1);
    expect(set?.which('17/12/2022')).toBe(-1);
  });

  it('parses JSON numbers as their text, like Elasticsearch (custom patterns reject epoch numbers)', () => {
    expect(dateText(1671235200000)).toBe('1671235200000');
    expect(dateText(true)).toBeNull();
    expect(compileDateFormats(['dd-MM-yyyy'])?.parse(1671235200000)).toBeNaN();
    expect(compileDateFormats(['dd-MM-yyyy', DEFAULT_DATE_FORMAT])?.parse(1671235200000)).toBe(DEC17);
  });

  it('is null when no format is usable', () => {
    expect(compileDateFormats(['week_date'])).toBeNull();
    expect(compileDateFormats([])).toBeNull();
  });
});

/** A schema with types and per-field formats. */
function schema(types: Record<string, FieldType>, formats: Record<string, string[]> = {}): FieldSchema {
  return { typeOf: (p) => types[p], formatsOf: (p) => formats[p] };
}

describe('compiler with mapping formats', () => {
  const s = schema({ d: 'date', '@timestamp': 'date', event_type: 'keyword', id: 'long' }, { d: ['dd-MM-yyyy', 'yyyy-MM-dd'] });

  it('compares custom-format values as instants, literals parsed with the field formats', () => {
    const eq = compileExpression('d == "2022-12-17"', { schema: s });
    expect(eq({ d: '17-12-2022' })).toBe(true);
    expect(eq({ d: '2022-12-17' })).toBe(true);
    expect(eq({ d: '18-12-2022' })).toBe(false);
    const gt = compileExpression('d > "01-12-2022"', { schema: s });
    expect(gt({ d: '2022-12-17' })).toBe(true);
    expect(gt({ d: '30-11-2022' })).toBe(false);
    const inList = compileExpression('d in ("2022-12-16", "17-12-2022")', { schema: s });
    expect(inList({ d: '2022-12-17' })).toBe(true);
  });

  it('without formatsOf the default format applies (custom-format text stays text)', () => {
    const plain = schema({ d: 'date' });
    const eq = compileExpression('d == "2022-12-17"', { schema: plain });
    expect(eq({ d: '17-12-2022' })).toBe(false);
    expect(eq({ d: '2022-12-17T00:00:00Z' })).toBe(true);
  });

  it('parses the timestamp field with its formats', () => {
    const c = compileQuery('any where true', { schema: schema({ ts: 'date' }, { ts: ['dd-MM-yyyy HH:mm'] }), timestampField: 'ts' });
    expect(c.timestampOf({ ts: '17-12-2022 00:01' })).toBe(DEC17 + 60_000);
    expect(c.timestampOf({ ts: '2022-12-17T00:01:00Z' })).toBeNaN();
  });

  const events: EqlEvent[] = [
    { id: 1, event_type: 'alert', d: '17-12-2022', '@timestamp': 1 },
    { id: 2, event_type: 'failure', d: '2022-12-17', '@timestamp': 2 },
    { id: 3, event_type: 'failure', d: '2022-12-18', '@timestamp': 3 },
  ];

  it('sample keys join across formats and are epoch millis (composite aggregation keys)', () => {
    const c = compileQuery('sample by d [alert where true] [failure where true]', { schema: s, eventCategoryField: 'event_type' });
    const r = evaluate(c, events, {});
    if (r.kind !== 'samples') throw new Error('expected samples');
    expect(r.samples.map((x) => x.events.map((e) => e['id']))).toEqual([[1, 2]]);
    expect(r.samples[0]?.joinKeys).toEqual([DEC17]);
  });

  it('sample keys on a default-format date are epoch millis too', () => {
    const c = compileQuery('sample by @timestamp [alert where true] [failure where true]', {
      schema: s,
      eventCategoryField: 'event_type',
    });
    const r = evaluate(c, [events[0] as EqlEvent, { ...events[1], '@timestamp': '1970-01-01T00:00:00.001Z' }], {});
    if (r.kind !== 'samples') throw new Error('expected samples');
    expect(r.samples[0]?.joinKeys).toEqual([1]);
  });

  it('sequence keys are printed with the format that parsed each value (fields API text)', () => {
    const c = compileQuery('sequence by d [alert where true] [failure where true]', { schema: s, eventCategoryField: 'event_type' });
    const stage = c.stages[0];
    expect(stage?.keys({ d: '17-12-2022' })).toEqual([['17-12-2022']]);
    expect(stage?.keys({ d: '2022-12-17' })).toEqual([['2022-12-17']]);
    // Default-format dates keep the strict_date_optional_time text.
    const d2 = compileQuery('sequence by @timestamp [alert where true] [failure where true]', { schema: s, eventCategoryField: 'event_type' });
    expect(d2.stages[0]?.keys({ '@timestamp': 0 })).toEqual([['1970-01-01T00:00:00.000Z']]);
  });
});

describe('MappingSchema.formatsOf', () => {
  it('an index mapping the field without format contributes the default format', () => {
    const ds = buildDataset([
      { dataFile: '1', dataText: '[]', mappingText: '{"properties":{"d":{"type":"date","format":"dd-MM-yyyy"}}}' },
      { dataFile: '2', dataText: '[]', mappingText: '{"properties":{"d":{"type":"date"},"e":{"type":"date"}}}' },
    ]);
    expect(ds.schema.formatsOf('d')).toEqual(['dd-MM-yyyy', DEFAULT_DATE_FORMAT]);
    expect(ds.schema.formatsOf('e')).toEqual([]);
    const eq = compileExpression('d == "2022-12-17"', { schema: ds.schema });
    expect(eq({ d: '17-12-2022' })).toBe(true);
    expect(eq({ d: '2022-12-17T00:00:00Z' })).toBe(true);
  });
});
