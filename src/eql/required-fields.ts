/**
 * The fields a query refers to without `?` (Kibana's `required_fields` idea): if none of the indices a rule
 * searches maps one of them, the rule is very likely never to fire. Optional `?field` references are left
 * out, since the query was written to run without them.
 */
import type { EventFilter, Expr, Query } from './ast.js';
import { parseQuery } from './parser.js';

export interface RequiredFieldsOptions {
  eventCategoryField?: string;
  timestampField?: string;
}

/** Sorted, de-duplicated paths: the query's non-optional fields, its join keys, and the category field when a stage names a category. */
export function requiredFields(query: Query | string, options: RequiredFieldsOptions = {}): string[] {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const out = new Set<string>();
  const filters: EventFilter[] = [];
  if (q.kind === 'event') filters.push(q.filter);
  else {
    for (const k of q.by) if (!k.optional) out.add(k.path);
    const stages = q.kind === 'sequence' ? [...q.stages, ...(q.until ? [q.until] : [])] : q.stages;
    for (const s of stages) {
      filters.push(s.filter);
      for (const k of s.by) if (!k.optional) out.add(k.path);
    }
  }
  for (const f of filters) {
    if (f.category !== null) out.add(options.eventCategoryField ?? 'event.category');
    collect(f.condition, out);
  }
  if (options.timestampField) out.add(options.timestampField);
  return [...out].sort();
}

function collect(e: Expr, out: Set<string>): void {
  switch (e.kind) {
    case 'field':
      if (!e.optional) out.add(e.path);
      return;
    case 'literal':
      return;
    case 'not':
    case 'negate':
      collect(e.expr, out);
      return;
    case 'and':
    case 'or':
      for (const o of e.operands) collect(o, out);
      return;
    case 'compare':
    case 'arith':
      collect(e.left, out);
      collect(e.right, out);
      return;
    case 'match':
      collect(e.left, out);
      for (const p of e.patterns) collect(p, out);
      return;
    case 'in':
      collect(e.left, out);
      for (const v of e.values) collect(v, out);
      return;
    case 'call':
      for (const a of e.args) collect(a, out);
      return;
  }
}
