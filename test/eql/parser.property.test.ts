/**
 * Robustness: whatever text arrives (hostile rule files, fuzzed input), the parser returns an AST
 * or throws an EqlError pointing inside the text. Never another exception, never an internal
 * error, never a hang.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EqlError } from '../../src/eql/errors.js';
import { parseExpression, parseQuery } from '../../src/eql/parser.js';
import { HAS_SHARED, noteSharedMissing, SHARED_DIR } from '../helpers/shared.js';

/** Parses and checks the outcome: an AST, or a well-formed EqlError. */
function check(text: string, parse: (t: string) => unknown = parseQuery): void {
  try {
    const ast = parse(text);
    // The AST is pure data: it must survive a JSON round trip unchanged.
    expect(JSON.parse(JSON.stringify(ast))).toEqual(ast);
  } catch (e) {
    if (!(e instanceof EqlError)) throw new Error(`non-EqlError for ${JSON.stringify(text)}: ${String(e)}`);
    expect(e.message).not.toMatch(/^internal parser error/);
    expect(['syntax', 'semantic', 'unsupported']).toContain(e.kind);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(text.length);
    expect(e.line).toBeGreaterThanOrEqual(1);
    expect(e.column).toBeGreaterThanOrEqual(1);
    expect(typeof e.format('q')).toBe('string');
  }
}

const TOKENS = [
  'process', 'any', 'where', 'sequence', 'sample', 'by', 'with', 'maxspan', '=', '5s', 'runs', '3', 'until',
  '[', ']', '![', '(', ')', ',', '|', 'head', 'tail', 'unique', 'and', 'or', 'not', 'in', 'in~', ':', 'like',
  'like~', 'regex', 'regex~', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '.', '?', 'a', 'b.c',
  '`x y`', '"s"', '"""r"""', '1', '2.5', '1e3', 'true', 'false', 'null', 'length', 'startsWith~', 'concat',
  'cidrMatch', 'join', 'of', 'descendant', '//c\n', '/*c*/', "'q'", '\n', '\t', '"\\u{41}"', '#', '!', '~',
];

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(' '));

const SEEDS = [
  'process where process.name : ("sh", "bash") and not process.args in~ ("-c") | head 5',
  'sequence by host.id with maxspan=30s [process where a == 1] by x ![file where true] by y [network where b like "x*"] by z with runs=2 until [process where c] by w',
  'sample by host [any where length(a) > 3 or startsWith~(b, "x")] [any where c regex "[a-z]+"]',
];

describe('parser robustness (fast-check)', () => {
  it('random unicode strings never throw anything but EqlError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (t) => check(t)), { numRuns: 2000 });
  });

  it('random printable strings prefixed with a valid head never throw anything but EqlError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (t) => {
        check(`process where ${t}`);
        check(t, parseExpression);
      }),
      { numRuns: 2000 },
    );
  });

  it('token soups never throw anything but EqlError', () => {
    fc.assert(
      fc.property(tokenSoup, (t) => {
        check(t);
        check(`any where ${t}`);
        check(t, parseExpression);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated real queries never throw anything but EqlError', () => {
    const corpus = HAS_SHARED
      ? (JSON.parse(readFileSync(path.join(SHARED_DIR, 'corpus', 'detection-rules-eql.json'), 'utf8')) as { rules: Array<{ query: string }> }).rules.map(
          (r) => r.query,
        )
      : SEEDS;
    noteSharedMissing('eql parser property (mutations use built-in seeds)');
    const mutation = fc.record({
      op: fc.constantFrom('insert', 'delete', 'replace'),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 8 }),
      text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...TOKENS)),
    });
    fc.assert(
      fc.property(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 5 }), (i, muts) => {
        let q = corpus[i] ?? '';
        for (const m of muts) {
          const at = q.length === 0 ? 0 : m.at % (q.length + 1);
          if (m.op === 'insert') q = q.slice(0, at) + m.text + q.slice(at);
          else if (m.op === 'delete') q = q.slice(0, at) + q.slice(at + m.len);
          else q = q.slice(0, at) + m.text + q.slice(at + m.len);
        }
        check(q);
      }),
      { numRuns: 3000 },
    );
  });

  it('truncations of real queries never throw anything but EqlError', () => {
    for (const seed of SEEDS) {
      for (let i = 0; i <= seed.length; i++) check(seed.slice(0, i));
    }
  });
});
