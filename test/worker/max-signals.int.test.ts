/**
 * max_signals: at most that many matches per window become alerts (earliest first, a sequence counting once,
 * as in Kibana), and the truncation is logged with the number of matches left out. Replay applies the same
 * limit to the same events.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, logLines, runCli } from '../cli/run-cli.js';
import { allAlerts, createEventIndices, expectedSingleId, workerEnv, type EventIndices } from './e2e-helpers.js';

const es = useEs();

describe('max_signals (real Elasticsearch)', () => {
  let indices: EventIndices;
  beforeAll(async () => {
    ensureBuilt();
    indices = await createEventIndices(es);
  });

  it('writes the earliest max_signals alerts, logs how many matches were left out, and replay agrees', async () => {
    const rule = `name: Curl anywhere
id: max-signals-test
severity: medium
max_signals: 2
index: ${indices.process}*
query: |
  process where process.name == "curl"
`;
    const env = await workerEnv(es, { 'curl.yaml': rule });
    const t = Date.now() - 3 * 60_000;
    const docs = [4, 1, 5, 2, 3].map((k) => ({
      id: `curl-${k}`,
      doc: {
        '@timestamp': new Date(t + k * 1000).toISOString(),
        event: { category: ['process'], type: ['start'], ingested: new Date(t + k * 1000 + 500).toISOString() },
        process: { name: 'curl', args: ['curl', `https://example.com/${k}`] },
        host: { name: 'node-1' },
      },
    }));
    await es.client.bulk({ refresh: true, operations: docs.flatMap((d) => [{ create: { _index: indices.process, _id: d.id } }, d.doc]) });

    const run = await runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl() } });
    expect(run.code).toBe(0);
    const alerts = await allAlerts(es.client, env.alerts);
    expect(alerts.map((a) => a._id).sort()).toEqual(['curl-1', 'curl-2'].map((id) => expectedSingleId(indices.process, id, 'max-signals-test')).sort());
    const logs = logLines(run.stdout);
    const warn = logs.find((l) => l['log.level'] === 'warn' && typeof l.truncated === 'number');
    expect(warn).toMatchObject({ truncated: 3, max_signals: 2, 'rule.id': 'max-signals-test' });
    expect(String(warn!.message)).toMatch(/maximum alert limit \(max_signals=2\); 3 match\(es\)/);
    expect(logs.find((l) => typeof l.window === 'object')).toMatchObject({ matches: 5, alerts: 2 });

    const file = path.join(env.dir, 'events.ndjson');
    await writeFile(file, docs.map((d) => JSON.stringify({ _index: indices.process, _id: d.id, _source: d.doc })).join('\n'));
    const replay = await runCli(['replay', '--rules', env.rulesDir, '--config', env.configFile, file]);
    expect(replay.code).toBe(0);
    expect(replay.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id).sort()).toEqual(alerts.map((a) => a._id).sort());
    expect(replay.stderr).toMatch(/3 match\(es\) over max_signals=2 dropped/);
  });
});
