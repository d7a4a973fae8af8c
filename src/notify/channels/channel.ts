/** What a channel is given to deliver, and how it reports failure. */
import type { NotificationPayload } from '../types.js';

export interface Deliverable {
  notificationId: string;
  alertIds: string[];
  payload: NotificationPayload;
  suppressed: number;
}

export type ChannelType = 'email' | 'slack' | 'webhook';

export interface Channel {
  readonly name: string;
  readonly type: ChannelType;
  /** Resolves when the receiver accepted the message; throws (preferably DeliveryError) otherwise. */
  send(d: Deliverable): Promise<void>;
  close?(): Promise<void>;
}

export class DeliveryError extends Error {
  /** Server asked us to wait (Slack 429 Retry-After). */
  readonly retryAfterMs: number | undefined;
  /** Retrying the same message cannot succeed (e.g. HTTP 400 for an invalid payload). */
  readonly permanent: boolean;
  constructor(message: string, opts: { retryAfterMs?: number; permanent?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DeliveryError';
    this.retryAfterMs = opts.retryAfterMs;
    this.permanent = opts.permanent ?? false;
  }
}

/** Parse an HTTP Retry-After header (delta-seconds or HTTP-date) into milliseconds. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
