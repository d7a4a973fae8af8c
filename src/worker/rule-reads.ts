/**
 * What a rule reads from Elasticsearch, as queries (pure): its read field (which stretch of time a window
 * is), the candidate filter pushed down from its EQL, and for sequences the join-key narrowing.
 *
 * The read field depends on the rule's kind:
 * - single-event rules read by arrival: the rule's `timestamp_override` (Kibana's `event.ingested`) with
 *   the `@timestamp` fallback, exactly Kibana's range filter, so a document is read in the window it
 *   arrived in, whatever its `@timestamp`;
 * - sequence rules read by `@timestamp`, the order their matcher needs, once the lateness tolerance has
 *   passed: Elasticsearch holds the events until then, so nothing is buffered in the rule's state.
 */
import type { estypes } from '@elastic/elasticsearch';
import { and, MATCH_ALL, narrowByKeys, or, pushdownAny, pushdownQuery, type QueryDsl } from '../eql/pushdown.js';
import type { KeyTuple } from '../eql/compiled.js';
import type { IndexSchema } from '../mappings/index-mappings.js';
import { keyTyping } from '../mappings/key-typing.js';
import { timeRange, windowSort, windowTimeFilter } from '../es/source.js';
import type { PreparedRule } from './prepared-rule.js';

export type ReadMode = 'arrival' | 'ordering';

export interface ReadField {
  mode: ReadMode;
  /** The field windows are cut on, for messages (`event.ingested` or `@timestamp`). */
  field: string;
  /** Documents in `[from, to)` of the read field (`from` null: everything before `to`). */
  stretch(from: number | null, to: number): QueryDsl;
  /** Documents the rule never considers are left out (no override with the fallback disabled). */
  base: QueryDsl;
  sort: estypes.Sort;
}

export function readField(p: PreparedRule, schema: IndexSchema): ReadField {
  const r = p.rule;
  const sort = windowSort(r.timestampField, schema.sortNumericType(r.timestampField));
  if (p.compiled.kind === 'sequence') {
    const base: QueryDsl = r.timestampOverride && !r.timestampOverrideFallback ? { exists: { field: r.timestampOverride } } : MATCH_ALL;
    return {
      mode: 'ordering',
      field: r.timestampField,
      stretch: (from, to) => timeRange(r.timestampField, from === null ? null : new Date(from), new Date(to)),
      base,
      sort,
    };
  }
  return {
    mode: 'arrival',
    field: r.timestampOverride ?? r.timestampField,
    stretch: (from, to) =>
      windowTimeFilter(from === null ? null : new Date(from), new Date(to), r.timestampOverride ?? undefined, {
        fallbackDisabled: !r.timestampOverrideFallback,
        timestampField: r.timestampField,
      }),
    base: MATCH_ALL,
    sort,
  };
}

export interface Narrowing {
  first: QueryDsl;
  firstKeyFields: string[];
  later: { filter: QueryDsl; keyFields: string[] }[];
  until: { filter: QueryDsl; keyFields: string[] } | null;
}

export interface RuleFilters {
  /** Every candidate any stage (or `until`) could use, in one query. */
  all: QueryDsl;
  /** Sequences with join keys and no missing stages: later stages narrowed to the keys already seen. */
  narrowing: Narrowing | null;
  /** Key typing per field, per index (see mappings/key-typing.ts). */
  schema: IndexSchema;
}

/** The rule's pushed-down filters over these indices (`p` compiled against `schema`). */
export function ruleFilters(p: PreparedRule, schema: IndexSchema): RuleFilters {
  const plan = pushdownQuery(p.compiled.query, {
    eventCategoryField: p.rule.eventCategoryField,
    ignoredAware: true,
    fieldTypes: (path) => schema.queryTypeOf(path),
    ignoreAboveOf: (path) => schema.ignoreAboveOf(path),
    hiddenIndicesOf: (path) => schema.hiddenIndicesOf(path),
  });
  const all = pushdownAny(plan);
  const q = p.compiled.query;
  if (q.kind !== 'sequence' || p.compiled.stages.some((s) => s.missing) || q.by.length + (q.stages[0]?.by.length ?? 0) === 0) {
    return { all, narrowing: null, schema };
  }
  const keyFields: string[][] = [];
  for (const s of q.stages) for (let i = 0; i < Math.max(1, s.runs); i++) keyFields.push([...q.by, ...s.by].map((f) => f.path));
  return {
    all,
    schema,
    narrowing: {
      first: plan.stages[0]!,
      firstKeyFields: keyFields[0]!,
      later: plan.stages.slice(1).map((filter, i) => ({ filter, keyFields: keyFields[i + 1]! })),
      // `until` joins on its own key fields (positionally the same keys, possibly other field names).
      until: plan.until && q.until ? { filter: plan.until, keyFields: [...q.by, ...q.until.by].map((f) => f.path) } : null,
    },
  };
}

/**
 * The sequence read of one window: every first-stage candidate, and later stages (and `until`) only
 * with the join keys seen so far (this window's first-stage keys and those of pending sequences).
 */
export function narrowedFilter(f: RuleFilters, keys: readonly KeyTuple[]): QueryDsl {
  const n = f.narrowing;
  if (!n) return f.all;
  const typing = (field: string) => keyTyping(f.schema, field);
  return or([
    n.first,
    ...n.later.map((l) => narrowByKeys(l.filter, l.keyFields, keys, typing)),
    ...(n.until ? [narrowByKeys(n.until.filter, n.until.keyFields, keys, typing)] : []),
  ]);
}

/** `base` AND the stretch AND the filter. */
export function windowed(field: ReadField, from: number | null, to: number, filter: QueryDsl): QueryDsl {
  return and([field.base, field.stretch(from, to), filter]);
}
