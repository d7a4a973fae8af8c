/**
 * Windowed event reads: every document of `[from, to)` matching a filter, in `@timestamp` order,
 * streamed page by page with a point in time + `search_after` (memory bounded by `pageSize`).
 *
 * The window is on `timestamp_override` (Kibana: `event.ingested`) with the `@timestamp` fallback for
 * documents lacking it, exactly like Kibana's `buildTimeRangeFilter`, except that the window is
 * HALF-OPEN (`gte from, lt to`) so consecutive windows never read an event twice.
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { ReadSnapshot, type Hit } from './snapshot.js';

export type QueryDsl = estypes.QueryDslQueryContainer;

export type { Hit } from './snapshot.js';

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

/** `[from, to)` on a date field; `from` null: everything before `to`. */
export function timeRange(field: string, from: Date | null, to: Date): QueryDsl {
  return {
    range: { [field]: { ...(from ? { gte: from.toISOString() } : {}), lt: to.toISOString(), format: 'strict_date_optional_time' } },
  };
}

/**
 * The time filter of a window: `[from, to)` on the override, or on `@timestamp` where the override is
 * missing (Kibana's primary/secondary timestamp), or on `@timestamp` alone without an override.
 */
export function windowTimeFilter(
  from: Date | null,
  to: Date,
  timestampOverride?: string,
  opts: { fallbackDisabled?: boolean; timestampField?: string } = {},
): QueryDsl {
  const base = opts.timestampField ?? DEFAULT_TIMESTAMP;
  if (!timestampOverride || timestampOverride === base) return timeRange(base, from, to);
  if (opts.fallbackDisabled) return timeRange(timestampOverride, from, to);
  return {
    bool: {
      should: [
        timeRange(timestampOverride, from, to),
        { bool: { filter: [timeRange(base, from, to)], must_not: [{ exists: { field: timestampOverride } }] } },
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

/**
 * Ascending by timestamp (documents without one last), then the PIT's implicit `_shard_doc`. Where some
 * indices map the timestamp as `date` and others as `date_nanos`, `numeric_type: date_nanos` puts both on
 * one scale (without it Elasticsearch sorts every `date_nanos` document after every `date` one). Sort values
 * come back as text: nanosecond longs exceed what a JSON number holds exactly, and a rounded `search_after`
 * would return documents twice or skip them at a page boundary.
 */
export function windowSort(timestampField = DEFAULT_TIMESTAMP, numericType?: 'date_nanos'): estypes.Sort {
  return [
    {
      [timestampField]: {
        order: 'asc',
        missing: '_last',
        unmapped_type: 'date',
        format: 'strict_date_optional_time_nanos',
        ...(numericType ? { numeric_type: numericType } : {}),
      },
    },
    { _shard_doc: { order: 'asc' } },
  ];
}

/**
 * Read the window page by page, from a point in time of its own (see snapshot.ts: every page is checked
 * for completeness). The point in time is closed when the generator finishes, throws, or the consumer
 * stops early (`break` / `return()`).
 */
export async function* readWindow(client: Client, o: WindowOptions): AsyncGenerator<Hit[]> {
  if (o.index.length === 0) return;
  const pageSize = o.pageSize ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, got ${pageSize}`);
  const snapshot = await ReadSnapshot.open(client, o.index, { ...(o.keepAlive ? { keepAlive: o.keepAlive } : {}), ...(o.signal ? { signal: o.signal } : {}) });
  try {
    const sourceFields = o.sourceFields === undefined || o.sourceFields === true ? undefined : o.sourceFields;
    yield* snapshot.read({ query: windowQuery(o), sort: windowSort(o.timestampField), pageSize, ...(sourceFields ? { sourceFields } : {}) });
  } finally {
    await snapshot.close();
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
