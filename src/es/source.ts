/**
 * Windowed event reads: every document of `[from, to)` matching a filter, in `@timestamp` order,
 * streamed page by page with a point in time + `search_after` (memory bounded by `pageSize`).
 *
 * The window is on `timestamp_override` (Kibana: `event.ingested`) with the `@timestamp` fallback for
 * documents lacking it, exactly like Kibana's `buildTimeRangeFilter`, except that the window is
 * HALF-OPEN (`gte from, lt to`) so consecutive windows never read an event twice.
 */
import type { Client, estypes } from '@elastic/elasticsearch';

export type QueryDsl = estypes.QueryDslQueryContainer;

export interface Hit {
  _index: string;
  _id: string;
  _source: Record<string, unknown>;
  /** Sort values (`@timestamp` epoch ms or null-equivalent, `_shard_doc`), usable as `search_after`. */
  sort: estypes.SortResults;
  /** Fields Elasticsearch did not index for this document (over `ignore_above`, malformed). */
  _ignored?: string[];
}

export interface WindowOptions {
  index: string[];
  from: Date;
  to: Date;
  /** Field the window applies to (e.g. `event.ingested`), falling back to `@timestamp` where missing. */
  timestampOverride?: string;
  /** When true, documents without the override field are NOT read by `@timestamp` (Kibana's fallback off). */
  timestampOverrideFallbackDisabled?: boolean;
  /** Ordering field (default `@timestamp`). */
  timestampField?: string;
  filter?: QueryDsl;
  /** `_source` fields to fetch (default / `true`: the whole document; `[]`: none). */
  sourceFields?: string[] | true;
  pageSize?: number;
  /** Point-in-time keep alive between pages (default `2m`). */
  keepAlive?: string;
  signal?: AbortSignal;
}

const DEFAULT_TIMESTAMP = '@timestamp';

function range(field: string, from: Date, to: Date): QueryDsl {
  return {
    range: { [field]: { gte: from.toISOString(), lt: to.toISOString(), format: 'strict_date_optional_time' } },
  };
}

/**
 * The time filter of a window: `[from, to)` on the override, or on `@timestamp` where the override is
 * missing (Kibana's primary/secondary timestamp), or on `@timestamp` alone without an override.
 */
export function windowTimeFilter(
  from: Date,
  to: Date,
  timestampOverride?: string,
  opts: { fallbackDisabled?: boolean; timestampField?: string } = {},
): QueryDsl {
  const base = opts.timestampField ?? DEFAULT_TIMESTAMP;
  if (!timestampOverride || timestampOverride === base) return range(base, from, to);
  if (opts.fallbackDisabled) return range(timestampOverride, from, to);
  return {
    bool: {
      should: [
        range(timestampOverride, from, to),
        { bool: { filter: [range(base, from, to)], must_not: [{ exists: { field: timestampOverride } }] } },
      ],
      minimum_should_match: 1,
    },
  };
}

/** The full query of a window: time filter AND the pushed-down event filter. */
export function windowQuery(o: WindowOptions): QueryDsl {
  const time = windowTimeFilter(o.from, o.to, o.timestampOverride, {
    fallbackDisabled: o.timestampOverrideFallbackDisabled,
    timestampField: o.timestampField,
  });
  const filter = o.filter && !('match_all' in o.filter) ? [time, o.filter] : [time];
  return { bool: { filter } };
}

/** Ascending by timestamp (documents without one last), then the PIT's implicit `_shard_doc`. */
export function windowSort(timestampField = DEFAULT_TIMESTAMP): estypes.Sort {
  return [
    { [timestampField]: { order: 'asc', missing: '_last', unmapped_type: 'date' } },
    { _shard_doc: { order: 'asc' } },
  ];
}

function sourceParam(fields: string[] | true | undefined): estypes.SearchSourceConfig {
  if (fields === undefined || fields === true) return true;
  // An empty includes list would mean "everything" to Elasticsearch.
  return fields.length === 0 ? false : { includes: fields };
}

/**
 * Read the window page by page. The point in time is closed when the generator finishes, throws, or
 * the consumer stops early (`break` / `return()`).
 */
export async function* readWindow(client: Client, o: WindowOptions): AsyncGenerator<Hit[]> {
  if (o.index.length === 0) return;
  const pageSize = o.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const keepAlive = o.keepAlive ?? '2m';
  const transport = o.signal ? { signal: o.signal } : undefined;
  const pit = await client.openPointInTime(
    { index: o.index, keep_alive: keepAlive, ignore_unavailable: true, expand_wildcards: ['open'] },
    transport,
  );
  let pitId = pit.id;
  try {
    const query = windowQuery(o);
    const sort = windowSort(o.timestampField);
    let after: estypes.SortResults | undefined;
    for (;;) {
      const res = await client.search<Record<string, unknown>>(
        {
          pit: { id: pitId, keep_alive: keepAlive },
          size: pageSize,
          query,
          sort,
          track_total_hits: false,
          _source: sourceParam(o.sourceFields),
          ...(after ? { search_after: after } : {}),
        },
        transport,
      );
      if (res.pit_id) pitId = res.pit_id;
      const page: Hit[] = [];
      for (const h of res.hits.hits) {
        const hit: Hit = { _index: h._index, _id: h._id ?? '', _source: h._source ?? {}, sort: h.sort ?? [] };
        if (h._ignored && h._ignored.length > 0) hit._ignored = h._ignored;
        page.push(hit);
      }
      if (page.length === 0) return;
      yield page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.sort;
    }
  } finally {
    // Best effort: an expired or already-closed PIT must not mask the real outcome.
    await client.closePointInTime({ id: pitId }).catch(() => undefined);
  }
}

/** Number of documents in the window matching the filter (for progress reporting). */
export async function countWindow(client: Client, o: Omit<WindowOptions, 'pageSize' | 'sourceFields' | 'keepAlive'>): Promise<number> {
  if (o.index.length === 0) return 0;
  const res = await client.count(
    { index: o.index, query: windowQuery(o), allow_no_indices: true, ignore_unavailable: true },
    o.signal ? { signal: o.signal } : undefined,
  );
  return res.count;
}
