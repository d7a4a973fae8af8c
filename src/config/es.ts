/**
 * Elasticsearch connection configuration (zod). Lives under the `elasticsearch` key of the worker
 * config; `esConfigFromEnv` builds the same shape from environment variables.
 *
 * Environment variables (each overrides the matching config-file field):
 *   ES_URL              node URL, or several separated by commas (http(s)://host:port)
 *   ES_CLOUD_ID         Elastic Cloud deployment id (instead of ES_URL)
 *   ES_API_KEY          API key (the base64 "id:key" encoding Kibana shows)      } one of these
 *   ES_USERNAME         basic-auth user name                                      } two ways
 *   ES_PASSWORD         basic-auth password                                       }
 *   ES_API_KEY_FILE     file holding the API key (Docker/Kubernetes secrets)
 *   ES_PASSWORD_FILE    file holding the password
 *   ES_CA_FILE          PEM file of the CA that signed the cluster's certificate
 *   ES_CA_FINGERPRINT   SHA-256 fingerprint of that CA (as printed by Elasticsearch at set-up)
 *   ES_TLS_REJECT_UNAUTHORIZED=false   accept any certificate (test clusters only)
 *   ES_REQUEST_TIMEOUT  per-request timeout in milliseconds
 *   ES_MAX_RETRIES      transport retries on connection errors and 502/503/504
 *
 * Secrets (API key, password) are given inline, as `{ env: NAME }` or `{ file: PATH }`; they are
 * resolved only when the client is created and never appear in `describeEsConfig` or in errors.
 */
import { z } from 'zod';

/** A secret given inline, or read when the client is created from an environment variable or a file. */
export const esSecretSchema = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().min(1) }),
  z.strictObject({ file: z.string().min(1) }),
]);
export type EsSecret = z.infer<typeof esSecretSchema>;

const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected an http:// or https:// URL, e.g. https://es.example.com:9200');

const sha256Fingerprint = z
  .string()
  .trim()
  .transform((v) => v.replace(/:/g, '').toUpperCase())
  .refine((v) => /^[0-9A-F]{64}$/.test(v), 'expected a SHA-256 fingerprint: 64 hex digits, colons allowed');

export const esAuthSchema = z.union([
  z.strictObject({ apiKey: esSecretSchema }),
  z.strictObject({ username: z.string().min(1), password: esSecretSchema }),
]);
export type EsAuthConfig = z.infer<typeof esAuthSchema>;

export const esTlsSchema = z.strictObject({
  /** PEM file of the CA to trust (self-managed clusters with their own CA). */
  caFile: z.string().min(1).optional(),
  /** SHA-256 fingerprint of the CA certificate, as printed by Elasticsearch when security is set up. */
  caFingerprint: sha256Fingerprint.optional(),
  /** Verify the server certificate; turn off only for throwaway test clusters. */
  rejectUnauthorized: z.boolean().default(true),
});

export const esConfigSchema = z
  .strictObject({
    /** One node URL, or several. */
    node: z.union([httpUrl, z.array(httpUrl).min(1)]).optional(),
    /** Synonym of `node` for several URLs. */
    nodes: z.array(httpUrl).min(1).optional(),
    cloud: z.strictObject({ id: z.string().trim().min(1) }).optional(),
    auth: esAuthSchema.optional(),
    tls: esTlsSchema.optional(),
    /** Milliseconds before one HTTP request is abandoned (and possibly retried). */
    requestTimeout: z.number().int().positive().default(30_000),
    /** Transport-level retries (connection errors, 502/503/504). */
    maxRetries: z.number().int().min(0).max(20).default(3),
  })
  .superRefine((c, ctx) => {
    const given = [c.node !== undefined, c.nodes !== undefined, c.cloud !== undefined].filter(Boolean).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one of `node`, `nodes` or `cloud.id` (env: ES_URL or ES_CLOUD_ID)',
      });
    }
  });

export type EsConfigInput = z.input<typeof esConfigSchema>;
export type EsConfig = z.output<typeof esConfigSchema>;

/** Node URLs of a config (empty for Elastic Cloud). */
export function esNodeUrls(config: EsConfig): string[] {
  if (config.nodes) return config.nodes;
  if (config.node === undefined) return [];
  return Array.isArray(config.node) ? config.node : [config.node];
}

/** Validates a config object; throws a ZodError whose messages never contain secret values. */
export function parseEsConfig(input: unknown): EsConfig {
  return esConfigSchema.parse(input);
}

type Env = Record<string, string | undefined>;

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v);

/**
 * Overlays the ES_* environment variables (see the header) on a config-file section and validates
 * the result. `base` may be partial (e.g. only `auth`); env values win field by field.
 */
export function esConfigFromEnv(env: Env = process.env, base: Partial<EsConfigInput> = {}): EsConfig {
  const merged: Record<string, unknown> = { ...base };
  const url = nonEmpty(env.ES_URL);
  const cloudId = nonEmpty(env.ES_CLOUD_ID);
  if (url !== undefined) {
    const urls = url.split(',').map((u) => u.trim()).filter((u) => u !== '');
    delete merged.nodes;
    delete merged.cloud;
    merged.node = urls.length === 1 ? urls[0] : urls;
  } else if (cloudId !== undefined) {
    delete merged.node;
    delete merged.nodes;
    merged.cloud = { id: cloudId };
  }

  const apiKey = nonEmpty(env.ES_API_KEY);
  const apiKeyFile = nonEmpty(env.ES_API_KEY_FILE);
  const username = nonEmpty(env.ES_USERNAME);
  const password = nonEmpty(env.ES_PASSWORD);
  const passwordFile = nonEmpty(env.ES_PASSWORD_FILE);
  if (apiKey !== undefined) merged.auth = { apiKey: { env: 'ES_API_KEY' } };
  else if (apiKeyFile !== undefined) merged.auth = { apiKey: { file: apiKeyFile } };
  else if (username !== undefined) {
    const pw: EsSecret | undefined =
      password !== undefined ? { env: 'ES_PASSWORD' } : passwordFile !== undefined ? { file: passwordFile } : undefined;
    const basePw = base.auth && 'password' in base.auth ? base.auth.password : undefined;
    merged.auth = { username, password: pw ?? basePw };
  } else if ((password !== undefined || passwordFile !== undefined) && base.auth && 'username' in base.auth) {
    merged.auth = {
      username: base.auth.username,
      password: password !== undefined ? { env: 'ES_PASSWORD' } : { file: passwordFile as string },
    };
  }

  const tls: Record<string, unknown> = { ...(base.tls ?? {}) };
  const caFile = nonEmpty(env.ES_CA_FILE);
  const caFingerprint = nonEmpty(env.ES_CA_FINGERPRINT);
  const reject = nonEmpty(env.ES_TLS_REJECT_UNAUTHORIZED);
  if (caFile !== undefined) tls.caFile = caFile;
  if (caFingerprint !== undefined) tls.caFingerprint = caFingerprint;
  if (reject !== undefined) tls.rejectUnauthorized = !/^(false|0|no)$/i.test(reject.trim());
  if (Object.keys(tls).length > 0) merged.tls = tls;

  const timeout = nonEmpty(env.ES_REQUEST_TIMEOUT);
  const retries = nonEmpty(env.ES_MAX_RETRIES);
  if (timeout !== undefined) merged.requestTimeout = Number(timeout);
  if (retries !== undefined) merged.maxRetries = Number(retries);
  return parseEsConfig(merged);
}

/** A URL with any user-info replaced, so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username !== '' || u.password !== '') {
      u.username = 'REDACTED';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid url>';
  }
}

function describeSecret(s: EsSecret): string {
  if (typeof s === 'string') return '<redacted>';
  return 'env' in s ? `<from env ${s.env}>` : `<from file ${s.file}>`;
}

/** One log-safe line describing where and how we connect; secrets are never included. */
export function describeEsConfig(config: EsConfig): string {
  const parts: string[] = [];
  const urls = esNodeUrls(config);
  if (urls.length > 0) parts.push(`nodes=${urls.map(redactUrl).join(',')}`);
  if (config.cloud) parts.push(`cloud.id=${config.cloud.id.split(':')[0] ?? '?'}:<redacted>`);
  if (!config.auth) parts.push('auth=none');
  else if ('apiKey' in config.auth) parts.push(`auth=apiKey ${describeSecret(config.auth.apiKey)}`);
  else parts.push(`auth=basic user=${config.auth.username} password ${describeSecret(config.auth.password)}`);
  if (config.tls) {
    const t = config.tls;
    const tls: string[] = [];
    if (t.caFile) tls.push(`caFile=${t.caFile}`);
    if (t.caFingerprint) tls.push(`caFingerprint=${t.caFingerprint.slice(0, 8)}…`);
    if (!t.rejectUnauthorized) tls.push('rejectUnauthorized=false');
    if (tls.length > 0) parts.push(`tls(${tls.join(' ')})`);
  }
  parts.push(`requestTimeout=${config.requestTimeout}ms`, `maxRetries=${config.maxRetries}`);
  return parts.join(' ');
}
