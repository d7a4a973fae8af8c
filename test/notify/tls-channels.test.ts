/**
 * Every channel's TLS against real local receivers whose certificates come from a test CA: webhooks and Slack
 * over HTTPS, email over SMTP with STARTTLS and AUTH. The certificate is verified by default (an untrusted,
 * expired or wrong-host certificate is refused before a byte of the notification, its secret headers or the
 * SMTP password is sent), trusted through `caFile`, and accepted unverified only with
 * `tlsRejectUnauthorized: false`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelConfig } from '../../src/config/notify.js';
import { deliverDue } from '../../src/notify/dispatch.js';
import { buildChannels } from '../../src/notify/factory.js';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryOutbox } from '../../src/notify/outbox.js';
import { createCa, type ServerCert, type TestCa } from '../helpers/pki.js';
import { alertDoc, config, startHttpReceiver, startSmtp, type HttpReceiver } from './helpers.js';

const TOKEN = 'Bearer hook-t0ken-9f8e7d';
let dir: string;
let ca: TestCa;
let caFile: string;
const certs: Record<'good' | 'otherCa' | 'expired' | 'wrongHost', ServerCert> = {} as never;
const receivers: HttpReceiver[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'eqlwatch-https-'));
  ca = createCa('eqlwatch webhook test CA');
  caFile = path.join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  certs.good = ca.issue({ hosts: ['localhost', '127.0.0.1'] });
  certs.otherCa = createCa('someone else').issue({ hosts: ['localhost', '127.0.0.1'] });
  certs.expired = ca.issue({ hosts: ['127.0.0.1'], notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
  certs.wrongHost = ca.issue({ hosts: ['hooks.other.example'] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop().catch(() => undefined);
});

async function httpsReceiver(cert: ServerCert): Promise<HttpReceiver> {
  const r = await startHttpReceiver(undefined, { tls: { key: cert.key, cert: cert.chain } });
  receivers.push(r);
  return r;
}

/** One alert through one channel; the outbox item's state after one delivery round. */
async function deliverOnce(channel: ChannelConfig) {
  const cfg = config({ channels: { ch: channel }, defaultRoute: { channels: ['ch'] } });
  const outbox = new MemoryOutbox();
  await new Notifier(cfg, outbox).enqueueAlerts([alertDoc({ id: 'tls-alert' })], 0);
  const channels = buildChannels(cfg);
  try {
    await deliverDue(outbox, channels, 1);
  } finally {
    for (const c of Object.values(channels)) await c.close?.();
  }
  return outbox.all()[0]!;
}

const webhook = (url: string, extra: Record<string, unknown> = {}) =>
  ({ type: 'webhook', url, headers: { Authorization: TOKEN }, timeout: 5_000, tlsRejectUnauthorized: true, ...extra }) as ChannelConfig;

describe('HTTPS webhook channel', () => {
  it('trusts the receiver through caFile: delivered, with its secret header', async () => {
    const rx = await httpsReceiver(certs.good);
    const item = await deliverOnce(webhook(rx.url, { caFile }));
    expect(item.status, item.lastError).toBe('sent');
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.headers.authorization).toBe(TOKEN);
  });

  it.each([
    ['a private CA it was not given (default trust)', 'good', false, /self[- ]signed certificate in certificate chain/],
    ['a certificate from another CA', 'otherCa', true, /self[- ]signed certificate in certificate chain/],
    ['an expired certificate', 'expired', true, /certificate has expired/],
    ['a certificate for another host name', 'wrongHost', true, /does not match certificate's altnames/],
  ] as const)('refuses %s before sending anything', async (_what, cert, withCa, reason) => {
    const rx = await httpsReceiver(certs[cert]);
    const item = await deliverOnce(webhook(rx.url, withCa ? { caFile } : {}));
    expect(item.status).toBe('pending'); // kept for retry, not lost
    expect(item.lastError).toMatch(reason);
    expect(item.lastError).not.toContain(TOKEN);
    expect(rx.requests).toHaveLength(0);
  });

  it('accepts an unverified certificate only when tlsRejectUnauthorized is false', async () => {
    const rx = await httpsReceiver(certs.otherCa);
    const item = await deliverOnce(webhook(rx.url, { tlsRejectUnauthorized: false }));
    expect(item.status, item.lastError).toBe('sent');
    expect(rx.requests).toHaveLength(1);
  });
});

describe('HTTPS Slack channel', () => {
  it('verifies like the webhook: refused without caFile, delivered with it', async () => {
    const rx = await httpsReceiver(certs.good);
    const slack = (extra: Record<string, unknown>) => ({ type: 'slack', webhookUrl: rx.url, timeout: 5_000, tlsRejectUnauthorized: true, ...extra }) as ChannelConfig;
    const refused = await deliverOnce(slack({}));
    expect(refused.lastError).toMatch(/self[- ]signed certificate in certificate chain/);
    expect(rx.requests).toHaveLength(0);
    const sent = await deliverOnce(slack({ caFile }));
    expect(sent.status, sent.lastError).toBe('sent');
    expect(rx.requests).toHaveLength(1);
  });
});

describe('email over STARTTLS', () => {
  const PASS = 'smtp-p4ss-7c1e';
  const mail = (port: number, extra: Record<string, unknown>) =>
    ({ type: 'email', host: 'localhost', port, requireTLS: true, auth: { user: 'eqlwatch', pass: PASS }, from: 'eqlwatch@example.com', to: ['soc@example.com'], timeout: 5_000, ...extra }) as ChannelConfig;

  it.each([
    ['trusted through caFile: upgraded, authenticated, delivered', 'good', { caFile: 'CA' }, 'sent'],
    ['a private CA it was not given (default trust): refused', 'good', {}, /self[- ]signed certificate in certificate chain/],
    ['a certificate from another CA: refused', 'otherCa', { caFile: 'CA' }, /self[- ]signed certificate in certificate chain/],
    ['an expired certificate: refused', 'expired', { caFile: 'CA' }, /certificate has expired/],
    ['an unverified certificate with tlsRejectUnauthorized false: delivered', 'otherCa', { tlsRejectUnauthorized: false }, 'sent'],
  ] as const)('%s', async (_what, cert, extra, outcome) => {
    const smtp = await startSmtp({ tls: { key: certs[cert].key, cert: certs[cert].chain }, auth: { user: 'eqlwatch', pass: PASS } });
    try {
      const item = await deliverOnce(mail(smtp.port, 'caFile' in extra ? { caFile } : extra));
      if (outcome === 'sent') {
        expect(item.status, item.lastError).toBe('sent');
        expect(smtp.mails.map((m) => [m.secure, m.user])).toEqual([[true, 'eqlwatch']]);
      } else {
        expect(item.status).toBe('pending');
        expect(item.lastError).toMatch(outcome);
        expect(item.lastError).not.toContain(PASS);
        expect(smtp.mails).toHaveLength(0);
      }
    } finally {
      await smtp.close();
    }
  });
});
