/**
 * What the worker reads for one rule and window: its own filters (`ruleFilters` from src/worker/execute.ts)
 * and the keys pass + narrowed read of `readAndEvaluate`, so the benchmark can time the bare fetch of exactly
 * those documents (bench/e2e.ts warns if the worker's read and this one ever differ).
 */
import type { Client } from '@elastic/elasticsearch';
import type { KeyTuple } from '../../src/eql/compiled.js';
import { narrowByKeys, or, type QueryDsl } from '../../src/eql/pushdown.js';
import { readWindow, type WindowOptions } from '../../src/es/source.js';
import type { PreparedRule } from '../../src/worker/prepared-rule.js';

import type { RuleFilters } from '../../src/worker/execute.js';

export { ruleFilters, type RuleFilters } from '../../src/worker/execute.js';

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
