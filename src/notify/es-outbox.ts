/**
 * Elasticsearch-backed outbox. One document per notification in `eqlwatch-outbox` (configurable):
 * `_id` = the deterministic notification id, written with `create` (a second enqueue of the same
 * alert/channel is a 409 = duplicate). State changes are read-modify-write with optimistic concurrency
 * (`if_seq_no` + `if_primary_term`), so two dispatchers cannot both claim an item, and a stale search
 * hit is re-checked against the real-time GET before anything is sent.
 */
import { type Client, errors } from '@elastic/elasticsearch';
import { type EnqueueResult, type NewOutboxItem, type Outbox, type OutboxItem, applyFailed, applySent, foldSuppressed, newItem } from './outbox.js';

type Stored = Omit<OutboxItem, 'id'>;

export const OUTBOX_MAPPINGS = {
  dynamic: false,
  properties: {
    channel: { type: 'keyword' },
    status: { type: 'keyword' },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'long' },
    leaseUntil: { type: 'long' },
    createdAt: { type: 'long' },
    updatedAt: { type: 'long' },
    sentAt: { type: 'long' },
    alertIds: { type: 'keyword' },
    throttleKeys: { type: 'keyword' },
    suppressed: { type: 'integer' },
    suppressedIds: { type: 'keyword', index: false, doc_values: false },
    lastError: { type: 'keyword', index: false, doc_values: false },
    payload: { type: 'object', enabled: false },
  },
} as const;

const MAX_OCC_RETRIES = 20;

/** Randomised pause between OCC retries so concurrent writers stop colliding in lock-step. */
function occPause(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(200, 5 * 2 ** attempt);
  return new Promise((r) => setTimeout(r, ms));
}

function isStatus(e: unknown, status: number): boolean {
  return e instanceof errors.ResponseError && e.statusCode === status;
}

export interface EsOutboxOptions {
  index?: string;
  /** Refresh after enqueue so throttling (`findRecent`) and `due` see new items at once. Default true. */
  refreshOnEnqueue?: boolean;
}

export class EsOutbox implements Outbox {
  readonly index: string;
  private readonly refreshOnEnqueue: boolean;

  constructor(
    private readonly client: Client,
    opts: EsOutboxOptions = {},
  ) {
    this.index = opts.index ?? 'eqlwatch-outbox';
    this.refreshOnEnqueue = opts.refreshOnEnqueue ?? true;
  }

  /** Create the index with its mapping if missing (idempotent, safe under concurrent start-up). */
  async ensureIndex(): Promise<void> {
    try {
      await this.client.indices.create({ index: this.index, mappings: OUTBOX_MAPPINGS as never, settings: { number_of_replicas: 0 } as never });
    } catch (e) {
      if (!(e instanceof errors.ResponseError && e.statusCode === 400 && JSON.stringify(e.body).includes('resource_already_exists_exception'))) throw e;
    }
  }

  async enqueue(items: NewOutboxItem[], now = Date.now()): Promise<EnqueueResult> {
    const res: EnqueueResult = { created: [], duplicates: [] };
    if (items.length === 0) return res;
    const operations: object[] = [];
    for (const n of items) {
      const { id, ...doc } = newItem(n, now);
      operations.push({ create: { _index: this.index, _id: id } }, doc);
    }
    const r = await this.client.bulk({ operations, refresh: this.refreshOnEnqueue ? true : false });
    const failures: string[] = [];
    r.items.forEach((it, i) => {
      const op = it.create;
      const id = (items[i] as NewOutboxItem).id;
      if (!op) failures.push(`${id}: no create result`);
      else if (op.status === 201) res.created.push(id);
      else if (op.status === 409) res.duplicates.push(id);
      else failures.push(`${id}: ${op.status} ${JSON.stringify(op.error)}`);
    });
    if (failures.length) throw new Error(`outbox enqueue failed for ${failures.length} item(s): ${failures.slice(0, 3).join('; ')}`);
    return res;
  }

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    const r = await this.client.search<Stored>({
      index: this.index,
      size: limit,
      query: {
        bool: {
          filter: [{ term: { status: 'pending' } }, { range: { nextAttemptAt: { lte: now } } }],
          must_not: [{ range: { leaseUntil: { gt: now } } }],
        },
      },
      sort: [{ nextAttemptAt: 'asc' }, { createdAt: 'asc' }],
    });
    return r.hits.hits.filter((h) => h._source && h._id).map((h) => ({ id: h._id as string, ...(h._source as Stored) }));
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    const r = await this.read(id);
    return r?.item;
  }

  async claim(id: string, now: number, leaseUntil: number): Promise<OutboxItem | undefined> {
    const cur = await this.read(id); // real-time GET: the search behind `due` may be stale
    if (!cur) return undefined;
    const i = cur.item;
    if (i.status !== 'pending' || i.nextAttemptAt > now || (i.leaseUntil !== undefined && i.leaseUntil > now)) return undefined;
    i.leaseUntil = leaseUntil;
    i.updatedAt = now;
    try {
      await this.write(i, cur.seqNo, cur.primaryTerm);
      return i;
    } catch (e) {
      if (isStatus(e, 409)) return undefined; // another dispatcher changed it first
      throw e;
    }
  }

  async markSent(id: string, now = Date.now()): Promise<void> {
    await this.update(id, (i) => applySent(i, now));
  }

  async markFailed(id: string, error: string, nextAttemptAt: number | null, now = Date.now()): Promise<void> {
    await this.update(id, (i) => applyFailed(i, error, nextAttemptAt, now));
  }

  async recordSuppressed(id: string, alertIds: string[], now = Date.now()): Promise<void> {
    await this.update(id, (i) => foldSuppressed(i, alertIds, now));
  }

  async findRecent(throttleKey: string, since: number): Promise<OutboxItem | undefined> {
    const r = await this.client.search<Stored>({
      index: this.index,
      size: 1,
      query: { bool: { filter: [{ term: { throttleKeys: throttleKey } }, { range: { createdAt: { gte: since } } }] } },
      sort: [{ createdAt: 'desc' }],
    });
    const h = r.hits.hits[0];
    return h?._source && h._id ? { id: h._id, ...h._source } : undefined;
  }

  private async read(id: string): Promise<{ item: OutboxItem; seqNo: number; primaryTerm: number } | undefined> {
    try {
      const r = await this.client.get<Stored>({ index: this.index, id });
      if (!r.found || !r._source || r._seq_no === undefined || r._primary_term === undefined) return undefined;
      return { item: { id, ...r._source }, seqNo: r._seq_no, primaryTerm: r._primary_term };
    } catch (e) {
      if (isStatus(e, 404)) return undefined;
      throw e;
    }
  }

  private async write(item: OutboxItem, seqNo: number, primaryTerm: number): Promise<void> {
    const { id, ...doc } = item;
    await this.client.index({ index: this.index, id, document: doc, if_seq_no: seqNo, if_primary_term: primaryTerm });
  }

  /** Read-modify-write under OCC, retried on conflict. `mutate` returns false for "nothing to change". */
  private async update(id: string, mutate: (i: OutboxItem) => boolean): Promise<void> {
    for (let attempt = 0; attempt < MAX_OCC_RETRIES; attempt++) {
      const cur = await this.read(id);
      if (!cur) throw new Error(`outbox item ${id} not found in ${this.index}`);
      if (!mutate(cur.item)) return;
      try {
        await this.write(cur.item, cur.seqNo, cur.primaryTerm);
        return;
      } catch (e) {
        if (!isStatus(e, 409)) throw e;
        await occPause(attempt);
      }
    }
    throw new Error(`outbox item ${id}: gave up after ${MAX_OCC_RETRIES} concurrent-update conflicts`);
  }
}
