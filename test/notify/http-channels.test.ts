/** Slack and generic webhook channels against a real local HTTP receiver; assertions on received bytes. */
import { afterEach, describe, expect, it } from 'vitest';
import { SlackChannel } from '../../src/notify/channels/slack.js';
import { WebhookChannel } from '../../src/notify/channels/webhook.js';
import { signBody, verifySignature } from '../../src/notify/channels/signature.js';
import { deliverDue, newMetrics } from '../../src/notify/dispatch.js';
import { buildChannels } from '../../src/notify/factory.js';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryOutbox } from '../../src/notify/outbox.js';
import { notifyTest } from '../../src/notify/notify-test.js';
import type { RenderOptions } from '../../src/notify/render/common.js';
import { alertDoc, config, hostileAlert, startHttpReceiver, type HttpReceiver } from './helpers.js';

const render: RenderOptions = { kibana: { url: 'https://kibana.example' }, subjectPrefix: '[eqlwatch]', subjectChars: 200 };
const receivers: HttpReceiver[] = [];
async function receiver(...a: Parameters<typeof startHttpReceiver>) {
  const r = await startHttpReceiver(...a);
  receivers.push(r);
  return r;
}
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop().catch(() => undefined);
});

async function enqueue(cfg: ReturnType<typeof config>, docs: Parameters<Notifier['enqueueAlerts']>[0]) {
  const outbox = new MemoryOutbox();
  await new Notifier(cfg, outbox).enqueueAlerts(docs, 0);
  return outbox;
}

describe('Slack channel', () => {
  it('hostile event: received JSON has no raw <, escaped mentions/links, valid UTF-8, literal formatting in plain_text', async () => {
    const rx = await receiver();
    const cfg = config({ channels: { slack: { type: 'slack', webhookUrl: { env: 'SLACK_URL' } } }, defaultRoute: { channels: ['slack'] } });
    const outbox = await enqueue(cfg, [hostileAlert('h-1')]);
    const m = await deliverDue(outbox, buildChannels(cfg, { SLACK_URL: rx.url }), 1);
    expect(m.sent).toBe(1);
    expect(rx.requests).toHaveLength(1);
    const req = rx.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    // Received bytes are valid UTF-8 (round-trip identical) with no lone-surrogate escapes.
    expect(Buffer.from(req.raw.toString('utf8'), 'utf8').equals(req.raw)).toBe(true);
    const body = req.raw.toString('utf8');
    expect(body).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
    expect(body).not.toContain('<');
    expect(body).toContain('&lt;!channel&gt;');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(body).toContain('\uFFFD');
    const json = req.json as { text: string; attachments: Array<{ blocks: Array<Record<string, unknown>> }> };
    expect(json.text).toBe('eqlwatch medium: Kubectl exec into pod');
    expect(JSON.stringify(json.attachments[0]!.blocks)).toContain('{"type":"plain_text","text":"Pod: &lt;!channel&gt; *bold*","emoji":false}');
    expect(body).toContain('Alert id: h-1');
  });

  it('429 with Retry-After: the retry is scheduled no earlier than the server asked, then succeeds', async () => {
    let calls = 0;
    const rx = await receiver(() => (++calls === 1 ? { status: 429, headers: { 'retry-after': '120' }, body: 'rate_limited' } : { status: 200, body: 'ok' }));
    const cfg = config({ channels: { slack: { type: 'slack', webhookUrl: rx.url } }, defaultRoute: { channels: ['slack'] } });
    const outbox = await enqueue(cfg, [alertDoc({ id: 'r-1' })]);
    const ch = buildChannels(cfg);
    const metrics = newMetrics();
    const opts = { metrics, backoff: { baseMs: 1000, maxMs: 2000 }, random: () => 0 };
    await deliverDue(outbox, ch, 1000, opts);
    const item = outbox.all()[0]!;
    expect(item).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: 1000 + 120_000 });
    expect(item.lastError).toContain('HTTP 429');
    await deliverDue(outbox, ch, 1000 + 119_999, opts); // not due yet
    expect(rx.requests).toHaveLength(1);
    await deliverDue(outbox, ch, 1000 + 120_000, opts);
    expect(outbox.all()[0]?.status).toBe('sent');
    expect(metrics).toMatchObject({ sent: 1, failed: 1, retried: 1, dead: 0 });
  });

  it('non-2xx is a failure (500 retried, 400 dead at once), and a hung receiver times out', async () => {
    const rx500 = await receiver(() => ({ status: 500, body: 'boom' }));
    const rx400 = await receiver(() => ({ status: 400, body: 'invalid_blocks' }));
    const rxHang = await receiver(() => ({ status: 0 }));
    const mk = (url: string, name: string) => new SlackChannel({ name, webhookUrl: url, timeoutMs: 300, render });
    const cfg = config({
      channels: { a: { type: 'slack', webhookUrl: 'x' }, b: { type: 'slack', webhookUrl: 'x' }, c: { type: 'slack', webhookUrl: 'x' } },
      defaultRoute: { channels: ['a', 'b', 'c'] },
    });
    const outbox = await enqueue(cfg, [alertDoc({ id: 'f-1' })]);
    const m = await deliverDue(outbox, { a: mk(rx500.url, 'a'), b: mk(rx400.url, 'b'), c: mk(rxHang.url, 'c') }, 1);
    expect(m).toMatchObject({ sent: 0, failed: 3, retried: 2, dead: 1 });
    const by = Object.fromEntries(outbox.all().map((i) => [i.channel, i]));
    expect(by.a).toMatchObject({ status: 'pending', lastError: 'slack channel a: HTTP 500 boom' });
    expect(by.b).toMatchObject({ status: 'dead', lastError: 'slack channel b: HTTP 400 invalid_blocks' });
    expect(by.c?.status).toBe('pending');
    expect(by.c?.lastError).toContain('timeout after 300 ms');
  });
});

describe('generic webhook channel', () => {
  it('posts JSON with custom headers, ids and an HMAC signature that verifies over the received bytes', async () => {
    const rx = await receiver();
    const cfg = config({
      channels: { hook: { type: 'webhook', url: rx.url, headers: { Authorization: { env: 'HOOK_TOKEN' }, 'X-Team': 'soc' }, secret: { env: 'HOOK_SECRET' } } },
      defaultRoute: { channels: ['hook'] },
    });
    const outbox = await enqueue(cfg, [hostileAlert('w-1')]);
    await deliverDue(outbox, buildChannels(cfg, { HOOK_TOKEN: 'Bearer t0k', HOOK_SECRET: 'k3y' }), 1);
    const req = rx.requests[0]!;
    expect(req.headers.authorization).toBe('Bearer t0k');
    expect(req.headers['x-team']).toBe('soc');
    expect(req.headers['x-eqlwatch-alert-id']).toBe('w-1');
    expect(req.headers['x-eqlwatch-notification-id']).toBe(outbox.all()[0]!.id);
    const sig = req.headers['x-eqlwatch-signature'] as string;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(sig, req.raw, 'k3y')).toBe(true);
    expect(verifySignature(sig, Buffer.concat([req.raw, Buffer.from(' ')]), 'k3y')).toBe(false);
    expect(verifySignature(sig, req.raw, 'other')).toBe(false);
    const body = req.json as { alert_ids: string[]; notification_id: string; alerts: Array<{ commandLine: string; host: string }> };
    expect(body.alert_ids).toEqual(['w-1']);
    expect(body.notification_id).toBe(outbox.all()[0]!.id);
    expect(body.alerts[0]!.host).toBe('node-1\r\nBcc: x@evil.example'); // JSON carries the value exactly, escaped by JSON
    expect(body.alerts[0]!.commandLine).toMatch(/… \[truncated, \d+ more bytes\]$/);
  });

  it('signature: stale timestamps are rejected (replay protection)', () => {
    const sig = signBody('k', '{"a":1}', 1_000_000);
    expect(verifySignature(sig, '{"a":1}', 'k', 1_000_100)).toBe(true);
    expect(verifySignature(sig, '{"a":1}', 'k', 1_000_301)).toBe(false);
    expect(verifySignature('t=1,v1=zz', '{"a":1}', 'k', 1)).toBe(false);
  });

  it('refuses header values with line breaks from configuration', () => {
    expect(() => new WebhookChannel({ name: 'h', url: 'http://x', headers: { 'X-A': 'a\r\nB: c' }, timeoutMs: 1000, render })).toThrow(/line break/);
  });
});

describe('notifyTest over HTTP channels', () => {
  it('sends a clearly marked sample to Slack and to a webhook, and reports failures', async () => {
    const rx = await receiver();
    const cfg = config({
      channels: { s: { type: 'slack', webhookUrl: rx.url }, w: { type: 'webhook', url: rx.url, secret: 'k' }, down: { type: 'slack', webhookUrl: 'http://127.0.0.1:1/x', timeout: '2s' } },
    });
    const rs = await notifyTest('s', cfg);
    const rw = await notifyTest('w', cfg);
    expect(rx.requests).toHaveLength(2);
    const slack = rx.requests[0]!.json as { attachments: Array<{ blocks: Array<{ type: string; text?: { text: string } }> }> };
    expect(slack.attachments[0]!.blocks[0]!.text!.text).toMatch(/^\[TEST\] \[medium\] eqlwatch sample/);
    expect(rx.requests[0]!.raw.toString()).toContain(`eqlwatch notification ${rs.notificationId}`);
    expect(rx.requests[1]!.json).toMatchObject({ kind: 'test', notification_id: rw.notificationId });
    expect(verifySignature(rx.requests[1]!.headers['x-eqlwatch-signature'] as string, rx.requests[1]!.raw, 'k')).toBe(true);
    await expect(notifyTest('down', cfg)).rejects.toThrow(/slack channel down: request failed/);
  });
});
