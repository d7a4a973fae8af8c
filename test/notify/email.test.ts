/**
 * Email through a real SMTP server on loopback (smtp-server), messages parsed back with mailparser.
 * STARTTLS uses a self-signed certificate generated at test time with the openssl CLI, trusted through
 * the channel's `caFile` (so certificate verification stays on).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue, newMetrics } from '../../src/notify/dispatch.js';
import { buildChannels } from '../../src/notify/factory.js';
import { Notifier } from '../../src/notify/notifier.js';
import { notifyTest } from '../../src/notify/notify-test.js';
import { MemoryOutbox } from '../../src/notify/outbox.js';
import { alertDoc, config, hostileAlert, selfSignedCert, startSmtp, type SmtpReceiver } from './helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'eqlwatch-email-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function emailConfig(port: number, extra: Record<string, unknown> = {}) {
  return config({
    channels: {
      mail: {
        type: 'email',
        host: '127.0.0.1',
        port,
        requireTLS: false,
        from: 'eqlwatch@example.org',
        to: ['soc@example.org'],
        cc: ['lead@example.org'],
        timeout: '5s',
        ...extra,
      },
    },
    defaultRoute: { channels: ['mail'] },
    kibana: { url: 'https://kibana.example' },
  });
}

async function sendThrough(cfg: ReturnType<typeof emailConfig>, docs: Parameters<Notifier['enqueueAlerts']>[0], env: NodeJS.ProcessEnv = {}) {
  const outbox = new MemoryOutbox();
  await new Notifier(cfg, outbox).enqueueAlerts(docs, 0);
  const channels = buildChannels(cfg, env);
  const metrics = newMetrics();
  await deliverDue(outbox, channels, 1, { metrics });
  for (const c of Object.values(channels)) await c.close?.();
  return { outbox, metrics };
}

describe('email over plain SMTP with AUTH', () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    smtp = await startSmtp({ auth: { user: 'eqlwatch', pass: 's3cret' } });
  });
  afterAll(async () => smtp.close());

  it('hostile event: no injected header or recipient, escaped bodies, ids in headers', async () => {
    writeFileSync(path.join(tmp, 'pass'), 's3cret\n');
    const cfg = emailConfig(smtp.port, { auth: { user: { env: 'SMTP_USER' }, pass: { file: path.join(tmp, 'pass') } } });
    const { metrics, outbox } = await sendThrough(cfg, [hostileAlert('hostile-1')], { SMTP_USER: 'eqlwatch' });
    expect(metrics).toMatchObject({ sent: 1, failed: 0 });
    expect(outbox.all()[0]?.status).toBe('sent');
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!;
    expect(m.user).toBe('eqlwatch');
    // Envelope: exactly the configured recipients.
    expect(m.mailFrom).toBe('eqlwatch@example.org');
    expect(m.rcptTo.sort()).toEqual(['lead@example.org', 'soc@example.org']);
    // Received bytes: the header section has no injected header lines.
    const raw = m.raw.toString('latin1');
    const headerSection = raw.slice(0, raw.indexOf('\r\n\r\n'));
    expect(headerSection).not.toMatch(/^(Bcc|X-Evil):/im);
    expect(m.parsed.bcc).toBeUndefined();
    expect(m.parsed.headers.has('x-evil')).toBe(false);
    // Every header line is either a header or a folded continuation (starts with whitespace).
    for (const line of headerSection.split('\r\n')) expect(line).toMatch(/^([A-Za-z0-9-]+:|[ \t])/);
    expect(m.parsed.subject).toBe('[eqlwatch][medium] Kubectl exec into pod — node-1 Bcc: x@evil.example/<!channel> *bold*');
    expect(m.parsed.headers.get('x-eqlwatch-alert-id')).toBe('hostile-1');
    expect(m.parsed.headers.get('x-eqlwatch-notification-id')).toBe(outbox.all()[0]!.id);
    expect(m.parsed.messageId).toBe(`<${outbox.all()[0]!.id}@eqlwatch>`);
    // Text body: the CR/LF payload is shown escaped on its line; nothing starts a forged line.
    const text = m.parsed.text ?? '';
    expect(text).toContain('Host:         node-1\\r\\nBcc: x@evil.example');
    expect(text.split('\n').some((l) => l.startsWith('Bcc:') || l.startsWith('forged body'))).toBe(false);
    expect(text).toContain('\uFFFD'); // invalid UTF-8 / lone surrogates arrive as U+FFFD
    expect(text).toMatch(/… \[truncated, \d+ more bytes\]/);
    // HTML body: escaped markup.
    const htmlBody = typeof m.parsed.html === 'string' ? m.parsed.html : '';
    expect(htmlBody).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(htmlBody).not.toContain('<script>');
    expect(htmlBody).toContain('href="https://kibana.example/app/discover#/?_g=');
  });

  it('wrong password: the failure is recorded and the item stays pending for retry', async () => {
    const cfg = emailConfig(smtp.port, { auth: { user: 'eqlwatch', pass: 'wrong' } });
    const before = smtp.mails.length;
    const { metrics, outbox } = await sendThrough(cfg, [alertDoc({ id: 'a-auth' })]);
    expect(metrics).toMatchObject({ sent: 0, failed: 1, retried: 1 });
    const item = outbox.all()[0]!;
    expect(item.status).toBe('pending');
    expect(item.lastError).toMatch(/EAUTH|Invalid login|invalid credentials/i);
    expect(smtp.mails.length).toBe(before);
  });
});

const cert = selfSignedCert();
if (!cert) console.warn('[test/notify/email] openssl not found: the STARTTLS tests are skipped');

describe.skipIf(!cert)('email over STARTTLS (self-signed cert, verified via caFile)', () => {
  let smtp: SmtpReceiver;
  let plain: SmtpReceiver;
  beforeAll(async () => {
    smtp = await startSmtp({ tls: cert!, auth: { user: 'u', pass: 'p' } });
    plain = await startSmtp();
    writeFileSync(path.join(tmp, 'ca.pem'), cert!.cert);
  });
  afterAll(async () => {
    await smtp.close();
    await plain.close();
  });

  it('upgrades with STARTTLS, verifies the certificate, authenticates and delivers', async () => {
    const cfg = emailConfig(smtp.port, { host: 'localhost', requireTLS: true, caFile: path.join(tmp, 'ca.pem'), auth: { user: 'u', pass: 'p' } });
    const { metrics } = await sendThrough(cfg, [alertDoc({ id: 'tls-1' })]);
    expect(metrics.sent).toBe(1);
    expect(smtp.mails.at(-1)?.secure).toBe(true);
    expect(smtp.mails.at(-1)?.parsed.headers.get('x-eqlwatch-alert-id')).toBe('tls-1');
  });

  it('refuses an untrusted certificate (no caFile) instead of sending in clear', async () => {
    const cfg = emailConfig(smtp.port, { host: 'localhost', requireTLS: true, auth: { user: 'u', pass: 'p' } });
    const before = smtp.mails.length;
    const { metrics, outbox } = await sendThrough(cfg, [alertDoc({ id: 'tls-2' })]);
    expect(metrics).toMatchObject({ sent: 0, failed: 1 });
    expect(outbox.all()[0]?.lastError).toMatch(/certificate/i);
    expect(smtp.mails.length).toBe(before);
  });

  it('requireTLS against a server without STARTTLS fails rather than sending in clear', async () => {
    const cfg = emailConfig(plain.port, { requireTLS: true });
    const { metrics } = await sendThrough(cfg, [alertDoc({ id: 'tls-3' })]);
    expect(metrics).toMatchObject({ sent: 0, failed: 1 });
    expect(plain.mails).toHaveLength(0);
  });

  it('notifyTest sends a clearly marked sample through the configured channel', async () => {
    const cfg = emailConfig(smtp.port, { host: 'localhost', requireTLS: true, caFile: path.join(tmp, 'ca.pem'), auth: { user: 'u', pass: 'p' } });
    const r = await notifyTest('mail', cfg);
    const m = smtp.mails.at(-1)!;
    expect(m.parsed.subject).toMatch(/^\[eqlwatch\]\[TEST\]\[medium\] eqlwatch sample/);
    expect(m.parsed.text).toContain('TEST notification from eqlwatch');
    expect(m.parsed.headers.get('x-eqlwatch-notification-id')).toBe(r.notificationId);
    await expect(notifyTest('nope', cfg)).rejects.toThrow(/unknown channel "nope"/);
  });
});
