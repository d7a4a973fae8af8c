/**
 * Every field a query reads (conditions, join keys, `until`), as dotted paths. The worker keys its
 * compiled-query cache on what the mappings say about exactly these fields, and operators are told which
 * of them no index maps.
 */
import type { EventFilter, Expr, FieldRef, Query } from './ast.js';

export interface FieldsOptions {
  /** Leave out optional `?field` references (and optional join keys): the fields a query cannot do without. */
  requiredOnly?: boolean;
}

function exprFields(e: Expr, out: Set<string>, o: FieldsOptions = {}): void {
  switch (e.kind) {
    case 'field':
      if (!(o.requiredOnly && e.optional)) out.add(e.path);
      return;
    case 'literal':
      return;
    case 'not':
    case 'negate':
      exprFields(e.expr, out, o);
      return;
    case 'and':
    case 'or':
      for (const x of e.operands) exprFields(x, out, o);
      return;
    case 'compare':
    case 'arith':
      exprFields(e.left, out, o);
      exprFields(e.right, out, o);
      return;
    case 'match':
      exprFields(e.left, out, o);
      for (const p of e.patterns) exprFields(p, out, o);
      return;
    case 'in':
      exprFields(e.left, out, o);
      for (const v of e.values) exprFields(v, out, o);
      return;
    case 'call':
      for (const a of e.args) exprFields(a, out, o);
      return;
  }
}

const filterFields = (f: EventFilter, out: Set<string>, o: FieldsOptions): void => exprFields(f.condition, out, o);

/** The fields an expression (a `where` condition, an exception) reads. */
export function expressionFields(e: Expr): string[] {
  const out = new Set<string>();
  exprFields(e, out);
  return [...out];
}

/** The fields `q` reads, sorted (the category, timestamp and tiebreaker fields are not included). */
export function queryFields(q: Query, o: FieldsOptions = {}): string[] {
  const out = new Set<string>();
  const keys = (ks: FieldRef[]) => {
    for (const k of ks) if (!(o.requiredOnly && k.optional)) out.add(k.path);
  };
  if (q.kind === 'event') filterFields(q.filter, out, o);
  else {
    keys(q.by);
    for (const s of q.stages) {
      filterFields(s.filter, out, o);
      keys(s.by);
    }
    if (q.kind === 'sequence' && q.until) {
      filterFields(q.until.filter, out, o);
      keys(q.until.by);
    }
  }
  return [...out].sort();
}
