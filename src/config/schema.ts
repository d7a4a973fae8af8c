/**
 * The worker's configuration: `config/eqlwatch.yml` (or `--config`) overlaid with environment variables.
 * Defaults work against a local, unsecured stack on http://127.0.0.1:9200.
 */
import { z } from 'zod';
import { esConfigSchema } from './es.js';
import { notifyConfigSchema } from './notify.js';
import { parseDuration } from '../rules/duration.js';

const duration = (dflt: string) =>
  z
    .union([z.string(), z.number().int().nonnegative()])
    .default(dflt)
    .transform((v, ctx) => {
      if (typeof v === 'number') return v;
      if (v === '0' || v === '0s') return 0;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration; use e.g. "30s", "5m", "1h"` });
        return z.NEVER;
      }
      return ms;
    });

const indexName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'Elasticsearch index names are lower case, with no spaces or \\/*?"<>|,#:');

export const workerConfigSchema = z.strictObject({
  /** Identifies this worker in leases and logs; defaults to hostname-pid. */
  id: z.string().min(1).max(128).optional(),
  /** Events whose window time is younger than this are left to the next run (saves re-reads after a refresh lag). */
  ingestDelay: duration('0s'),
  /**
   * Lateness tolerance: an event that becomes searchable up to this long after its time is evaluated exactly
   * as if it had arrived in time. Sequence rules evaluate `@timestamp` only once this has passed; later
   * arrivals are still found (by the audit), logged, counted and re-evaluated with the events around them.
   */
  lateness: duration('1m'),
  /** How far back every run checks that the stretches it read received no documents since (late arrivals). */
  auditHorizon: duration('24h'),
  /**
   * Rules over the same indices share one read per window (and one lease, one state save, one alert write):
   * Elasticsearch's cost per window does not grow with the number of rules. Off: every rule on its own.
   */
  sharedScans: z.boolean().default(true),
  /** Run every rule this often instead of at its own `interval` (near-real-time mode, e.g. "5s"). */
  interval: duration('0s').transform((v) => (v === 0 ? undefined : v)),
  /** Index mappings are cached this long between runs (a new index of a pattern is picked up at once). */
  mappingsRefresh: duration('30s'),
  /** Largest window one query reads; a longer backlog is read in chunks of this size. */
  maxWindow: duration('1h'),
  /** Largest backlog caught up after downtime; older time is skipped and reported as a gap. */
  maxCatchup: duration('24h'),
  /** A rule's lease lasts this long without renewal; another worker may take over after it. */
  leaseTtl: duration('2m'),
  /** How many rules run at once. */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Documents per page read from Elasticsearch. */
  pageSize: z.number().int().min(10).max(10_000).default(1000),
  /** Bounds the pending partial sequences kept per rule stage (memory bound, not window bound). */
  maxPendingSequences: z.number().int().min(100).default(10_000),
});

export const configSchema = z.strictObject({
  elasticsearch: esConfigSchema.prefault({ node: 'http://127.0.0.1:9200' }),
  rules: z.strictObject({ dir: z.string().min(1).default('queries') }).prefault({}),
  alerts: z
    .strictObject({
      /** Alias the worker writes to; the backing index is created by `eqlwatch setup` or on start. */
      index: indexName.default('eqlwatch-alerts-default'),
      /** Kibana space recorded in `kibana.space_ids` and in alert ids. */
      spaceId: z.string().regex(/^[a-z0-9_-]+$/).default('default'),
      /**
       * Promotion into Kibana's Security app: an ECS `event.kind: alert` document per alert in the
       * `logs-eqlwatch.alerts-<namespace>` data stream, turned into Security alerts by the query rule that
       * `eqlwatch setup` installs (needs kibana.url). Links then open the promoted alert in Security.
       */
      promotion: z
        .strictObject({
          enabled: z.boolean().default(true),
          namespace: z.string().regex(/^[a-z0-9_]+$/, 'data stream namespaces are lower case letters, digits and _').max(100).default('default'),
        })
        .prefault({}),
    })
    .prefault({}),
  state: z.strictObject({ index: indexName.default('eqlwatch-state') }).prefault({}),
  kibana: z
    .strictObject({
      url: z.url().optional(),
      /** Secrets as for Elasticsearch: inline, { env: NAME } or { file: PATH }. */
      username: z.string().optional(),
      password: z.union([z.string(), z.strictObject({ env: z.string() }), z.strictObject({ file: z.string() })]).optional(),
      apiKey: z.union([z.string(), z.strictObject({ env: z.string() }), z.strictObject({ file: z.string() })]).optional(),
    })
    .prefault({}),
  worker: workerConfigSchema.prefault({}),
  notify: notifyConfigSchema.prefault({}),
  http: z
    .strictObject({
      enabled: z.boolean().default(true),
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(9464),
    })
    .prefault({}),
  logging: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
