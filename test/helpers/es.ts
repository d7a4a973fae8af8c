/**
 * Helpers for integration tests against the real node provided by test/setup/es-global-setup.ts.
 *
 *   const es = useEs();                     // in a describe(): client + per-test-file cleanup
 *   const index = es.name('alerts');        // unique, lowercase, deleted after the file's tests
 *   await es.client.index({ index, ... });
 *
 * Tests must live in the `integration` vitest project (test/es/**, or any `*.int.test.ts`) so that
 * `inject('esUrl')` is provided.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import { afterAll, inject } from 'vitest';
import { esConfigFromEnv } from '../../src/config/es.js';
import { esClientOptions } from '../../src/es/client.js';

/** URL of the test cluster (from globalSetup; falls back to ES_URL for ad-hoc runs). */
export function esUrl(): string {
  let url: string | undefined;
  try {
    url = inject('esUrl');
  } catch {
    url = undefined;
  }
  url ??= process.env.ES_URL;
  if (url === undefined || url === '') {
    throw new Error('no Elasticsearch URL: run this test in the vitest `integration` project, or set ES_URL');
  }
  return url;
}

/**
 * A client for the test cluster; auth/TLS come from the ES_* variables when ES_URL points elsewhere (a CA file,
 * not a fingerprint-only pin: that needs the asynchronous createEsClient).
 */
export function esTestClient(): Client {
  return new Client(esClientOptions(esConfigFromEnv({ ...process.env, ES_URL: esUrl(), ES_CLOUD_ID: undefined })));
}

/** A name no other test (or concurrent test run) uses: `eqlwatch-test-<prefix>-<random>`. */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return `eqlwatch-test-${clean}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface EsTestContext {
  client: Client;
  /** A unique index/alias/template name, removed (as index and as template) after the file's tests. */
  name: (prefix: string) => string;
  /** Register an extra cleanup (runs after the file's tests, in reverse order). */
  onCleanup: (fn: () => Promise<unknown>) => void;
}

/** Call at the top level of a test file or in a describe(). */
export function useEs(): EsTestContext {
  const client = esTestClient();
  const names: string[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
    for (const n of names) {
      // Concrete indices named n or n-* (an alias n resolves to its indices), then templates of that name.
      // Deleted by concrete name: clusters with action.destructive_requires_name refuse wildcards.
      const found = await client.indices
        .get({ index: `${n},${n}-*`, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'all' })
        .catch(() => ({}));
      const concrete = Object.keys(found);
      if (concrete.length > 0) await client.indices.delete({ index: concrete }).catch(() => undefined);
      const templates = await client.indices.getIndexTemplate({ name: `${n}*` }).catch(() => ({ index_templates: [] }));
      for (const t of templates.index_templates) {
        await client.indices.deleteIndexTemplate({ name: t.name }).catch(() => undefined);
      }
    }
    await client.close();
  });
  return {
    client,
    name: (prefix) => {
      const n = uniqueName(prefix);
      names.push(n);
      return n;
    },
    onCleanup: (fn) => cleanups.push(fn),
  };
}
