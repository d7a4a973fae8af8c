/**
 * A window whose candidate events fill several pages: sequences whose events sit on later pages are still
 * found. (Regression: releasing events up to the window's end after the first page made every later page
 * "late" for the sequence matcher, which then ignored them.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { allAlerts, createEventIndices, expectedSequenceIds, workerEnv } from './e2e-helpers.js';

const es = useEs();
const RULE_ID = 'paging-sequence-test';
const SEQUENCES = 12;
const PAGE_SIZE = 10;

describe('sequence rule over a window larger than one page (real Elasticsearch)', () => {
  beforeAll(() => ensureBuilt());

  it(`finds all ${SEQUENCES} sequences with pageSize ${PAGE_SIZE} and nothing twice`, async () => {
    const indices = await createEventIndices(es);
    const rule = `name: Download then chmod on one host
id: ${RULE_ID}
severity: high
index: ${indices.process}*
timestamp_override: event.ingested
query: |
  sequence by host.id with maxspan=1m
    [process where process.name == "curl"]
    [process where process.name == "chmod"]
`;
    const env = await workerEnv(es, { 'paging.yaml': rule }, `  pageSize: ${PAGE_SIZE}\n  lateness: 0s\n`);
    const t0 = Date.now() - 240_000;
    const operations: unknown[] = [];
    const pairs: [string, string][] = [];
    for (let i = 0; i < SEQUENCES; i++) {
      const host = `host-${i}`;
      const doc = (name: string, offset: number) => ({
        '@timestamp': new Date(t0 + i * 5_000 + offset).toISOString(),
        event: { category: ['process'], type: ['start'], action: 'exec', ingested: new Date(t0 + i * 5_000 + offset + 200).toISOString() },
        host: { id: host, name: host, os: { type: 'linux' } },
        process: { name, args: [name] },
      });
      pairs.push([`c-${i}`, `m-${i}`]);
      operations.push({ index: { _index: indices.process, _id: `c-${i}` } }, doc('curl', 0));
      operations.push({ index: { _index: indices.process, _id: `m-${i}` } }, doc('chmod', 1_000));
    }
    const bulk = await es.client.bulk({ operations, refresh: true });
    expect(bulk.errors).toBe(false);

    const run = await runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl() } });
    expect(run.code).toBe(0);
    const ids = (await allAlerts(es.client, env.alerts)).map((a) => a._id).sort();
    const expected = pairs.flatMap(([a, b]) => {
      const e = expectedSequenceIds([{ id: a, index: indices.process }, { id: b, index: indices.process }], RULE_ID);
      return [e.shell, ...e.blocks];
    });
    expect(ids).toEqual(expected.sort());
    expect(run.stdout).not.toMatch(/arrived too late/);
  });
});
