/**
 * Invisible and bidi control characters from events (zero-width space, LRM/RLM and the other bidi controls,
 * U+2060, soft hyphen, BOM, tag characters U+E0000–E007F, and the rest of Unicode's format and
 * default-ignorable characters) never reach a reader raw: email subjects and bodies, Slack text and webhook
 * bytes show them as escapes. Checked on what a real SMTP server and a real HTTP receiver got.
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../../src/notify/dispatch.js';
import { buildChannels } from '../../src/notify/factory.js';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryOutbox } from '../../src/notify/outbox.js';
import { headerText, html, jsonText, plainText, slackCode, slackText } from '../../src/notify/render/escape.js';
import { renderSlack } from '../../src/notify/render/slack.js';
import { summarizeAlert } from '../../src/notify/render/summary.js';
import type { AlertDoc } from '../../src/notify/types.js';
import { alertDoc, config, startHttpReceiver, startSmtp, type HttpReceiver, type SmtpReceiver } from './helpers.js';

/** "root" followed by tag characters spelling "-evil": renders as "root" in most fonts. */
const TAGGED = `root${[...'-evil'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('')}`;
const INVISIBLES: Record<string, string> = {
  'zero-width space': '\u200B',
  'zero-width non-joiner': '\u200C',
  'zero-width joiner': '\u200D',
  LRM: '\u200E',
  RLM: '\u200F',
  'Arabic letter mark': '\u061C',
  'LRE, RLE, PDF, LRO, RLO': '\u202A\u202B\u202C\u202D\u202E',
  'LRI, RLI, FSI, PDI': '\u2066\u2067\u2068\u2069',
  'word joiner U+2060': '\u2060',
  'invisible times': '\u2062',
  'soft hyphen': '\u00AD',
  BOM: '\uFEFF',
  'language tag': '\u{E0001}',
  'tag characters': TAGGED.slice(4),
  'variation selector 16': '\uFE0F',
  'Mongolian vowel separator': '\u180E',
  'Hangul filler': '\u3164',
  'combining grapheme joiner': '\u034F',
  'interlinear annotation': '\uFFF9',
};
const ANY_INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Cc}\u2028\u2029]/u;
const ALL = Object.values(INVISIBLES).join('');

describe('escapers', () => {
  it.each(Object.entries(INVISIBLES))('%s is shown as an escape in every text context', (_name, chars) => {
    const value = `ro${chars}ot`;
    for (const out of [plainText(value), html(value), slackText(value), slackCode(value), headerText(value)]) {
      expect(out).not.toMatch(ANY_INVISIBLE);
      expect(out.startsWith('ro\\')).toBe(true);
      expect(out.endsWith('ot')).toBe(true);
    }
  });

  it('spells each code point out (\\u{…} beyond the BMP), so the reader sees exactly what was hidden', () => {
    expect(plainText('a\u200Bb\u202Ec\u00ADd\uFEFFe')).toBe('a\\u200Bb\\u202Ec\\xADd\\uFEFFe');
    expect(plainText(TAGGED)).toBe('root\\u{E002D}\\u{E0065}\\u{E0076}\\u{E0069}\\u{E006C}');
    // In a subject, line breaks still become spaces; invisible characters are spelled out.
    expect(headerText('a\r\nb\u200Bc\uFEFF')).toBe('a b\\u200Bc\\uFEFF');
  });

  it('property: no output of any text escaper holds a format, default-ignorable or control character', () => {
    const invisible = fc.constantFrom(...ALL, ...Array.from({ length: 0x80 }, (_, i) => String.fromCodePoint(0xe0000 + i)));
    const s = fc.string({ unit: fc.oneof(invisible, fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 80 });
    fc.assert(
      fc.property(s, (v) => {
        for (const out of [plainText(v), html(v), slackText(v), slackCode(v), headerText(v, 500)]) expect(out).not.toMatch(ANY_INVISIBLE);
        const json = jsonText({ v });
        expect(json).not.toMatch(ANY_INVISIBLE);
        expect((JSON.parse(json) as { v: string }).v).toBe(v);
      }),
      { numRuns: 1000 },
    );
  });
});

/** An alert whose user, host, pod and command line hide characters. */
function sneakyAlert(id: string): AlertDoc {
  return alertDoc({
    id,
    user: TAGGED,
    host: 'node-1\u202Egnp.exe',
    pod: `web\u200B-1${ALL}`,
    commandLine: `curl\u00AD -s http://x\u2060/\uFEFFpayload ${ALL}`,
  });
}

async function enqueue(cfg: ReturnType<typeof config>, docs: AlertDoc[]): Promise<MemoryOutbox> {
  const outbox = new MemoryOutbox();
  await new Notifier(cfg, outbox).enqueueAlerts(docs, 0);
  return outbox;
}

describe('email (real SMTP server on loopback)', () => {
  let smtp: SmtpReceiver;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(async () => smtp.close());

  it('subject, text and HTML bodies show the hidden characters as escapes', async () => {
    const cfg = config({
      channels: { mail: { type: 'email', host: '127.0.0.1', port: smtp.port, requireTLS: false, from: 'e@example.org', to: ['soc@example.org'], timeout: '5s' } },
      defaultRoute: { channels: ['mail'] },
    });
    const channels = buildChannels(cfg);
    await deliverDue(await enqueue(cfg, [sneakyAlert('inv-mail')]), channels, 1);
    for (const c of Object.values(channels)) await c.close?.();
    expect(smtp.mails).toHaveLength(1);
    const m = smtp.mails[0]!.parsed;
    const subject = m.subject ?? '';
    const text = m.text ?? '';
    const body = typeof m.html === 'string' ? m.html : '';
    expect(subject).toContain('node-1\\u202Egnp.exe');
    expect(subject).toContain('web\\u200B-1');
    expect(text).toContain('User:         root\\u{E002D}\\u{E0065}\\u{E0076}\\u{E0069}\\u{E006C}');
    expect(text).toContain('curl\\xAD -s http://x\\u2060/\\uFEFFpayload');
    expect(body).toContain('root\\u{E002D}\\u{E0065}');
    for (const [where, s] of [['subject', subject], ['text', text], ['html', body]] as const) {
      expect(s, where).not.toMatch(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u);
      expect(s, where).toContain('\\u200B');
    }
  });
});

describe('Slack and webhook (real HTTP receiver)', () => {
  let rx: HttpReceiver;
  beforeAll(async () => {
    rx = await startHttpReceiver();
  });
  afterEach(() => {
    rx.requests.length = 0;
  });
  afterAll(async () => rx.stop());

  it('Slack: the received bytes hold no hidden character; the text shows escapes', async () => {
    const cfg = config({ channels: { s: { type: 'slack', webhookUrl: rx.url } }, defaultRoute: { channels: ['s'] } });
    await deliverDue(await enqueue(cfg, [sneakyAlert('inv-slack')]), buildChannels(cfg), 1);
    const raw = rx.requests[0]!.raw.toString('utf8');
    expect(raw).not.toMatch(/[\p{Cf}\p{Default_Ignorable_Code_Point}\u2028\u2029]/u);
    const text = JSON.stringify(rx.requests[0]!.json);
    expect(text).toContain('User: root\\\\u{E002D}\\\\u{E0065}');
    expect(text).toContain('Host: node-1\\\\u202Egnp.exe');
    expect(text).toContain('curl\\\\xAD -s http://x\\\\u2060/\\\\uFEFFpayload');
  });

  it('webhook: the received bytes hold no hidden character; the parsed JSON is the exact value', async () => {
    const cfg = config({ channels: { w: { type: 'webhook', url: rx.url } }, defaultRoute: { channels: ['w'] } });
    await deliverDue(await enqueue(cfg, [sneakyAlert('inv-hook')]), buildChannels(cfg), 1);
    const raw = rx.requests[0]!.raw.toString('utf8');
    expect(raw).not.toMatch(/[\p{Cf}\p{Default_Ignorable_Code_Point}\u2028\u2029]/u);
    // JSON escapes: visible in the bytes, exact once parsed (a webhook carries data, not a rendering).
    expect(raw).toContain('"user":"root\\udb40\\udc2d\\udb40\\udc65');
    expect(raw).toContain('node-1\\u202egnp.exe');
    const alert = (rx.requests[0]!.json as { alerts: { user: string; host: string }[] }).alerts[0]!;
    expect(alert.user).toBe(TAGGED);
    expect(alert.host).toBe('node-1\u202Egnp.exe');
  });
});

describe('Slack context block with many MITRE tactics', () => {
  it('ten or more tactics still leave room for the reason and the alert id (at most 10 elements)', () => {
    const doc = alertDoc({ id: 'many-tactics' });
    doc['kibana.alert.rule.threat'] = Array.from({ length: 12 }, (_, i) => ({
      framework: 'MITRE ATT&CK',
      tactic: { id: `TA00${String(i + 1).padStart(2, '0')}`, name: `Tactic ${i + 1}` },
      technique: [{ id: `T${1000 + i}`, name: `Technique ${i + 1}` }],
    }));
    const s = summarizeAlert(doc);
    expect(s.threat.length).toBeGreaterThanOrEqual(10);
    const msg = renderSlack({ notificationId: 'n', payload: { kind: 'alert', ruleName: s.ruleName, severity: s.severity, alerts: [s], total: 1 }, suppressed: 0 },
      { kibana: {}, subjectPrefix: '[eqlwatch]', subjectChars: 200 });
    const ctx = msg.attachments[0]!.blocks.find((b) => b.type === 'context' && JSON.stringify(b).includes('MITRE')) as { elements: { text: string }[] };
    expect(ctx.elements.length).toBeLessThanOrEqual(10);
    const texts = ctx.elements.map((e) => e.text);
    expect(texts.at(-1)).toBe('Alert id: many-tactics');
    expect(texts.at(-2)).toBe(s.reason);
    // Every tactic shown is still there, the overflow sharing the last MITRE element.
    for (const t of s.threat) expect(texts.join('\n')).toContain(`${t.tactic!.name} (${t.tactic!.id})`);
  });
});
