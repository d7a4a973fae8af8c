/**
 * Secrets never reach logs: `once`, `run` and `validate` with Elasticsearch basic-auth / API-key secrets in
 * the environment (the test node has security off and ignores the header) and a Slack webhook URL secret in
 * the notify config, pointing at a local server that really receives the notifications and fails them (so
 * delivery errors are logged too). Debug logging on. Every byte of stdout and stderr, and the outbox and alert
 * documents, are searched for the secret values (and their base64 forms).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { createEventIndices, indexEvents } from '../worker/e2e-helpers.js';
import { fastSeedRules, opsEnv, scenarioBatch, type OpsEnv } from './env.js';
import { isProgress, startWorker } from './worker-process.js';

const es = useEs();
const ES_PASSWORD = 'pw-Secr3t-4f9a1c7e';
const ES_API_KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw-apikey-77c1';
const SLACK_SECRET = 'XoXb7Hq2SeCrEtToKeN9k';

const NOTIFY = `  channels:
    slack:
      type: slack
      webhookUrl: { env: EQLWATCH_TEST_SLACK_URL }
  defaultRoute:
    channels: [slack]
`;

function secretForms(): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [ES_PASSWORD, ES_API_KEY, SLACK_SECRET, b64(`elastic:${ES_PASSWORD}`), b64(ES_PASSWORD), encodeURIComponent(SLACK_SECRET)];
}

function expectNoSecret(where: string, text: string): void {
  for (const s of secretForms()) {
    const at = text.indexOf(s);
    expect(at, `${where} contains a secret: …${text.slice(Math.max(0, at - 200), at + 50)}…`).toBe(-1);
  }
}

describe('secrets never reach logs (real Elasticsearch, a local Slack webhook)', () => {
  let server: Server;
  let hookUrl = '';
  const received: { path: string; body: string }[] = [];
  let env: OpsEnv;

  beforeAll(async () => {
    ensureBuilt();
    // A webhook that receives, then fails: delivery errors are logged and retried.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', body });
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal_error');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0000/B0000/${SLACK_SECRET}`;
    const indices = await createEventIndices(es);
    const batch = scenarioBatch(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000, 's-', { lagMs: 1_500 });
    await indexEvents(es.client, indices, batch.events);
    env = await opsEnv(es, { rules: await fastSeedRules(indices), worker: { id: 'secrets-worker' }, notifyChannels: NOTIFY });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('once with ES_USERNAME/ES_PASSWORD and a Slack webhook secret, at debug level', async () => {
    const res = await runCli(['once', '--config', env.configFile], {
      env: { ES_URL: esUrl(), ES_USERNAME: 'elastic', ES_PASSWORD, EQLWATCH_TEST_SLACK_URL: hookUrl, EQLWATCH_LOG_LEVEL: 'trace', EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined },
    });
    expect(res.code, res.stderr || res.stdout.slice(-2000)).toBe(0);
    // The secrets were really in use: the webhook got the notifications at its secret path.
    expect(received.length).toBeGreaterThan(0);
    expect(received.every((r) => r.path.endsWith(SLACK_SECRET))).toBe(true);
    expect(res.stdout).toMatch(/auth=basic user=elastic password <from env ES_PASSWORD>/);
    expectNoSecret('once stdout', res.stdout);
    expectNoSecret('once stderr', res.stderr);
  });

  it('run with ES_API_KEY: start-up, runs, failing deliveries and shutdown logs hold no secret', async () => {
    const before = received.length;
    const w = startWorker(['run', '--config', env.configFile], {
      ES_URL: esUrl(), ES_API_KEY, EQLWATCH_TEST_SLACK_URL: hookUrl, EQLWATCH_LOG_LEVEL: 'trace', EQLWATCH_TEST_CRASH_AFTER_ALERTS: undefined,
    });
    try {
      await w.waitForLog(isProgress, 30_000, 'a progress line');
      // Deliveries retried by this process (the outbox items from the first test are due again).
      await w.waitForLog((r) => /notification/i.test(String(r.message)) && r['log.level'] !== 'trace', 30_000, 'a notification log line');
    } finally {
      const exit = await w.stop('SIGTERM');
      expect(exit).toMatchObject({ code: 0, killedAfterGrace: false });
    }
    expect(w.stdout()).toMatch(/auth=apiKey <from env ES_API_KEY>/);
    expectNoSecret('run stdout', w.stdout());
    expectNoSecret('run stderr', w.stderr());
    expect(received.length).toBeGreaterThanOrEqual(before);
  });

  it('validate prints no secret, even for a config it rejects', async () => {
    const ok = await runCli(['validate', '--config', env.configFile, '--rules', env.rulesDir], { env: { ES_PASSWORD, ES_USERNAME: 'elastic', EQLWATCH_TEST_SLACK_URL: hookUrl } });
    expect(ok.code, ok.stderr).toBe(0);
    expectNoSecret('validate stdout', ok.stdout);
    expectNoSecret('validate stderr', ok.stderr);
    // An inline secret next to a config error is masked in the excerpt.
    const { writeFile } = await import('node:fs/promises');
    const bad = `${env.dir}/bad.yml`;
    // \`password\` misplaced (not under auth): the error points at, and quotes, the secret's own line.
    await writeFile(bad, `elasticsearch:\n  node: http://127.0.0.1:1\n  password: ${ES_PASSWORD}\n`);
    const rejected = await runCli(['validate', '--config', bad, '--rules', env.rulesDir]);
    expect(rejected.code).not.toBe(0);
    expect(rejected.stdout + rejected.stderr).toMatch(/password/);
    expectNoSecret('validate (bad config) stdout', rejected.stdout);
    expectNoSecret('validate (bad config) stderr', rejected.stderr);
  });

  it('the outbox and the alerts hold no secret either', async () => {
    for (const index of [env.outbox, env.alerts]) {
      await es.client.indices.refresh({ index });
      const res = await es.client.search({ index, size: 1000, query: { match_all: {} } });
      expect(res.hits.hits.length, index).toBeGreaterThan(0);
      expectNoSecret(index, JSON.stringify(res.hits.hits));
    }
  });
});
