/**
 * The dispatcher: deliver due outbox items, record every outcome, back off on failure.
 * A channel that fails is not tried again in the same round (its other items stay pending and
 * untouched), so an outage costs one attempt per round, not one per queued notification.
 */
import type { Channel } from './channels/channel.js';
import { DeliveryError } from './channels/channel.js';
import { type BackoffPolicy, type Outbox, type OutboxItem, backoffDelay } from './outbox.js';
import { plainText, truncateBytes } from './render/escape.js';

/** Counters, plain numbers, cumulative when the same object is passed to successive rounds. */
export interface DeliveryMetrics {
  sent: number;
  /** Failed attempts (each one, whether retried or dead). */
  failed: number;
  /** Failed attempts rescheduled for a later retry. */
  retried: number;
  /** Items given up on (attempts exhausted, permanent error or unknown channel). */
  dead: number;
  /** Due items not attempted this round because their channel already failed in it. */
  deferred: number;
}

export function newMetrics(): DeliveryMetrics {
  return { sent: 0, failed: 0, retried: 0, dead: 0, deferred: 0 };
}

export type DeliveryOutcome =
  | { kind: 'sent' }
  | { kind: 'retry'; error: string; nextAttemptAt: number }
  | { kind: 'dead'; error: string };

export interface DeliveryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DeliverOptions {
  maxAttempts: number;
  backoff: BackoffPolicy;
  batchSize: number;
  /** How long a claimed item stays invisible to other dispatchers (a crashed send is retried after it). */
  leaseMs: number;
  random?: () => number;
  metrics?: DeliveryMetrics;
  logger?: DeliveryLogger;
  /** Called after each recorded outcome, e.g. to reflect delivery state on the alert document. */
  onOutcome?: (item: OutboxItem, outcome: DeliveryOutcome) => void | Promise<void>;
  /** Upper bound on `due` queries per call (each returns up to batchSize items). */
  maxBatches?: number;
}

export const DEFAULT_DELIVER_OPTIONS: DeliverOptions = {
  maxAttempts: 10,
  backoff: { baseMs: 30_000, maxMs: 3_600_000 },
  batchSize: 100,
  leaseMs: 300_000,
};

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return plainText(truncateBytes(msg, 1024));
}

export async function deliverDue(
  outbox: Outbox,
  channels: Readonly<Record<string, Channel>> | ReadonlyMap<string, Channel>,
  now: number,
  options: Partial<DeliverOptions> = {},
): Promise<DeliveryMetrics> {
  const opts = { ...DEFAULT_DELIVER_OPTIONS, ...options };
  const round = newMetrics();
  const total = opts.metrics;
  const bump = (k: keyof DeliveryMetrics) => {
    round[k] += 1;
    if (total) total[k] += 1;
  };
  const lookup = (name: string): Channel | undefined =>
    channels instanceof Map ? channels.get(name) : (channels as Record<string, Channel>)[name];
  const downThisRound = new Set<string>();
  const seen = new Set<string>();
  const record = async (item: OutboxItem, outcome: DeliveryOutcome) => {
    if (opts.onOutcome) await opts.onOutcome(item, outcome);
  };

  for (let batch = 0; batch < (opts.maxBatches ?? 50); batch++) {
    const due = (await outbox.due(now, opts.batchSize + seen.size)).filter((i) => !seen.has(i.id));
    if (due.length === 0) break;
    for (const item of due.slice(0, opts.batchSize)) {
      seen.add(item.id);
      const channel = lookup(item.channel);
      if (!channel) {
        const error = `unknown channel "${item.channel}" (removed from the configuration?)`;
        await outbox.markFailed(item.id, error, null, now);
        bump('failed');
        bump('dead');
        opts.logger?.error({ notificationId: item.id, channel: item.channel }, error);
        await record(item, { kind: 'dead', error });
        continue;
      }
      if (downThisRound.has(item.channel)) {
        bump('deferred');
        continue;
      }
      const claimed = await outbox.claim(item.id, now, now + opts.leaseMs);
      if (!claimed) continue; // another dispatcher has it, or it changed since `due` read it
      try {
        // Send the claimed (current) state, e.g. the latest throttling count.
        await channel.send({ notificationId: claimed.id, alertIds: claimed.alertIds, payload: claimed.payload, suppressed: claimed.suppressed });
      } catch (e) {
        downThisRound.add(item.channel);
        const attempts = item.attempts + 1;
        const error = errorText(e);
        bump('failed');
        const permanent = e instanceof DeliveryError && e.permanent;
        if (permanent || attempts >= opts.maxAttempts) {
          await outbox.markFailed(item.id, error, null, now);
          bump('dead');
          opts.logger?.error({ notificationId: item.id, channel: item.channel, attempts, alertIds: item.alertIds }, `notification dead: ${error}`);
          await record(item, { kind: 'dead', error });
        } else {
          const wait = Math.max(backoffDelay(attempts, opts.backoff, opts.random), e instanceof DeliveryError ? (e.retryAfterMs ?? 0) : 0);
          const nextAttemptAt = now + wait;
          await outbox.markFailed(item.id, error, nextAttemptAt, now);
          bump('retried');
          opts.logger?.warn({ notificationId: item.id, channel: item.channel, attempts, nextAttemptAt: new Date(nextAttemptAt).toISOString() }, `notification failed, will retry: ${error}`);
          await record(item, { kind: 'retry', error, nextAttemptAt });
        }
        continue;
      }
      await outbox.markSent(item.id, now);
      bump('sent');
      opts.logger?.info({ notificationId: item.id, channel: item.channel, alertIds: item.alertIds.length }, 'notification sent');
      await record(item, { kind: 'sent' });
    }
  }
  return round;
}
