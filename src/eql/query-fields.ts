/**
 * Every field a query reads (conditions, join keys, `until`), as dotted paths. The worker keys its
 * compiled-query cache on what the mappings say about exactly these fields, and operators are told which
 * of them no index maps.
 */
import type { EventFilter, Expr, Query } from './ast.js';

function exprFields(e: Expr, out: Set<string>): void {
  switch (e.kind) {
    case 'field':
      out.add(e.path);
      return;
    case 'literal':
      return;
    case 'not':
    case 'negate':
      exprFields(e.expr, out);
      return;
    case 'and':
    case 'or':
      for (const o of e.operands) exprFields(o, out);
      return;
    case 'compare':
    case 'arith':
      exprFields(e.left, out);
      exprFields(e.right, out);
      return;
    case 'match':
      exprFields(e.left, out);
      for (const p of e.patterns) exprFields(p, out);
      return;
    case 'in':
      exprFields(e.left, out);
      for (const v of e.values) exprFields(v, out);
      return;
    case 'call':
      for (const a of e.args) exprFields(a, out);
      return;
  }
}

const filterFields = (f: EventFilter, out: Set<string>): void => exprFields(f.condition, out);

/** The fields an expression (a `where` condition, an exception) reads. */
export function expressionFields(e: Expr): string[] {
  const out = new Set<string>();
  exprFields(e, out);
  return [...out];
}

/** The fields `q` reads, sorted (the category, timestamp and tiebreaker fields are not included). */
export function queryFields(q: Query): string[] {
  const out = new Set<string>();
  if (q.kind === 'event') filterFields(q.filter, out);
  else {
    for (const k of q.by) out.add(k.path);
    for (const s of q.stages) {
      filterFields(s.filter, out);
      for (const k of s.by) out.add(k.path);
    }
    if (q.kind === 'sequence' && q.until) {
      filterFields(q.until.filter, out);
      for (const k of q.until.by) out.add(k.path);
    }
  }
  return [...out].sort();
}
