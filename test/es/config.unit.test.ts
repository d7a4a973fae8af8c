/** Connection config: validation, env mapping, secret resolution and redaction (no cluster needed). */
import { describe, expect, it } from 'vitest';
import { describeEsConfig, esConfigFromEnv, parseEsConfig, redactUrl } from '../../src/config/es.js';
import { createEsClient, esClientOptions, esErrorMessage, EsSecretError, needsPinnedCa, type SecretSources } from '../../src/es/client.js';
import { EsTrustError, tlsHint } from '../../src/es/tls-trust.js';

const API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
const PASSWORD = 's3cr3t-p@ss';

function sources(env: Record<string, string>, files: Record<string, string> = {}): SecretSources {
  return {
    env,
    readFile: (p) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
      return v;
    },
  };
}

describe('parseEsConfig', () => {
  it('accepts one node, several nodes, or a cloud id, with defaults', () => {
    const one = parseEsConfig({ node: 'http://127.0.0.1:9200' });
    expect(one).toMatchObject({ node: 'http://127.0.0.1:9200', requestTimeout: 30_000, maxRetries: 3 });
    expect(parseEsConfig({ nodes: ['https://a:9200', 'https://b:9200'] }).nodes).toHaveLength(2);
    expect(parseEsConfig({ cloud: { id: 'dep:ZXhhbXBsZQ==' } }).cloud?.id).toBe('dep:ZXhhbXBsZQ==');
  });

  it('requires exactly one of node/nodes/cloud', () => {
    expect(() => parseEsConfig({})).toThrow(/exactly one/);
    expect(() => parseEsConfig({ node: 'http://a:9200', cloud: { id: 'x:y' } })).toThrow(/exactly one/);
  });

  it('rejects non-http URLs, unknown keys and half-given basic auth', () => {
    expect(() => parseEsConfig({ node: 'ftp://a' })).toThrow(/http/);
    expect(() => parseEsConfig({ node: 'http://a:9200', nod: 'x' })).toThrow();
    expect(() => parseEsConfig({ node: 'http://a:9200', auth: { username: 'elastic' } })).toThrow();
  });

  it('normalises a CA fingerprint and rejects a malformed one', () => {
    const fp = 'aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99';
    expect(parseEsConfig({ node: 'https://a:9200', tls: { caFingerprint: fp } }).tls?.caFingerprint).toBe(
      fp.replace(/:/g, '').toUpperCase(),
    );
    expect(() => parseEsConfig({ node: 'https://a:9200', tls: { caFingerprint: 'abc' } })).toThrow(/SHA-256/);
  });

  it('never echoes a secret in a validation error', () => {
    let message = '';
    try {
      parseEsConfig({ node: 'http://a:9200', auth: { apiKey: API_KEY, username: 'x' } });
    } catch (e) {
      message = JSON.stringify(e) + String(e);
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(API_KEY);
  });
});

describe('esConfigFromEnv', () => {
  it('maps ES_URL (comma list), API key, CA settings, timeout and retries', () => {
    const c = esConfigFromEnv({
      ES_URL: 'https://a:9200, https://b:9200',
      ES_API_KEY: API_KEY,
      ES_CA_FILE: '/etc/ca.pem',
      ES_REQUEST_TIMEOUT: '5000',
      ES_MAX_RETRIES: '1',
    });
    expect(c.node).toEqual(['https://a:9200', 'https://b:9200']);
    expect(c.auth).toEqual({ apiKey: { env: 'ES_API_KEY' } });
    expect(c.tls).toEqual({ caFile: '/etc/ca.pem', rejectUnauthorized: true });
    expect(c.requestTimeout).toBe(5000);
    expect(c.maxRetries).toBe(1);
  });

  it('maps ES_CLOUD_ID with username/password, and password files', () => {
    const c = esConfigFromEnv({ ES_CLOUD_ID: 'dep:abc', ES_USERNAME: 'elastic', ES_PASSWORD_FILE: '/run/secrets/pw' });
    expect(c.cloud).toEqual({ id: 'dep:abc' });
    expect(c.auth).toEqual({ username: 'elastic', password: { file: '/run/secrets/pw' } });
  });

  it('lets env override a config-file section field by field', () => {
    const c = esConfigFromEnv(
      { ES_URL: 'http://override:9200', ES_PASSWORD: PASSWORD },
      { node: 'http://file:9200', auth: { username: 'from-file', password: 'old' }, maxRetries: 7 },
    );
    expect(c.node).toBe('http://override:9200');
    expect(c.auth).toEqual({ username: 'from-file', password: { env: 'ES_PASSWORD' } });
    expect(c.maxRetries).toBe(7);
  });

  it('fails clearly without a URL or cloud id', () => {
    expect(() => esConfigFromEnv({})).toThrow(/ES_URL or ES_CLOUD_ID/);
  });
});

describe('secrets and redaction', () => {
  it('resolves secrets from env and files only when building the client', () => {
    const cfg = esConfigFromEnv({ ES_URL: 'https://a:9200', ES_USERNAME: 'elastic', ES_PASSWORD: 'ignored-here' });
    const opts = esClientOptions(cfg, sources({ ES_PASSWORD: PASSWORD }));
    expect(opts.auth).toEqual({ username: 'elastic', password: PASSWORD });

    const fromFile = parseEsConfig({ node: 'https://a:9200', auth: { apiKey: { file: '/k' } }, tls: { caFile: '/ca.pem' } });
    const o2 = esClientOptions(fromFile, sources({}, { '/k': `${API_KEY}\n`, '/ca.pem': 'PEM' }));
    expect(o2.auth).toEqual({ apiKey: API_KEY });
    expect(o2.tls).toEqual({ rejectUnauthorized: true, ca: 'PEM' });
  });

  it('names the missing source, never a value', () => {
    const cfg = parseEsConfig({ node: 'https://a:9200', auth: { apiKey: { env: 'NOPE' } } });
    expect(() => esClientOptions(cfg, sources({}))).toThrow(EsSecretError);
    expect(() => esClientOptions(cfg, sources({}))).toThrow(/NOPE is not set/);
    const cfgFile = parseEsConfig({ node: 'https://a:9200', auth: { username: 'u', password: { file: '/missing' } } });
    expect(() => esClientOptions(cfgFile, sources({}))).toThrow(/cannot read \/missing \(ENOENT\)/);
  });

  it('describeEsConfig shows where secrets come from but never the secrets', () => {
    const inline = parseEsConfig({
      node: `https://elastic:${PASSWORD}@es.example:9200`,
      auth: { apiKey: API_KEY },
      tls: { caFingerprint: 'A'.repeat(64), rejectUnauthorized: false },
    });
    const text = describeEsConfig(inline);
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(PASSWORD);
    expect(text).toContain('auth=apiKey <redacted>');
    expect(text).toContain('nodes=https://REDACTED@es.example:9200');
    expect(text).toContain('rejectUnauthorized=false');

    const basic = esConfigFromEnv({ ES_URL: 'http://a:9200', ES_USERNAME: 'elastic', ES_PASSWORD: PASSWORD });
    expect(describeEsConfig(basic)).toContain('auth=basic user=elastic password <from env ES_PASSWORD>');
    expect(describeEsConfig(basic)).not.toContain(PASSWORD);
  });

  it('redactUrl strips user info and keeps the rest', () => {
    expect(redactUrl('https://u:p@h:9200/')).toBe('https://REDACTED@h:9200');
    expect(redactUrl('http://h:9200')).toBe('http://h:9200');
  });

  it('createEsClient builds a client for the configured node without contacting it', async () => {
    const client = await createEsClient(parseEsConfig({ node: 'http://127.0.0.1:9' }), sources({}));
    expect(client.connectionPool.connections.map((c) => c.url.toString())).toEqual(['http://127.0.0.1:9/']);
    await client.close();
  });
});

describe('TLS trust options', () => {
  const FP = 'AB:'.repeat(31) + 'AB';
  it('a fingerprint alone, verification on: the pinned CA read from the cluster becomes the trusted CA', () => {
    const cfg = parseEsConfig({ node: 'https://a:9200', tls: { caFingerprint: FP } });
    expect(needsPinnedCa(cfg)).toBe(true);
    // Never silently unverified: without the CA read from the cluster there is no client.
    expect(() => esClientOptions(cfg, sources({}))).toThrow(EsTrustError);
    const opts = esClientOptions(cfg, sources({}), 'PINNED PEM');
    expect(opts.tls).toEqual({ rejectUnauthorized: true, ca: 'PINNED PEM' });
    expect(opts.caFingerprint).toBe('AB'.repeat(32));
  });

  it('a CA file (with or without a pin) and verification turned off need nothing from the cluster', () => {
    expect(needsPinnedCa(parseEsConfig({ node: 'https://a:9200', tls: { caFile: '/ca', caFingerprint: FP } }))).toBe(false);
    expect(needsPinnedCa(parseEsConfig({ node: 'https://a:9200', tls: { caFingerprint: FP, rejectUnauthorized: false } }))).toBe(false);
    expect(needsPinnedCa(parseEsConfig({ node: 'https://a:9200' }))).toBe(false);
  });

  it('errors name the HTTP status even when Elasticsearch sent no body, and TLS failures get a hint', () => {
    expect(esErrorMessage({ message: '', meta: { statusCode: 401 } })).toBe('HTTP 401: authentication failed: check the API key, or the user name and password');
    expect(esErrorMessage({ message: 'security_exception', meta: { statusCode: 403 } })).toMatch(/^HTTP 403: security_exception: the credentials lack a privilege/);
    expect(esErrorMessage(new Error('connect ECONNREFUSED'))).toBe('connect ECONNREFUSED');
    expect(tlsHint('self-signed certificate in certificate chain')).toMatch(/caFile/);
    expect(tlsHint('certificate has expired')).toMatch(/validity period/);
    expect(tlsHint("Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list")).toMatch(/subjectAltName/);
    expect(tlsHint('connect ECONNREFUSED')).toBeUndefined();
  });
});
