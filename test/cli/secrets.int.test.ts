/**
 * A full `eqlwatch once` against the real node, with secrets in the environment (Elasticsearch credentials,
 * ignored by the unsecured test node) and in the config (a Slack webhook URL whose delivery fails, a webhook
 * HMAC key): none of them appears anywhere in the output, even when delivery errors are logged.
 */
import { writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { attackScenario } from '../worker/attack-scenario.js';
import { allAlerts, createEventIndices, EXEC_RULE_FILE, indexEvents, seedRuleFor, workerEnv } from '../worker/e2e-helpers.js';
import { ensureBuilt, logLines, runCli } from './run-cli.js';

const es = useEs();
const SECRET = 'S3cr3t-Value-That-Must-Not-Leak';

describe('secrets during a real run', () => {
  beforeAll(() => ensureBuilt());

  it('appear in no log line, including failed notification deliveries', async () => {
    const indices = await createEventIndices(es);
    const { events } = attackScenario(Math.floor((Date.now() - 4 * 60_000) / 1000) * 1000);
    await indexEvents(es.client, indices, events);
    const env = await workerEnv(es, { [EXEC_RULE_FILE]: await seedRuleFor(EXEC_RULE_FILE, indices) });
    // The same config with notification channels whose secrets are inline (the worst case).
    const config = `rules:
  dir: ${env.rulesDir}
alerts:
  index: ${env.alerts}
state:
  index: ${env.state}
http:
  enabled: false
worker:
  id: secrets-worker
notify:
  outbox:
    index: ${env.outbox}
  channels:
    slack:
      type: slack
      webhookUrl: http://127.0.0.1:1/services/T000/B000/${SECRET}
      timeout: 2s
    hook:
      type: webhook
      url: http://127.0.0.1:1/hook?token=${SECRET}
      secret: ${SECRET}
      headers:
        Authorization: Bearer ${SECRET}
      timeout: 2s
  defaultRoute:
    channels: [slack, hook]
`;
    await writeFile(env.configFile, config);
    const run = await runCli(['once', '--config', env.configFile], {
      env: { ES_URL: esUrl(), ES_USERNAME: 'elastic', ES_PASSWORD: SECRET, EQLWATCH_LOG_LEVEL: 'trace' },
    });
    expect(run.code, run.stderr).toBe(0);
    // The run did its work: alerts written, deliveries attempted and failed (nothing listens on port 1).
    expect(await allAlerts(es.client, env.alerts)).toHaveLength(2);
    const logs = logLines(run.stdout);
    if (process.env.SECRETS_DEBUG) console.log(logs.map((l) => `${String(l['log.level'])} ${String(l.message)}`).join('\n'));
    expect(logs.filter((l) => /^notification failed/.test(String(l.message)))).toHaveLength(2);
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  });
});
