/**
 * What the worker reads for one rule and window, reproduced from src/worker/execute.ts
 * (`pushdownFor` + the first half of `readAndEvaluate`, which are not exported) so the benchmark can
 * time the bare fetch of exactly those documents. Built only from exported pieces (`pushdownQuery`,
 * `pushdownAny`, `narrowByKeys`, `or`, `readWindow`); keep in step with execute.ts.
 */
import type { Client } from '@elastic/elasticsearch';
import type { KeyTuple } from '../../src/eql/compiled.js';
import { narrowByKeys, or, pushdownAny, pushdownQuery, type QueryDsl } from '../../src/eql/pushdown.js';
import { fetchFieldSchema, fetchIgnoreAbove } from '../../src/es/field-caps.js';
import { readWindow, type WindowOptions } from '../../src/es/source.js';
import type { PreparedRule } from '../../src/worker/prepared-rule.js';

export interface RuleFilters {
  all: QueryDsl;
  narrowing: null | { first: QueryDsl; firstKeyFields: string[]; later: { filter: QueryDsl; keyFields: string[] }[]; until: QueryDsl | null };
}

/** The worker's pushed-down filters for a rule (field types and ignore_above from the indices). */
export async function ruleFilters(client: Client, p: PreparedRule): Promise<RuleFilters> {
  const [schema, ignoreAboveOf] = await Promise.all([fetchFieldSchema(client, p.rule.index), fetchIgnoreAbove(client, p.rule.index)]);
  const plan = pushdownQuery(p.compiled.query, {
    eventCategoryField: p.rule.eventCategoryField,
    ignoredAware: true,
    fieldTypes: (path) => schema.typeOf(path),
    ignoreAboveOf,
  });
  const all = pushdownAny(plan);
  const q = p.compiled.query;
  if (q.kind !== 'sequence' || p.compiled.stages.some((s) => s.missing) || q.by.length + (q.stages[0]?.by.length ?? 0) === 0) {
    return { all, narrowing: null };
  }
  const keyFields: string[][] = [];
  for (const s of q.stages) for (let i = 0; i < Math.max(1, s.runs); i++) keyFields.push([...q.by, ...s.by].map((f) => f.path));
  return {
    all,
    narrowing: {
      first: plan.stages[0]!,
      firstKeyFields: keyFields[0]!,
      later: plan.stages.slice(1).map((filter, i) => ({ filter, keyFields: keyFields[i + 1]! })),
      until: plan.until && q.until ? plan.until : null,
    },
  };
}

export type WindowBase = Omit<WindowOptions, 'filter' | 'sourceFields'>;

export function windowBase(p: PreparedRule, from: Date, to: Date, pageSize: number): WindowBase {
  return {
    index: p.rule.index,
    from,
    to,
    timestampField: p.rule.timestampField,
    pageSize,
    ...(p.rule.timestampOverride ? { timestampOverride: p.rule.timestampOverride } : {}),
    timestampOverrideFallbackDisabled: !p.rule.timestampOverrideFallback,
  };
}

export interface FetchResult {
  docs: number;
  pages: number;
  /** Bytes of `_source` as JSON (what had to cross the wire and be parsed, roughly). */
  sourceBytes?: number;
}

/** Reads every document of a window matching `filter` (whole `_source` unless `sourceFields`). */
export async function fetchAll(client: Client, base: WindowBase, filter: QueryDsl | undefined, opts: { sourceFields?: string[]; measureBytes?: boolean } = {}): Promise<FetchResult> {
  let docs = 0;
  let pages = 0;
  let bytes = 0;
  for await (const page of readWindow(client, { ...base, ...(filter ? { filter } : {}), ...(opts.sourceFields ? { sourceFields: opts.sourceFields } : {}) })) {
    docs += page.length;
    pages++;
    if (opts.measureBytes) for (const h of page) bytes += JSON.stringify(h._source).length;
  }
  return { docs, pages, ...(opts.measureBytes ? { sourceBytes: bytes } : {}) };
}

export interface NarrowedRead {
  /** The filter of the main read (narrowed when possible, else `all`). */
  filter: QueryDsl;
  keysPass: FetchResult | null;
  distinctKeys: number;
  /** True when the keys pass found too many keys and the worker falls back to `all`. */
  fellBack: boolean;
}

/** The worker's keys-only first pass (fresh state: no pending or held events) and the resulting filter. */
export async function narrowedFilter(client: Client, p: PreparedRule, f: RuleFilters, base: WindowBase): Promise<NarrowedRead> {
  const n = f.narrowing;
  if (!n) return { filter: f.all, keysPass: null, distinctKeys: 0, fellBack: false };
  const firstStage = p.compiled.stages[0]!;
  const keys = new Map<string, KeyTuple>();
  let docs = 0;
  let pages = 0;
  let tooMany = false;
  for await (const page of readWindow(client, { ...base, filter: n.first, sourceFields: [...n.firstKeyFields, p.rule.eventCategoryField] })) {
    docs += page.length;
    pages++;
    for (const h of page) for (const t of firstStage.keys(h._source)) keys.set(JSON.stringify(t), t);
    if (keys.size > 10_000) {
      tooMany = true;
      break;
    }
  }
  const keysPass = { docs, pages };
  if (tooMany) return { filter: f.all, keysPass, distinctKeys: keys.size, fellBack: true };
  const seen = [...keys.values()];
  const filter = or([
    n.first,
    ...n.later.map((l) => narrowByKeys(l.filter, l.keyFields, seen)),
    ...(n.until ? [narrowByKeys(n.until, n.firstKeyFields, seen)] : []),
  ]);
  return { filter, keysPass, distinctKeys: keys.size, fellBack: false };
}
