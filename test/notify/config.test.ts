import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDuration, parseNotifyConfig } from '../../src/config/notify.js';
import { resolveSecret } from '../../src/notify/secrets.js';

describe('notify config schema', () => {
  it('applies documented defaults', () => {
    const c = parseNotifyConfig({ channels: { s: { type: 'slack', webhookUrl: { env: 'X' } } }, defaultRoute: { channels: ['s'] } });
    expect(c.limits).toEqual({ fieldBytes: 1024, argsBytes: 65_536, subjectChars: 200 });
    expect(c.digest).toEqual({ threshold: 10, show: 10 });
    expect(c.delivery).toEqual({ maxAttempts: 10, backoffBase: 30_000, backoffMax: 3_600_000, batchSize: 100, lease: 300_000 });
    expect(c.outbox.index).toBe('eqlwatch-outbox');
    expect(c.mute).toEqual({ tags: [], rules: [] });
    expect(c.channels.s).toMatchObject({ type: 'slack', timeout: 10_000 });
  });

  it('email defaults: port 587, STARTTLS required, certificate verified', () => {
    const c = parseNotifyConfig({ channels: { m: { type: 'email', host: 'smtp', from: 'a@b.c', to: ['d@e.f'] } } });
    expect(c.channels.m).toMatchObject({ port: 587, secure: false, requireTLS: true, tlsRejectUnauthorized: true, cc: [], subjectPrefix: '[eqlwatch]', timeout: 30_000 });
  });

  it('rejects routes naming unknown channels, with the path and a hint', () => {
    let err: unknown;
    try {
      parseNotifyConfig({ channels: {}, routes: [{ name: 'x', channels: ['nope'] }] });
    } catch (e) {
      err = e;
    }
    const issue = (err as { issues?: Array<{ path: unknown[]; message: string }> } | undefined)?.issues?.[0];
    expect(issue?.path).toEqual(['routes', 0, 'channels', 0]);
    expect(issue?.message).toBe('unknown channel "nope"; define it under notify.channels (known: none)');
  });

  it('rejects unknown keys, multi-line addresses and non-http Kibana URLs', () => {
    expect(() => parseNotifyConfig({ chanels: {} })).toThrow();
    expect(() => parseNotifyConfig({ channels: { m: { type: 'email', host: 'h', from: 'a@b.c\r\nBcc: x@y', to: ['d@e.f'] } } })).toThrow(/single-line/);
    expect(() => parseNotifyConfig({ kibana: { url: 'javascript:alert(1)' } })).toThrow();
  });

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration(5)).toBe(5);
    expect(() => parseDuration('10 minutes')).toThrow(/invalid duration/);
  });

  it('resolves secrets inline, from env and from file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'eqlwatch-secret-'));
    try {
      writeFileSync(path.join(dir, 's'), 'from-file\n');
      expect(resolveSecret('inline')).toBe('inline');
      expect(resolveSecret({ env: 'A' }, { A: 'from-env' })).toBe('from-env');
      expect(resolveSecret({ file: path.join(dir, 's') })).toBe('from-file');
      expect(() => resolveSecret({ env: 'MISSING' }, {})).toThrow(/MISSING is not set/);
      expect(() => resolveSecret({ file: path.join(dir, 'none') })).toThrow(/cannot read secret file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
