import { describe, expect, it } from 'vitest';
import type { EventFilter, Expr, FieldRef, Literal, Query } from '../../src/eql/ast.js';
import type { FieldType } from '../../src/eql/compiled.js';
import {
  MATCH_ALL,
  MATCH_NONE,
  MAX_NARROW_KEYS,
  MAX_TUPLE_CLAUSES,
  eqlWildcardToLucene,
  escapeLuceneWildcard,
  filterBounds,
  narrowByKeys,
  pushdownAny,
  pushdownFilter,
  pushdownQuery,
  translate,
  type PushdownOptions,
} from '../../src/eql/pushdown.js';

// Hand-built ASTs keep these tests independent of the parser.
const pos = { line: 1, column: 1, offset: 0 };
const f = (path: string, optional = false): FieldRef => ({ kind: 'field', path, optional, pos });
const s = (value: string): Literal => ({ kind: 'literal', type: 'string', value, pos });
const n = (value: number): Literal => ({ kind: 'literal', type: 'long', value, pos });
const b = (value: boolean): Literal => ({ kind: 'literal', type: 'boolean', value, pos });
const nul: Literal = { kind: 'literal', type: 'null', value: null, pos };
const eq = (l: Expr, r: Expr): Expr => ({ kind: 'compare', op: '==', left: l, right: r, pos });
const ne = (l: Expr, r: Expr): Expr => ({ kind: 'compare', op: '!=', left: l, right: r, pos });
const cmp = (op: '<' | '<=' | '>' | '>=', l: Expr, r: Expr): Expr => ({ kind: 'compare', op, left: l, right: r, pos });
const inn = (l: Expr, values: Expr[], negated = false, caseInsensitive = false): Expr => ({
  kind: 'in',
  left: l,
  values,
  negated,
  caseInsensitive,
  pos,
});
const m = (op: ':' | 'like' | 'regex', l: Expr, patterns: Expr[], caseInsensitive = op === ':'): Expr => ({
  kind: 'match',
  op,
  caseInsensitive,
  left: l,
  patterns,
  pos,
});
const and = (...operands: Expr[]): Expr => ({ kind: 'and', operands, pos });
const or = (...operands: Expr[]): Expr => ({ kind: 'or', operands, pos });
const not = (expr: Expr): Expr => ({ kind: 'not', expr, pos });
const call = (name: 'startsWith' | 'endsWith' | 'stringContains' | 'cidrMatch' | 'length', args: Expr[], ci = false): Expr => ({
  kind: 'call',
  name,
  caseInsensitive: ci,
  args,
  pos,
});
const filter = (category: string | null, condition: Expr): EventFilter => ({ category, condition, pos });

const opts: PushdownOptions = { ignoredAware: true };
const typed = (types: Record<string, FieldType>, extra: Partial<PushdownOptions> = {}): PushdownOptions => ({
  ignoredAware: true,
  fieldTypes: (p) => types[p],
  ...extra,
});
const ign = (field: string) => ({ term: { _ignored: field } });
const should = (...qs: unknown[]) => ({ bool: { should: qs, minimum_should_match: 1 } });

describe('atoms', () => {
  it('== on a keyword becomes a term, widened by the field\'s _ignored entry', () => {
    expect(translate(eq(f('process.name'), s('bash')), opts).upper).toEqual(
      should({ term: { 'process.name': 'bash' } }, ign('process.name')),
    );
  });

  it('drops the _ignored branch when the literal is no longer than a known ignore_above', () => {
    const o = typed({}, { ignoreAboveOf: () => 1024 });
    const r = translate(eq(f('process.name'), s('bash')), o);
    expect(r).toEqual({ upper: { term: { 'process.name': 'bash' } }, lower: { term: { 'process.name': 'bash' } }, exact: true });
    const long = 'x'.repeat(1025);
    expect(translate(eq(f('process.name'), s(long)), o).upper).toEqual(
      should({ term: { 'process.name': long } }, ign('process.name')),
    );
  });

  it('in → one terms query; not in → must_not terms, which keeps documents whose field was ignored', () => {
    const pos1 = translate(inn(f('process.args'), [s('a'), s('b'), s('a')]), opts).upper;
    expect(pos1).toEqual(should({ terms: { 'process.args': ['a', 'b'] } }, ign('process.args')));
    // must_not only excludes docs where an INDEXED value is in the list; the evaluator sees that value too.
    const neg = translate(inn(f('process.args'), [s('a'), s('b')], true), opts).upper;
    expect(neg).toEqual({ bool: { must_not: [{ terms: { 'process.args': ['a', 'b'] } }] } });
  });

  it('in~ → case-insensitive terms with wildcards kept literal', () => {
    expect(translate(inn(f('p'), [s('A*'), s('b')], false, true), opts).upper).toEqual(
      should(
        { term: { p: { value: 'A*', case_insensitive: true } } },
        { term: { p: { value: 'b', case_insensitive: true } } },
        ign('p'),
      ),
    );
  });

  it(': without wildcards is a case-insensitive term; with wildcards a case-insensitive wildcard', () => {
    expect(translate(m(':', f('p'), [s('Bash')]), opts).upper).toEqual(
      should({ term: { p: { value: 'Bash', case_insensitive: true } } }, ign('p')),
    );
    expect(translate(m(':', f('p'), [s('*sh')]), opts).upper).toEqual(
      should({ wildcard: { p: { value: '*sh', case_insensitive: true } } }, ign('p')),
    );
  });

  it('a list of 28 wildcard patterns stays one flat bool.should with a single _ignored branch', () => {
    const pats = Array.from({ length: 28 }, (_, i) => s(`*tok${i}*`));
    const q = translate(m('like', f('process.args'), pats, true), opts).upper as { bool: { should: unknown[] } };
    expect(q.bool.should).toHaveLength(29);
    expect(q.bool.should.filter((c) => JSON.stringify(c).includes('_ignored'))).toHaveLength(1);
  });

  it('like is case-sensitive; a pattern without wildcards is a term; backslash stays literal', () => {
    expect(translate(m('like', f('p'), [s('/bin/sh')], false), opts).upper).toEqual(
      should({ term: { p: '/bin/sh' } }, ign('p')),
    );
    expect(translate(m('like', f('p'), [s('C:\\Windows\\*')], false), opts).upper).toEqual(
      should({ wildcard: { p: { value: 'C:\\\\Windows\\\\*' } } }, ign('p')),
    );
    expect(eqlWildcardToLucene('a\\*?')).toBe('a\\\\*?');
    expect(escapeLuceneWildcard('a*b?c\\')).toBe('a\\*b\\?c\\\\');
  });

  it('non-ASCII case-insensitive patterns widen to match_all (ES folds ASCII only)', () => {
    expect(translate(m(':', f('p'), [s('straße*')]), opts).upper).toEqual(MATCH_ALL);
  });

  it('regex: safe Lucene patterns become regexp, patterns with optional operators or anchors widen', () => {
    expect(translate(m('regex', f('p'), [s('.*[0-9]{1,3}\\.x.*')], false), opts).upper).toEqual(
      should({ regexp: { p: { value: '.*[0-9]{1,3}\\.x.*', flags: 'NONE' } } }, ign('p')),
    );
    expect(translate(m('regex', f('p'), [s('a~b')], false), opts).upper).toEqual(MATCH_ALL);
    expect(translate(m('regex', f('p'), [s('^abc$')], false), opts).upper).toEqual(MATCH_ALL);
    expect(translate(m('regex', f('p'), [s('\\d+')], false), opts).upper).toEqual(MATCH_ALL);
  });

  it('== null → must_not exists; != null → exists or ignored', () => {
    expect(translate(eq(f('p'), nul), opts).upper).toEqual({ bool: { must_not: [{ exists: { field: 'p' } }] } });
    expect(translate(ne(f('p'), nul), opts).upper).toEqual(should({ exists: { field: 'p' } }, ign('p')));
    // The lower bound of `== null` must also exclude documents whose values were all ignored.
    expect(translate(eq(f('p'), nul), opts).lower).toEqual({
      bool: { must_not: [should({ exists: { field: 'p' } }, ign('p'))] },
    });
  });

  it('a bare boolean field means == true', () => {
    expect(translate(f('process.interactive'), typed({ 'process.interactive': 'boolean' })).upper).toEqual(
      should({ term: { 'process.interactive': true } }, ign('process.interactive')),
    );
  });

  it('type mismatches widen instead of sending a query Elasticsearch would reject or decide differently', () => {
    const t = typed({ pid: 'long', name: 'keyword', msg: 'text', ip: 'ip', when: 'date' });
    expect(translate(eq(f('pid'), s('abc')), t).upper).toEqual(MATCH_ALL);
    expect(translate(eq(f('name'), n(5)), t).upper).toEqual(MATCH_ALL);
    expect(translate(eq(f('msg'), s('x')), t).upper).toEqual(MATCH_ALL);
    expect(translate(m(':', f('pid'), [s('1*')]), t).upper).toEqual(MATCH_ALL);
    expect(translate(cmp('<', f('when'), s('2024-01-01')), t).upper).toEqual(MATCH_ALL);
    expect(translate(cmp('<', f('name'), s('m')), t).upper).toEqual(MATCH_ALL);
  });

  it('numeric ranges on numeric fields, with the literal on either side', () => {
    const t = typed({ pid: 'long' });
    expect(translate(cmp('>=', f('pid'), n(10)), t).upper).toEqual(should({ range: { pid: { gte: 10 } } }, ign('pid')));
    expect(translate(cmp('<', n(10), f('pid')), t).upper).toEqual(should({ range: { pid: { gt: 10 } } }, ign('pid')));
  });

  it('startsWith → prefix, endsWith/stringContains → wildcard with the argument escaped (literal)', () => {
    expect(translate(call('startsWith', [f('p'), s('/tmp/')], true), opts).upper).toEqual(
      should({ prefix: { p: { value: '/tmp/', case_insensitive: true } } }, ign('p')),
    );
    expect(translate(call('endsWith', [f('p'), s('a*')]), opts).upper).toEqual(
      should({ wildcard: { p: { value: '*a\\*' } } }, ign('p')),
    );
    expect(translate(call('stringContains', [f('p'), s('x?')]), opts).upper).toEqual(
      should({ wildcard: { p: { value: '*x\\?*' } } }, ign('p')),
    );
  });

  it('cidrMatch → terms on an ip field only', () => {
    expect(translate(call('cidrMatch', [f('ip'), s('10.0.0.0/8'), s('192.168.0.0/16')]), typed({ ip: 'ip' })).upper).toEqual(
      should({ terms: { ip: ['10.0.0.0/8', '192.168.0.0/16'] } }, ign('ip')),
    );
    expect(translate(call('cidrMatch', [f('ip'), s('10.0.0.0/8')]), opts).upper).toEqual(MATCH_ALL);
  });
});

describe('boolean structure and exactness', () => {
  const untranslatable = cmp('>', call('length', [f('p')]), n(3));

  it('an untranslatable conjunct drops out; the others still filter', () => {
    expect(translate(and(eq(f('a'), s('x')), untranslatable), opts).upper).toEqual(
      should({ term: { a: 'x' } }, ign('a')),
    );
  });

  it('an untranslatable disjunct makes the disjunction match_all', () => {
    expect(translate(or(eq(f('a'), s('x')), untranslatable), opts).upper).toEqual(MATCH_ALL);
  });

  it('not of an inexact expression is match_all, never a must_not that could drop matches', () => {
    expect(translate(not(untranslatable), opts).upper).toEqual(MATCH_ALL);
    // ¬(a ∧ u) = ¬a ∨ ¬u: the unknown ¬u could hold anywhere.
    expect(translate(not(and(eq(f('a'), s('x')), untranslatable)), opts).upper).toEqual(MATCH_ALL);
  });

  it('not uses the LOWER bound of its operand, so exact parts still filter soundly', () => {
    // ¬(a ∨ u) = ¬a ∧ ¬u ⊆ ¬a: every match has no indexed value equal to x.
    expect(translate(not(or(eq(f('a'), s('x')), untranslatable)), opts).upper).toEqual({
      bool: { must_not: [{ term: { a: 'x' } }] },
    });
  });

  it('not not X = X and bounds swap under not', () => {
    const x = eq(f('a'), s('x'));
    expect(translate(not(not(x)), opts)).toEqual(translate(x, opts));
    const r = translate(not(x), opts);
    expect(r.exact).toBe(false); // _ignored makes keyword atoms inexact unless ignore_above is known
    expect(r.upper).toEqual({ bool: { must_not: [{ term: { a: 'x' } }] } });
    expect(r.lower).toEqual({ bool: { must_not: [should({ term: { a: 'x' } }, ign('a'))] } });
  });

  it('is exact when every atom is exact', () => {
    const o = typed({ a: 'keyword', b: 'boolean' }, { ignoreAboveOf: () => 1024 });
    const r = translate(and(eq(f('a'), s('x')), not(inn(f('a'), [s('y')])), eq(f('b'), b(true))), o);
    expect(r.exact).toBe(true);
    expect(r.upper).toEqual(r.lower);
  });

  it('constant conditions fold', () => {
    expect(translate(b(true), opts).upper).toEqual(MATCH_ALL);
    expect(translate(and(b(false), eq(f('a'), s('x'))), opts).upper).toEqual(MATCH_NONE);
  });
});

describe('filters and queries', () => {
  it('a category adds a term on the event category field; any adds nothing', () => {
    const o = typed({}, { eventCategoryField: 'event.type', ignoreAboveOf: () => 1024 });
    expect(pushdownFilter(filter('process', eq(f('a'), s('x'))), o)).toEqual({
      bool: { filter: [{ term: { 'event.type': 'process' } }, { term: { a: 'x' } }] },
    });
    expect(pushdownFilter(filter(null, b(true)), o)).toEqual(MATCH_ALL);
    expect(filterBounds(filter('file', b(true)), o).exact).toBe(true);
  });

  it('pushdownQuery: one filter per compiled stage (runs expanded) plus until', () => {
    const q: Query = {
      kind: 'sequence',
      by: [f('k')],
      maxspanMs: 1000,
      stages: [
        { filter: filter('process', eq(f('a'), s('1'))), by: [], missing: false, runs: 2, pos },
        { filter: filter('file', eq(f('a'), s('2'))), by: [], missing: false, runs: 1, pos },
      ],
      until: { filter: filter('process', eq(f('a'), s('3'))), by: [], missing: false, runs: 1, pos },
      pipes: [],
      pos,
    };
    const plan = pushdownQuery(q, opts);
    expect(plan.stages).toHaveLength(3);
    expect(plan.stages[0]).toEqual(plan.stages[1]);
    expect(JSON.stringify(plan.stages[2])).toContain('"2"');
    expect(JSON.stringify(plan.until)).toContain('"3"');
    const any = pushdownAny(plan) as { bool: { should: unknown[] } };
    expect(any.bool.should).toHaveLength(4);
  });
});

describe('narrowByKeys', () => {
  const stage = { term: { 'event.category': 'file' } };

  it('one key → terms on the key field (plus _ignored for keys too long to index)', () => {
    expect(narrowByKeys(stage, ['container.id'], [['c1'], ['c2'], ['c1']])).toEqual({
      bool: { filter: [stage, should({ terms: { 'container.id': ['c1', 'c2'] } }, ign('container.id'))] },
    });
  });

  it('several keys → a disjunction of per-tuple conjunctions', () => {
    const q = narrowByKeys(stage, ['a', 'b'], [
      ['x', 1],
      ['y', 2],
    ]);
    expect(q).toEqual({
      bool: {
        filter: [
          stage,
          should(
            { bool: { filter: [should({ term: { a: 'x' } }, ign('a')), should({ term: { b: 1 } }, ign('b'))] } },
            { bool: { filter: [should({ term: { a: 'y' } }, ign('a')), should({ term: { b: 2 } }, ign('b'))] } },
          ),
        ],
      },
    });
  });

  it('a null (optional) key value also accepts events without the field', () => {
    expect(narrowByKeys(stage, ['a'], [[null]])).toEqual({
      bool: { filter: [stage, should(ign('a'), { bool: { must_not: [{ exists: { field: 'a' } }] } })] },
    });
  });

  it('no seen keys → nothing can join', () => {
    expect(narrowByKeys(stage, ['a'], [])).toEqual(MATCH_NONE);
  });

  it('above the tuple threshold multi-key narrowing falls back to per-field terms', () => {
    const n = MAX_TUPLE_CLAUSES / 2 + 1;
    const tuples = Array.from({ length: n }, (_, i) => [`a${i}`, `b${i}`] as const);
    const q = narrowByKeys(stage, ['a', 'b'], tuples) as { bool: { filter: { bool: { should: { terms?: Record<string, unknown[]> }[] } }[] } };
    expect(q.bool.filter).toHaveLength(3);
    expect(q.bool.filter[1]!.bool.should[0]!.terms!.a).toHaveLength(n);
  });

  it('above the value threshold, or with non-scalar keys, the filter is returned unchanged', () => {
    const many = Array.from({ length: MAX_NARROW_KEYS + 1 }, (_, i) => [`k${i}`]);
    expect(narrowByKeys(stage, ['a'], many)).toEqual(stage);
    expect(narrowByKeys(stage, ['a'], [[{ nested: 1 }]])).toEqual(stage);
  });
});
