/**
 * Recursive-descent parser for Elasticsearch EQL into the AST of `ast.ts`.
 *
 * Grammar and precedence follow Elasticsearch's `EqlBase.g4` (x-pack/plugin/eql):
 *   or < and < not < comparison (non-chaining) < + - < * / % < unary -/+ < primary [predicate]
 * where a predicate (`in`, `not in`, `in~`, `:`, `like[~]`, `regex[~]`) binds directly to the
 * primary on its left, and `:`/`like`/`regex` take only literal constants on the right.
 * The checks of ES's LogicalPlanBuilder / ExpressionBuilder / Verifier that need no index
 * mapping are applied here too (maxspan units, runs 1..100, join-key counts, missing events,
 * pipes, function names and arity, field-to-field comparisons, boolean conditions).
 *
 * Guarantees: only `EqlError` escapes; nesting is bounded (MAX_DEPTH) so neither this parser nor
 * recursive walkers of the AST can overflow the stack; one token of lookahead (two in a few
 * places), so time is linear in the input.
 */
import type {
  ArithOp,
  Call,
  CompareOp,
  EventFilter,
  Expr,
  FieldRef,
  FunctionName,
  Literal,
  Pipe,
  Pos,
  Query,
  SampleQuery,
  SampleStage,
  SequenceQuery,
  SequenceStage,
} from './ast.js';
import { EqlError, type EqlErrorKind } from './errors.js';
import { KEYWORDS, Lexer, type LineMap, type Token } from './lexer.js';

/** Maximum nesting of expressions (parse recursion and AST depth). Real rules stay far below. */
export const MAX_DEPTH = 200;

interface FunctionSpec {
  name: FunctionName;
  min: number;
  max: number;
  /** Has a case-insensitive `name~(…)` variant. */
  tilde: boolean;
  /** Result type, for the boolean-condition check. */
  returns: 'boolean' | 'keyword' | 'number';
}

/** ES resolves function names case-insensitively (EqlFunctionRegistry lowercases names). */
const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map(
  (
    [
      ['add', 2, 2, false, 'number'],
      ['between', 3, 4, true, 'keyword'],
      ['cidrMatch', 2, Infinity, false, 'boolean'],
      ['concat', 1, Infinity, false, 'keyword'],
      ['divide', 2, 2, false, 'number'],
      ['endsWith', 2, 2, true, 'boolean'],
      ['indexOf', 2, 3, true, 'number'],
      ['length', 1, 1, false, 'number'],
      ['modulo', 2, 2, false, 'number'],
      ['multiply', 2, 2, false, 'number'],
      ['number', 1, 2, false, 'number'],
      ['startsWith', 2, 2, true, 'boolean'],
      ['string', 1, 1, false, 'keyword'],
      ['stringContains', 2, 2, true, 'boolean'],
      ['substring', 2, 3, false, 'keyword'],
      ['subtract', 2, 2, false, 'number'],
    ] as const
  ).map(([name, min, max, tilde, returns]) => [name.toLowerCase(), { name, min, max, tilde, returns }]),
);

/** Functions of the original (Endgame) EQL that Elasticsearch does not implement. */
const LEGACY_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['arraycontains', 'arrayContains'],
  ['arraycount', 'arrayCount'],
  ['arraysearch', 'arraySearch'],
  ['match', 'match'],
  ['matchlite', 'matchLite'],
  ['wildcard', 'wildcard'],
  ['safe', 'safe'],
]);

/** Pipes of the original EQL that Elasticsearch parses but refuses. */
const LEGACY_PIPES: ReadonlySet<string> = new Set(['count', 'filter', 'sort', 'unique', 'unique_count', 'window']);
const SUPPORTED_PIPES = ['head', 'tail'];

const TIME_UNITS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
  ['d', 86_400_000],
]);

const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);

export function parseQuery(text: string): Query {
  return guarded(text, (p) => p.statement());
}

export function parseExpression(text: string): Expr {
  return guarded(text, (p) => p.singleExpression());
}

/** Runs the parser, turning anything that is not an EqlError (a bug) into one. */
function guarded<T>(text: string, run: (p: Parser) => T): T {
  try {
    if (typeof text !== 'string') {
      throw new EqlError({ kind: 'syntax', message: 'query must be a string', line: 1, column: 1, offset: 0 });
    }
    const lexer = new Lexer(text);
    const tokens = lexer.tokenize();
    return run(new Parser(text, tokens, lexer.lines));
  } catch (e) {
    if (e instanceof EqlError) throw e;
    const stack = e instanceof RangeError;
    throw new EqlError({
      kind: 'syntax',
      message: stack ? 'query is too large or too deeply nested' : `internal parser error: ${e instanceof Error ? e.message : String(e)}`,
      line: 1,
      column: 1,
      offset: 0,
      source: typeof text === 'string' ? text : '',
    });
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of query';
    case 'string':
      return 'string literal';
    case 'integer':
    case 'decimal':
      return `number ${t.value}`;
    case 'keyword':
      return `keyword '${t.value}'`;
    case 'punct':
      return `'${t.value}'`;
    case 'ident':
      return `'${t.value}'`;
    case 'tildeIdent':
      return `'${t.value}~'`;
    case 'quotedIdent':
      return 'quoted field name';
  }
}

function isLiteral(e: Expr): e is Literal {
  return e.kind === 'literal';
}

/**
 * Does the expression read a non-optional field? ES requires the right side of comparisons and
 * `in` lists to fold to a constant; an optional `?field` that is unmapped folds to null (ES's QA
 * suite accepts `?x == ?y`), so only required fields make an expression certainly non-constant.
 */
function hasField(e: Expr): boolean {
  switch (e.kind) {
    case 'field':
      return !e.optional;
    case 'literal':
      return false;
    case 'not':
    case 'negate':
      return hasField(e.expr);
    case 'and':
    case 'or':
      return e.operands.some(hasField);
    case 'compare':
    case 'arith':
      return hasField(e.left) || hasField(e.right);
    case 'match':
      return hasField(e.left) || e.patterns.some(hasField);
    case 'in':
      return hasField(e.left) || e.values.some(hasField);
    case 'call':
      return e.args.some(hasField);
  }
}

/** Short source-like rendering of an expression for messages. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'field':
      return `${e.optional ? '?' : ''}${e.path}`;
    case 'literal':
      return e.type === 'string' ? JSON.stringify(e.value) : String(e.value);
    case 'call':
      return `${e.name}${e.caseInsensitive ? '~' : ''}(…)`;
    case 'arith':
      return `${show(e.left)} ${e.op} ${show(e.right)}`;
    case 'negate':
      return `-${show(e.expr)}`;
    default:
      return e.kind;
  }
}

/** Why an expression cannot be a condition, or null when it can (fields: mapping decides). */
function nonBooleanType(e: Expr): string | null {
  switch (e.kind) {
    case 'literal':
      return e.type === 'boolean' || e.type === 'null' ? null : e.type === 'string' ? 'keyword' : e.type;
    case 'arith':
    case 'negate':
      return 'number';
    case 'call': {
      const returns = FUNCTIONS.get(e.name.toLowerCase())?.returns ?? 'boolean';
      return returns === 'boolean' ? null : returns;
    }
    default:
      return null;
  }
}

class Parser {
  private p = 0;
  private depth = 0;
  /** AST depth of every built node, so deep left-leaning chains are bounded too. */
  private readonly heights = new Map<Expr, number>(); // per-parse; a WeakMap makes GC superlinear on huge inputs

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly lines: LineMap,
  ) {}

  // ---- token helpers ------------------------------------------------------------------------

  private peek(k = 0): Token {
    const i = Math.min(this.p + k, this.tokens.length - 1);
    return this.tokens[i] as Token;
  }

  private advance(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.p++;
    return t;
  }

  private prev(): Token | undefined {
    return this.p > 0 ? this.tokens[this.p - 1] : undefined;
  }

  private isKw(t: Token, v: string): boolean {
    return t.kind === 'keyword' && t.value === v;
  }

  private isPunct(t: Token, v: string): boolean {
    return t.kind === 'punct' && t.value === v;
  }

  private pos(t: Token): Pos {
    return { line: t.line, column: t.column, offset: t.offset };
  }

  private fail(
    kind: EqlErrorKind,
    at: Token | Pos,
    message: string,
    opts: { hint?: string | undefined; expected?: string[] } = {},
  ): never {
    const offset = at.offset;
    const p = this.lines.pos(offset);
    const init: ConstructorParameters<typeof EqlError>[0] = {
      kind,
      message,
      line: p.line,
      column: p.column,
      offset,
      source: this.text,
    };
    if (opts.hint !== undefined) init.hint = opts.hint;
    if (opts.expected !== undefined) init.expected = opts.expected;
    throw new EqlError(init);
  }

  /** A syntax error at the current token, with a hint guessed from common mistakes. */
  private unexpected(expected: string[], hint?: string): never {
    const t = this.peek();
    const msg = `unexpected ${describe(t)}; expected ${expected.length === 1 ? expected[0] : `one of ${expected.join(', ')}`}`;
    this.fail('syntax', t, msg, { hint: this.guessHint(t) ?? hint ?? this.contextHint(t), expected });
  }

  /** Hints certain enough to override the caller's generic advice. */
  private guessHint(t: Token): string | undefined {
    const prev = this.prev();
    if (t.kind === 'ident' && KEYWORDS.has(t.value.toLowerCase())) {
      return `EQL keywords are lowercase: write \`${t.value.toLowerCase()}\``;
    }
    if (this.isPunct(t, '=')) return '`=` is not an operator in Elasticsearch EQL; use `==` (case-sensitive) or `:` (case-insensitive)';
    if (t.kind === 'decimal' && t.value.startsWith('.') && prev !== undefined && (prev.kind === 'ident' || prev.kind === 'quotedIdent')) {
      return 'a field name segment that starts with a digit must be quoted with backticks, e.g. a.`1b`';
    }
    if (this.isKw(t, 'not') && prev !== undefined && prev.kind !== 'keyword' && prev.kind !== 'punct') {
      return '`not` after a value only combines with `in`/`in~`; to negate another operator write `not (a like "x")`';
    }
    if (this.isPunct(t, '|') && prev !== undefined && this.isPunct(prev, '|')) return 'use `or` to combine conditions (`||` is not an operator)';
    return undefined;
  }

  /** Fallback hints when the caller has none. */
  private contextHint(t: Token): string | undefined {
    const prev = this.prev();
    if (this.isPunct(t, '[') && prev !== undefined) {
      return 'stages in brackets only follow `sequence` or `sample`, e.g. `sequence [process where …] [file where …]`';
    }
    return undefined;
  }

  private expectPunct(v: string, hint?: string): Token {
    const t = this.peek();
    if (!this.isPunct(t, v)) this.unexpected([`'${v}'`], hint);
    return this.advance();
  }

  private expectKw(v: string, hint?: string): Token {
    const t = this.peek();
    if (!this.isKw(t, v)) this.unexpected([`'${v}'`], hint);
    return this.advance();
  }

  /** Bounds recursion: every nested construct passes through here. */
  private nested<T>(at: Token, f: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      this.fail('syntax', at, `expression is nested too deeply (more than ${MAX_DEPTH} levels)`, {
        hint: 'simplify the query; split deeply nested parentheses or long chains of unary operators',
      });
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  /** Records a node's AST depth from its children and rejects over-deep trees. */
  private node<T extends Expr>(e: T, children: readonly Expr[]): T {
    let h = 0;
    for (const c of children) h = Math.max(h, this.heights.get(c) ?? 1);
    if (h + 1 > MAX_DEPTH) {
      this.fail('syntax', e.pos, `expression is nested too deeply (more than ${MAX_DEPTH} levels)`, {
        hint: 'split long arithmetic chains or deeply nested expressions',
      });
    }
    this.heights.set(e, h + 1);
    return e;
  }

  // ---- statements ---------------------------------------------------------------------------

  statement(): Query {
    const t = this.peek();
    let q: Query;
    if (this.isKw(t, 'sequence')) q = this.sequence();
    else if (this.isKw(t, 'sample')) q = this.sample();
    else if (this.isKw(t, 'join')) {
      this.fail('unsupported', t, '`join` is not supported by Elasticsearch EQL', {
        hint: 'use `sequence` for ordered events or `sample` for unordered events sharing join keys',
      });
    } else {
      const filter = this.eventFilter();
      q = { kind: 'event', filter, pipes: [], pos: filter.pos };
    }
    if (q.kind === 'sample' && this.isPunct(this.peek(), '|')) {
      // ES LogicalPlanBuilder: "Samples do not support pipes yet".
      this.fail('unsupported', this.peek(), 'pipes on samples are not supported by Elasticsearch EQL', {
        hint: 'limit the number of samples with the rule/API size instead of `| head`',
      });
    }
    q.pipes = this.pipes();
    if (this.peek().kind !== 'eof') this.unexpected(["'|'", 'end of query']);
    return q;
  }

  singleExpression(): Expr {
    const e = this.expression();
    if (this.peek().kind !== 'eof') this.unexpected(['an operator', 'end of expression']);
    return e;
  }

  private eventFilter(): EventFilter {
    const t = this.peek();
    let category: string | null;
    if (this.isKw(t, 'any')) category = null;
    else if (t.kind === 'ident' || t.kind === 'string') category = t.value;
    else if (t.kind === 'quotedIdent') {
      this.fail('syntax', t, 'an event category cannot be quoted with backticks', {
        hint: `quote the category with double quotes: "${t.value.replace(/["\\]/g, '\\$&')}" where …`,
      });
    } else {
      this.unexpected(['an event category', "'any'"], t.kind === 'keyword' && t.value === 'where' ? 'name the event category before `where`, e.g. `process where …` or `any where …`' : undefined);
    }
    this.advance();
    this.expectKw('where', 'an event filter is written `<category> where <condition>`, e.g. `process where process.name == "sh"`');
    const condition = this.expression();
    this.requireBoolean(condition);
    return { category, condition, pos: this.pos(t) };
  }

  private pipes(): Pipe[] {
    const out: Pipe[] = [];
    while (this.isPunct(this.peek(), '|')) {
      const bar = this.advance();
      const nameTok = this.peek();
      if (nameTok.kind !== 'ident') this.unexpected(['a pipe name']);
      this.advance();
      const name = nameTok.value;
      if (LEGACY_PIPES.has(name)) {
        this.fail('unsupported', nameTok, `Pipe [${name}] is not supported by Elasticsearch EQL`, {
          hint: 'Elasticsearch EQL supports only `| head N` and `| tail N`',
        });
      }
      if (!SUPPORTED_PIPES.includes(name)) {
        const similar = didYouMean(name, [...SUPPORTED_PIPES, ...LEGACY_PIPES]);
        this.fail('syntax', nameTok, `Unrecognized pipe [${name}]${similar ? `, did you mean [${similar}]?` : ''}`, {
          hint: 'Elasticsearch EQL supports only `| head N` and `| tail N`',
        });
      }
      const args: Expr[] = [];
      const next = this.peek();
      if (!(next.kind === 'eof' || this.isPunct(next, '|'))) {
        args.push(this.expression());
        while (this.isPunct(this.peek(), ',')) {
          this.advance();
          args.push(this.expression());
        }
      }
      if (args.length !== 1) {
        this.fail('semantic', nameTok, `Pipe [${name}] expects exactly one argument but found [${args.length}]`, {
          hint: `write \`| ${name} 10\``,
        });
      }
      const arg = args[0] as Expr;
      const n = foldInteger(arg);
      if (n === null || n < 0 || n > 2_147_483_647) {
        this.fail('semantic', arg.pos, `Pipe [${name}] expects a positive integer but found [${show(arg)}]`, {
          hint: `write \`| ${name} 10\``,
        });
      }
      out.push({ kind: name as Pipe['kind'], count: n, pos: this.pos(bar) });
    }
    return out;
  }

  // ---- sequence / sample --------------------------------------------------------------------

  private sequence(): SequenceQuery {
    const start = this.advance();
    let by: FieldRef[] = [];
    let maxspanMs: number | null = null;
    if (this.isKw(this.peek(), 'by')) by = this.joinKeys();
    if (this.isKw(this.peek(), 'with')) {
      maxspanMs = this.maxspan();
      if (this.isKw(this.peek(), 'by')) {
        this.fail('syntax', this.peek(), 'Please specify sequence [by] before [with] not after', {
          hint: 'write `sequence by key with maxspan=…`',
        });
      }
    }
    const stages: SequenceStage[] = [];
    while (this.isPunct(this.peek(), '[') || this.isPunct(this.peek(), '![')) stages.push(this.sequenceStage());
    if (stages.length === 0) this.unexpected(["'['", "'!['"], 'a sequence lists its stages in brackets: `sequence [process where …] [file where …]`');
    let until: SequenceStage | null = null;
    if (this.isKw(this.peek(), 'until')) {
      this.advance();
      const u = this.peek();
      if (!this.isPunct(u, '[')) {
        if (this.isPunct(u, '![')) this.fail('semantic', u, 'the `until` stage cannot be a missing event', { hint: 'write `until [category where …]`' });
        this.unexpected(["'['"]);
      }
      until = this.sequenceStage();
      if (until.runs !== 1) this.fail('semantic', until.pos, '`with runs` is not allowed on the `until` stage');
    }

    // Join keys: same count everywhere (ES LogicalPlanBuilder "Inconsistent number of join keys").
    const expected = stages[0]?.by.length ?? 0;
    for (const s of until ? [...stages, until] : stages) {
      if (s.by.length !== expected) {
        this.fail('semantic', s.by[0]?.pos ?? s.pos, `Inconsistent number of join keys specified; expected [${expected}] but found [${s.by.length}]`, {
          hint: 'every stage (and `until`) needs the same number of `by` keys; shared keys go after `sequence by`',
        });
      }
    }
    const total = stages.reduce((n, s) => n + s.runs, 0);
    if (total < 2) {
      this.fail('semantic', start, `A sequence requires a minimum of 2 queries, found [${total}]`, {
        hint: 'add another stage, use `with runs=N`, or write a plain event query `category where …`',
      });
    }
    const firstMissing = stages.find((s) => s.missing);
    if (firstMissing !== undefined) {
      if (maxspanMs === null) {
        this.fail('semantic', firstMissing.pos, 'Sequences with missing events (`![ … ]`) require `with maxspan`', {
          hint: 'add e.g. `with maxspan=5m` after `sequence` (and after its `by` keys)',
        });
      }
      if (stages.every((s) => s.missing)) {
        this.fail('semantic', start, 'A sequence requires at least one positive event query (not `![ … ]`)', {
          hint: 'add a stage written `[category where …]`',
        });
      }
    }
    return { kind: 'sequence', by, maxspanMs, stages, until, pipes: [], pos: this.pos(start) };
  }

  /** `with maxspan=N<unit>`: positive integer, unit ms|s|m|h|d (ES visitSequenceParams). */
  private maxspan(): number {
    this.advance(); // with
    const k = this.peek();
    if (!this.isKw(k, 'maxspan')) {
      const hint = k.kind === 'ident' && k.value === 'runs' ? '`with runs=N` belongs after a stage: `[file where …] with runs=3`' : 'write `sequence with maxspan=30s`';
      this.unexpected(["'maxspan'"], hint);
    }
    this.advance();
    this.expectPunct('=', 'write `with maxspan=30s`');
    const num = this.peek();
    if (num.kind === 'decimal') {
      this.fail('semantic', num, `Decimal time interval [${num.value}] not supported; please use an positive integer`, {
        hint: 'use a smaller unit instead of a fraction, e.g. 1500ms instead of 1.5s',
      });
    }
    if (num.kind !== 'integer') this.unexpected(['a positive integer'], 'write `with maxspan=30s` (units: ms, s, m, h, d)');
    this.advance();
    const value = Number(num.value);
    if (value <= 0) this.fail('semantic', num, `A positive maxspan value is required; found [${num.value}]`);
    const unitTok = this.peek();
    if (unitTok.kind !== 'ident') {
      this.fail('semantic', num, `No time unit specified, did you mean [s] as in [${num.value}s]?`, {
        hint: 'units are ms, s, m, h and d, written right after the number',
      });
    }
    this.advance();
    const factor = TIME_UNITS.get(unitTok.value);
    if (factor === undefined) {
      this.fail('semantic', unitTok, `Unrecognized time unit [${unitTok.value}] in [${num.value}${unitTok.value}], please specify one of [ms, s, m, h, d]`);
    }
    const ms = value * factor;
    if (!Number.isSafeInteger(ms)) this.fail('semantic', num, `maxspan [${num.value}${unitTok.value}] is too large`);
    return ms;
  }

  private sequenceStage(): SequenceStage {
    const open = this.advance();
    const missing = open.value === '![';
    const filter = this.eventFilter();
    this.expectPunct(']', 'close the stage with `]`');
    const by = this.isKw(this.peek(), 'by') ? this.joinKeys() : [];
    let runs = 1;
    if (this.isKw(this.peek(), 'with')) {
      this.advance();
      const key = this.peek();
      if (this.isKw(key, 'maxspan')) {
        this.fail('syntax', key, '`with maxspan` must follow `sequence` (and its `by` keys), not a stage', {
          hint: 'write `sequence by key with maxspan=30s [ … ] [ … ]`',
        });
      }
      if (key.kind !== 'ident') this.unexpected(["'runs'"]);
      if (key.value !== 'runs') this.fail('semantic', key, `Unrecognized option [${key.value}], expecting [runs]`, { hint: 'write `with runs=3`' });
      this.advance();
      this.expectPunct('=', 'write `with runs=3`');
      const num = this.peek();
      if (num.kind !== 'integer' && num.kind !== 'decimal') this.unexpected(['a number from 1 to 100'], 'write `with runs=3`');
      this.advance();
      const n = Number(num.value);
      if (num.kind === 'decimal' || !Number.isInteger(n) || n < 1 || n > 100) {
        this.fail('semantic', num, `A positive runs value between 1 and 100 is required; found [${num.value}]`);
      }
      runs = n;
    }
    return { filter, by, missing, runs, pos: this.pos(open) };
  }

  private sample(): SampleQuery {
    const start = this.advance();
    const by = this.isKw(this.peek(), 'by') ? this.joinKeys() : [];
    if (this.isKw(this.peek(), 'with')) {
      this.fail('unsupported', this.peek(), '`with maxspan` is not supported by Elasticsearch EQL for samples', {
        hint: 'samples ignore time ordering; use a `sequence` to constrain timing',
      });
    }
    const stages: SampleStage[] = [];
    for (;;) {
      const open = this.peek();
      if (this.isPunct(open, '![')) {
        this.fail('unsupported', open, 'missing events (`![ … ]`) are not supported by Elasticsearch EQL for samples', {
          hint: 'missing events are only available in sequences with `with maxspan`',
        });
      }
      if (!this.isPunct(open, '[')) break;
      this.advance();
      const filter = this.eventFilter();
      this.expectPunct(']', 'close the stage with `]`');
      const keys = this.isKw(this.peek(), 'by') ? this.joinKeys() : [];
      if (this.isKw(this.peek(), 'with')) {
        this.fail('unsupported', this.peek(), '`with runs` is not supported by Elasticsearch EQL for samples', {
          hint: 'repeat the stage instead',
        });
      }
      stages.push({ filter, by: keys, pos: this.pos(open) });
    }
    if (stages.length === 0) this.unexpected(["'['"], 'a sample lists its stages in brackets: `sample by host [any where …] [any where …]`');
    if (this.isKw(this.peek(), 'until')) {
      this.fail('unsupported', this.peek(), '`until` is not supported by Elasticsearch EQL for samples');
    }
    const expected = (stages[0] as SampleStage).by.length;
    for (const s of stages) {
      if (s.by.length !== expected) {
        this.fail('semantic', s.by[0]?.pos ?? s.pos, `Inconsistent number of join keys specified; expected [${expected}] but found [${s.by.length}]`, {
          hint: 'every stage needs the same number of `by` keys; shared keys go after `sample by`',
        });
      }
    }
    if (stages.length < 2) {
      this.fail('semantic', start, `A sample requires a minimum of 2 queries, found [${stages.length}]`, {
        hint: 'add another stage, or write a plain event query',
      });
    }
    if (by.length + expected === 0) {
      this.fail('semantic', start, 'A sample requires join keys', { hint: 'write `sample by <field> [ … ] [ … ]`' });
    }
    return { kind: 'sample', by, stages, pipes: [], pos: this.pos(start) };
  }

  /** `by k1, k2`: keys must be (optionally `?`) field names (ES: "Unsupported join key"). */
  private joinKeys(): FieldRef[] {
    this.advance(); // by
    const keys: FieldRef[] = [];
    for (;;) {
      const e = this.expression();
      if (e.kind !== 'field') {
        this.fail('semantic', e.pos, `Unsupported join key [${show(e)}]`, { hint: 'join keys must be field names, e.g. `by host.id, ?process.entity_id`' });
      }
      keys.push(e);
      if (!this.isPunct(this.peek(), ',')) return keys;
      this.advance();
    }
  }

  // ---- expressions --------------------------------------------------------------------------

  private expression(): Expr {
    return this.or();
  }

  private or(): Expr {
    const first = this.and();
    if (!this.isKw(this.peek(), 'or')) return first;
    const operands = [first];
    while (this.isKw(this.peek(), 'or')) {
      this.advance();
      operands.push(this.and());
    }
    for (const o of operands) this.requireBoolean(o, 'or');
    return this.node({ kind: 'or', operands, pos: first.pos }, operands);
  }

  private and(): Expr {
    const first = this.not();
    if (!this.isKw(this.peek(), 'and')) return first;
    const operands = [first];
    while (this.isKw(this.peek(), 'and')) {
      this.advance();
      operands.push(this.not());
    }
    for (const o of operands) this.requireBoolean(o, 'and');
    return this.node({ kind: 'and', operands, pos: first.pos }, operands);
  }

  private not(): Expr {
    const t = this.peek();
    if (this.isKw(t, 'not')) {
      this.advance();
      const expr = this.nested(t, () => this.not());
      this.requireBoolean(expr, 'not');
      return this.node({ kind: 'not', expr, pos: this.pos(t) }, [expr]);
    }
    if (t.kind === 'ident' && this.isKw(this.peek(1), 'of')) {
      this.fail('unsupported', t, `Process relationship (\`${t.value} of\`) is not supported by Elasticsearch EQL`, {
        hint: 'express the relationship with a `sequence by process.entity_id` over the parent and child events',
      });
    }
    return this.comparison();
  }

  private comparison(): Expr {
    const left = this.additive();
    const opTok = this.peek();
    if (opTok.kind !== 'punct' || !COMPARE_OPS.has(opTok.value)) {
      if (this.isPunct(opTok, '=')) {
        this.fail('syntax', opTok, '`=` is not supported as an equality operator', {
          hint: 'use `==` (case-sensitive) or `:` (case-insensitive, with wildcards)',
          expected: ["'=='", "':'"],
        });
      }
      return left;
    }
    this.advance();
    const right = this.additive();
    const after = this.peek();
    if (after.kind === 'punct' && COMPARE_OPS.has(after.value)) {
      this.fail('syntax', after, 'comparisons cannot be chained', { hint: 'combine them with `and`, e.g. `a < b and b <= c`' });
    }
    // ES folds literals to the right and requires the right side to be constant.
    if (hasField(left) && hasField(right)) {
      this.fail('semantic', right.pos, `Comparisons against fields are not (currently) supported; offender [${show(right)}] in [${opTok.value}]`, {
        hint: 'compare each field to a literal value instead',
      });
    }
    return this.node({ kind: 'compare', op: opTok.value as CompareOp, left, right, pos: left.pos }, [left, right]);
  }

  private additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (!(this.isPunct(t, '+') || this.isPunct(t, '-'))) return left;
      this.advance();
      const right = this.multiplicative();
      left = this.node({ kind: 'arith', op: t.value as ArithOp, left, right, pos: left.pos }, [left, right]);
    }
  }

  private multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (!(this.isPunct(t, '*') || this.isPunct(t, '/') || this.isPunct(t, '%'))) return left;
      this.advance();
      const right = this.unary();
      left = this.node({ kind: 'arith', op: t.value as ArithOp, left, right, pos: left.pos }, [left, right]);
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (this.isPunct(t, '-') || this.isPunct(t, '+')) {
      this.advance();
      const operand = this.nested(t, () => this.unary());
      if (t.value === '+') return operand; // ES drops unary plus
      if (isLiteral(operand) && (operand.type === 'long' || operand.type === 'double')) {
        // Fold `-5` into a literal (ES folds Neg(literal) too) so pushdown sees a plain value. `-0` is 0, as the
        // runtime `negate` has it (functions.ts): a long has no negative zero, and the AST stays plain JSON.
        const v = operand.value as number;
        return { kind: 'literal', type: operand.type, value: v === 0 ? 0 : -v, pos: this.pos(t) };
      }
      return this.node({ kind: 'negate', expr: operand, pos: this.pos(t) }, [operand]);
    }
    return this.postfix();
  }

  /** primaryExpression predicate? */
  private postfix(): Expr {
    const left = this.primary();
    let t = this.peek();
    let negated = false;
    if (this.isKw(t, 'not') && (this.isKw(this.peek(1), 'in') || this.isKw(this.peek(1), 'in~'))) {
      this.advance();
      negated = true;
      t = this.peek();
    }
    if (this.isKw(t, 'in') || this.isKw(t, 'in~')) {
      this.advance();
      const open = this.expectPunct('(', 'write `field in ("a", "b")`');
      const values = this.nested(open, () => {
        const vs = [this.expression()];
        while (this.isPunct(this.peek(), ',')) {
          this.advance();
          vs.push(this.expression());
        }
        return vs;
      });
      this.expectPunct(')', 'close the list with `)`');
      for (const v of values) {
        if (hasField(v)) {
          this.fail('semantic', v.pos, `Comparisons against fields are not (currently) supported; offender [${show(v)}] in [${t.value}]`, {
            hint: 'list literal values only',
          });
        }
      }
      return this.node({ kind: 'in', left, values, caseInsensitive: t.value === 'in~', negated, pos: left.pos }, [left, ...values]);
    }
    const op = t.kind === 'punct' && t.value === ':' ? ':' : t.kind === 'keyword' ? t.value : '';
    if (op === ':' || op === 'like' || op === 'like~' || op === 'regex' || op === 'regex~') {
      this.advance();
      const patterns: Literal[] = [];
      if (this.isPunct(this.peek(), '(')) {
        this.advance();
        patterns.push(this.constant(op));
        while (this.isPunct(this.peek(), ',')) {
          this.advance();
          patterns.push(this.constant(op));
        }
        this.expectPunct(')', 'close the list with `)`');
      } else {
        patterns.push(this.constant(op));
      }
      if (op !== ':') {
        for (const pat of patterns) {
          if (pat.type !== 'string') {
            this.fail('semantic', pat.pos, `the pattern of [${op}] must be a string, found [${show(pat)}]`, { hint: `write e.g. \`field ${op} "value*"\`` });
          }
        }
      }
      const base = op.replace('~', '') as ':' | 'like' | 'regex';
      return this.node(
        { kind: 'match', op: base, caseInsensitive: op === ':' || op.endsWith('~'), left, patterns, pos: left.pos },
        [left, ...patterns],
      );
    }
    return left;
  }

  /** The right side of `:`/`like`/`regex`: null, number, boolean or string (no sign, no fields). */
  private constant(op: string): Literal {
    const t = this.peek();
    const lit = this.literal(t);
    if (lit !== null) {
      this.advance();
      return lit;
    }
    if (t.kind === 'ident' || t.kind === 'quotedIdent' || this.isPunct(t, '?')) {
      this.fail('semantic', t, `the right side of [${op}] must be a literal, not a field`, {
        hint: 'comparisons against fields are not supported; compare to a string such as "value*"',
        expected: ['a literal'],
      });
    }
    this.unexpected(['a string', 'a number', "'true'", "'false'", "'null'"]);
  }

  private literal(t: Token): Literal | null {
    const pos = this.pos(t);
    switch (t.kind) {
      case 'string':
        return { kind: 'literal', type: 'string', value: t.value, pos };
      case 'integer': {
        // ES: integers are long; values beyond the long range quietly become doubles.
        const big = BigInt(t.value);
        const type = big <= 9_223_372_036_854_775_807n ? 'long' : 'double';
        return { kind: 'literal', type, value: Number(t.value), pos };
      }
      case 'decimal': {
        const v = Number(t.value);
        if (!Number.isFinite(v)) this.fail('semantic', t, `Number [${t.value}] is too large`);
        return { kind: 'literal', type: 'double', value: v, pos };
      }
      case 'keyword':
        if (t.value === 'true' || t.value === 'false') return { kind: 'literal', type: 'boolean', value: t.value === 'true', pos };
        if (t.value === 'null') return { kind: 'literal', type: 'null', value: null, pos };
        return null;
      default:
        return null;
    }
  }

  private primary(): Expr {
    const t = this.peek();
    const lit = this.literal(t);
    if (lit !== null) {
      this.advance();
      return lit;
    }
    if (this.isPunct(t, '(')) {
      this.advance();
      const inner = this.nested(t, () => this.expression());
      this.expectPunct(')', 'close the parenthesis');
      return inner;
    }
    if (t.kind === 'ident' && this.isPunct(this.peek(1), '(')) return this.call(t, false);
    if (t.kind === 'tildeIdent') {
      if (!this.isPunct(this.peek(1), '(')) {
        this.fail('syntax', t, `unexpected '${t.value}~'`, {
          hint: 'the `~` suffix is only valid on function names, e.g. `startsWith~(process.name, "x")`, and on `in~`, `like~`, `regex~`',
        });
      }
      return this.call(t, true);
    }
    if (t.kind === 'ident' || t.kind === 'quotedIdent') return this.field(t, false);
    if (this.isPunct(t, '?')) {
      this.advance();
      const n = this.peek();
      if (n.kind !== 'ident' && n.kind !== 'quotedIdent') {
        this.unexpected(['a field name'], n.kind === 'keyword' ? `\`${n.value}\` is a keyword; quote the field name with backticks: ?\`${n.value}\`` : 'write an optional field as `?field.name`');
      }
      return this.field(n, true, t);
    }
    const hint =
      t.kind === 'keyword' && !['not', 'and', 'or'].includes(t.value)
        ? `\`${t.value}\` is a keyword; quote a field of that name with backticks: \`${t.value}\``
        : undefined;
    this.unexpected(['a field', 'a literal', 'a function call', "'('"], hint);
  }

  /** qualifiedName: identifier ('.' identifier)*; `a[0]` is rejected like ES does. */
  private field(first: Token, optional: boolean, start: Token = first): FieldRef {
    this.advance();
    const segments = [first.value];
    for (;;) {
      const t = this.peek();
      if (this.isPunct(t, '.')) {
        this.advance();
        const seg = this.peek();
        if (seg.kind === 'ident' || seg.kind === 'quotedIdent') {
          this.advance();
          segments.push(seg.value);
          continue;
        }
        this.unexpected(['a field name segment'], seg.kind === 'keyword' ? `\`${seg.value}\` is a keyword; quote it with backticks: \`${seg.value}\`` : undefined);
      }
      if (this.isPunct(t, '[') && this.peek(1).kind === 'integer') {
        this.fail('unsupported', this.peek(1), 'Array indexes are not supported by Elasticsearch EQL', {
          hint: 'conditions on a multi-valued field match when any of its values matches; drop the index',
        });
      }
      break;
    }
    if (segments.some((s) => s.length === 0)) {
      this.fail('semantic', first, 'empty field name', { hint: 'a backtick-quoted field name needs at least one character' });
    }
    return this.node({ kind: 'field', path: segments.join('.'), optional, pos: this.pos(start) }, []);
  }

  private call(nameTok: Token, tilde: boolean): Call {
    this.advance(); // name
    const open = this.advance(); // (
    const args: Expr[] = [];
    this.nested(open, () => {
      if (!this.isPunct(this.peek(), ')')) {
        args.push(this.expression());
        while (this.isPunct(this.peek(), ',')) {
          this.advance();
          args.push(this.expression());
        }
      }
      this.expectPunct(')', 'close the argument list with `)`');
    });
    const raw = nameTok.value;
    const lower = raw.toLowerCase();
    const shown = `${raw}${tilde ? '~' : ''}`;
    const legacy = LEGACY_FUNCTIONS.get(lower);
    if (legacy !== undefined) {
      const hint =
        lower === 'wildcard'
          ? 'use `field like "pattern*"` or `field : "pattern*"`'
          : lower.startsWith('match')
            ? 'use `field regex "pattern"`'
            : 'conditions on multi-valued fields already match when any value matches';
      this.fail('unsupported', nameTok, `Function [${legacy}] is not supported by Elasticsearch EQL`, { hint });
    }
    const spec = FUNCTIONS.get(lower);
    if (spec === undefined) {
      const similar = didYouMean(lower, [...FUNCTIONS.values()].map((f) => f.name));
      this.fail('semantic', nameTok, `Unknown function [${shown}]${similar ? `, did you mean [${similar}]?` : ''}`, {
        hint: `supported functions: ${[...FUNCTIONS.values()].map((f) => f.name).join(', ')}`,
      });
    }
    if (tilde && !spec.tilde) {
      this.fail('semantic', nameTok, `Unknown function [${shown}]: [${spec.name}] has no case-insensitive variant`, {
        hint: 'only between, endsWith, indexOf, startsWith and stringContains accept the `~` suffix',
      });
    }
    if (args.length < spec.min || args.length > spec.max) {
      const want =
        spec.min === spec.max
          ? `exactly ${spec.min}`
          : spec.max === Infinity
            ? `at least ${spec.min}`
            : `${spec.min} to ${spec.max}`;
      this.fail('semantic', nameTok, `error building [${spec.name}]: expects ${want} argument${spec.min === 1 && spec.max === 1 ? '' : 's'}, found [${args.length}]`, {
        hint: `check the signature of ${spec.name} in the Elasticsearch EQL function reference`,
      });
    }
    if (spec.name === 'cidrMatch') {
      for (const a of args.slice(1)) {
        if (hasField(a)) {
          this.fail('semantic', a.pos, `CIDR blocks of [cidrMatch] must be constants, received [${show(a)}]`, {
            hint: 'write cidrMatch(source.ip, "10.0.0.0/8", "192.168.0.0/16")',
          });
        }
      }
    }
    if (spec.name === 'number' && args[1] !== undefined && hasField(args[1])) {
      this.fail('semantic', args[1].pos, 'the base of [number] must be a constant; fields are not supported', { hint: 'write number(field, 16)' });
    }
    return this.node({ kind: 'call', name: spec.name, caseInsensitive: tilde, args, pos: this.pos(nameTok) }, args);
  }

  /** ES's verifier: filter conditions and operands of and/or/not must be boolean. */
  private requireBoolean(e: Expr, context?: string): void {
    const type = nonBooleanType(e);
    if (type === null) return;
    const where = context === undefined ? 'Condition expression' : `Argument of [${context}]`;
    this.fail('semantic', e.pos, `${where} needs to be boolean, found [${show(e)}] of type [${type}]`, {
      hint: 'compare the value, e.g. `length(process.name) > 3`',
    });
  }
}

/** Integer value of a constant integer expression (literal or arithmetic on literals), else null. */
function foldInteger(e: Expr): number | null {
  if (e.kind === 'literal') return e.type === 'long' ? (e.value as number) : null;
  if (e.kind === 'negate') {
    const v = foldInteger(e.expr);
    return v === null ? null : -v;
  }
  if (e.kind === 'arith') {
    const l = foldInteger(e.left);
    const r = foldInteger(e.right);
    if (l === null || r === null) return null;
    switch (e.op) {
      case '+':
        return l + r;
      case '-':
        return l - r;
      case '*':
        return l * r;
      case '/':
        return r === 0 ? null : Math.trunc(l / r);
      case '%':
        return r === 0 ? null : l % r;
    }
  }
  return null;
}

/** Closest candidate by edit distance (case-insensitive), if close enough to be a plausible typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  return bestD <= limit ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? Infinity;
}
