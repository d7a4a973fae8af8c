/**
 * Attack documents for any EQL rule, from its query alone (the scenario generator only knows the seed
 * rules' attacks). Pure: a compiled query, realistic base documents and a PRNG in, documents out.
 *
 * For each stage (one event for a single-event rule), the stage's condition is walked as an AST and solved
 * into field values: `==` / `in` pick a literal, `like` / `:` instantiate a pattern (`*` → a short word,
 * `?` → a letter), `!=` / `not …` / `not in` forbid values, `and` accumulates, `or` tries its operands in a
 * random order (a depth-first search with backtracking at every `or`). Multi-valued fields (arrays in the
 * base document, e.g. `process.args`, `event.type`) collect one value per positive condition. A base
 * document (a real process, file or audit event of the same pod, from the scenario) supplies every other
 * field, and its own values are adopted where they already satisfy a condition (so `container.id like "?*"`
 * keeps the pod's real container id). Sequences: the join keys of the first stage are imposed on every later
 * stage (`sequence by` and per-stage `by` fields, positionally), and the stages are stamped in order within
 * `maxspan`. Missing-event stages (`![…]`) and `until` get no document.
 *
 * The solver is heuristic (regular expressions are not solved, only avoided through another `or` branch);
 * the caller verifies every generated attack with the real engine (`verifyAttack`) and reports the rules it
 * cannot satisfy.
 */
import type { Expr, SequenceQuery } from '../../src/eql/ast.js';
import type { CompiledQuery } from '../../src/eql/compiled.js';
import { compileWildcard } from '../../src/eql/wildcard.js';
import type { Prng } from '../../src/scenario/prng.js';
import { getPath, setPath, values } from './doc-paths.js';

export type DocKind = 'process' | 'file' | 'audit';
type Doc = Record<string, unknown>;

export interface StageDoc {
  kind: DocKind;
  doc: Doc;
}

export interface AttackInput {
  compiled: CompiledQuery;
  /** The rule's category field (`event.category`). */
  categoryField: string;
  /** Kinds of documents the rule's index patterns can read. */
  kinds: DocKind[];
  /** A realistic base document per kind (not mutated). */
  base: Record<DocKind, Doc>;
  prng: Prng;
  /** Time of the first event (ms). */
  at: number;
}

/** The documents of one attack, in stage order, or why none could be built. */
export function generateAttack(i: AttackInput): StageDoc[] | { error: string } {
  const q = i.compiled.query;
  if (q.kind === 'event') {
    const d = solveStage(i, q.filter.category, q.filter.condition, new Map(), (doc) => i.compiled.predicate!(doc));
    return d ? [stamp(d, i.at)] : { error: 'no assignment satisfies the condition' };
  }
  if (q.kind === 'sample') return { error: 'sample rules are not generated' };
  const stages = expandStages(q);
  const out: StageDoc[] = [];
  const step = Math.max(1, Math.min(250, Math.floor((i.compiled.maxspanMs ?? 2000) / (stages.length + 1))));
  let firstKeys: unknown[][] | null = null;
  for (const [k, s] of stages.entries()) {
    if (s.missing) continue;
    const keyFields = [...q.by, ...s.by].map((f) => f.path);
    const fixed = new Map<string, unknown[]>();
    if (firstKeys) keyFields.forEach((f, j) => fixed.set(f, firstKeys![j]!));
    const stage = i.compiled.stages[k]!;
    const d = solveStage(i, s.filter.category, s.filter.condition, fixed, (doc) => stage.predicate(doc));
    if (!d) return { error: `stage ${k + 1}: no assignment satisfies its condition${firstKeys ? ' with the first stage\'s join keys' : ''}` };
    if (!firstKeys) {
      // A join key the base document lacks (e.g. `user.id`, which cloud_defend writes as `process.user.id`):
      // the process's own value, else a fresh one; only equality across the stages matters.
      for (const f of keyFields) if (values(d.doc, f).length === 0) setPath(d.doc, f, values(d.doc, `process.${f}`)[0] ?? `k${i.prng.alnum(8).toLowerCase()}`);
      if (!stage.predicate(d.doc)) return { error: `stage 1 does not match once its missing join keys are set (${keyFields.join(', ')})` };
      firstKeys = keyFields.map((f) => values(d.doc, f));
    }
    out.push(stamp(d, i.at + out.length * step));
  }
  return out;
}

/** Sequence stages after `with runs=N` expansion (as the compiler expands them), each with its `by` fields. */
function expandStages(q: SequenceQuery): SequenceQuery['stages'] {
  return q.stages.flatMap((s) => Array.from({ length: Math.max(1, s.runs) }, () => s));
}

function stamp(d: StageDoc, at: number): StageDoc {
  d.doc['@timestamp'] = new Date(at).toISOString();
  return d;
}

// ---- the solver ---------------------------------------------------------------------------------

type Pred = (v: unknown) => boolean;

/** Values decided so far (hard), values forbidden, fields that must hold some value. */
interface State {
  vals: Map<string, unknown[]>;
  forbid: Map<string, Pred[]>;
  need: Set<string>;
}

const clone = (s: State): State => ({
  vals: new Map([...s.vals].map(([k, v]) => [k, [...v]])),
  forbid: new Map([...s.forbid].map(([k, v]) => [k, [...v]])),
  need: new Set(s.need),
});

class Solver {
  constructor(
    private readonly base: Doc,
    private readonly prng: Prng,
  ) {}

  private multi(field: string): boolean {
    return Array.isArray(getPath(this.base, field)) || /(^|\.)args$|^event\.(type|category)$/.test(field);
  }

  /** Every way (lazily, in a random order) to make `e` evaluate to `want`, starting from `s`. */
  *solve(e: Expr, want: boolean, s: State): Generator<State> {
    switch (e.kind) {
      case 'not':
        yield* this.solve(e.expr, !want, s);
        return;
      case 'and':
      case 'or': {
        // `a and b` true, or `a or b` false: every operand in turn; otherwise any one of them.
        if ((e.kind === 'and') === want) {
          yield* this.all(e.operands, want, s);
          return;
        }
        for (const op of this.shuffled(e.operands)) yield* this.solve(op, want, clone(s));
        return;
      }
      case 'literal':
        if (Boolean(e.value) === want) yield s;
        return;
      default: {
        const leaf = this.leaf(e);
        if (!leaf) return;
        const r = want ? this.satisfy(leaf, clone(s)) : this.refuse(leaf, clone(s));
        if (r) yield r;
      }
    }
  }

  private *all(ops: Expr[], want: boolean, s: State): Generator<State> {
    if (ops.length === 0) {
      yield s;
      return;
    }
    for (const next of this.solve(ops[0]!, want, s)) yield* this.all(ops.slice(1), want, next);
  }

  /** A condition on one field: a test of a value, and ways to make values that pass it. */
  private leaf(e: Expr): Leaf | null {
    const lit = (x: Expr): unknown => (x.kind === 'literal' ? x.value : undefined);
    if (e.kind === 'compare' && e.left.kind === 'field' && e.right.kind === 'literal') {
      const v = e.right.value;
      const f = e.left.path;
      switch (e.op) {
        case '==':
          return { field: f, test: (x) => eq(x, v), make: () => v };
        case '!=':
          return { field: f, test: (x) => x !== undefined && !eq(x, v), make: () => (typeof v === 'number' ? v + 1 : `x${this.prng.alnum(6)}`), notNull: true };
        default: {
          if (typeof v !== 'number') return null;
          const test = (x: unknown) => typeof x === 'number' && ({ '<': x < v, '<=': x <= v, '>': x > v, '>=': x >= v } as Record<string, boolean>)[e.op]!;
          return { field: f, test, make: () => (e.op.startsWith('<') ? v - 1 : v + 1), notNull: true };
        }
      }
    }
    if (e.kind === 'in' && e.left.kind === 'field' && e.values.every((x) => x.kind === 'literal')) {
      const set = e.values.map(lit);
      const test = (x: unknown) => set.some((v) => (e.caseInsensitive && typeof x === 'string' && typeof v === 'string' ? x.toLowerCase() === v.toLowerCase() : eq(x, v)));
      const leaf: Leaf = { field: e.left.path, test, make: () => this.prng.pick(set) };
      return e.negated ? { ...leaf, negated: true } : leaf;
    }
    if (e.kind === 'match' && e.left.kind === 'field' && e.patterns.every((x) => x.kind === 'literal' && typeof x.value === 'string')) {
      const patterns = e.patterns.map((x) => lit(x) as string);
      if (e.op === 'regex') {
        const res = patterns.map((p) => new RegExp(`^(?:${p})$`, e.caseInsensitive ? 'i' : ''));
        return { field: e.left.path, test: (x) => typeof x === 'string' && res.some((r) => r.test(x)), make: null };
      }
      const fold = e.op === ':' || e.caseInsensitive ? 'unicode' : 'none';
      const matchers = patterns.map((p) => compileWildcard(p, fold));
      return { field: e.left.path, test: (x) => typeof x === 'string' && matchers.some((m) => m(x)), make: () => this.instantiate(this.prng.pick(patterns)) };
    }
    if (e.kind === 'call' && e.args[0]?.kind === 'field' && e.args.slice(1).every((x) => x.kind === 'literal' && typeof x.value === 'string')) {
      const subs = e.args.slice(1).map((x) => lit(x) as string);
      const ci = e.caseInsensitive;
      const norm = (x: string) => (ci ? x.toLowerCase() : x);
      const pick = () => this.prng.pick(subs);
      const w = () => this.prng.alnum(4).toLowerCase();
      const kinds: Record<string, [(x: string, s: string) => boolean, () => string]> = {
        startsWith: [(x, s) => norm(x).startsWith(norm(s)), () => `${pick()}${w()}`],
        endsWith: [(x, s) => norm(x).endsWith(norm(s)), () => `${w()}${pick()}`],
        stringContains: [(x, s) => norm(x).includes(norm(s)), () => `${w()}${pick()}${w()}`],
      };
      const k = kinds[e.name];
      if (!k) return null;
      return { field: e.args[0].path, test: (x) => typeof x === 'string' && subs.some((s) => k[0](x, s)), make: k[1] };
    }
    return null;
  }

  /** `*` becomes a short word (or nothing), `?` a letter; backslash escapes are kept literally. */
  private instantiate(pattern: string): string {
    let out = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '\\' && i + 1 < pattern.length) out += pattern[++i];
      else if (c === '*') out += this.prng.chance(0.5) ? '' : this.prng.alnum(3).toLowerCase();
      else if (c === '?') out += 'abcdefghijklmnopqrstuvwxyz'[this.prng.int(0, 25)];
      else out += c;
    }
    return out;
  }

  private satisfy(l: Leaf, s: State): State | null {
    if (l.negated) return this.refuse({ ...l, negated: false }, s);
    const cur = s.vals.get(l.field);
    const forbidden = (v: unknown) => (s.forbid.get(l.field) ?? []).some((p) => p(v));
    if (cur && cur.some(l.test)) return s;
    if (!cur) {
      // The base document's own values, when they already pass (and nothing forbids them).
      const own = values(this.base, l.field);
      if (own.some(l.test) && !own.some(forbidden)) {
        s.vals.set(l.field, own);
        return s;
      }
    }
    if (!l.make) return null;
    const multi = this.multi(l.field);
    if (cur && cur.length > 0 && !multi) return null;
    for (let attempt = 0; attempt < 8; attempt++) {
      const v = l.make();
      if (!l.test(v) || forbidden(v)) continue;
      s.vals.set(l.field, [...(cur ?? []), v]);
      return s;
    }
    return null;
  }

  private refuse(l: Leaf, s: State): State | null {
    if (l.negated) return this.satisfy({ ...l, negated: false }, s);
    const cur = s.vals.get(l.field);
    if (cur && cur.some(l.test)) return null;
    s.forbid.set(l.field, [...(s.forbid.get(l.field) ?? []), l.test]);
    // `x != v` false, `x < n` false: the field must still hold something for the condition to be false, not null.
    if (l.notNull) s.need.add(l.field);
    return s;
  }

  private shuffled<T>(xs: T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.prng.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** The base document with the decisions applied. */
  build(s: State): Doc {
    const doc = structuredClone(this.base);
    for (const [f, pred] of s.forbid) {
      if (s.vals.has(f)) continue;
      const own = values(doc, f);
      if (own.some((v) => pred.some((p) => p(v)))) setPath(doc, f, undefined);
    }
    for (const f of s.need) if (!s.vals.has(f) && values(doc, f).length === 0) s.vals.set(f, [`x${this.prng.alnum(6)}`]);
    for (const [f, vs] of s.vals) setPath(doc, f, this.multi(f) ? vs : vs[0]);
    const proc = doc.process as Doc | undefined;
    if (proc && s.vals.has('process.args')) {
      const args = proc.args as unknown[];
      proc.args_count = args.length;
      if (!s.vals.has('process.command_line')) proc.command_line = args.join(' ');
    }
    if (proc && s.vals.has('process.name') && !s.vals.has('process.executable') && !s.forbid.has('process.executable')) proc.executable = `/usr/bin/${String(proc.name)}`;
    return doc;
  }
}

interface Leaf {
  field: string;
  test: Pred;
  /** A value that passes `test` (null: none can be made, e.g. a regular expression). */
  make: (() => unknown) | null;
  /** The condition is false on a missing field either way (comparisons). */
  notNull?: boolean;
  negated?: boolean;
}

/** A document for one stage: the first kind of base document (of those the rule reads) that works. */
function solveStage(i: AttackInput, category: string | null, cond: Expr, fixed: Map<string, unknown[]>, passes: (doc: Doc) => boolean): StageDoc | null {
  const kinds = category === 'file' ? i.kinds.filter((k) => k === 'file') : category === 'process' ? i.kinds.filter((k) => k === 'process') : [...i.kinds].sort((a, b) => (mentionsAudit(cond) ? (a === 'audit' ? -1 : b === 'audit' ? 1 : 0) : 0));
  for (const kind of kinds) {
    const base = structuredClone(i.base[kind]);
    for (const [f, vs] of fixed) setPath(base, f, vs.length === 1 ? vs[0] : vs);
    const solver = new Solver(base, i.prng);
    const start: State = { vals: new Map(fixed), forbid: new Map(), need: new Set() };
    if (category !== null) start.vals.set(i.categoryField, [category]);
    // The first few solutions, tried with the real predicate (the solver is heuristic).
    let tried = 0;
    for (const s of solver.solve(cond, true, start)) {
      const doc = solver.build(s);
      if (kind !== 'process') freshIds(doc, i.prng);
      else freshProcess(doc, i.prng, fixed);
      if (category !== null) setPath(doc, i.categoryField, [category]);
      // A document as its integration writes it: file events in the file data stream, process events in the
      // process one, audit events without either category.
      if (!fitsKind(kind, values(doc, i.categoryField))) continue;
      if (passes(doc)) return { kind, doc };
      if (++tried >= 50) break;
    }
  }
  return null;
}

function fitsKind(kind: DocKind, categories: unknown[]): boolean {
  if (kind === 'audit') return !categories.some((c) => c === 'process' || c === 'file');
  return categories.length > 0 && categories.every((c) => c === kind);
}

function mentionsAudit(e: Expr): boolean {
  return JSON.stringify(e).includes('kubernetes.audit');
}

function freshIds(doc: Doc, prng: Prng): void {
  const ev = doc.event as Doc | undefined;
  if (ev) ev.id = prng.hex(20);
}

function freshProcess(doc: Doc, prng: Prng, fixed: Map<string, unknown[]>): void {
  freshIds(doc, prng);
  const p = doc.process as Doc | undefined;
  if (p && !fixed.has('process.entity_id')) p.entity_id = prng.hex(24);
}

function eq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'boolean' || typeof b === 'boolean') return String(a) === String(b);
  if (typeof a === 'number' || typeof b === 'number') return Number(a) === Number(b);
  return false;
}
