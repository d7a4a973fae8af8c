/**
 * The fields a query cannot do without (Kibana's `required_fields` idea): if none of the indices a rule
 * searches maps one of them, the rule is very likely never to fire. Optional `?field` references are left
 * out, since the query was written to run without them; the category field is in when a stage names a
 * category, and the timestamp field when given.
 */
import type { Query } from './ast.js';
import { parseQuery } from './parser.js';
import { queryFields } from './query-fields.js';

export interface RequiredFieldsOptions {
  eventCategoryField?: string;
  timestampField?: string;
}

/** Sorted, de-duplicated paths. */
export function requiredFields(query: Query | string, options: RequiredFieldsOptions = {}): string[] {
  const q = typeof query === 'string' ? parseQuery(query) : query;
  const out = new Set(queryFields(q, { requiredOnly: true }));
  const filters = q.kind === 'event' ? [q.filter] : [...q.stages.map((s) => s.filter), ...(q.kind === 'sequence' && q.until ? [q.until.filter] : [])];
  if (filters.some((f) => f.category !== null)) out.add(options.eventCategoryField ?? 'event.category');
  if (options.timestampField) out.add(options.timestampField);
  return [...out].sort();
}
