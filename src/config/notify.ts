/**
 * Notification configuration (zod). Lives under the `notify` key of the worker config; the loader
 * (src/config) passes that sub-tree to `parseNotifyConfig`. Every field is documented in
 * docs/notifications.md.
 */
import { z } from 'zod';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s" | "10m" | "1h" | "2d" | "250ms" | number of milliseconds -> milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = DURATION.exec(v.trim());
  if (!m) throw new Error(`invalid duration "${v}" (expected e.g. 30s, 10m, 1h)`);
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

const duration = z
  .union([z.number().int().nonnegative(), z.string().regex(DURATION, 'expected a duration such as 30s, 10m, 1h')])
  .transform((v) => parseDuration(v));

/** A secret given inline, or read at start-up from an environment variable or a file (trailing newline trimmed). */
export const secretRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type SecretRef = z.infer<typeof secretRefSchema>;

const severity = z.enum(['low', 'medium', 'high', 'critical']);
const address = z.string().min(3).regex(/^[^\r\n]+$/, 'addresses must be single-line');

/** Who a channel trusts: the public CAs by default, verified; every channel takes the same two keys. */
const tlsTrust = {
  /** Verify the server certificate (turn off only for a test server). */
  tlsRejectUnauthorized: z.boolean().default(true),
  /** PEM file of the CA(s) to trust instead of the public ones (a private relay or receiver). */
  caFile: z.string().min(1).optional(),
};

export const emailChannelSchema = z.strictObject({
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(587),
  /** Implicit TLS from the first byte (port 465). */
  secure: z.boolean().default(false),
  /** Refuse to send unless the server upgrades with STARTTLS (ignored when `secure`). */
  requireTLS: z.boolean().default(true),
  ...tlsTrust,
  auth: z.strictObject({ user: secretRefSchema, pass: secretRefSchema }).optional(),
  from: address,
  to: z.array(address).min(1),
  cc: z.array(address).default([]),
  subjectPrefix: z.string().max(40).default('[eqlwatch]'),
  timeout: duration.default(30_000),
});

export const slackChannelSchema = z.strictObject({
  type: z.literal('slack'),
  /** Incoming-webhook URL; a secret, so usually `{ env: … }` or `{ file: … }`. */
  webhookUrl: secretRefSchema,
  ...tlsTrust,
  timeout: duration.default(10_000),
});

export const webhookChannelSchema = z.strictObject({
  type: z.literal('webhook'),
  url: secretRefSchema,
  headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'header names are tokens'), secretRefSchema).default({}),
  /** HMAC-SHA256 key for the X-Eqlwatch-Signature header. */
  secret: secretRefSchema.optional(),
  ...tlsTrust,
  timeout: duration.default(10_000),
});

export const channelSchema = z.discriminatedUnion('type', [emailChannelSchema, slackChannelSchema, webhookChannelSchema]);
export type ChannelConfig = z.infer<typeof channelSchema>;
export type EmailChannelConfig = z.infer<typeof emailChannelSchema>;
export type SlackChannelConfig = z.infer<typeof slackChannelSchema>;
export type WebhookChannelConfig = z.infer<typeof webhookChannelSchema>;

const throttleSchema = z.strictObject({
  window: duration,
  /** Alert fields that, with the rule, form the throttle group (e.g. orchestrator.resource.name). */
  groupBy: z.array(z.string().min(1)).default([]),
});

const routeShared = {
  channels: z.array(z.string().min(1)).min(1),
  throttle: throttleSchema.optional(),
  /** More than this many alerts of one rule in one run on this route become one digest. */
  digestThreshold: z.number().int().min(1).optional(),
};

export const routeSchema = z.strictObject({
  name: z.string().min(1),
  /** Rule ids (TOML rule_id), Kibana rule uuids or exact rule names; any matches. */
  rules: z.array(z.string().min(1)).optional(),
  /** Minimum alert severity (inclusive). */
  minSeverity: severity.optional(),
  /** Rule tags; any matches. */
  tags: z.array(z.string().min(1)).optional(),
  ...routeShared,
});
export type RouteConfig = z.infer<typeof routeSchema>;

export const notifyConfigSchema = z
  .strictObject({
    channels: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'channel names: letters, digits, _ and -'), channelSchema).default({}),
    routes: z.array(routeSchema).default([]),
    /** Used for alerts no route matches. Omit to drop them. */
    defaultRoute: z.strictObject(routeShared).optional(),
    mute: z.strictObject({ tags: z.array(z.string()).default([]), rules: z.array(z.string()).default([]) }).prefault({}),
    kibana: z
      .strictObject({
        url: z.url({ protocol: /^https?$/ }).optional(),
        spaceId: z.string().regex(/^[a-z0-9_-]+$/).optional(),
      })
      .prefault({}),
    limits: z
      .strictObject({
        fieldBytes: z.number().int().min(16).default(1024),
        argsBytes: z.number().int().min(16).default(65_536),
        subjectChars: z.number().int().min(20).max(900).default(200),
      })
      .prefault({}),
    digest: z
      .strictObject({
        threshold: z.number().int().min(1).default(10),
        show: z.number().int().min(1).max(50).default(10),
      })
      .prefault({}),
    delivery: z
      .strictObject({
        maxAttempts: z.number().int().min(1).default(10),
        backoffBase: duration.default(30_000),
        backoffMax: duration.default(3_600_000),
        batchSize: z.number().int().min(1).default(100),
        lease: duration.default(300_000),
      })
      .prefault({}),
    outbox: z.strictObject({ index: z.string().min(1).default('eqlwatch-outbox') }).prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const known = new Set(Object.keys(cfg.channels));
    const check = (chs: string[], path: (string | number)[]) =>
      chs.forEach((c, i) => {
        if (!known.has(c))
          ctx.addIssue({
            code: 'custom',
            path: [...path, i],
            message: `unknown channel "${c}"; define it under notify.channels (known: ${[...known].join(', ') || 'none'})`,
          });
      });
    cfg.routes.forEach((r, i) => check(r.channels, ['routes', i, 'channels']));
    if (cfg.defaultRoute) check(cfg.defaultRoute.channels, ['defaultRoute', 'channels']);
  });

export type NotifyConfig = z.output<typeof notifyConfigSchema>;
export type NotifyConfigInput = z.input<typeof notifyConfigSchema>;

export function parseNotifyConfig(input: unknown): NotifyConfig {
  return notifyConfigSchema.parse(input ?? {});
}
