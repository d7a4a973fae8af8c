/**
 * The notification outbox: a durable queue of rendered-later notifications.
 *
 * Ids are derived from (alert id(s), channel), and `enqueue` has create-if-absent semantics, so
 * enqueueing the same alert for the same channel twice (overlapping windows, a rerun after a crash)
 * yields one notification. Delivery is at-least-once: a send whose outcome was never recorded is
 * retried after its lease expires, and the receiver can recognise the duplicate by the same
 * notification id / alert id.
 */
import { createHash } from 'node:crypto';
import type { NotificationPayload } from './types.js';

export type OutboxStatus = 'pending' | 'sent' | 'dead';

export interface NewOutboxItem {
  id: string;
  channel: string;
  alertIds: string[];
  /** Throttle group keys (rule + group-by values + channel) this notification opens a window for. */
  throttleKeys?: string[];
  payload: NotificationPayload;
  /** Alerts already folded into this notification when it is created (same group, same run). */
  suppressedIds?: string[];
}

export interface OutboxItem extends NewOutboxItem {
  status: OutboxStatus;
  attempts: number;
  /** Epoch ms; the item is due when `now >= nextAttemptAt` and no live lease. */
  nextAttemptAt: number;
  /** Epoch ms until which a dispatcher owns the item (set by `claim`). */
  leaseUntil?: number;
  createdAt: number;
  updatedAt: number;
  sentAt?: number;
  lastError?: string;
  /** Number of alerts folded into this notification by throttling. */
  suppressed: number;
  /** Their ids (capped at SUPPRESSED_IDS_CAP) so a rerun does not count the same alert twice. */
  suppressedIds: string[];
}

export const SUPPRESSED_IDS_CAP = 1000;

export interface EnqueueResult {
  created: string[];
  duplicates: string[];
}

export interface Outbox {
  /** Create items that do not exist yet (by id); existing ids are reported as duplicates, untouched. */
  enqueue(items: NewOutboxItem[], now?: number): Promise<EnqueueResult>;
  /** Pending items with `nextAttemptAt <= now` and no unexpired lease, oldest first. */
  due(now: number, limit: number): Promise<OutboxItem[]>;
  /**
   * Take a lease on a due item and return its current state (what must be sent: `due` may come from a
   * near-real-time search); undefined if another dispatcher got it or it is no longer due.
   */
  claim(id: string, now: number, leaseUntil: number): Promise<OutboxItem | undefined>;
  markSent(id: string, now?: number): Promise<void>;
  /** Record a failed attempt; `nextAttemptAt === null` makes the item `dead` (no more retries). */
  markFailed(id: string, error: string, nextAttemptAt: number | null, now?: number): Promise<void>;
  /** Fold alerts into an existing notification (throttling); ids already recorded are not counted again. */
  recordSuppressed(id: string, alertIds: string[], now?: number): Promise<void>;
  /** Most recent item carrying a throttle key, created at or after `since`. */
  findRecent(throttleKey: string, since: number): Promise<OutboxItem | undefined>;
  get(id: string): Promise<OutboxItem | undefined>;
}

/** Deterministic notification id: sha256 over the kind, the channel and the alert ids (order-free). */
export function notificationId(channel: string, alertIds: readonly string[], kind: 'alert' | 'digest' | 'test' = 'alert'): string {
  const h = createHash('sha256');
  h.update(`eqlwatch-notification\0${kind}\0${channel}`);
  for (const id of [...alertIds].sort()) h.update(`\0${id}`);
  return h.digest('hex').slice(0, 40);
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, half random, so retries
 * of many items spread out while still growing. `attempt` is the number of failures so far (>= 1).
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export function newItem(n: NewOutboxItem, now: number): OutboxItem {
  const ids = [...new Set(n.suppressedIds ?? [])];
  return { ...n, status: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now, suppressed: ids.length, suppressedIds: ids.slice(0, SUPPRESSED_IDS_CAP) };
}

/** Apply `recordSuppressed` to an item (shared by the in-memory and Elasticsearch outboxes). */
export function foldSuppressed(item: OutboxItem, alertIds: readonly string[], now: number): boolean {
  const known = new Set([...item.suppressedIds, ...item.alertIds]);
  const fresh = [...new Set(alertIds)].filter((a) => !known.has(a));
  if (fresh.length === 0) return false;
  item.suppressed += fresh.length;
  item.suppressedIds = [...item.suppressedIds, ...fresh].slice(0, SUPPRESSED_IDS_CAP);
  item.updatedAt = now;
  return true;
}

/** Apply `markSent` to an item (shared by the in-memory and Elasticsearch outboxes). */
export function applySent(item: OutboxItem, now: number): true {
  item.status = 'sent';
  item.attempts += 1;
  item.sentAt = now;
  item.updatedAt = now;
  delete item.leaseUntil;
  return true;
}

/** Apply `markFailed` to an item: `nextAttemptAt` null means no more attempts (dead). */
export function applyFailed(item: OutboxItem, error: string, nextAttemptAt: number | null, now: number): true {
  item.attempts += 1;
  item.lastError = error;
  item.updatedAt = now;
  delete item.leaseUntil;
  if (nextAttemptAt === null) item.status = 'dead';
  else item.nextAttemptAt = nextAttemptAt;
  return true;
}

/** In-memory outbox for unit tests and `replay` runs. Items are copied in and out (no aliasing). */
export class MemoryOutbox implements Outbox {
  private readonly items = new Map<string, OutboxItem>();

  async enqueue(items: NewOutboxItem[], now = Date.now()): Promise<EnqueueResult> {
    const res: EnqueueResult = { created: [], duplicates: [] };
    for (const n of items) {
      if (this.items.has(n.id)) res.duplicates.push(n.id);
      else {
        this.items.set(n.id, structuredClone(newItem(n, now)));
        res.created.push(n.id);
      }
    }
    return res;
  }

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return [...this.items.values()]
      .filter((i) => i.status === 'pending' && i.nextAttemptAt <= now && (i.leaseUntil === undefined || i.leaseUntil <= now))
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit)
      .map((i) => structuredClone(i));
  }

  async claim(id: string, now: number, leaseUntil: number): Promise<OutboxItem | undefined> {
    const i = this.items.get(id);
    if (!i || i.status !== 'pending' || i.nextAttemptAt > now || (i.leaseUntil !== undefined && i.leaseUntil > now)) return undefined;
    i.leaseUntil = leaseUntil;
    i.updatedAt = now;
    return structuredClone(i);
  }

  async markSent(id: string, now = Date.now()): Promise<void> {
    applySent(this.must(id), now);
  }

  async markFailed(id: string, error: string, nextAttemptAt: number | null, now = Date.now()): Promise<void> {
    applyFailed(this.must(id), error, nextAttemptAt, now);
  }

  async recordSuppressed(id: string, alertIds: string[], now = Date.now()): Promise<void> {
    foldSuppressed(this.must(id), alertIds, now);
  }

  async findRecent(throttleKey: string, since: number): Promise<OutboxItem | undefined> {
    let best: OutboxItem | undefined;
    for (const i of this.items.values())
      if (i.throttleKeys?.includes(throttleKey) && i.createdAt >= since && (!best || i.createdAt > best.createdAt)) best = i;
    return best && structuredClone(best);
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    const i = this.items.get(id);
    return i && structuredClone(i);
  }

  /** Snapshot of every item (tests, diagnostics). */
  all(): OutboxItem[] {
    return [...this.items.values()].map((i) => structuredClone(i));
  }

  private must(id: string): OutboxItem {
    const i = this.items.get(id);
    if (!i) throw new Error(`outbox item ${id} not found`);
    return i;
  }
}
