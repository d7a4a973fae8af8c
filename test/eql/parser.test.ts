import { describe, expect, it } from 'vitest';
import type { EventQuery, Expr, Query, SampleQuery, SequenceQuery } from '../../src/eql/ast.js';
import { EqlError } from '../../src/eql/errors.js';
import { tokenize } from '../../src/eql/lexer.js';
import { MAX_DEPTH, parseExpression, parseQuery } from '../../src/eql/parser.js';

/** The condition of `any where <cond>`. */
function cond(text: string): Expr {
  const q = parseQuery(`any where ${text}`);
  if (q.kind !== 'event') throw new Error('expected an event query');
  return q.filter.condition;
}

function event(text: string): EventQuery {
  const q = parseQuery(text);
  expect(q.kind).toBe('event');
  return q as EventQuery;
}

function seq(text: string): SequenceQuery {
  const q = parseQuery(text);
  expect(q.kind).toBe('sequence');
  return q as SequenceQuery;
}

/** The EqlError thrown for `text` (fails the test if it parses or throws anything else). */
function err(text: string, parse: (t: string) => unknown = parseQuery): EqlError {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(EqlError);
    return e as EqlError;
  }
  throw new Error(`expected an EqlError for: ${text}`);
}

/** Strips positions so structural expectations stay readable. */
function shape(e: unknown): unknown {
  return JSON.parse(JSON.stringify(e, (k, v: unknown) => (k === 'pos' ? undefined : v)));
}

const f = (path: string, optional = false) => ({ kind: 'field', path, optional });
const s = (value: string) => ({ kind: 'literal', type: 'string', value });
const n = (value: number) => ({ kind: 'literal', type: 'long', value });

describe('lexer', () => {
  it('recognises keywords case-sensitively and `@` identifiers', () => {
    const toks = tokenize('and AND @timestamp in~ like~ regex~ foo~ sequences');
    expect(toks.map((t) => [t.kind, t.value])).toEqual([
      ['keyword', 'and'],
      ['ident', 'AND'],
      ['ident', '@timestamp'],
      ['keyword', 'in~'],
      ['keyword', 'like~'],
      ['keyword', 'regex~'],
      ['tildeIdent', 'foo'],
      ['ident', 'sequences'],
      ['eof', ''],
    ]);
  });

  it('lexes numbers with ANTLR longest match', () => {
    const toks = tokenize('1 1.5 1. .5 1e3 1.5E-2 1e 30s');
    expect(toks.slice(0, -1).map((t) => [t.kind, t.value])).toEqual([
      ['integer', '1'],
      ['decimal', '1.5'],
      ['decimal', '1.'],
      ['decimal', '.5'],
      ['decimal', '1e3'],
      ['decimal', '1.5E-2'],
      ['integer', '1'],
      ['ident', 'e'],
      ['integer', '30'],
      ['ident', 's'],
    ]);
  });

  it('skips line and nested block comments', () => {
    const toks = tokenize('a // x\n /* one /* two */ still */ b');
    expect(toks.map((t) => t.value)).toEqual(['a', 'b', '']);
    expect(toks[1]?.line).toBe(2);
  });

  it('tracks line and column across \\n, \\r\\n and \\r', () => {
    const toks = tokenize('a\r\n b\r  c\n   d');
    expect(toks.slice(0, 4).map((t) => [t.line, t.column])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
  });

  it('rejects an unterminated block comment', () => {
    expect(err('a /* b', tokenize).message).toMatch(/unterminated block comment/);
  });

  it('rejects characters outside the grammar with their position', () => {
    const e = err('process where a == #', tokenize);
    expect(e.kind).toBe('syntax');
    expect(e.column).toBe(20);
    expect(e.message).toContain("'#'");
    expect(err('a\u00a0b', tokenize).hint).toMatch(/spaces, tabs and line breaks/);
  });
});

describe('strings', () => {
  it('decodes escapes', () => {
    expect(cond('a == "x\\n\\r\\t\\\\\\"\\\'\\b\\f"')).toMatchObject({ right: { value: 'x\n\r\t\\"\'\b\f' } });
  });

  it('decodes \\u{…} escapes of 2 to 8 hex digits', () => {
    expect(cond('a == "\\u{41}\\u{200F}\\u{0001F600}"')).toMatchObject({ right: { value: 'A\u200f\u{1f600}' } });
    expect(err('any where a == "\\u{1}"').message).toMatch(/\[2-8\] hex digits/);
    expect(err('any where a == "\\u{123456789}"').message).toMatch(/\[2-8\] hex digits/);
    expect(err('any where a == "\\u{D800}"').message).toMatch(/surrogate/);
    expect(err('any where a == "\\u0041"').message).toMatch(/Unicode escape/);
  });

  it('rejects unknown escape sequences at the backslash', () => {
    const e = err('any where a == "x\\qy"');
    expect(e.kind).toBe('syntax');
    expect(e.column).toBe(18);
    expect(e.message).toContain('\\q');
  });

  it('reads raw strings without escapes, with up to two trailing quotes', () => {
    expect(cond('a == """C:\\path\\*"""')).toMatchObject({ right: { value: 'C:\\path\\*' } });
    expect(cond('a == """say "hi""""')).toMatchObject({ right: { value: 'say "hi"' } });
    expect(cond('a == """"""')).toMatchObject({ right: { value: '' } });
  });

  it('rejects strings that span lines or are unterminated', () => {
    expect(err('any where a == "x\ny"').message).toMatch(/cannot span lines/);
    expect(err('any where a == """x\ny"""').message).toMatch(/raw strings cannot span lines/);
    const e = err('any where a == "abc');
    expect(e.message).toMatch(/unterminated string/);
    expect(e.column).toBe(16);
  });

  it('rejects single-quoted strings with a hint', () => {
    const e = err("any where a == 'x'");
    expect(e.kind).toBe('syntax');
    expect(e.message).toBe(`Use double quotes ["] to define string literals, not single quotes [']`);
    expect(e.column).toBe(16);
    expect(e.hint).toMatch(/double quotes/);
  });

  it('rejects ?"…" and ?"""…""" raw strings with a hint', () => {
    expect(err('any where a == ?"x"').message).toMatch(/Use triple double quotes/);
    expect(err('any where a == ?"""x"""').message).toMatch(/Use triple double quotes/);
    expect(err("any where a == ?'x'").message).toMatch(/not \[\?'\]/);
  });
});

describe('event queries', () => {
  it('parses a category identifier, `any`, and quoted categories', () => {
    expect(event('process where true').filter.category).toBe('process');
    expect(event('any where true').filter.category).toBeNull();
    expect(event('"my cat" where true').filter.category).toBe('my cat');
    expect(event('""".my.category""" where true').filter.category).toBe('.my.category');
  });

  it('rejects a backtick-quoted category with a hint', () => {
    const e = err('`my cat` where true');
    expect(e.hint).toContain('"my cat"');
  });

  it('requires `where` and a category', () => {
    const e = err('process true');
    expect(e.kind).toBe('syntax');
    expect(e.expected).toEqual(["'where'"]);
    expect(e.column).toBe(9);
    expect(err('where true').hint).toMatch(/category before `where`/);
  });

  it('rejects uppercase keywords with a hint', () => {
    const e = err('process WHERE true');
    expect(e.hint).toMatch(/lowercase: write `where`/);
  });

  it('rejects trailing garbage', () => {
    const e = err('process where true )');
    expect(e.expected).toEqual(["'|'", 'end of query']);
  });

  it('rejects `join` as unsupported', () => {
    const e = err('join [a where true] [b where true]');
    expect(e.kind).toBe('unsupported');
    expect(e.message).toMatch(/is not supported by Elasticsearch EQL/);
  });
});

describe('operators and precedence', () => {
  it('binds and tighter than or, and flattens chains', () => {
    expect(shape(cond('a or b and c or d'))).toEqual({
      kind: 'or',
      operands: [f('a'), { kind: 'and', operands: [f('b'), f('c')] }, f('d')],
    });
  });

  it('binds not tighter than and, and not covers a whole comparison', () => {
    expect(shape(cond('not a == 1 and b'))).toEqual({
      kind: 'and',
      operands: [{ kind: 'not', expr: { kind: 'compare', op: '==', left: f('a'), right: n(1) } }, f('b')],
    });
    expect(shape(cond('not not a'))).toEqual({ kind: 'not', expr: { kind: 'not', expr: f('a') } });
  });

  it('parses every comparison operator', () => {
    for (const op of ['==', '!=', '<', '<=', '>', '>=']) {
      expect(shape(cond(`a ${op} 1`))).toEqual({ kind: 'compare', op, left: f('a'), right: n(1) });
    }
  });

  it('gives arithmetic the usual precedence, unary minus tightest', () => {
    expect(shape(parseExpression('1 + 2 * 3 - 4 % 5 / a'))).toEqual({
      kind: 'arith',
      op: '-',
      left: { kind: 'arith', op: '+', left: n(1), right: { kind: 'arith', op: '*', left: n(2), right: n(3) } },
      right: { kind: 'arith', op: '/', left: { kind: 'arith', op: '%', left: n(4), right: n(5) }, right: f('a') },
    });
    expect(shape(parseExpression('-a * b'))).toEqual({
      kind: 'arith',
      op: '*',
      left: { kind: 'negate', expr: f('a') },
      right: f('b'),
    });
  });

  it('folds negative literals and drops unary plus', () => {
    expect(shape(parseExpression('-5'))).toEqual(n(-5));
    expect(shape(parseExpression('-2.5'))).toEqual({ kind: 'literal', type: 'double', value: -2.5 });
    expect(shape(parseExpression('+a'))).toEqual(f('a'));
    expect(shape(parseExpression('- -5'))).toEqual(n(5));
  });

  it('folds a negated zero to plain 0, as the runtime negation does (the AST stays plain JSON)', () => {
    for (const text of ['-0', '-0.0', '- -0']) {
      const lit = parseExpression(text) as { value: number };
      expect(Object.is(lit.value, 0), text).toBe(true);
    }
  });

  it('lets comparisons bind looser than arithmetic', () => {
    expect(shape(cond('a + 1 > 2 * 3'))).toEqual({
      kind: 'compare',
      op: '>',
      left: { kind: 'arith', op: '+', left: f('a'), right: n(1) },
      right: { kind: 'arith', op: '*', left: n(2), right: n(3) },
    });
  });

  it('respects parentheses', () => {
    expect(shape(cond('(a or b) and c'))).toEqual({
      kind: 'and',
      operands: [{ kind: 'or', operands: [f('a'), f('b')] }, f('c')],
    });
  });

  it('parses : with single values and lists as case-insensitive matches', () => {
    expect(shape(cond('a : "x*"'))).toEqual({ kind: 'match', op: ':', caseInsensitive: true, left: f('a'), patterns: [s('x*')] });
    expect(shape(cond('a : ("x", "y")'))).toMatchObject({ kind: 'match', op: ':', patterns: [s('x'), s('y')] });
  });

  it('parses like, like~, regex, regex~ with lists', () => {
    expect(cond('a like "x*"')).toMatchObject({ kind: 'match', op: 'like', caseInsensitive: false });
    expect(cond('a like~ ("x*", "y")')).toMatchObject({ kind: 'match', op: 'like', caseInsensitive: true, patterns: [s('x*'), s('y')] });
    expect(cond('a regex "x.*"')).toMatchObject({ kind: 'match', op: 'regex', caseInsensitive: false });
    expect(cond('a regex~ ("x.*", "[0-9]+")')).toMatchObject({ kind: 'match', op: 'regex', caseInsensitive: true });
  });

  it('parses in, in~, not in, not in~', () => {
    expect(shape(cond('a in ("x", 1)'))).toEqual({ kind: 'in', left: f('a'), values: [s('x'), n(1)], caseInsensitive: false, negated: false });
    expect(cond('a in~ ("x")')).toMatchObject({ kind: 'in', caseInsensitive: true, negated: false });
    expect(cond('a not in ("x")')).toMatchObject({ kind: 'in', caseInsensitive: false, negated: true });
    expect(cond('a not in~ ("x")')).toMatchObject({ kind: 'in', caseInsensitive: true, negated: true });
  });

  it('binds predicates to the primary on their left (as ES grammar does)', () => {
    expect(shape(parseExpression('1 + a in (1)'))).toMatchObject({
      kind: 'arith',
      right: { kind: 'in', left: f('a') },
    });
  });

  it('parses literals true, false, null, doubles and big integers', () => {
    expect(shape(parseExpression('true'))).toEqual({ kind: 'literal', type: 'boolean', value: true });
    expect(shape(parseExpression('false'))).toEqual({ kind: 'literal', type: 'boolean', value: false });
    expect(shape(parseExpression('null'))).toEqual({ kind: 'literal', type: 'null', value: null });
    expect(shape(parseExpression('1.5e3'))).toEqual({ kind: 'literal', type: 'double', value: 1500 });
    expect(parseExpression('9223372036854775807')).toMatchObject({ type: 'long' });
    expect(parseExpression('9223372036854775808')).toMatchObject({ type: 'double' });
  });
});

describe('operator rejections', () => {
  it('rejects = with a hint at the operator', () => {
    const e = err('process where a = 1');
    expect(e.kind).toBe('syntax');
    expect([e.line, e.column]).toEqual([1, 17]);
    expect(e.hint).toMatch(/==/);
  });

  it('rejects chained comparisons', () => {
    const e = err('any where 1 < a < 3');
    expect(e.message).toBe('comparisons cannot be chained');
    expect(e.column).toBe(17);
  });

  it('rejects field-to-field comparisons at the right operand', () => {
    const e = err('any where a == b');
    expect(e.kind).toBe('semantic');
    expect(e.message).toMatch(/Comparisons against fields are not \(currently\) supported; offender \[b\] in \[==\]/);
    expect(e.column).toBe(16);
    expect(err('any where length(a) > length(b)').kind).toBe('semantic');
    expect(err('any where a in ("x", b)').message).toMatch(/offender \[b\] in \[in\]/);
  });

  it('accepts literal-on-the-left and optional fields on the right (ES folds them)', () => {
    expect(cond('1 < a')).toMatchObject({ kind: 'compare', left: n(1), right: f('a') });
    expect(cond('?x == ?y')).toMatchObject({ kind: 'compare', left: f('x', true), right: f('y', true) });
  });

  it('accepts only literals after : like regex', () => {
    expect(err('any where a : b').message).toMatch(/must be a literal/);
    expect(err('any where a : -1').kind).toBe('syntax');
    expect(err('any where a like 1').message).toMatch(/pattern of \[like\] must be a string/);
    expect(err('any where a regex~ (true)').message).toMatch(/pattern of \[regex~\] must be a string/);
  });

  it('rejects `not` before other operators with a hint', () => {
    const e = err('any where a not like "x"');
    expect(e.hint).toMatch(/not \(a like/);
  });

  it('hints at `or` for `||` and at `]` for an unclosed stage', () => {
    expect(err('any where a == 1 || b == 2').hint).toMatch(/use `or`/);
    const e = err('sequence [process where a == 1 [file where true]');
    expect(e.expected).toEqual(["']'"]);
    expect(e.hint).toMatch(/close the stage/);
  });

  it('rejects empty in lists', () => {
    expect(err('any where a in ()').kind).toBe('syntax');
  });

  it('rejects non-boolean conditions', () => {
    expect(err('any where 1').message).toMatch(/Condition expression needs to be boolean, found \[1\]/);
    expect(err('any where "x" and a').message).toMatch(/Argument of \[and\] needs to be boolean/);
    expect(err('any where length(a)').message).toMatch(/needs to be boolean/);
    expect(err('any where not a + 1').message).toMatch(/Argument of \[not\]/);
    expect(cond('startsWith(a, "x") and b and null')).toMatchObject({ kind: 'and' });
  });

  it('rejects lineage relationships as unsupported', () => {
    for (const rel of ['descendant', 'child', 'event']) {
      const e = err(`process where ${rel} of [process where true]`);
      expect(e.kind).toBe('unsupported');
      expect(e.message).toContain(`\`${rel} of\``);
      expect(e.message).toMatch(/is not supported by Elasticsearch EQL/);
    }
  });
});

describe('fields', () => {
  it('joins dotted names and strips backticks', () => {
    expect(shape(parseExpression('process.parent.name'))).toEqual(f('process.parent.name'));
    expect(shape(parseExpression('`kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name`'))).toEqual(
      f('kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name'),
    );
    expect(shape(parseExpression('a.`b-c`.d'))).toEqual(f('a.b-c.d'));
    expect(shape(parseExpression('`my``field`'))).toEqual(f('my`field'));
    expect(shape(parseExpression('`sequence`'))).toEqual(f('sequence'));
  });

  it('marks optional fields', () => {
    expect(shape(parseExpression('?process.entity_id'))).toEqual(f('process.entity_id', true));
    expect(shape(parseExpression('?`a b`'))).toEqual(f('a b', true));
  });

  it('rejects keywords as field segments with a backtick hint', () => {
    const e = err('any where process.any == 1');
    expect(e.column).toBe(19);
    expect(e.hint).toContain('`any`');
  });

  it('rejects array indexes as unsupported', () => {
    const e = err('any where a[0] == 1');
    expect(e.kind).toBe('unsupported');
    expect(e.message).toMatch(/Array indexes are not supported/);
  });

  it('rejects segments starting with a digit with a hint', () => {
    expect(err('any where a.1b == 1').hint).toMatch(/backticks/);
  });

  it('rejects empty quoted names', () => {
    expect(err('any where `` == 1').message).toMatch(/empty field name/);
  });
});

describe('functions', () => {
  it('parses every documented function with its canonical name', () => {
    const calls: Array<[string, string]> = [
      ['add(a, 1)', 'add'],
      ['between(a, "x", "y")', 'between'],
      ['between(a, "x", "y", true)', 'between'],
      ['cidrMatch(a, "10.0.0.0/8", "192.168.0.0/16")', 'cidrMatch'],
      ['concat(a)', 'concat'],
      ['concat(a, " ", 1)', 'concat'],
      ['divide(a, 2)', 'divide'],
      ['endsWith(a, "x")', 'endsWith'],
      ['indexOf(a, "x")', 'indexOf'],
      ['indexOf(a, "x", 2)', 'indexOf'],
      ['length(a)', 'length'],
      ['modulo(a, 2)', 'modulo'],
      ['multiply(a, 2)', 'multiply'],
      ['number(a)', 'number'],
      ['number(a, 16)', 'number'],
      ['startsWith(a, "x")', 'startsWith'],
      ['string(a)', 'string'],
      ['stringContains(a, "x")', 'stringContains'],
      ['substring(a, 1)', 'substring'],
      ['substring(a, 1, -1)', 'substring'],
      ['subtract(a, 1)', 'subtract'],
    ];
    for (const [text, name] of calls) {
      expect(parseExpression(text), text).toMatchObject({ kind: 'call', name, caseInsensitive: false });
    }
  });

  it('resolves names case-insensitively to the documented spelling', () => {
    expect(parseExpression('STARTSWITH(a, "x")')).toMatchObject({ name: 'startsWith' });
    expect(parseExpression('cidrmatch(a, "10.0.0.0/8")')).toMatchObject({ name: 'cidrMatch' });
  });

  it('accepts ~ exactly on between, endsWith, indexOf, startsWith, stringContains', () => {
    for (const text of ['between~(a, "x", "y")', 'endsWith~(a, "x")', 'indexOf~(a, "x")', 'startsWith~(a, "x")', 'stringContains~(a, "x")', 'endswith~(a, "x")']) {
      expect(parseExpression(text), text).toMatchObject({ kind: 'call', caseInsensitive: true });
    }
    for (const text of ['length~(a)', 'concat~(a)', 'cidrMatch~(a, "1.2.3.4")']) {
      const e = err(text, parseExpression);
      expect(e.kind).toBe('semantic');
      expect(e.message).toMatch(/no case-insensitive variant/);
    }
  });

  it('rejects a stray ~ suffix outside function calls', () => {
    expect(err('any where a~ == 1').hint).toMatch(/only valid on function names/);
  });

  it('rejects wrong arity with the expected count', () => {
    const e = err('any where stringContains(a) ');
    expect(e.kind).toBe('semantic');
    expect(e.message).toBe('error building [stringContains]: expects exactly 2 arguments, found [1]');
    expect(e.column).toBe(11);
    expect(err('any where between(a, "x")').message).toMatch(/expects 3 to 4 arguments, found \[2\]/);
    expect(err('any where cidrMatch(a) ').message).toMatch(/expects at least 2 arguments/);
    expect(err('any where length(a, b) > 1').message).toMatch(/expects exactly 1 argument,/);
    expect(err('any where concat() == "x"').message).toMatch(/at least 1/);
  });

  it('rejects unknown functions with a did-you-mean hint', () => {
    const e = err('any where startWith(a, "x")');
    expect(e.kind).toBe('semantic');
    expect(e.message).toBe('Unknown function [startWith], did you mean [startsWith]?');
    expect(err('any where frobnicate(a)').message).toBe('Unknown function [frobnicate]');
  });

  it('rejects Endgame-only functions as unsupported with a hint', () => {
    for (const fn of ['wildcard(a, "x*")', 'match(a, "x")', 'arrayContains(a, "x")']) {
      const e = err(`any where ${fn}`);
      expect(e.kind).toBe('unsupported');
      expect(e.message).toMatch(/is not supported by Elasticsearch EQL/);
      expect(e.hint).toBeDefined();
    }
  });

  it('requires constant CIDR blocks and number bases', () => {
    expect(err('any where cidrMatch(a, b)').message).toMatch(/must be constants/);
    expect(err('any where number(a, b) == 1').message).toMatch(/base of \[number\]/);
  });
});

describe('sequences', () => {
  it('parses by keys, maxspan, stage keys, runs, missing stages and until', () => {
    const q = seq(`sequence by host.id, ?user.id with maxspan=5m
      [process where true] by process.pid
      ![file where true] by process.pid
      [network where true] by process.pid with runs=3
      until [process where event.type == "end"] by process.pid`);
    expect(q.by.map((k) => [k.path, k.optional])).toEqual([
      ['host.id', false],
      ['user.id', true],
    ]);
    expect(q.maxspanMs).toBe(300_000);
    expect(q.stages.map((st) => [st.filter.category, st.missing, st.runs, st.by.map((k) => k.path)])).toEqual([
      ['process', false, 1, ['process.pid']],
      ['file', true, 1, ['process.pid']],
      ['network', false, 3, ['process.pid']],
    ]);
    expect(q.until?.filter.category).toBe('process');
    expect(q.until?.missing).toBe(false);
  });

  it('converts every maxspan unit to milliseconds', () => {
    const cases: Array<[string, number]> = [
      ['10ms', 10],
      ['2s', 2000],
      ['3m', 180_000],
      ['4h', 14_400_000],
      ['5d', 432_000_000],
      ['7 s', 7000],
    ];
    for (const [span, ms] of cases) {
      expect(seq(`sequence with maxspan=${span} [a where true] [b where true]`).maxspanMs, span).toBe(ms);
    }
    expect(seq('sequence [a where true] [b where true]').maxspanMs).toBeNull();
  });

  it('rejects bad maxspan values with ES messages', () => {
    const tail = ' [a where true] [b where true]';
    expect(err(`sequence with maxspan=30${tail}`).message).toBe('No time unit specified, did you mean [s] as in [30s]?');
    expect(err(`sequence with maxspan=1.5s${tail}`).message).toMatch(/Decimal time interval \[1.5\] not supported/);
    expect(err(`sequence with maxspan=0s${tail}`).message).toMatch(/A positive maxspan value is required; found \[0\]/);
    const e = err(`sequence with maxspan=5min${tail}`);
    expect(e.message).toBe('Unrecognized time unit [min] in [5min], please specify one of [ms, s, m, h, d]');
    expect(e.column).toBe(24);
    expect(err(`sequence with maxspan=5S${tail}`).message).toMatch(/Unrecognized time unit \[S\]/);
    expect(err(`sequence with maxspan=-1s${tail}`).kind).toBe('syntax');
  });

  it('rejects by after with', () => {
    const e = err('sequence with maxspan=1s by key [a where true] [b where true]');
    expect(e.message).toBe('Please specify sequence [by] before [with] not after');
    expect(e.column).toBe(26);
  });

  it('rejects inconsistent join key counts at the offending stage', () => {
    const e = err('sequence by a\n  [x where true] by b\n  [y where true]');
    expect(e.kind).toBe('semantic');
    expect(e.message).toBe('Inconsistent number of join keys specified; expected [1] but found [0]');
    expect([e.line, e.column]).toEqual([3, 3]);
    expect(err('sequence [x where true] by a [y where true] by b until [z where true]').message).toMatch(/expected \[1\] but found \[0\]/);
  });

  it('rejects join keys that are not fields', () => {
    expect(err('sequence by length(a) [x where true] [y where true]').message).toMatch(/Unsupported join key/);
  });

  it('validates runs', () => {
    expect(seq('sequence [a where true] with runs=2').stages[0]?.runs).toBe(2);
    expect(seq('sequence [a where true] [b where true] with runs=100').stages[1]?.runs).toBe(100);
    expect(err('sequence [a where true] [b where true] with runs=0').message).toMatch(/between 1 and 100.*found \[0\]/);
    expect(err('sequence [a where true] [b where true] with runs=101').message).toMatch(/found \[101\]/);
    expect(err('sequence [a where true] [b where true] with runs=1.5').message).toMatch(/found \[1.5\]/);
    expect(err('sequence [a where true] [b where true] with repeat=2').message).toBe('Unrecognized option [repeat], expecting [runs]');
    expect(err('sequence with runs=2 [a where true] [b where true]').hint).toMatch(/belongs after a stage/);
  });

  it('requires at least two queries', () => {
    const e = err('sequence [a where true]');
    expect(e.message).toBe('A sequence requires a minimum of 2 queries, found [1]');
  });

  it('requires maxspan and a positive stage when events are missing', () => {
    const e = err('sequence [a where true] ![b where true]');
    expect(e.message).toMatch(/missing events .* require `with maxspan`/);
    expect(e.column).toBe(25);
    expect(err('sequence with maxspan=1s ![a where true] ![b where true]').message).toMatch(/at least one positive/);
    expect(seq('sequence with maxspan=1s [a where true] ![b where true]').stages[1]?.missing).toBe(true);
    expect(err('sequence with maxspan=1s [a where true] [b where true] until ![c where true]').message).toMatch(/`until` stage cannot be a missing event/);
  });

  it('rejects maxspan after a stage', () => {
    expect(err('sequence [a where true] with maxspan=1s [b where true]').message).toMatch(/must follow `sequence`/);
  });
});

describe('samples', () => {
  it('parses sample by keys and per-stage keys', () => {
    const q = parseQuery('sample by host [any where a] by os [any where b] by op_sys') as SampleQuery;
    expect(q.kind).toBe('sample');
    expect(q.by.map((k) => k.path)).toEqual(['host']);
    expect(q.stages.map((st) => st.by.map((k) => k.path))).toEqual([['os'], ['op_sys']]);
  });

  it('rejects maxspan, runs, until and missing events in samples', () => {
    for (const text of [
      'sample by h with maxspan=1s [a where true] [b where true]',
      'sample by h [a where true] with runs=2 [b where true]',
      'sample by h [a where true] [b where true] until [c where true]',
      'sample by h [a where true] ![b where true]',
    ]) {
      const e = err(text);
      expect(e.kind, text).toBe('unsupported');
      expect(e.message).toMatch(/not supported by Elasticsearch EQL/);
    }
  });

  it('rejects pipes on samples', () => {
    const e = err('sample by h [a where true] [b where true] | head 1');
    expect(e.kind).toBe('unsupported');
    expect(e.column).toBe(43);
  });

  it('rejects inconsistent keys, single stages and keyless samples', () => {
    expect(err('sample [a where true] by x [b where true]').message).toMatch(/Inconsistent number of join keys/);
    expect(err('sample by h [a where true]').message).toMatch(/minimum of 2 queries/);
    expect(err('sample [a where true] [b where true]').message).toMatch(/requires join keys/);
  });
});

describe('pipes', () => {
  it('parses head and tail', () => {
    const q: Query = parseQuery('process where true | head 5 | tail 2');
    expect(q.pipes.map((p) => [p.kind, p.count])).toEqual([
      ['head', 5],
      ['tail', 2],
    ]);
    expect(parseQuery('sequence [a where true] [b where true] | tail 0').pipes).toMatchObject([{ kind: 'tail', count: 0 }]);
  });

  it('rejects legacy pipes as unsupported', () => {
    for (const pipe of ['unique a', 'count', 'filter a == 1', 'sort a', 'unique_count a', 'window 5']) {
      const e = err(`process where true | ${pipe}`);
      expect(e.kind, pipe).toBe('unsupported');
      expect(e.message).toBe(`Pipe [${pipe.split(' ')[0]}] is not supported by Elasticsearch EQL`);
      expect(e.column).toBe(22);
    }
  });

  it('rejects unknown pipes with a suggestion', () => {
    const e = err('process where true | heads 1');
    expect(e.message).toBe('Unrecognized pipe [heads], did you mean [head]?');
  });

  it('requires exactly one non-negative integer argument', () => {
    expect(err('process where true | head').message).toBe('Pipe [head] expects exactly one argument but found [0]');
    expect(err('process where true | head 1, 2').message).toBe('Pipe [head] expects exactly one argument but found [2]');
    expect(err('process where true | head -1').message).toMatch(/expects a positive integer but found \[-1\]/);
    expect(err('process where true | tail 1.5').message).toMatch(/expects a positive integer/);
    expect(err('process where true | tail a').message).toMatch(/expects a positive integer/);
  });
});

describe('positions', () => {
  it('stores a consistent pos on every node', () => {
    const text = 'sequence by host.id with maxspan=1m\n  [process where a == "x" and not b in (1, 2)]\n  [file where length(c) + 1 > 2 or d : ("y")]\n| head 3';
    const q = parseQuery(text);
    const seen: Array<{ pos: { line: number; column: number; offset: number } }> = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if ('pos' in o) seen.push(o as (typeof seen)[number]);
        for (const [k, c] of Object.entries(o)) if (k !== 'pos') visit(c);
      }
    };
    visit(q);
    expect(seen.length).toBeGreaterThan(20);
    const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => (m.index ?? 0) + 1)];
    for (const { pos } of seen) {
      expect(lineStarts[pos.line - 1]! + pos.column - 1).toBe(pos.offset);
    }
    const stage = (q as SequenceQuery).stages[1]!;
    expect(text.slice(stage.pos.offset, stage.pos.offset + 5)).toBe('[file');
    const or = stage.filter.condition;
    expect(text.slice(or.pos.offset, or.pos.offset + 6)).toBe('length');
  });
});

describe('nesting limits', () => {
  it('rejects deep parentheses with an EqlError, not a stack overflow', () => {
    for (const depth of [MAX_DEPTH + 1, 100_000]) {
      const e = err(`any where ${'('.repeat(depth)}a${')'.repeat(depth)}`);
      expect(e.message).toMatch(/nested too deeply/);
    }
  });

  it('rejects deep not / unary / in chains and long arithmetic chains', () => {
    expect(err(`any where ${'not '.repeat(50_000)}a`).message).toMatch(/nested too deeply/);
    expect(err(`any where ${'-'.repeat(50_000)}a == 1`).message).toMatch(/nested too deeply/);
    expect(err(`any where ${'a in ('.repeat(5000)}1${')'.repeat(5000)}`).message).toMatch(/nested too deeply/);
    expect(err(`any where ${Array(5000).fill('a').join(' + ')} == 1`).message).toMatch(/nested too deeply/);
  });

  it('accepts moderately deep nesting and very long flat or-chains', () => {
    expect(cond(`${'('.repeat(50)}a${')'.repeat(50)}`)).toMatchObject({ kind: 'field' });
    const wide = cond(Array.from({ length: 20_000 }, (_, i) => `a == ${i}`).join(' or '));
    expect(wide).toMatchObject({ kind: 'or' });
    expect((wide as { operands: unknown[] }).operands).toHaveLength(20_000);
  });
});

describe('error formatting', () => {
  it('renders file:line:column, the source line, a caret and the hint', () => {
    const e = err('process where\n  a = 1');
    expect(e.format('rules/x.toml')).toBe(
      ['rules/x.toml:2:5: `=` is not supported as an equality operator', '  a = 1', '    ^', 'hint: use `==` (case-sensitive) or `:` (case-insensitive, with wildcards)'].join('\n'),
    );
  });

  it('keeps tabs in the caret prefix and defaults the source name', () => {
    const e = err('process where\n\ta == b');
    const lines = e.format().split('\n');
    expect(lines[0]).toBe('<query>:2:7: Comparisons against fields are not (currently) supported; offender [b] in [==]');
    expect(lines[1]).toBe('\ta == b');
    expect(lines[2]).toBe('\t     ^');
  });

  it('does not echo control characters from the query', () => {
    const e = err('process where a == "\u001b[31m" and #');
    const shown = e.format().split('\n')[1] ?? '';
    expect(shown).not.toContain('\u001b');
    expect(e.format().split('\n')[2]).toBe(`${' '.repeat(e.column - 1)}^`);
  });

  it('relocates an error into an enclosing document', () => {
    const doc = 'name = "r"\nquery = """\nprocess where\n  a = 1\n"""\n';
    const start = doc.indexOf('process');
    const e = err('process where\n  a = 1').relocate({ line: 3, column: 1, offset: start }, doc);
    expect([e.line, e.column, e.offset]).toEqual([4, 5, doc.indexOf('= 1')]);
    expect(e.format('r.toml').split('\n').slice(0, 3)).toEqual(['r.toml:4:5: `=` is not supported as an equality operator', '  a = 1', '    ^']);
  });

  it('carries expected tokens on syntax errors', () => {
    const e = err('process where a == ');
    expect(e.kind).toBe('syntax');
    expect(e.expected).toEqual(['a field', 'a literal', 'a function call', "'('"]);
    expect(e.message).toMatch(/^unexpected end of query/);
  });
});
