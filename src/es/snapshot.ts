/**
 * One consistent view of a rule's indices for one run: a point in time, with every request checked for
 * completeness. Everything a run decides (the late-arrival audit's counts, the keys pass, the candidate
 * read) is answered from the same view, so a count and the read it vouches for can never disagree.
 *
 * Completeness: searches run with `allow_partial_search_results: false`, and every answer is checked
 * anyway (`_shards.failed`, `timed_out`). A failure is classified:
 * - `QueryRejectedError`: the cluster rejected the query itself (a value the field type cannot parse,
 *   too many clauses, an index whose mapping makes the query invalid). Deterministic: retrying the same
 *   query fails again, so the caller reads with a broader query instead (see `readWithFallback`).
 * - `IncompleteReadError`: anything else (shards unavailable, timeouts, rejections under load). The run
 *   fails and the window is read again by the next run; nothing is checkpointed past it.
 */
import type { Client, estypes } from '@elastic/elasticsearch';

export type QueryDsl = estypes.QueryDslQueryContainer;

export interface Hit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
  sort: estypes.SortResults;
  _ignored?: string[];
  /** Names of the named queries (`_name`) the document matched: which rules of a shared read it is for. */
  matched_queries?: string[];
}

/** The cluster refused the query (not the data's availability): a broader query will be accepted. */
export class QueryRejectedError extends Error {
  override name = 'QueryRejectedError';
  constructor(
    readonly reason: string,
    readonly types: string[],
  ) {
    super(`Elasticsearch rejected the query: ${reason}`);
  }
}

/** Part of the data could not be read (failed shards, a timeout): the window must be read again later. */
export class IncompleteReadError extends Error {
  override name = 'IncompleteReadError';
  constructor(readonly reason: string) {
    super(`incomplete read: ${reason}`);
  }
}

/** Error types that mean "this query cannot run on these mappings/values", never "try again later". */
const QUERY_ERROR_TYPES = new Set([
  'query_shard_exception',
  'parsing_exception',
  'x_content_parse_exception',
  'illegal_argument_exception',
  'number_format_exception',
  'too_many_clauses',
  'too_many_nested_clauses',
  'query_validation_exception',
]);

interface ErrorCause {
  type?: string;
  reason?: string;
  caused_by?: ErrorCause;
  root_cause?: ErrorCause[];
  failed_shards?: { reason?: ErrorCause }[];
}

function collectTypes(c: ErrorCause | undefined, out: string[]): void {
  if (!c) return;
  if (c.type) out.push(c.type);
  for (const r of c.root_cause ?? []) collectTypes(r, out);
  for (const f of c.failed_shards ?? []) collectTypes(f.reason, out);
  collectTypes(c.caused_by, out);
}

/** Query-caused when every leaf cause is a query error (a mix with unavailability is transient). */
function classify(causes: ErrorCause[], fallbackReason: string): QueryRejectedError | IncompleteReadError {
  const types: string[] = [];
  for (const c of causes) collectTypes(c, types);
  const leaf = types.filter((t) => t !== 'search_phase_execution_exception');
  const reason = causes.map((c) => c.reason ?? c.type).filter(Boolean).slice(0, 3).join('; ') || fallbackReason;
  const detail = causes.flatMap((c) => [...(c.root_cause ?? []), ...(c.failed_shards ?? []).map((f) => f.reason ?? {})]).map((r) => r.reason).filter(Boolean)[0];
  const text = detail && !reason.includes(detail) ? `${reason}: ${detail}` : reason;
  if (leaf.length > 0 && leaf.every((t) => QUERY_ERROR_TYPES.has(t))) return new QueryRejectedError(text.slice(0, 500), [...new Set(leaf)]);
  return new IncompleteReadError(text.slice(0, 500));
}

/** Turns a client error into one of the two classes (other errors, e.g. aborts, pass through). */
export function classifySearchError(err: unknown): unknown {
  const e = err as { name?: string; meta?: { statusCode?: number; body?: { error?: ErrorCause } } };
  if (e?.name === 'AbortError' || e?.name === 'RequestAbortedError') return err;
  const status = e?.meta?.statusCode;
  const body = e?.meta?.body?.error;
  if (status !== undefined && body) {
    const c = classify([body], `HTTP ${status}`);
    // Every cause a query error: a rejection (a 400, or a 500 for too many clauses inside an aggregation);
    // overload and unavailability (429, 503) are transient whatever they say.
    if (c instanceof QueryRejectedError && status >= 400 && status !== 429 && status !== 503) return c;
    return new IncompleteReadError(c.reason);
  }
  if (e?.name === 'ConnectionError' || e?.name === 'TimeoutError' || e?.name === 'NoLivingConnectionsError') {
    return new IncompleteReadError(String((err as Error).message));
  }
  return err;
}

function checkComplete(res: { _shards?: estypes.ShardStatistics; timed_out?: boolean }, what: string): void {
  const shards = res._shards;
  if (shards && shards.failed > 0) {
    throw classify((shards.failures ?? []).map((f) => f.reason as ErrorCause), `${shards.failed} of ${shards.total} shard(s) failed`);
  }
  if (res.timed_out) throw new IncompleteReadError(`${what} timed out`);
}

export interface ReadOptions {
  query: QueryDsl;
  sort: estypes.Sort;
  /** `_source` fields to fetch (default: the whole document; `[]`: none). */
  sourceFields?: string[];
  pageSize: number;
}

export interface SnapshotOptions {
  keepAlive?: string;
  signal?: AbortSignal;
}

export class ReadSnapshot {
  private closed = false;

  private constructor(
    private readonly client: Client,
    private pitId: string | null,
    private readonly keepAlive: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** A point in time over `index` (patterns allowed; missing indices ignored). No index: an empty view. */
  static async open(client: Client, index: string[], o: SnapshotOptions = {}): Promise<ReadSnapshot> {
    const keepAlive = o.keepAlive ?? '2m';
    if (index.length === 0) return new ReadSnapshot(client, null, keepAlive, o.signal);
    try {
      const pit = await client.openPointInTime(
        { index, keep_alive: keepAlive, ignore_unavailable: true, expand_wildcards: ['open'], allow_partial_search_results: false },
        o.signal ? { signal: o.signal } : undefined,
      );
      const snapshot = new ReadSnapshot(client, pit.id, keepAlive, o.signal);
      try {
        checkComplete(pit as { _shards?: estypes.ShardStatistics }, 'opening a point in time');
      } catch (e) {
        await snapshot.close();
        throw e;
      }
      return snapshot;
    } catch (e) {
      // No index matches the patterns (and none was required): nothing to read.
      if ((e as { meta?: { statusCode?: number } }).meta?.statusCode === 404) return new ReadSnapshot(client, null, keepAlive, o.signal);
      throw classifySearchError(e);
    }
  }

  get empty(): boolean {
    return this.pitId === null;
  }

  private async search(body: estypes.SearchRequest, what: string): Promise<estypes.SearchResponse<Record<string, unknown>>> {
    if (this.closed) throw new Error('snapshot already closed');
    let res: estypes.SearchResponse<Record<string, unknown>>;
    try {
      res = await this.client.search<Record<string, unknown>>(
        { ...body, pit: { id: this.pitId!, keep_alive: this.keepAlive }, allow_partial_search_results: false, track_total_hits: false },
        this.signal ? { signal: this.signal } : undefined,
      );
    } catch (e) {
      throw classifySearchError(e);
    }
    if (res.pit_id) this.pitId = res.pit_id;
    checkComplete(res, what);
    return res;
  }

  /** Every matching document, page by page in `sort` order (PIT + search_after). */
  async *read(o: ReadOptions): AsyncGenerator<Hit[]> {
    if (this.pitId === null) return;
    if (!Number.isInteger(o.pageSize) || o.pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${o.pageSize}`);
    const source: estypes.SearchSourceConfig =
      o.sourceFields === undefined ? true : o.sourceFields.length === 0 ? false : { includes: o.sourceFields };
    let after: estypes.SortResults | undefined;
    for (;;) {
      const res = await this.search(
        { size: o.pageSize, query: o.query, sort: o.sort, _source: source, ...(after ? { search_after: after } : {}) },
        'a read',
      );
      const page: Hit[] = [];
      for (const h of res.hits.hits) {
        const hit: Hit = { _index: h._index, _id: h._id ?? '', _source: h._source ?? {}, sort: h.sort ?? [] };
        if (h._ignored && h._ignored.length > 0) hit._ignored = h._ignored;
        if (h.matched_queries) hit.matched_queries = Array.isArray(h.matched_queries) ? h.matched_queries : Object.keys(h.matched_queries);
        page.push(hit);
      }
      if (page.length === 0) return;
      yield page;
      if (page.length < o.pageSize) return;
      after = page[page.length - 1]!.sort;
    }
  }

  /** Document counts of `filter` AND each bucket's query, in one request. */
  async counts(filter: QueryDsl, buckets: QueryDsl[]): Promise<number[]> {
    if (buckets.length === 0) return [];
    if (this.pitId === null) return buckets.map(() => 0);
    const res = await this.search(
      {
        size: 0,
        query: filter,
        aggs: { buckets: { filters: { filters: buckets } } },
      },
      'counting documents',
    );
    // A point in time over no shard at all (the pattern matched no index when it was opened) has no aggregations.
    if (res._shards.total === 0) return buckets.map(() => 0);
    const agg = (res.aggregations?.buckets as { buckets?: { doc_count: number }[] } | undefined)?.buckets;
    if (!Array.isArray(agg) || agg.length !== buckets.length) throw new IncompleteReadError(`the count aggregation returned ${Array.isArray(agg) ? agg.length : 'no'} bucket(s) for ${buckets.length}`);
    return agg.map((b) => b.doc_count);
  }

  /**
   * Per group, the document counts of its `filter` AND each of its buckets, all in one request. Each group's
   * filter is a `filter` aggregation evaluated once, its buckets (cheap time ranges) only over what it matched:
   * the same counts as one flat bucket per `filter AND bucket`, without evaluating the filter (e.g. leading
   * wildcards on `process.args`) once per bucket.
   */
  async groupedCounts(groups: { filter: QueryDsl; buckets: QueryDsl[] }[]): Promise<number[][]> {
    if (groups.length === 0) return [];
    if (this.pitId === null || groups.every((g) => g.buckets.length === 0)) return groups.map((g) => g.buckets.map(() => 0));
    const aggs = Object.fromEntries(groups.flatMap((g, i) => (g.buckets.length === 0 ? [] : [[`g${i}`, { filter: g.filter, aggs: { buckets: { filters: { filters: g.buckets } } } }]])));
    const res = await this.search({ size: 0, query: { match_all: {} }, aggs }, 'counting documents');
    if (res._shards.total === 0) return groups.map((g) => g.buckets.map(() => 0));
    return groups.map((g, i) => {
      if (g.buckets.length === 0) return [];
      const agg = ((res.aggregations?.[`g${i}`] as { buckets?: { buckets?: { doc_count: number }[] } } | undefined)?.buckets)?.buckets;
      if (!Array.isArray(agg) || agg.length !== g.buckets.length) throw new IncompleteReadError(`the count aggregation returned ${Array.isArray(agg) ? agg.length : 'no'} bucket(s) for ${g.buckets.length}`);
      return agg.map((b) => b.doc_count);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Best effort: an expired or already-closed PIT must not mask the real outcome.
    if (this.pitId !== null) await this.client.closePointInTime({ id: this.pitId }).catch(() => undefined);
  }
}
