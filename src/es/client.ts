/**
 * Elasticsearch client factory: turns a validated `EsConfig` into a client, resolving secrets from
 * the environment or files at this point only (so a rotated secret file is picked up on restart and
 * no secret sits in the parsed config), and the pinned CA of `tls.caFingerprint` (see tls-trust.ts).
 */
import { readFileSync } from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { esNodeUrls, type EsConfig, type EsSecret } from '../config/es.js';
import { EsTrustError, fetchPinnedCa } from './tls-trust.js';

export interface SecretSources {
  env: Record<string, string | undefined>;
  readFile: (path: string) => string;
}

const defaultSources: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

/** Raised when a secret reference cannot be resolved; the message names the source, never the value. */
export class EsSecretError extends Error {
  override name = 'EsSecretError';
}

export function resolveEsSecret(secret: EsSecret, what: string, sources: SecretSources = defaultSources): string {
  if (typeof secret === 'string') return secret;
  if ('env' in secret) {
    const v = sources.env[secret.env];
    if (v === undefined || v === '') throw new EsSecretError(`${what}: environment variable ${secret.env} is not set`);
    return v;
  }
  let text: string;
  try {
    text = sources.readFile(secret.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new EsSecretError(`${what}: cannot read ${secret.file} (${code})`);
  }
  const v = text.replace(/\r?\n$/, '');
  if (v === '') throw new EsSecretError(`${what}: ${secret.file} is empty`);
  return v;
}

/**
 * True when the config pins the CA by fingerprint alone and verification is on: the CA certificate must then be
 * read from the cluster (`fetchPinnedCa`) before a client can verify anything.
 */
export function needsPinnedCa(config: EsConfig): boolean {
  return Boolean(config.tls?.caFingerprint && !config.tls.caFile && config.tls.rejectUnauthorized && !config.cloud);
}

/**
 * The client options for a config (exported so the mapping is testable without a cluster). `pinnedCa` is the
 * PEM `fetchPinnedCa` found for a fingerprint-only config (see `needsPinnedCa`).
 */
export function esClientOptions(config: EsConfig, sources: SecretSources = defaultSources, pinnedCa?: string): ClientOptions {
  const opts: ClientOptions = {
    requestTimeout: config.requestTimeout,
    maxRetries: config.maxRetries,
    // Never echo request bodies (alerts carry attacker-controlled fields) in client-side errors.
    redaction: { type: 'replace' },
  };
  const urls = esNodeUrls(config);
  if (urls.length > 0) opts.nodes = urls;
  if (config.cloud) opts.cloud = { id: config.cloud.id };
  if (config.auth) {
    opts.auth =
      'apiKey' in config.auth
        ? { apiKey: resolveEsSecret(config.auth.apiKey, 'elasticsearch.auth.apiKey', sources) }
        : {
            username: config.auth.username,
            password: resolveEsSecret(config.auth.password, 'elasticsearch.auth.password', sources),
          };
  }
  if (config.tls) {
    const tls: NonNullable<ClientOptions['tls']> = { rejectUnauthorized: config.tls.rejectUnauthorized };
    if (config.tls.caFile) {
      try {
        tls.ca = sources.readFile(config.tls.caFile);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        throw new EsSecretError(`elasticsearch.tls.caFile: cannot read ${config.tls.caFile} (${code})`);
      }
    } else if (needsPinnedCa(config)) {
      // Never fall back to unverified TLS: without the pinned CA nothing could be verified.
      if (pinnedCa === undefined) throw new EsTrustError('elasticsearch.tls.caFingerprint: the pinned CA was not read from the cluster (use createEsClient)');
      tls.ca = pinnedCa;
    }
    opts.tls = tls;
    // The client also compares the root of every verified chain with the pin (and, where the operator turned
    // verification off, that comparison is all that is left).
    if (config.tls.caFingerprint) opts.caFingerprint = config.tls.caFingerprint;
  }
  return opts;
}

/**
 * A client for the config. With a fingerprint-only pin, the CA is read from the cluster first (one TLS
 * handshake, see tls-trust.ts): this fails with an `EsTrustError` when no node answers or none presents it.
 */
export async function createEsClient(config: EsConfig, sources: SecretSources = defaultSources): Promise<Client> {
  const pinnedCa = needsPinnedCa(config) ? await fetchPinnedCa(esNodeUrls(config), config.tls!.caFingerprint!, config.requestTimeout) : undefined;
  return new Client(esClientOptions(config, sources, pinnedCa));
}

/**
 * Closes a client without hanging. undici's pool never finishes closing while requests are still connecting to a
 * node whose certificate was just refused (undici 6.29, @elastic/transport 8.11), and a command awaiting a promise
 * that never settles ends with exit code 0, as if it had succeeded: the wait is bounded.
 */
export async function closeEsClient(client: Client, graceMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([client.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
  clearTimeout(timer);
}

/**
 * One line for a client error: Elasticsearch's message, led by the HTTP status when there is one (the answer to a
 * HEAD request has no body, so a refused `indices.exists` would otherwise say nothing at all).
 */
export function esErrorMessage(err: unknown): string {
  const e = err as { message?: unknown; meta?: { statusCode?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const status = typeof e?.meta?.statusCode === 'number' ? e.meta.statusCode : undefined;
  if (status === undefined) return message;
  const meaning =
    status === 401 ? 'authentication failed: check the API key, or the user name and password' :
    status === 403 ? 'the credentials lack a privilege eqlwatch needs (README "Guarantees" lists them)' : '';
  return [`HTTP ${status}`, message !== '' && message !== String(status) ? message : '', meaning].filter((x) => x !== '').join(': ');
}
