/**
 * Transport security of a real `eqlwatch once`, end to end: the real node behind a TLS-terminating proxy
 * (test/helpers/es-proxy.ts) whose certificates come from a CA made by the test (test/helpers/pki.ts), which
 * records the Authorization header of every request and answers 401 to a wrong one, as a secured cluster does;
 * notifications over SMTP with STARTTLS and AUTH, and over an HTTPS webhook with secret headers.
 *
 * Proven here: the worker connects with the right CA file, and with the CA's fingerprint alone; it refuses an
 * untrusted, expired or wrong-host certificate (and a forged chain carrying a copy of the pinned CA) with a
 * clear error, before any request (so before any credential) is sent; the API key and the password reach the
 * server; and none of the secrets appears in any output of any run, in an alert, in the state index or in the
 * outbox.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runCli, type CliResult } from '../cli/run-cli.js';
import { useEs } from '../helpers/es.js';
import { startEsProxy, type EsProxy } from '../helpers/es-proxy.js';
import { createCa, type ServerCert, type TestCa } from '../helpers/pki.js';
import { startHttpReceiver, startSmtp, type HttpReceiver, type SmtpReceiver } from '../notify/helpers.js';
import { allAlerts, createEventIndices, indexEvents, testEnv, type WorkerEnv } from '../worker/e2e-helpers.js';
import { expectedAlertIds, fastSeedRules, scenarioBatch } from './env.js';

const es = useEs();
const hex = (n: number) => randomBytes(n).toString('hex');
const API_KEY_DECODED = `tlsTestKeyId${hex(4)}:${hex(11)}`;
const API_KEY = Buffer.from(API_KEY_DECODED).toString('base64');
const WRONG_API_KEY = Buffer.from(`tlsWrongKeyId:${hex(11)}`).toString('base64');
const ES_USER = 'eqlwatch';
const ES_PASSWORD = `pw-${hex(8)}`;
const SMTP_PASS = `smtp-${hex(8)}`;
const HOOK_TOKEN = `Bearer hook-${hex(8)}`;
const HOOK_URL_TOKEN = `urltoken${hex(8)}`;
const HOOK_HMAC = `hmac-${hex(8)}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every form in which a secret could leak: as given, decoded, and as it travels in a header. */
const SECRET_FORMS = [
  API_KEY, API_KEY_DECODED, API_KEY_DECODED.split(':')[1]!, WRONG_API_KEY,
  ES_PASSWORD, b64(`${ES_USER}:${ES_PASSWORD}`),
  SMTP_PASS, b64(SMTP_PASS), b64(`\u0000eqlwatch\u0000${SMTP_PASS}`),
  HOOK_TOKEN, HOOK_URL_TOKEN, HOOK_HMAC,
];

function expectNoSecret(where: string, text: string): void {
  for (const s of SECRET_FORMS) {
    const at = text.indexOf(s);
    expect(at, `${where} contains a secret: …${text.slice(Math.max(0, at - 120), at + 40)}…`).toBe(-1);
  }
}

describe('TLS and credentials against a TLS-terminating proxy in front of the real node', () => {
  let dir: string;
  let env: WorkerEnv;
  let baseConfig: string;
  let ca: TestCa;
  let caFile: string;
  let pwFile: string;
  const certs = {} as Record<'good' | 'otherCa' | 'forged' | 'expired' | 'wrongHost', ServerCert>;
  let apiKeyProxy: EsProxy;
  let basicProxy: EsProxy;
  let smtp: SmtpReceiver;
  let hook: HttpReceiver;
  let expected: Map<string, string>;
  const proxies: EsProxy[] = [];
  /** stdout and stderr of every run in this file, searched for secrets at the end. */
  const outputs: { name: string; res: CliResult }[] = [];

  const proxy = async (cert: ServerCert, requireAuthorization?: string) => {
    const p = await startEsProxy(process.env.ES_URL!, { tls: { key: cert.key, chain: cert.chain }, ...(requireAuthorization ? { requireAuthorization } : {}) });
    proxies.push(p);
    return p;
  };

  /** `eqlwatch once` with the base config plus this `elasticsearch:` section (indented YAML lines). */
  const once = async (name: string, esYaml: string, vars: Record<string, string> = {}): Promise<CliResult> => {
    const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.yml`);
    await writeFile(file, `${baseConfig}\nelasticsearch:\n  requestTimeout: 10000\n  maxRetries: 0\n${esYaml}`);
    const res = await runCli(['once', '--config', file], {
      env: {
        // Only this test's settings: nothing from the developer's or the test runner's environment.
        ES_URL: undefined, ES_CLOUD_ID: undefined, ES_USERNAME: undefined, ES_PASSWORD: undefined, ES_PASSWORD_FILE: undefined,
        ES_API_KEY: undefined, ES_API_KEY_FILE: undefined, ES_CA_FILE: undefined, ES_CA_FINGERPRINT: undefined, ES_TLS_REJECT_UNAUTHORIZED: undefined,
        EQLWATCH_LOG_LEVEL: 'trace',
        SMTP_PASS, HOOK_URL: `${hook.url}?token=${HOOK_URL_TOKEN}`, HOOK_TOKEN, HOOK_HMAC,
        ...vars,
      },
    });
    outputs.push({ name, res });
    return res;
  };

  beforeAll(async () => {
    ensureBuilt();
    ca = createCa('eqlwatch test CA');
    const hosts = ['localhost', '127.0.0.1'];
    certs.good = ca.issue({ hosts });
    certs.otherCa = createCa('someone else').issue({ hosts });
    // Same CA name, another key, presenting a copy of the real CA: passes a bare fingerprint comparison.
    certs.forged = createCa('eqlwatch test CA').issue({ hosts, presented: [ca.cert] });
    certs.expired = ca.issue({ hosts, notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    certs.wrongHost = ca.issue({ hosts: ['es.other.example'] });

    apiKeyProxy = await proxy(certs.good, `ApiKey ${API_KEY}`);
    basicProxy = await proxy(certs.good, `Basic ${b64(`${ES_USER}:${ES_PASSWORD}`)}`);
    smtp = await startSmtp({ tls: { key: certs.good.key, cert: certs.good.chain }, auth: { user: 'eqlwatch', pass: SMTP_PASS } });
    hook = await startHttpReceiver(undefined, { tls: { key: certs.good.key, cert: certs.good.chain } });

    const indices = await createEventIndices(es);
    const batch = scenarioBatch(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000, 'tls-', { lagMs: 1_500 });
    await indexEvents(es.client, indices, batch.events);
    expected = expectedAlertIds(batch.events, batch.expected, indices);
    env = await testEnv(es, {
      rules: await fastSeedRules(indices),
      writer: 'TLS tests',
      http: false,
      workerYaml: '  id: tls-worker\n',
      notifyYaml: `  channels:
    mail:
      type: email
      host: localhost
      port: ${smtp.port}
      requireTLS: true
      caFile: CA_FILE
      auth: { user: eqlwatch, pass: { env: SMTP_PASS } }
      from: eqlwatch@example.com
      to: [soc@example.com]
      timeout: 10s
    hook:
      type: webhook
      url: { env: HOOK_URL }
      headers: { Authorization: { env: HOOK_TOKEN } }
      secret: { env: HOOK_HMAC }
      caFile: CA_FILE
      timeout: 10s
  defaultRoute:
    channels: [mail, hook]
`,
    });
    dir = env.dir;
    caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, ca.cert);
    pwFile = path.join(dir, 'es-password');
    await writeFile(pwFile, `${ES_PASSWORD}\n`);
    baseConfig = (await readFile(env.configFile, 'utf8')).replaceAll('CA_FILE', caFile);
  });

  afterAll(async () => {
    for (const p of proxies) await p.close();
    await smtp?.close();
    await hook?.stop();
  });

  it('connects with the CA file; the API key reaches the node; notifications go out over STARTTLS and HTTPS', async () => {
    const res = await once('ca-file-api-key', `  node: ${apiKeyProxy.url}\n  auth: { apiKey: { env: ES_API_KEY } }\n  tls: { caFile: ${caFile} }\n`, { ES_API_KEY: API_KEY });
    expect(res.code, res.stderr || res.stdout.slice(-3000)).toBe(0);
    // Every request went through the proxy with the key, none was refused.
    expect(apiKeyProxy.counts.forwarded).toBeGreaterThan(5);
    expect(new Set(apiKeyProxy.authorizations)).toEqual(new Set([`ApiKey ${API_KEY}`]));
    expect(apiKeyProxy.counts.unauthorized).toBeUndefined();
    // The run did its work: exactly the expected alerts.
    const alerts = await allAlerts(es.client, env.alerts);
    expect(alerts.map((a) => a._id).sort()).toEqual([...expected.keys()].sort());
    // Mail: upgraded with STARTTLS, authenticated with the password (the server checks it).
    expect(smtp.mails.length).toBeGreaterThan(0);
    expect(smtp.mails.every((m) => m.secure && m.user === 'eqlwatch')).toBe(true);
    // Webhook: over HTTPS, with its secret header and URL token, signed.
    expect(hook.requests.length).toBe(smtp.mails.length);
    expect(hook.requests.every((r) => r.headers.authorization === HOOK_TOKEN && r.url.includes(HOOK_URL_TOKEN) && /^t=\d+,v1=/.test(String(r.headers['x-eqlwatch-signature'])))).toBe(true);
  });

  it('basic auth: the password, read from a file, reaches the node', async () => {
    const res = await once('basic-auth', `  node: ${basicProxy.url}\n  auth: { username: ${ES_USER}, password: { file: ${pwFile} } }\n  tls: { caFile: ${caFile} }\n`);
    expect(res.code, res.stderr || res.stdout.slice(-3000)).toBe(0);
    expect(basicProxy.counts.forwarded).toBeGreaterThan(0);
    expect(new Set(basicProxy.authorizations)).toEqual(new Set([`Basic ${b64(`${ES_USER}:${ES_PASSWORD}`)}`]));
  });

  it('CA fingerprint pinning alone accepts the right certificate (verification stays on)', async () => {
    const before = apiKeyProxy.counts.forwarded;
    const res = await once('fingerprint-good', `  node: ${apiKeyProxy.url}\n  auth: { apiKey: { env: ES_API_KEY } }\n  tls: { caFingerprint: "${ca.fingerprint256}" }\n`, { ES_API_KEY: API_KEY });
    expect(res.code, res.stderr || res.stdout.slice(-3000)).toBe(0);
    expect(apiKeyProxy.counts.forwarded).toBeGreaterThan(before);
    expect(res.stdout).toMatch(/tls\(caFingerprint=/);
  });

  it('a wrong API key: the node answers 401 and the error says so without echoing the key', async () => {
    const res = await once('wrong-key', `  node: ${apiKeyProxy.url}\n  auth: { apiKey: { env: ES_API_KEY } }\n  tls: { caFile: ${caFile} }\n`, { ES_API_KEY: WRONG_API_KEY });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/HTTP 401.*authentication failed/);
    expect(apiKeyProxy.authorizations).toContain(`ApiKey ${WRONG_API_KEY}`);
  });

  describe.concurrent('refused before any request is sent, with a clear error', () => {
    const pin = (): string => `{ caFingerprint: "${ca.fingerprint256}" }`;
    const file = (): string => `{ caFile: ${caFile} }`;
    const none = (): string => '{}';
    const UNTRUSTED = /not signed by a CA eqlwatch trusts/;
    it.each([
      ['no CA configured: the private CA is not trusted by default', 'good', none, /self[- ]signed certificate in certificate chain/, UNTRUSTED],
      ['CA file: a certificate from another CA', 'otherCa', file, /self[- ]signed certificate in certificate chain/, UNTRUSTED],
      ['CA file: an expired certificate', 'expired', file, /certificate has expired/, /validity period/],
      ['CA file: a certificate for another host name', 'wrongHost', file, /does not match certificate's altnames/, /subjectAltName/],
      ['pinned CA: a certificate from another CA', 'otherCa', pin, /presented no certificate with SHA-256 fingerprint/, /someone else/],
      ['pinned CA: a forged chain carrying a copy of the pinned CA', 'forged', pin, /certificate signature failure/, UNTRUSTED],
      ['pinned CA: an expired certificate', 'expired', pin, /certificate has expired/, /validity period/],
      ['pinned CA: a certificate for another host name', 'wrongHost', pin, /does not match certificate's altnames/, /subjectAltName/],
    ] as const)('%s', async (name, cert, tls, reason, hint) => {
      const p = await proxy(certs[cert], `ApiKey ${API_KEY}`);
      const res = await once(`refused ${name}`, `  node: ${p.url}\n  auth: { apiKey: { env: ES_API_KEY } }\n  tls: ${tls()}\n`, { ES_API_KEY: API_KEY });
      expect(res.code, res.stdout.slice(-2000)).toBe(1);
      expect(res.stderr).toMatch(reason);
      expect(res.stderr).toMatch(hint);
      expect(res.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(p.authorizations).toHaveLength(0);
      expect(p.counts.forwarded).toBe(0);
    });
  });

  it('no secret in any output of any run, nor in an alert, the state index or the outbox', async () => {
    expect(outputs.length).toBeGreaterThanOrEqual(12);
    for (const { name, res } of outputs) {
      expectNoSecret(`${name}: stdout`, res.stdout);
      expectNoSecret(`${name}: stderr`, res.stderr);
    }
    for (const index of [env.alerts, env.state, env.outbox]) {
      await es.client.indices.refresh({ index });
      const docs = await es.client.search({ index, size: 1000, query: { match_all: {} } });
      expect(docs.hits.hits.length, index).toBeGreaterThan(0);
      expectNoSecret(index, JSON.stringify(docs.hits.hits));
    }
  });
});
