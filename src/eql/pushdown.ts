/**
 * EQL AST ► Elasticsearch Query DSL, as a pre-filter for the local evaluator.
 *
 * The query we send must return a SUPERSET of the events the local evaluator (`compile.ts`) matches;
 * the evaluator is the final judge. Every expression is therefore translated into a pair of bounds:
 *
 *   upper ⊇ { docs the evaluator matches } ⊇ lower
 *
 * `and`/`or` combine bounds component-wise and `not` swaps them (upper(¬e) = ¬lower(e),
 * lower(¬e) = ¬upper(e)); whatever we cannot translate gets upper = match_all, lower = match_none,
 * so `not <untranslatable>` widens to match_all instead of silently dropping events. The stage
 * filter is the upper bound.
 *
 * Why an atom's lower bound is the plain ES condition but its upper bound adds `_ignored`:
 * Elasticsearch does not index keyword values longer than `ignore_above` (and malformed values under
 * `ignore_malformed`) and lists the field in the searchable `_ignored` metadata field; eqlwatch
 * evaluates the stored document, so it sees more values than the index does. A positive atom (any
 * value matches) can only gain matches from those values, so:
 *   lower(atom) = cond                 (an indexed value satisfying cond is also a stored value)
 *   upper(atom) = cond OR _ignored:F   (an unindexed value might satisfy it)
 * Hence `not atom` = must_not cond is already a superset: it only excludes a document when an
 * indexed value satisfies the condition, which the evaluator sees too.
 *
 * Pure: no Elasticsearch client, only JSON.
 */
import type { estypes } from '@elastic/elasticsearch';
import type { Call, Compare, EventFilter, Expr, FieldRef, In, Literal, Match, Query } from './ast.js';
import type { FieldType, KeyTuple } from './compiled.js';

export type QueryDsl = estypes.QueryDslQueryContainer;

export interface PushdownOptions {
  /** Field holding the event category (`process where` ► term on it). Default `event.category`. */
  eventCategoryField?: string;
  /** Always true: the translation accounts for values Elasticsearch did not index (`_ignored`). */
  ignoredAware: true;
  /**
   * Mapped type of a field across the searched indices (from their mappings). `undefined` = unmapped or
   * unknown; such fields are assumed keyword-like (a term query on an unmapped field matches nothing
   * and never fails). Return `'unknown'` for fields whose type conflicts across indices: only
   * type-safe queries (exists) are then used on them.
   */
  fieldTypes?: (path: string) => FieldType | undefined;
  /**
   * `ignore_above` of a keyword field, when known. Term-style conditions whose literals are all no
   * longer than it cannot be decided by an ignored value, so their `_ignored` branch is dropped.
   * Unknown (default): every condition keeps its `_ignored` branch.
   */
  ignoreAboveOf?: (path: string) => number | undefined;
  /**
   * Indices where the field is unmapped but documents may still hold it in `_source` unindexed (see
   * `IndexSchema.hiddenIndicesOf`): no condition on the field can see those values, so every condition
   * keeps those indices' documents for the evaluator.
   */
  hiddenIndicesOf?: (path: string) => readonly string[];
}

/** The per-stage filters of a query, aligned with `CompiledQuery.stages` (after `runs` expansion). */
export interface PushdownPlan {
  stages: QueryDsl[];
  until?: QueryDsl;
}

/** Bounds of one expression; `exact` when both are the same query. */
export interface Bounds {
  upper: QueryDsl;
  lower: QueryDsl;
  exact: boolean;
}

export const MATCH_ALL: QueryDsl = Object.freeze({ match_all: {} }) as QueryDsl;
export const MATCH_NONE: QueryDsl = Object.freeze({ match_none: {} }) as QueryDsl;

const isAll = (q: QueryDsl): boolean => 'match_all' in q;
const isNone = (q: QueryDsl): boolean => 'match_none' in q;

const UNKNOWN: Bounds = { upper: MATCH_ALL, lower: MATCH_NONE, exact: false };
const exactly = (q: QueryDsl): Bounds => ({ upper: q, lower: q, exact: true });

// ---------------------------------------------------------------------------------------------
// Boolean algebra with constant folding (keeps the emitted JSON small and readable).

export function and(qs: QueryDsl[]): QueryDsl {
  const parts: QueryDsl[] = [];
  for (const q of qs) {
    if (isNone(q)) return MATCH_NONE;
    if (isAll(q)) continue;
    // Flatten nested pure filters.
    const b = q.bool;
    if (b && b.filter && !b.must && !b.should && !b.must_not && Object.keys(b).length === 1) {
      parts.push(...(Array.isArray(b.filter) ? b.filter : [b.filter]));
    } else parts.push(q);
  }
  if (parts.length === 0) return MATCH_ALL;
  if (parts.length === 1) return parts[0]!;
  return { bool: { filter: parts } };
}

export function or(qs: QueryDsl[]): QueryDsl {
  const parts: QueryDsl[] = [];
  for (const q of qs) {
    if (isAll(q)) return MATCH_ALL;
    if (isNone(q)) continue;
    const b = q.bool;
    if (b && b.should && b.minimum_should_match === 1 && Object.keys(b).length === 2) {
      parts.push(...(Array.isArray(b.should) ? b.should : [b.should]));
    } else parts.push(q);
  }
  if (parts.length === 0) return MATCH_NONE;
  if (parts.length === 1) return parts[0]!;
  return { bool: { should: parts, minimum_should_match: 1 } };
}

export function not(q: QueryDsl): QueryDsl {
  if (isAll(q)) return MATCH_NONE;
  if (isNone(q)) return MATCH_ALL;
  const b = q.bool;
  // ¬¬x = x
  if (b && b.must_not && Object.keys(b).length === 1) {
    const inner = Array.isArray(b.must_not) ? b.must_not : [b.must_not];
    if (inner.length === 1) return inner[0]!;
  }
  return { bool: { must_not: [q] } };
}

// ---------------------------------------------------------------------------------------------
// Field typing.

type Kind = 'string' | 'numeric' | 'date' | 'boolean' | 'ip' | 'text' | 'other';

function kindOf(t: FieldType | undefined): Kind {
  switch (t) {
    case undefined:
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'flattened':
      return 'string';
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
    case 'unsigned_long':
    case 'double':
    case 'float':
    case 'half_float':
    case 'scaled_float':
      return 'numeric';
    case 'date':
    case 'date_nanos':
      return 'date';
    case 'boolean':
      return 'boolean';
    case 'ip':
      return 'ip';
    case 'text':
    case 'match_only_text':
      return 'text';
    default:
      return 'other';
  }
}

interface Ctx {
  kind(path: string): Kind;
  ignoreAbove(path: string): number | undefined;
  hidden(path: string): readonly string[];
}

function ctxOf(opts: PushdownOptions): Ctx {
  return {
    kind: (p) => kindOf(opts.fieldTypes?.(p)),
    ignoreAbove: (p) => opts.ignoreAboveOf?.(p),
    hidden: (p) => opts.hiddenIndicesOf?.(p) ?? [],
  };
}

const ignored = (field: string): QueryDsl => ({ term: { _ignored: field } });
const inIndices = (indices: readonly string[]): QueryDsl => ({ terms: { _index: [...indices] } });

/**
 * Documents whose value of `field` Elasticsearch cannot see: listed in `_ignored` (over `ignore_above`,
 * malformed, beyond the total-fields limit), and (when any) every document of the indices where the field
 * is stored unindexed. `withIgnored: false` when the condition's literals all fit `ignore_above`.
 */
function unseen(ctx: Ctx, field: string, withIgnored: boolean): QueryDsl[] {
  const hidden = ctx.hidden(field);
  return [...(withIgnored ? [ignored(field)] : []), ...(hidden.length > 0 ? [inIndices(hidden)] : [])];
}

/**
 * An atomic condition on `field`: lower = cond, upper = cond OR the documents whose value it cannot see
 * (`unseen`; the `_ignored` branch is left out when every value the condition can match is short enough
 * to have been indexed).
 */
function atom(ctx: Ctx, field: string, cond: QueryDsl, longestLiteral: number | null): Bounds {
  const limit = ctx.ignoreAbove(field);
  const needIgnored = longestLiteral === null || limit === undefined || longestLiteral > limit;
  const extra = unseen(ctx, field, needIgnored);
  if (extra.length === 0) return exactly(cond);
  return { upper: or([cond, ...extra]), lower: cond, exact: false };
}

// ---------------------------------------------------------------------------------------------
// Wildcards.

/**
 * EQL wildcard pattern (`*` any run, `?` one char, every other char literal — backslash included, see
 * ES `StringUtils.likeToLuceneWildcard`, which escapes `\`) ► Lucene wildcard syntax.
 */
export function eqlWildcardToLucene(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '\\') out += '\\\\';
    else out += ch;
  }
  return out;
}

/** A literal string ► Lucene wildcard matching exactly it. */
export function escapeLuceneWildcard(text: string): string {
  let out = '';
  for (const ch of text) {
    if (ch === '\\' || ch === '*' || ch === '?') out += '\\';
    out += ch;
  }
  return out;
}

const hasWildcard = (s: string): boolean => s.includes('*') || s.includes('?');
// Elasticsearch's case_insensitive folds ASCII only; a non-ASCII letter could fold differently in the
// evaluator, so such patterns are only used as lower bounds.
const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

// ---------------------------------------------------------------------------------------------
// Translation.

function fieldOf(e: Expr): FieldRef | null {
  return e.kind === 'field' ? e : null;
}

function literalOf(e: Expr): Literal | null {
  if (e.kind === 'literal') return e;
  // `-5` parsed as negate(literal)
  if (e.kind === 'negate' && e.expr.kind === 'literal' && typeof e.expr.value === 'number') {
    return { ...e.expr, value: -e.expr.value };
  }
  return null;
}

/** Translate one expression into bounds. */
export function translate(e: Expr, opts: PushdownOptions): Bounds {
  return tr(e, ctxOf(opts));
}

function tr(e: Expr, ctx: Ctx): Bounds {
  switch (e.kind) {
    case 'and': {
      const parts = e.operands.map((o) => tr(o, ctx));
      return {
        upper: and(parts.map((p) => p.upper)),
        lower: and(parts.map((p) => p.lower)),
        exact: parts.every((p) => p.exact),
      };
    }
    case 'or': {
      const parts = e.operands.map((o) => tr(o, ctx));
      return {
        upper: or(parts.map((p) => p.upper)),
        lower: or(parts.map((p) => p.lower)),
        exact: parts.every((p) => p.exact),
      };
    }
    case 'not': {
      const inner = tr(e.expr, ctx);
      return { upper: not(inner.lower), lower: not(inner.upper), exact: inner.exact };
    }
    case 'literal':
      if (e.value === true) return exactly(MATCH_ALL);
      if (e.value === false || e.value === null) return exactly(MATCH_NONE);
      return UNKNOWN;
    case 'field':
      // A bare field as a condition means `field == true`.
      return equals(ctx, e.path, { kind: 'literal', type: 'boolean', value: true, pos: e.pos });
    case 'compare':
      return compare(e, ctx);
    case 'in':
      return inList(e, ctx);
    case 'match':
      return match(e, ctx);
    case 'call':
      return call(e, ctx);
    default:
      // arithmetic / negation as a condition: leave it to the evaluator.
      return UNKNOWN;
  }
}

const FLIP: Record<Compare['op'], Compare['op']> = {
  '==': '==',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

function compare(e: Compare, ctx: Ctx): Bounds {
  let field = fieldOf(e.left);
  let lit = literalOf(e.right);
  let op = e.op;
  if (!field || !lit) {
    field = fieldOf(e.right);
    lit = literalOf(e.left);
    op = FLIP[e.op];
  }
  if (!field || !lit) return UNKNOWN;
  const path = field.path;
  if (op === '==') return equals(ctx, path, lit);
  if (op === '!=') {
    const eq = equals(ctx, path, lit);
    return { upper: not(eq.lower), lower: not(eq.upper), exact: eq.exact };
  }
  // Ranges are only translated where Elasticsearch's order is the evaluator's: numbers on numeric
  // fields. Keyword ranges (UTF-8 byte order vs JS code units) and dates (parsing) are left alone.
  if (typeof lit.value !== 'number' || ctx.kind(path) !== 'numeric') return UNKNOWN;
  const key = op === '<' ? 'lt' : op === '<=' ? 'lte' : op === '>' ? 'gt' : 'gte';
  return atom(ctx, path, { range: { [path]: { [key]: lit.value } } }, null);
}

/** Length of the longest string a term over `values` can match (null when unbounded). */
function longest(values: readonly (string | number | boolean)[]): number {
  let n = 0;
  for (const v of values) n = Math.max(n, String(v).length);
  return n;
}

/** Values usable in a term query on a field of this kind, or null when the comparison must widen. */
function termValue(kind: Kind, lit: Literal): string | number | boolean | null {
  const v = lit.value;
  switch (kind) {
    case 'string':
      // A number or boolean literal on a keyword field: the evaluator may compare by type
      // (5 vs "5.0", true vs "true"), so only strings are pushed down.
      return typeof v === 'string' ? v : null;
    case 'numeric':
      if (typeof v === 'number') return v;
      return null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    default:
      return null;
  }
}

function equals(ctx: Ctx, path: string, lit: Literal): Bounds {
  if (lit.value === null) return isNull(ctx, path);
  const tv = termValue(ctx.kind(path), lit);
  if (tv === null) return UNKNOWN;
  return atom(ctx, path, { term: { [path]: tv } }, typeof tv === 'string' ? tv.length : 5);
}

/** `f == null`: no value at all. Upper: nothing indexed; lower: nothing indexed and nothing ignored. */
function isNull(ctx: Ctx, path: string): Bounds {
  const exists = atom(ctx, path, { exists: { field: path } }, null);
  return { upper: not(exists.lower), lower: not(exists.upper), exact: exists.exact };
}

function inList(e: In, ctx: Ctx): Bounds {
  const field = fieldOf(e.left);
  if (!field) return UNKNOWN;
  const path = field.path;
  const kind = ctx.kind(path);
  const lits = e.values.map(literalOf);
  if (lits.some((l) => l === null)) return negateIf(e.negated, UNKNOWN);
  let hasNull = false;
  const values: (string | number | boolean)[] = [];
  let widen = false;
  for (const l of lits as Literal[]) {
    if (l.value === null) {
      hasNull = true;
      continue;
    }
    const tv = termValue(kind, l);
    if (tv === null) widen = true;
    else if (!values.includes(tv)) values.push(tv);
  }
  let b: Bounds;
  if (widen) b = UNKNOWN;
  else if (e.caseInsensitive) {
    // `in~`: wildcards are literal; ASCII-only values fold the same way in ES and the evaluator.
    if (kind !== 'string') b = UNKNOWN;
    else {
      const strs = values as string[];
      const cond = or(strs.map((s) => ({ term: { [path]: { value: s, case_insensitive: true } } })));
      b = atom(ctx, path, cond, longest(strs));
      if (!strs.every(isAscii)) b = { upper: MATCH_ALL, lower: b.lower, exact: false };
    }
  } else {
    const cond: QueryDsl =
      values.length === 0 ? MATCH_NONE : values.length === 1 ? { term: { [path]: values[0]! } } : { terms: { [path]: values } };
    b = atom(ctx, path, cond, longest(values));
  }
  if (hasNull) {
    const n = isNull(ctx, path);
    b = { upper: or([b.upper, n.upper]), lower: or([b.lower, n.lower]), exact: b.exact && n.exact };
  }
  return negateIf(e.negated, b);
}

function negateIf(negated: boolean, b: Bounds): Bounds {
  return negated ? { upper: not(b.lower), lower: not(b.upper), exact: b.exact } : b;
}

function match(e: Match, ctx: Ctx): Bounds {
  const field = fieldOf(e.left);
  if (!field) return UNKNOWN;
  const path = field.path;
  if (ctx.kind(path) !== 'string') return UNKNOWN;
  const pats: string[] = [];
  for (const p of e.patterns) {
    const l = literalOf(p);
    if (!l || typeof l.value !== 'string') return UNKNOWN;
    pats.push(l.value);
  }
  // `:` is always case-insensitive.
  const ci = e.op === ':' ? true : e.caseInsensitive;
  if (e.op === 'regex') return regexAtom(ctx, path, pats, ci);

  const clauses: QueryDsl[] = [];
  const exactTerms: string[] = [];
  let unbounded = false;
  let maxLen = 0;
  for (const p of pats) {
    if (!hasWildcard(p)) {
      maxLen = Math.max(maxLen, p.length);
      if (ci) clauses.push({ term: { [path]: { value: p, case_insensitive: true } } });
      else if (!exactTerms.includes(p)) exactTerms.push(p);
    } else {
      // `*` alone matches any indexed value; the ignored branch covers the rest.
      if (p.includes('*')) unbounded = true;
      else maxLen = Math.max(maxLen, p.length);
      const w: estypes.QueryDslWildcardQuery = { value: eqlWildcardToLucene(p) };
      if (ci) w.case_insensitive = true;
      clauses.push({ wildcard: { [path]: w } });
    }
  }
  if (exactTerms.length === 1) clauses.unshift({ term: { [path]: exactTerms[0]! } });
  else if (exactTerms.length > 1) clauses.unshift({ terms: { [path]: exactTerms } });
  const b = atom(ctx, path, or(clauses), unbounded ? null : maxLen);
  if (ci && !pats.every(isAscii)) return { upper: MATCH_ALL, lower: b.lower, exact: false };
  return b;
}

/**
 * `regex`: Lucene RegExp, whole-value match. Only patterns in the subset every Lucene-flavoured
 * implementation agrees on are pushed (no optional operators `~ & < > @ #`, no `"` quoting, no
 * backslash class shorthands like `\d`, no `^`/`$` that a non-Lucene engine would read as anchors);
 * anything else widens.
 */
function regexAtom(ctx: Ctx, path: string, pats: string[], ci: boolean): Bounds {
  const safe = pats.every(
    (p) => !/[~&<>@#"$]/.test(p) && !/(^|[^[])\^/.test(p) && !/\\[A-Za-z]/.test(p) && (!ci || isAscii(p)),
  );
  if (!safe) return UNKNOWN;
  const clauses = pats.map((p) => {
    const r: estypes.QueryDslRegexpQuery = { value: p, flags: 'NONE' };
    if (ci) r.case_insensitive = true;
    return { regexp: { [path]: r } };
  });
  return atom(ctx, path, or(clauses), null);
}

function call(e: Call, ctx: Ctx): Bounds {
  const field = e.args[0] ? fieldOf(e.args[0]) : null;
  if (!field) return UNKNOWN;
  const path = field.path;
  const rest = e.args.slice(1).map(literalOf);
  if (rest.length === 0 || rest.some((l) => l === null || typeof l.value !== 'string')) return UNKNOWN;
  const strs = (rest as Literal[]).map((l) => l.value as string);
  const kind = ctx.kind(path);
  const ci = e.caseInsensitive;
  if (ci && !strs.every(isAscii)) return UNKNOWN;
  const withCi = (value: string): { value: string; case_insensitive?: boolean } =>
    ci ? { value, case_insensitive: true } : { value };
  switch (e.name) {
    case 'startsWith':
      if (kind !== 'string' || strs.length !== 1) return UNKNOWN;
      return atom(ctx, path, { prefix: { [path]: withCi(strs[0]!) } }, null);
    case 'endsWith':
      if (kind !== 'string' || strs.length !== 1) return UNKNOWN;
      return atom(ctx, path, { wildcard: { [path]: withCi('*' + escapeLuceneWildcard(strs[0]!)) } }, null);
    case 'stringContains':
      if (kind !== 'string' || strs.length !== 1) return UNKNOWN;
      return atom(
        ctx,
        path,
        { wildcard: { [path]: withCi('*' + escapeLuceneWildcard(strs[0]!) + '*') } },
        null,
      );
    case 'cidrMatch':
      // A CIDR term only means a range on an `ip` field.
      if (kind !== 'ip') return UNKNOWN;
      return atom(ctx, path, { terms: { [path]: strs } }, null);
    default:
      return UNKNOWN;
  }
}

// ---------------------------------------------------------------------------------------------
// Public entry points.

/** Bounds of a whole `category where condition` filter. */
export function filterBounds(filter: EventFilter, opts: PushdownOptions): Bounds {
  const ctx = ctxOf(opts);
  const cond = tr(filter.condition, ctx);
  if (filter.category === null) return cond;
  const catField = opts.eventCategoryField ?? 'event.category';
  const cat = atom(ctx, catField, { term: { [catField]: filter.category } }, filter.category.length);
  return {
    upper: and([cat.upper, cond.upper]),
    lower: and([cat.lower, cond.lower]),
    exact: cat.exact && cond.exact,
  };
}

/** Query DSL returning a superset of the events `filter` matches (exact where the translation is). */
export function pushdownFilter(filter: EventFilter, opts: PushdownOptions): QueryDsl {
  return filterBounds(filter, opts).upper;
}

/** One filter per stage, aligned with the compiled stages (a stage with `runs=N` appears N times). */
export function pushdownQuery(query: Query, opts: PushdownOptions): PushdownPlan {
  switch (query.kind) {
    case 'event':
      return { stages: [pushdownFilter(query.filter, opts)] };
    case 'sample':
      return { stages: query.stages.map((s) => pushdownFilter(s.filter, opts)) };
    case 'sequence': {
      const stages: QueryDsl[] = [];
      for (const s of query.stages) {
        const q = pushdownFilter(s.filter, opts);
        for (let i = 0; i < Math.max(1, s.runs); i++) stages.push(q);
      }
      const plan: PushdownPlan = { stages };
      if (query.until) plan.until = pushdownFilter(query.until.filter, opts);
      return plan;
    }
  }
}

/** A single filter fetching every event any stage (or `until`) could use: one read per window. */
export function pushdownAny(plan: PushdownPlan): QueryDsl {
  return or([...plan.stages, ...(plan.until ? [plan.until] : [])]);
}

/**
 * Above this many distinct values of one key field, `narrowByKeys` does not narrow on that field (one
 * `terms` query is bounded by `index.max_terms_count`, default 65,536). Narrowing is an optimisation;
 * skipping it is always sound.
 */
export const MAX_NARROW_KEYS = 10_000;
/**
 * Multi-key sequences: a disjunction of per-tuple conjunctions is used while it stays under this many
 * clauses (Elasticsearch's `indices.query.bool.max_clause_count` is 1,024 on its smallest nodes);
 * beyond it, one `terms` per key field (a looser, still sound superset).
 */
export const MAX_TUPLE_CLAUSES = 1_000;

type TermValue = string | number | boolean;

/**
 * How the values of one key field are indexed: per group of indices (null = every index), the conversion
 * of a key value to the term Elasticsearch indexed for it, or undefined when the field type cannot hold
 * it (an `ip` field and "x", a `long` and "abc": such documents keep the value only in `_source` and are
 * listed in `_ignored`, so they are found by that branch and matched locally). `null` groups: the field
 * is not narrowable (dates, versions, conflicting types without index information).
 */
export interface KeyFieldTyping {
  groups: { indices: readonly string[] | null; convert: (v: unknown) => TermValue | undefined }[] | null;
  /** Indices where the field is stored unindexed (see `PushdownOptions.hiddenIndicesOf`). */
  hidden: readonly string[];
}

const isTermValue = (v: unknown): v is TermValue =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean';

/** Without a mapping: scalars as they are (Elasticsearch converts them for keyword fields). */
export const UNTYPED_KEY: KeyFieldTyping = {
  groups: [{ indices: null, convert: (v) => (isTermValue(v) ? v : undefined) }],
  hidden: [],
};

/** Conditions on one key field restricting it to `values` (null: the field cannot be narrowed). */
function keyCondition(field: string, values: Iterable<unknown>, typing: KeyFieldTyping): QueryDsl | null {
  if (typing.groups === null) return null;
  let wantsNull = false;
  const perGroup = typing.groups.map(() => new Set<TermValue>());
  for (const v of values) {
    if (v === null || v === undefined) {
      wantsNull = true;
      continue;
    }
    // A key the engine could not reduce to a scalar (an object, a hashed long value) cannot be narrowed.
    if (!isTermValue(v)) return null;
    typing.groups.forEach((g, i) => {
      const t = g.convert(v);
      if (t !== undefined) perGroup[i]!.add(t);
    });
    if (perGroup.some((set) => set.size > MAX_NARROW_KEYS)) return null;
  }
  const parts: QueryDsl[] = [];
  typing.groups.forEach((g, i) => {
    const vals = [...perGroup[i]!];
    if (vals.length === 0) return;
    const cond: QueryDsl = vals.length === 1 ? { term: { [field]: vals[0]! } } : { terms: { [field]: vals } };
    parts.push(g.indices === null ? cond : and([inIndices(g.indices), cond]));
  });
  // A key value too long to be indexed, malformed for the type, or stored unindexed still joins locally.
  parts.push(ignored(field));
  if (typing.hidden.length > 0) parts.push(inIndices(typing.hidden));
  if (wantsNull) parts.push(not({ exists: { field } }));
  return or(parts);
}

/**
 * Restrict a later sequence stage to events whose join keys were already seen in earlier stages.
 * One key: a `terms` on it; several keys: a disjunction of per-tuple conjunctions while it stays under
 * MAX_TUPLE_CLAUSES (and every key field is typed the same in every index), else the per-field `terms` of
 * each key. Values are converted per index type (`typing`, by key field); values no index type can hold,
 * too long, or stored unindexed are covered by the `_ignored` / index branches.
 */
export function narrowByKeys(
  stageFilter: QueryDsl,
  keyFields: readonly string[],
  seenKeys: readonly KeyTuple[],
  typing: (field: string) => KeyFieldTyping = () => UNTYPED_KEY,
): QueryDsl {
  if (keyFields.length === 0) return stageFilter;
  if (seenKeys.length === 0) return MATCH_NONE;
  const typings = keyFields.map((f) => typing(f));
  const tupleMode =
    keyFields.length > 1 &&
    seenKeys.length * keyFields.length <= MAX_TUPLE_CLAUSES &&
    typings.every((t) => t.groups !== null && t.groups.length === 1);
  const tuples = tupleMode ? tupleConditions(keyFields, seenKeys, typings) : null;
  if (tuples !== null) return and([stageFilter, or(tuples)]);
  const conds: QueryDsl[] = [];
  for (let i = 0; i < keyFields.length; i++) {
    const c = keyCondition(keyFields[i]!, seenKeys.map((t) => t[i]), typings[i]!);
    if (c) conds.push(c);
  }
  return and([stageFilter, ...conds]);
}

/** One conjunction per distinct tuple, or null when a value cannot be narrowed (per-field mode then). */
function tupleConditions(keyFields: readonly string[], seenKeys: readonly KeyTuple[], typings: KeyFieldTyping[]): QueryDsl[] | null {
  const tuples: QueryDsl[] = [];
  const seen = new Set<string>();
  for (const t of seenKeys) {
    const id = JSON.stringify(t);
    if (seen.has(id)) continue;
    seen.add(id);
    const conds: QueryDsl[] = [];
    for (let i = 0; i < keyFields.length; i++) {
      const c = keyCondition(keyFields[i]!, [t[i]], typings[i]!);
      if (!c) return null;
      conds.push(c);
    }
    tuples.push(and(conds));
  }
  return tuples;
}
