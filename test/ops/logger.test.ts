/**
 * Logs: ECS-shaped JSON lines from Elastic's pino formatter, secrets redacted under every key name the worker
 * uses for them, errors as error.*, and hostile text kept on one line.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[]; raw: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString('utf8');
      cb();
    },
  });
  return { stream, raw: () => text, lines: () => text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes ECS fields through @elastic/ecs-pino-format', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream, name: 'eqlwatch-test' });
    log.info({ 'rule.id': 'r1' }, 'hello');
    log.child({ 'worker.id': 'w1' }).warn('from a child');
    log.error({ err: new TypeError('boom') }, 'failed');
    const [info, child, error] = out.lines();
    expect(info).toMatchObject({ 'log.level': 'info', message: 'hello', 'rule.id': 'r1', 'service.name': 'eqlwatch-test', 'process.pid': process.pid, 'ecs.version': expect.stringMatching(/^8\./) });
    expect(Date.parse(String(info!['@timestamp']))).not.toBeNaN();
    expect(info!['host.hostname']).toEqual(expect.any(String));
    expect(child).toMatchObject({ 'log.level': 'warn', 'worker.id': 'w1', 'ecs.version': info!['ecs.version'] });
    expect(error).toMatchObject({ 'log.level': 'error', error: { type: 'TypeError', message: 'boom', stack_trace: expect.stringContaining('TypeError: boom') } });
  });

  it('redacts secrets under every key name, at any of the depths the worker logs them', () => {
    const out = capture();
    const log = createLogger({ destination: out.stream });
    const s = 'hunter2-SECRET';
    log.info({
      password: s, apiKey: s, api_key: s, authorization: s, secret: s, token: s, webhookUrl: s, url_with_secret: s,
      auth: { password: s, apiKey: s, api_key: s, authorization: s, secret: s, token: s, webhookUrl: s, headers: { authorization: s, Authorization: s } },
      channels: { slack: { webhookUrl: s, secret: s, password: s, apiKey: s } },
    }, 'config');
    expect(out.raw()).not.toContain(s);
    expect(out.raw().match(/\[REDACTED\]/g)!.length).toBe(21);
  });

  it('keeps hostile text on one JSON line', () => {
    const out = capture();
    createLogger({ destination: out.stream }).warn({ 'process.command_line': 'a\n{"log.level":"fatal"}\r\n' }, 'line\nbreak');
    expect(out.raw().trimEnd().split('\n')).toHaveLength(1);
    expect(out.lines()[0]).toMatchObject({ 'log.level': 'warn', message: 'line\nbreak' });
  });
});
