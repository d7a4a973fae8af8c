/**
 * The Python `eql` package (1.0.x, `elasticsearch_syntax`) parses the seed queries but evaluates
 * three constructs differently from Elasticsearch; these exact rewrites restore Elasticsearch's
 * meaning on the scenario's documents. Each rewrite must apply the stated number of times, so a
 * changed seed query fails loudly instead of being benchmarked half-translated.
 *
 * Besides the query text, eql_bench.py sets `eql.utils.CASE_INSENSITIVE = False` (Elasticsearch
 * compares keywords case-sensitively with `==` and `in`; the package folds case by default) and
 * builds each eql.Event with type = the document's single `event.category` value and
 * time = `@timestamp` in epoch ms (the engine is run with time_unit=1000).
 */
export interface Rewrite {
  from: string;
  to: string;
  times: number;
  why: string;
}

export const ARRAY_EQ: Rewrite = {
  from: 'event.type == "start"',
  to: 'arrayContains(event.type, "start")',
  times: 1,
  why: 'event.type is an array (["start"]); Python eql compares the whole list with the string (never equal), Elasticsearch matches if any value equals',
};

export const ARRAY_IN: Rewrite = {
  from: 'process.args in (',
  to: 'arrayContains(process.args, ',
  times: 2,
  why: 'process.args is an array; `in` on a list never matches in Python eql, while Elasticsearch matches if any value is in the set (and `not … in` negates that)',
};

export const DOTTED_KEY: Rewrite = {
  from: '`kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name`',
  to: 'kubernetes.audit.user.extra.`authentication.kubernetes.io/pod-name`[0]',
  times: 1,
  why: 'Python eql reads a backtick name as ONE top-level key; the integration stores `authentication.kubernetes.io/pod-name` as a literal key under kubernetes.audit.user.extra holding a one-element array, which Elasticsearch indexes as the keyword field of the full dotted path; [0] takes that value as the join key',
};

export function applyRewrites(query: string, rewrites: readonly Rewrite[]): string {
  let out = query;
  for (const r of rewrites) {
    const count = out.split(r.from).length - 1;
    if (count !== r.times) {
      throw new Error(`Python dialect rewrite expected ${r.times} occurrence(s) of ${JSON.stringify(r.from)}, found ${count}`);
    }
    out = out.split(r.from).join(r.to);
  }
  return out;
}
