/**
 * Writes alert documents with bulk `create` and their deterministic ids, so that writing the same
 * alert twice (overlapping windows, a retried run, a restart) never makes a second document:
 * Elasticsearch answers 409 for an id that exists, which counts as `duplicates`.
 *
 * Per-item outcomes: 201 created; 409 duplicate; 429/503 (and other transient statuses) retried with
 * bounded exponential backoff; anything else (e.g. 400 mapping errors), and transient statuses that
 * outlive the retries, reported in `failed` with status, type and reason (worker/alert-sink.ts decides). Nothing is dropped silently: every input id ends up in exactly one of the three outcomes,
 * or the call throws (the whole bulk request failed after the client's own retries).
 */
import type { estypes } from '@elastic/elasticsearch';

type BulkRequest = estypes.BulkRequest;
type BulkResponse = estypes.BulkResponse;

export interface AlertToWrite {
  id: string;
  doc: Record<string, unknown>;
}

export interface FailedAlert {
  id: string;
  status: number;
  reason: string;
  /** Elasticsearch's error type (e.g. `document_parsing_exception`), when it gave one. */
  type?: string;
}

export interface WriteAlertsResult {
  created: number;
  duplicates: number;
  failed: FailedAlert[];
  /** Ids of the documents created by this call (not already present). */
  createdIds: string[];
}

export interface WriteAlertsOptions {
  /** Make the documents searchable before returning (tests); `wait_for` waits for the next refresh. */
  refresh?: boolean | 'wait_for';
  /** Documents per bulk request (default 500). */
  batchSize?: number;
  /** Attempts per item for transient failures, including the first (default 5). */
  maxAttempts?: number;
  /** First backoff in ms, doubled per attempt with jitter (default 200). */
  backoffMs?: number;
  /** Upper bound of one backoff in ms (default 5000). */
  maxBackoffMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** The part of the client the writer uses (a `Client` fits; unit tests script it to drive retries). */
export interface BulkClient {
  bulk(params: BulkRequest): Promise<BulkResponse>;
}

/** Per-item statuses worth retrying: overload, unavailability, gateway errors, timeouts. */
const TRANSIENT = new Set([408, 429, 502, 503, 504]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT.has(status);
}

interface ItemError {
  type?: string;
  reason?: string | null;
  caused_by?: ItemError;
}

/** "type: reason (caused by: type: reason)" from an Elasticsearch error object. */
export function describeItemError(error: ItemError | undefined): string {
  if (!error) return 'unknown error';
  const own = [error.type, error.reason].filter((s) => s !== undefined && s !== null && s !== '').join(': ');
  const cause = error.caused_by ? describeItemError(error.caused_by) : '';
  return cause !== '' && cause !== own ? `${own} (caused by: ${cause})` : own || 'unknown error';
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function backoff(attempt: number, base: number, max: number): number {
  const exp = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}

export async function writeAlerts(
  client: BulkClient,
  index: string,
  docs: readonly AlertToWrite[],
  opts: WriteAlertsOptions = {},
): Promise<WriteAlertsResult> {
  const batchSize = opts.batchSize ?? 500;
  const result: WriteAlertsResult = { created: 0, duplicates: 0, failed: [], createdIds: [] };
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError('batchSize must be a positive integer');
  const seen = new Set<string>();
  for (const d of docs) {
    if (typeof d.id !== 'string' || d.id === '') throw new TypeError('every alert needs a non-empty id');
    // The same id twice in one call would race inside a bulk; the second is a duplicate by definition.
    if (seen.has(d.id)) throw new TypeError(`alert id ${d.id} appears twice in one write`);
    seen.add(d.id);
  }
  for (let i = 0; i < docs.length; i += batchSize) {
    const part = await writeBatch(client, index, docs.slice(i, i + batchSize), opts);
    result.created += part.created;
    result.createdIds.push(...part.createdIds);
    result.duplicates += part.duplicates;
    result.failed.push(...part.failed);
  }
  return result;
}

async function writeBatch(
  client: BulkClient,
  index: string,
  batch: readonly AlertToWrite[],
  opts: WriteAlertsOptions,
): Promise<WriteAlertsResult> {
  const maxAttempts = Math.max(1, opts.maxAttempts ?? 5);
  const sleep = opts.sleep ?? defaultSleep;
  const result: WriteAlertsResult = { created: 0, duplicates: 0, failed: [], createdIds: [] };
  let pending = batch;

  for (let attempt = 1; pending.length > 0; attempt++) {
    const operations: unknown[] = [];
    for (const d of pending) operations.push({ create: { _index: index, _id: d.id } }, d.doc);
    const params: BulkRequest = { operations };
    if (opts.refresh !== undefined) params.refresh = opts.refresh;
    let res: BulkResponse;
    try {
      res = await client.bulk(params);
    } catch (e) {
      // The whole request was rejected (e.g. 429 from a full write queue or a circuit breaker). `create`
      // makes a resend safe: anything already written comes back as a duplicate.
      const status = (e as { meta?: { statusCode?: number } }).meta?.statusCode;
      if (status === undefined || !isTransientStatus(status) || attempt >= maxAttempts) throw e;
      await sleep(backoff(attempt, opts.backoffMs ?? 200, opts.maxBackoffMs ?? 5000));
      continue;
    }

    const retry: AlertToWrite[] = [];
    res.items.forEach((item, i) => {
      const doc = pending[i];
      const r = item.create ?? Object.values(item)[0];
      if (doc === undefined || r === undefined) return;
      const status = r.status;
      if (status >= 200 && status < 300) {
        result.created++;
        result.createdIds.push(doc.id);
      }
      else if (status === 409) result.duplicates++;
      else if (isTransientStatus(status) && attempt < maxAttempts) {
        retry.push(doc);
      } else {
        const error = r.error as ItemError | undefined;
        result.failed.push({ id: doc.id, status, reason: describeItemError(error), ...(error?.type ? { type: error.type } : {}) });
      }
    });
    if (res.items.length !== pending.length) {
      // Never happens with a conforming server, but a missing item must not vanish.
      for (const d of pending.slice(res.items.length)) {
        result.failed.push({ id: d.id, status: 0, reason: 'no bulk response item for this document' });
      }
    }
    pending = retry;
    if (pending.length > 0) await sleep(backoff(attempt, opts.backoffMs ?? 200, opts.maxBackoffMs ?? 5000));
  }
  return result;
}
