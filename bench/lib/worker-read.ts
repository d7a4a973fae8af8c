/**
 * What the worker reads for one rule and window: its own filters and read field (src/worker/rule-reads.ts,
 * compiled against the indices' mappings as the worker does) and the keys pass + narrowed read of
 * src/worker/window-read.ts, so the benchmark can time the bare fetch of exactly those documents
 * (bench/e2e.ts warns if the worker's read and this one ever differ).
 */
import type { Client } from '@elastic/elasticsearch';
import type { KeyTuple } from '../../src/eql/compiled.js';
import type { QueryDsl } from '../../src/eql/pushdown.js';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import { ReadSnapshot } from '../../src/es/snapshot.js';
import { prepareForIndices, type PreparedRule } from '../../src/worker/prepared-rule.js';
import { narrowedFilter as narrowed, readField, ruleFilters, windowed, type ReadField, type RuleFilters } from '../../src/worker/rule-reads.js';
import { MAX_NARROWING_KEYS } from '../../src/worker/window-read.js';

export type { RuleFilters } from '../../src/worker/rule-reads.js';

export interface WindowBase {
  index: string[];
  from: number;
  to: number;
  pageSize: number;
  field: ReadField;
}

/** The rule compiled against the indices' mappings, its filters and its window. */
export async function ruleReads(client: Client, p: PreparedRule, from: Date, to: Date, pageSize: number): Promise<{ prepared: PreparedRule; filters: RuleFilters; base: WindowBase }> {
  const schema = await fetchIndexSchema(client, p.rule.index);
  const prepared = prepareForIndices(p, schema);
  return { prepared, filters: ruleFilters(prepared, schema), base: { index: p.rule.index, from: from.getTime(), to: to.getTime(), pageSize, field: readField(prepared, schema) } };
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
  const snapshot = await ReadSnapshot.open(client, base.index);
  try {
    const query = windowed(base.field, base.from, base.to, filter ?? { match_all: {} });
    for await (const page of snapshot.read({ query, sort: base.field.sort, pageSize: base.pageSize, ...(opts.sourceFields ? { sourceFields: opts.sourceFields } : {}) })) {
      docs += page.length;
      pages++;
      if (opts.measureBytes) for (const h of page) bytes += JSON.stringify(h._source).length;
    }
  } finally {
    await snapshot.close();
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

/** The worker's keys-only first pass (fresh state: nothing pending) and the resulting filter. */
export async function narrowedFilter(client: Client, p: PreparedRule, f: RuleFilters, base: WindowBase): Promise<NarrowedRead> {
  const n = f.narrowing;
  if (!n) return { filter: f.all, keysPass: null, distinctKeys: 0, fellBack: false };
  const firstStage = p.compiled.stages[0]!;
  const keys = new Map<string, KeyTuple>();
  let docs = 0;
  let pages = 0;
  let tooMany = false;
  const snapshot = await ReadSnapshot.open(client, base.index);
  try {
    const query = windowed(base.field, base.from, base.to, n.first);
    for await (const page of snapshot.read({ query, sort: base.field.sort, pageSize: base.pageSize, sourceFields: [...n.firstKeyFields, p.rule.eventCategoryField] })) {
      docs += page.length;
      pages++;
      for (const h of page) for (const t of firstStage.keys(h._source)) keys.set(JSON.stringify(t), t);
      if (keys.size > MAX_NARROWING_KEYS) {
        tooMany = true;
        break;
      }
    }
  } finally {
    await snapshot.close();
  }
  const keysPass = { docs, pages };
  if (tooMany) return { filter: f.all, keysPass, distinctKeys: keys.size, fellBack: true };
  return { filter: narrowed(f, [...keys.values()]), keysPass, distinctKeys: keys.size, fellBack: false };
}
