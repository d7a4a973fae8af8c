import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asciiLower, compileWildcard, equalsFolded, hasWildcard } from '../../src/eql/wildcard.js';

/** Reference: dynamic programming over code points (obviously correct, small inputs only). */
function reference(pattern: string, text: string): boolean {
  const p = Array.from(pattern);
  const t = Array.from(text);
  // dp[i][j]: p[0..i) matches t[0..j)
  const dp: boolean[][] = Array.from({ length: p.length + 1 }, () => new Array<boolean>(t.length + 1).fill(false));
  dp[0]![0] = true;
  for (let i = 1; i <= p.length; i++) {
    const pc = p[i - 1];
    for (let j = 0; j <= t.length; j++) {
      if (pc === '*') dp[i]![j] = dp[i - 1]![j]! || (j > 0 && dp[i]![j - 1]!);
      else if (j > 0 && (pc === '?' || pc === t[j - 1])) dp[i]![j] = dp[i - 1]![j - 1]!;
    }
  }
  return dp[p.length]![t.length]!;
}

describe('compileWildcard', () => {
  it('matches * and ? as documented', () => {
    expect(compileWildcard('a*')('abc')).toBe(true);
    expect(compileWildcard('a*')('a')).toBe(true);
    expect(compileWildcard('a*')('ba')).toBe(false);
    expect(compileWildcard('*c')('abc')).toBe(true);
    expect(compileWildcard('a?c')('abc')).toBe(true);
    expect(compileWildcard('a?c')('ac')).toBe(false);
    expect(compileWildcard('a?c')('abbc')).toBe(false);
    expect(compileWildcard('*')('')).toBe(true);
    expect(compileWildcard('**')('anything')).toBe(true);
    expect(compileWildcard('?')('')).toBe(false);
    expect(compileWildcard('*b*d*')('abcde')).toBe(true);
    expect(compileWildcard('*b*d*')('adcbe')).toBe(false);
  });

  it('is a whole-value match, anchored both ends', () => {
    expect(compileWildcard('b*')('abc')).toBe(false);
    expect(compileWildcard('*b')('abc')).toBe(false);
    expect(compileWildcard('a*c')('abcd')).toBe(false);
  });

  it('does not let head and tail overlap', () => {
    expect(compileWildcard('ab*ba')('aba')).toBe(false);
    expect(compileWildcard('ab*ba')('abba')).toBe(true);
    expect(compileWildcard('a*a')('a')).toBe(false);
  });

  it('patterns without wildcards are equality', () => {
    const m = compileWildcard('cmd.exe');
    expect(m('cmd.exe')).toBe(true);
    expect(m('CMD.EXE')).toBe(false);
    expect(m('xcmd.exe')).toBe(false);
    expect(hasWildcard('cmd.exe')).toBe(false);
    expect(hasWildcard('c*')).toBe(true);
  });

  it('treats backslash and regex characters literally', () => {
    expect(compileWildcard('*\\red_ttp\\wininit.*')('C:\\red_ttp\\wininit.exe')).toBe(true);
    expect(compileWildcard('*\\red_ttp\\wininit.*')('C:/red_ttp/wininit.exe')).toBe(false);
    expect(compileWildcard('a\\*')('a\\xyz')).toBe(true); // `\` does not escape `*`
    expect(compileWildcard('a.c')('abc')).toBe(false);
    expect(compileWildcard('(a)[b]{1}+$^')('(a)[b]{1}+$^')).toBe(true);
    expect(compileWildcard('%_')('%_')).toBe(true);
    expect(compileWildcard('%_')('ab')).toBe(false);
  });

  it('? consumes one code point (surrogate pairs count once)', () => {
    expect(compileWildcard('a?b')('a😀b')).toBe(true);
    expect(compileWildcard('a??b')('a😀b')).toBe(false);
    expect(compileWildcard('*?')('😀')).toBe(true);
    expect(compileWildcard('?*😀')('x😀')).toBe(true);
    expect(compileWildcard('*?b')('😀b')).toBe(true);
  });

  it('ASCII case-insensitive variant folds ASCII only', () => {
    const m = compileWildcard('*\\System32\\CMD.exe', 'ascii');
    expect(m('c:\\windows\\system32\\cmd.EXE')).toBe(true);
    // Non-ASCII letters are not folded (Elasticsearch case_insensitive is ASCII).
    expect(compileWildcard('é*', 'ascii')('É')).toBe(false);
    expect(compileWildcard('straße', 'ascii')('STRAßE')).toBe(true);
    expect(compileWildcard('k', 'ascii')('\u212a')).toBe(false); // Kelvin sign is not K
    expect(compileWildcard('é*', 'unicode')('Éx')).toBe(true);
  });

  it('equalsFolded and asciiLower', () => {
    expect(asciiLower('ABC-Éé')).toBe('abc-Éé');
    expect(equalsFolded('ABC', 'abc', 'ascii')).toBe(true);
    expect(equalsFolded('É', 'é', 'ascii')).toBe(false);
    expect(equalsFolded('É', 'é', 'unicode')).toBe(true);
    expect(equalsFolded('A', 'a', 'none')).toBe(false);
  });

  it('pathological patterns finish and are correct', () => {
    const text = 'a'.repeat(10_000);
    expect(compileWildcard('*a*a*a*a*a*b')(text)).toBe(false);
    expect(compileWildcard('*a*a*a*a*a*a')(text)).toBe(true);
    expect(compileWildcard('*?a?*a?a*?b')(text)).toBe(false);
    expect(compileWildcard(`*${'a*'.repeat(200)}b`)(text)).toBe(false);
    expect(compileWildcard(`*${'a*'.repeat(200)}`)(text)).toBe(true);
    expect(compileWildcard('*a*a*a*a*a*b', 'ascii')(text.toUpperCase() + 'B')).toBe(true);
  });

  it('agrees with a reference implementation (property)', () => {
    const alphabet = fc.constantFrom('a', 'b', '😀', 'A');
    const patChar = fc.constantFrom('a', 'b', '*', '?', '😀');
    fc.assert(
      fc.property(fc.array(patChar, { maxLength: 8 }), fc.array(alphabet, { maxLength: 10 }), (p, t) => {
        const pattern = p.join('');
        const text = t.join('');
        expect(compileWildcard(pattern)(text)).toBe(reference(pattern, text));
      }),
      { numRuns: 3000 },
    );
  });

  it('ASCII-insensitive variant agrees with the reference on lower-cased input (property)', () => {
    const alphabet = fc.constantFrom('a', 'B', 'c', 'É');
    const patChar = fc.constantFrom('A', 'b', '*', '?', 'C');
    fc.assert(
      fc.property(fc.array(patChar, { maxLength: 6 }), fc.array(alphabet, { maxLength: 8 }), (p, t) => {
        const pattern = p.join('');
        const text = t.join('');
        expect(compileWildcard(pattern, 'ascii')(text)).toBe(reference(asciiLower(pattern), asciiLower(text)));
      }),
      { numRuns: 2000 },
    );
  });
});
