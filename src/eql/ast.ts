/**
 * Typed AST of Elasticsearch EQL. Produced by `parser.ts`, consumed by `compile.ts`
 * (local evaluation) and `pushdown.ts` (Elasticsearch Query DSL). Pure data, JSON-serialisable.
 */

/** Where a node starts in the query text (1-based line/column, 0-based offset). */
export interface Pos {
  line: number;
  column: number;
  offset: number;
}

export type LiteralType = 'string' | 'long' | 'double' | 'boolean' | 'null';

export interface Literal {
  kind: 'literal';
  type: LiteralType;
  value: string | number | boolean | null;
  pos: Pos;
}

/** A field reference; `path` is the dot-joined name with backticks removed. */
export interface FieldRef {
  kind: 'field';
  path: string;
  /** `?field`: unmapped fields evaluate to null instead of being an error. */
  optional: boolean;
  pos: Pos;
}

export interface Not {
  kind: 'not';
  expr: Expr;
  pos: Pos;
}

/** n-ary boolean connective, operands in source order (flattened: `a and b and c` has 3). */
export interface Logical {
  kind: 'and' | 'or';
  operands: Expr[];
  pos: Pos;
}

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export interface Compare {
  kind: 'compare';
  op: CompareOp;
  left: Expr;
  right: Expr;
  pos: Pos;
}

/**
 * Pattern operators. `:` is always case-insensitive (wildcards `*`/`?` when present);
 * `like`/`regex` are case-sensitive unless written `like~`/`regex~`. The right side may be a list.
 */
export interface Match {
  kind: 'match';
  op: ':' | 'like' | 'regex';
  caseInsensitive: boolean;
  left: Expr;
  patterns: Expr[];
  pos: Pos;
}

/** `in` / `in~` / `not in` / `not in~`. `in~` is case-insensitive, wildcards are literal. */
export interface In {
  kind: 'in';
  left: Expr;
  values: Expr[];
  caseInsensitive: boolean;
  negated: boolean;
  pos: Pos;
}

export type ArithOp = '+' | '-' | '*' | '/' | '%';

export interface Arith {
  kind: 'arith';
  op: ArithOp;
  left: Expr;
  right: Expr;
  pos: Pos;
}

export interface Negate {
  kind: 'negate';
  expr: Expr;
  pos: Pos;
}

/** Function call; `name` is the canonical (documented) spelling, e.g. `cidrMatch`. */
export interface Call {
  kind: 'call';
  name: FunctionName;
  caseInsensitive: boolean;
  args: Expr[];
  pos: Pos;
}

export type FunctionName =
  | 'add'
  | 'between'
  | 'cidrMatch'
  | 'concat'
  | 'divide'
  | 'endsWith'
  | 'indexOf'
  | 'length'
  | 'modulo'
  | 'multiply'
  | 'number'
  | 'startsWith'
  | 'string'
  | 'stringContains'
  | 'substring'
  | 'subtract';

export type Expr = Literal | FieldRef | Not | Logical | Compare | Match | In | Arith | Negate | Call;

/** `process where …`: `category` null for `any`. */
export interface EventFilter {
  category: string | null;
  condition: Expr;
  pos: Pos;
}

export interface SequenceStage {
  filter: EventFilter;
  /** Per-stage `by` keys (appended after the sequence-level keys). */
  by: FieldRef[];
  /** `![ … ]` missing-event stage. */
  missing: boolean;
  /** `with runs=N` (1 when absent). The compiler expands a stage with runs=N into N stages. */
  runs: number;
  pos: Pos;
}

export interface EventQuery {
  kind: 'event';
  filter: EventFilter;
  pipes: Pipe[];
  pos: Pos;
}

export interface SequenceQuery {
  kind: 'sequence';
  /** `sequence by a, b` keys shared by all stages. */
  by: FieldRef[];
  /** `with maxspan=…` in milliseconds, or null. */
  maxspanMs: number | null;
  stages: SequenceStage[];
  until: SequenceStage | null;
  pipes: Pipe[];
  pos: Pos;
}

export interface SampleStage {
  filter: EventFilter;
  by: FieldRef[];
  pos: Pos;
}

export interface SampleQuery {
  kind: 'sample';
  by: FieldRef[];
  stages: SampleStage[];
  pipes: Pipe[];
  pos: Pos;
}

export interface Pipe {
  kind: 'head' | 'tail';
  count: number;
  pos: Pos;
}

export type Query = EventQuery | SequenceQuery | SampleQuery;
