import { describe, expect, it } from 'vitest';
import { EqlError } from '../../src/eql/errors.js';
import { MAX_REGEX_INPUT, compileRegex, regexLiteral } from '../../src/eql/regex.js';

const m = (pattern: string, value: string, ci = false): boolean => compileRegex(pattern, ci)(value);

describe('compileRegex (Lucene syntax)', () => {
  it('matches the whole value', () => {
    expect(m('abc', 'abc')).toBe(true);
    expect(m('b', 'abc')).toBe(false);
    expect(m('.*b.*', 'abc')).toBe(true);
    expect(m('a|bc', 'bc')).toBe(true);
    expect(m('a|bc', 'abc')).toBe(false);
  });

  it('standard operators', () => {
    expect(m('ab?c', 'ac')).toBe(true);
    expect(m('ab+c', 'abbc')).toBe(true);
    expect(m('ab+c', 'ac')).toBe(false);
    expect(m('a{2}', 'aa')).toBe(true);
    expect(m('a{2,}', 'aaaa')).toBe(true);
    expect(m('a{2,3}', 'aaaa')).toBe(false);
    expect(m('a{3,2}', 'aaa')).toBe(false); // empty language, as Lucene builds it
    expect(m('[a-c]+', 'abcab')).toBe(true);
    expect(m('[^a-c]', 'd')).toBe(true);
    expect(m('[^a-c]', 'b')).toBe(false);
    expect(m('(ab)*', 'ababab')).toBe(true);
    expect(m('a()b', 'ab')).toBe(true);
  });

  it('^ and $ are literal characters, not anchors', () => {
    expect(m('^abc$', 'abc')).toBe(false);
    expect(m('^abc$', '^abc$')).toBe(true);
  });

  it('the detection-rules TLD pattern', () => {
    const p = '.*\\.(top|buzz|xyz|onion)';
    expect(m(p, 'evil.onion')).toBe(true);
    expect(m(p, 'evil.com')).toBe(false);
    expect(m(p, 'evil.onionx')).toBe(false);
  });

  it('predefined classes \\d \\s \\w and negations', () => {
    expect(m('\\d+', '0123')).toBe(true);
    expect(m('\\d+', '01a')).toBe(false);
    expect(m('\\D', 'a')).toBe(true);
    expect(m('a\\sb', 'a\tb')).toBe(true);
    expect(m('\\w+', 'A_z9')).toBe(true);
    expect(m('\\W', '-')).toBe(true);
    expect(m('[\\d_]+', '1_2')).toBe(true);
    expect(m('[a\\D]', '%')).toBe(true);
    expect(m('[a\\D]', '5')).toBe(false);
  });

  it('a backslash before another letter is an error (\\n is not a newline in Lucene)', () => {
    expect(() => compileRegex('a\\nb')).toThrow(EqlError);
  });

  it('escapes and quoted strings are literal', () => {
    expect(m('a\\.b', 'a.b')).toBe(true);
    expect(m('a\\.b', 'axb')).toBe(false);
    expect(m('"a.b*"', 'a.b*')).toBe(true);
    expect(m('\\\\', '\\')).toBe(true);
    expect(m('a\\@b', 'a@b')).toBe(true);
  });

  it('optional operators: @ # <n-m> ~ &', () => {
    expect(m('@', 'anything')).toBe(true);
    expect(m('a@', 'abc')).toBe(true);
    expect(m('#', '')).toBe(false);
    expect(m('a|#', 'a')).toBe(true);
    expect(m('foo<1-100>', 'foo42')).toBe(true);
    expect(m('foo<1-100>', 'foo101')).toBe(false);
    expect(m('foo<1-100>', 'foo007')).toBe(true); // leading zeros allowed when widths differ
    expect(m('<01-10>', '07')).toBe(true);
    expect(m('<01-10>', '7')).toBe(false); // fixed width
    expect(m('<10-1>', '5')).toBe(true); // bounds are swapped
    expect(m('~(abc)', 'abd')).toBe(true);
    expect(m('~(abc)', 'abc')).toBe(false);
    expect(m('.*a.*&.*b.*', 'xbxa')).toBe(true);
    expect(m('.*a.*&.*b.*', 'xxa')).toBe(false);
    expect(m('a|~(b)', 'c')).toBe(true);
  });

  it('rejects what a JS RegExp cannot express with an unsupported error', () => {
    try {
      compileRegex('x~(abc)y');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(EqlError);
      expect((e as EqlError).kind).toBe('unsupported');
    }
  });

  it('reports invalid syntax as a syntax error', () => {
    for (const bad of ['(ab', 'a{2', '[ab', '"ab', '<abc>', 'a)']) {
      try {
        compileRegex(bad);
        expect.unreachable(bad);
      } catch (e) {
        expect((e as EqlError).kind).toBe('syntax');
      }
    }
  });

  it('leading * and unmatched ] are literal, as in Lucene', () => {
    expect(m('*a', '*a')).toBe(true);
    expect(m('a]', 'a]')).toBe(true);
  });

  it('case-insensitive (regex~) folds ASCII literals but not ranges', () => {
    expect(m('abc', 'ABC', true)).toBe(true);
    expect(m('"abc"', 'AbC', true)).toBe(true);
    expect(m('[abc]+', 'ABC', true)).toBe(true);
    expect(m('[a-c]', 'B', true)).toBe(false);
    expect(m('é', 'É', true)).toBe(false);
    expect(m('abc', 'ABC', false)).toBe(false);
  });

  it('. matches one code point, including newlines', () => {
    expect(m('a.b', 'a😀b')).toBe(true);
    expect(m('a.b', 'a\nb')).toBe(true);
  });

  it('does not evaluate values longer than the input cap', () => {
    expect(m('a*', 'a'.repeat(MAX_REGEX_INPUT))).toBe(true);
    expect(m('a*', 'a'.repeat(MAX_REGEX_INPUT + 1))).toBe(false);
  });

  it('regexLiteral recognises operator-free patterns', () => {
    expect(regexLiteral('abc')).toBe('abc');
    expect(regexLiteral('a\\.c')).toBe('a.c');
    expect(regexLiteral('a.c')).toBeNull();
  });
});
