/** Build channel instances and dispatcher options from the validated configuration. */
import { readFileSync } from 'node:fs';
import type { ChannelConfig, NotifyConfig } from '../config/notify.js';
import type { Channel } from './channels/channel.js';
import { EmailChannel } from './channels/email.js';
import { SlackChannel } from './channels/slack.js';
import { WebhookChannel } from './channels/webhook.js';
import { trustDispatcher } from './channels/http.js';
import type { DeliverOptions } from './dispatch.js';
import type { RenderOptions } from './render/common.js';
import { resolveSecret } from './secrets.js';

export function renderOptions(cfg: NotifyConfig, subjectPrefix = '[eqlwatch]'): RenderOptions {
  return {
    kibana: { url: cfg.kibana.url, spaceId: cfg.kibana.spaceId },
    subjectPrefix,
    subjectChars: cfg.limits.subjectChars,
  };
}

/** The CA file's PEM, read when the channel is built (a rotated file is picked up on restart). */
const caPem = (c: ChannelConfig): string | undefined => (c.caFile ? readFileSync(c.caFile, 'utf8') : undefined);

export function buildChannel(name: string, c: ChannelConfig, cfg: NotifyConfig, env: NodeJS.ProcessEnv = process.env): Channel {
  switch (c.type) {
    case 'email':
      return new EmailChannel({
        name,
        host: c.host,
        port: c.port,
        secure: c.secure,
        requireTLS: c.requireTLS,
        tlsRejectUnauthorized: c.tlsRejectUnauthorized,
        ca: caPem(c),
        auth: c.auth ? { user: resolveSecret(c.auth.user, env), pass: resolveSecret(c.auth.pass, env) } : undefined,
        from: c.from,
        to: c.to,
        cc: c.cc,
        timeoutMs: c.timeout,
        render: renderOptions(cfg, c.subjectPrefix),
      });
    case 'slack':
      return new SlackChannel({
        name,
        webhookUrl: resolveSecret(c.webhookUrl, env),
        timeoutMs: c.timeout,
        render: renderOptions(cfg),
        dispatcher: trustDispatcher({ ca: caPem(c), rejectUnauthorized: c.tlsRejectUnauthorized }),
      });
    case 'webhook':
      return new WebhookChannel({
        name,
        url: resolveSecret(c.url, env),
        headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, resolveSecret(v, env)])),
        secret: c.secret ? resolveSecret(c.secret, env) : undefined,
        timeoutMs: c.timeout,
        render: renderOptions(cfg),
        dispatcher: trustDispatcher({ ca: caPem(c), rejectUnauthorized: c.tlsRejectUnauthorized }),
      });
  }
}

export function buildChannels(cfg: NotifyConfig, env: NodeJS.ProcessEnv = process.env): Record<string, Channel> {
  const out: Record<string, Channel> = {};
  for (const [name, c] of Object.entries(cfg.channels)) out[name] = buildChannel(name, c, cfg, env);
  return out;
}

export function deliverOptions(cfg: NotifyConfig): DeliverOptions {
  return {
    maxAttempts: cfg.delivery.maxAttempts,
    backoff: { baseMs: cfg.delivery.backoffBase, maxMs: cfg.delivery.backoffMax },
    batchSize: cfg.delivery.batchSize,
    leaseMs: cfg.delivery.lease,
  };
}
