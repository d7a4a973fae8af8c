/**
 * Acceptance: delivery survives outages and crashes.
 *  - every channel down for three runs and back on the fourth: each alert notified exactly once per channel;
 *  - the dispatcher killed between a send and its bookkeeping: nothing lost, the duplicate carries the
 *    same notification id and alert id.
 * Real receivers: a local HTTP server (Slack, webhook) and a real SMTP server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/notify/channels/channel.js';
import { deliverDue, newMetrics } from '../../src/notify/dispatch.js';
import { buildChannels, deliverOptions } from '../../src/notify/factory.js';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryOutbox, backoffDelay, type Outbox } from '../../src/notify/outbox.js';
import { alertDoc, config, freePort, startHttpReceiver, startSmtp, type HttpReceiver, type SmtpReceiver } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function countBy(ids: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}

function slackAlertIds(rx: HttpReceiver): string[] {
  return rx.requests.flatMap((r) => [...r.raw.toString('utf8').matchAll(/"Alert id: ([^"]+)"/g)].map((m) => m[1] as string));
}

describe('channel down for three runs, back on the fourth', () => {
  it('every alert is delivered exactly once on every channel', async () => {
    const slack = await startHttpReceiver();
    await slack.stop(); // connection refused until run 4
    let hookUp = false;
    const hook = await startHttpReceiver(() => (hookUp ? { status: 204 } : { status: 503, body: 'maintenance' }));
    const smtpPort = await freePort(); // nothing listens here until run 4
    let smtp: SmtpReceiver | undefined;
    cleanups.push(() => slack.stop(), () => hook.stop(), async () => smtp?.close());

    const cfg = config({
      channels: {
        slack: { type: 'slack', webhookUrl: `http://127.0.0.1:${slack.port}/hook` },
        hook: { type: 'webhook', url: hook.url, secret: 'k' },
        mail: { type: 'email', host: '127.0.0.1', port: smtpPort, requireTLS: false, from: 'e@example.org', to: ['soc@example.org'], timeout: '3s' },
      },
      defaultRoute: { channels: ['slack', 'hook', 'mail'] },
      delivery: { backoffBase: '1m', backoffMax: '30m', maxAttempts: 10 },
    });
    const outbox = new MemoryOutbox();
    const notifier = new Notifier(cfg, outbox);
    const channels = buildChannels(cfg);
    const metrics = newMetrics();
    const hour = 3_600_000;
    // Overlapping windows: each run sees the last alert of the previous run again.
    const runAlerts = (k: number) => [0, 1, 2].map((j) => alertDoc({ id: `alert-${2 * k + j}`, pod: `pod-${2 * k + j}` }));

    for (let run = 0; run < 3; run++) {
      const t = run * hour;
      await notifier.enqueueAlerts(runAlerts(run), t);
      const m = await deliverDue(outbox, channels, t, { ...deliverOptions(cfg), metrics });
      expect(m.sent).toBe(0);
      expect(m.failed).toBe(3); // one attempt per channel per run; the rest deferred
    }
    expect(outbox.all().every((i) => i.status === 'pending')).toBe(true);
    expect(outbox.all()).toHaveLength(7 * 3); // alert-0..alert-6, three channels, duplicates collapsed

    // Run 4: everything is back.
    await slack.start();
    hookUp = true;
    const hookDownRequests = hook.requests.length; // the 503-answered attempts of runs 1-3
    expect(hookDownRequests).toBe(3);
    smtp = await startSmtp({ port: smtpPort });
    const t4 = 3 * hour;
    await notifier.enqueueAlerts(runAlerts(3), t4);
    const m4 = await deliverDue(outbox, channels, t4, { ...deliverOptions(cfg), metrics });
    expect(m4).toMatchObject({ sent: 9 * 3, failed: 0, dead: 0 });
    // Run 5 (same alerts again, nothing new): no resend.
    await notifier.enqueueAlerts(runAlerts(3), 4 * hour);
    expect((await deliverDue(outbox, channels, 4 * hour, deliverOptions(cfg))).sent).toBe(0);
    for (const c of Object.values(channels)) await c.close?.();

    const expected = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`alert-${i}`, 1]));
    expect(countBy(slackAlertIds(slack))).toEqual(expected);
    expect(countBy(hook.requests.slice(hookDownRequests).flatMap((r) => (r.json as { alert_ids: string[] }).alert_ids))).toEqual(expected);
    expect(countBy(smtp.mails.map((m) => m.parsed.headers.get('x-eqlwatch-alert-id') as string))).toEqual(expected);
    expect(metrics).toMatchObject({ sent: 27, failed: 9, retried: 9, dead: 0 });
    expect(outbox.all().every((i) => i.status === 'sent')).toBe(true);
  });
});

/** Wraps an outbox; "kills the process" (throws) on the n-th markSent, i.e. after the send happened. */
class KilledAfterSend implements Outbox {
  private sent = 0;
  constructor(
    private readonly inner: Outbox,
    private readonly killAt: number,
  ) {}
  enqueue: Outbox['enqueue'] = (...a) => this.inner.enqueue(...a);
  due: Outbox['due'] = (...a) => this.inner.due(...a);
  claim: Outbox['claim'] = (...a) => this.inner.claim(...a);
  markFailed: Outbox['markFailed'] = (...a) => this.inner.markFailed(...a);
  recordSuppressed: Outbox['recordSuppressed'] = (...a) => this.inner.recordSuppressed(...a);
  findRecent: Outbox['findRecent'] = (...a) => this.inner.findRecent(...a);
  get: Outbox['get'] = (...a) => this.inner.get(...a);
  async markSent(id: string, now?: number): Promise<void> {
    if (++this.sent === this.killAt) throw new Error('SIGKILL');
    return this.inner.markSent(id, now);
  }
}

describe('worker killed mid-send', () => {
  it('nothing is lost and the duplicate carries the same notification id and alert id', async () => {
    const hook = await startHttpReceiver();
    cleanups.push(() => hook.stop());
    const cfg = config({ channels: { hook: { type: 'webhook', url: hook.url } }, defaultRoute: { channels: ['hook'] }, delivery: { lease: '5m' } });
    const outbox = new MemoryOutbox();
    await new Notifier(cfg, outbox).enqueueAlerts([1, 2, 3, 4, 5].map((i) => alertDoc({ id: `k-${i}`, pod: `p${i}` })), 0);

    const channels: Record<string, Channel> = buildChannels(cfg);
    const opts = deliverOptions(cfg);
    await expect(deliverDue(new KilledAfterSend(outbox, 3), channels, 10, opts)).rejects.toThrow('SIGKILL');
    expect(hook.requests).toHaveLength(3); // the third was received, its outcome never recorded

    // A new dispatcher while the dead one's lease is live: the leased item is left alone.
    const m1 = await deliverDue(outbox, channels, 20, opts);
    expect(m1.sent).toBe(2);
    // After the lease expires, the unrecorded send is retried.
    const m2 = await deliverDue(outbox, channels, 10 + 5 * 60_000 + 1, opts);
    expect(m2.sent).toBe(1);

    const ids = hook.requests.map((r) => r.headers['x-eqlwatch-alert-id'] as string);
    const unrecorded = ids[2] as string; // the send whose outcome the killed worker never wrote
    const expected: Record<string, number> = { 'k-1': 1, 'k-2': 1, 'k-3': 1, 'k-4': 1, 'k-5': 1 };
    expected[unrecorded] = 2;
    expect(countBy(ids)).toEqual(expected);
    expect(ids.at(-1)).toBe(unrecorded);
    const dups = hook.requests.filter((r) => r.headers['x-eqlwatch-alert-id'] === unrecorded);
    expect(dups[0]!.headers['x-eqlwatch-notification-id']).toBe(dups[1]!.headers['x-eqlwatch-notification-id']);
    expect((dups[0]!.json as { notification_id: string }).notification_id).toBe((dups[1]!.json as { notification_id: string }).notification_id);
    expect(outbox.all().every((i) => i.status === 'sent')).toBe(true);
  });
});

describe('dispatcher bookkeeping', () => {
  const failing = (name: string): Channel => ({ name, type: 'webhook', send: async () => Promise.reject(new Error('down')) });

  it('gives up after maxAttempts with the error recorded, counting retried and dead', async () => {
    const outbox = new MemoryOutbox();
    await outbox.enqueue([{ id: 'n1', channel: 'x', alertIds: ['a'], payload: { kind: 'alert', ruleName: 'r', severity: 'low', alerts: [], total: 1 } }], 0);
    const metrics = newMetrics();
    let now = 0;
    for (let i = 0; i < 5; i++) {
      await deliverDue(outbox, { x: failing('x') }, now, { maxAttempts: 3, metrics, backoff: { baseMs: 10, maxMs: 100 } });
      now += 1000;
    }
    expect(await outbox.get('n1')).toMatchObject({ status: 'dead', attempts: 3, lastError: 'down' });
    expect(metrics).toMatchObject({ failed: 3, retried: 2, dead: 1, sent: 0 });
  });

  it('an item for a channel no longer configured is dead with a clear error', async () => {
    const outbox = new MemoryOutbox();
    await outbox.enqueue([{ id: 'n2', channel: 'gone', alertIds: ['a'], payload: { kind: 'alert', ruleName: 'r', severity: 'low', alerts: [], total: 1 } }], 0);
    await deliverDue(outbox, {}, 0);
    expect(await outbox.get('n2')).toMatchObject({ status: 'dead', lastError: 'unknown channel "gone" (removed from the configuration?)' });
  });

  it('backoff grows exponentially, is capped, and jitter stays within [d/2, d]', () => {
    const p = { baseMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, p, () => 1))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(4, p, () => 0)).toBe(4000);
    expect(backoffDelay(20, p, () => 1)).toBe(60_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, p);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});
