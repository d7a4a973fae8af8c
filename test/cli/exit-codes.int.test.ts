/**
 * Exit codes are what the README's table says: one case per row (the real command, the real node), and the
 * table's rows and the cases here must be the same set, so neither can change alone.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esUrl, useEs } from '../helpers/es.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { startHttpReceiver, type HttpReceiver } from '../notify/helpers.js';
import { startWorker } from '../ops/worker-process.js';
import { testEnv, type WorkerEnv } from '../worker/e2e-helpers.js';
import { ensureBuilt, runCli, type CliResult } from './run-cli.js';

/** The README's exit-code table: "command|exit" for every row. */
function readmeRows(): string[] {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('<!-- exit-codes:start -->'), readme.indexOf('<!-- exit-codes:end -->'));
  return table.split('\n').filter((l) => /^\| (?!command|---)/.test(l)).map((l) => {
    const [command, exit] = l.split('|').slice(1, 3).map((c) => c.trim());
    return `${command}|${exit}`;
  });
}

const es = useEs();
const index = es.name('exit-codes');
const DOWN = { ES_URL: 'http://127.0.0.1:1', ES_MAX_RETRIES: '0', ES_REQUEST_TIMEOUT: '2000' };
const rule = (id: string, idx: string) =>
  `[rule]\nrule_id = "${id}"\nname = "Exit ${id}"\ntype = "eql"\nlanguage = "eql"\ndescription = ""\nseverity = "low"\nrisk_score = 21\n` +
  `index = ["${idx}"]\nquery = 'process where process.name == "bash"'\n`;

let env: WorkerEnv;
let lonely: WorkerEnv;
let dir = '';
let badConfig = '';
let badRules = '';
let events = '';
let rx: HttpReceiver;
const up = (args: string[]): Promise<CliResult> => runCli(args, { env: { ES_URL: esUrl(), EQLWATCH_CONFIG: undefined } });
const down = (args: string[]): Promise<CliResult> => runCli(args, { env: { ...DOWN, EQLWATCH_CONFIG: undefined } });

beforeAll(async () => {
  ensureBuilt();
  rx = await startHttpReceiver();
  await es.client.indices.create({
    index,
    mappings: { properties: { '@timestamp': { type: 'date' }, event: { properties: { category: { type: 'keyword' } } }, process: { properties: { name: { type: 'keyword' } } } } },
  });
  const channels = `  channels:\n    hook:\n      type: webhook\n      url: ${rx.url}\n    down:\n      type: webhook\n      url: http://127.0.0.1:1/x\n      timeout: 2s\n`;
  env = await testEnv(es, { rules: { 'ok.toml': rule('exit-ok', index) }, writer: 'exit-code tests', http: true, workerYaml: '  leaseTtl: 5s\n', notifyYaml: channels });
  lonely = await testEnv(es, { rules: { 'lonely.toml': rule('exit-lonely', `${index}-nothing-*`) }, writer: 'exit-code tests', http: false, workerYaml: '  leaseTtl: 5s\n' });
  dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-exit-'));
  badConfig = path.join(dir, 'bad.yml');
  await writeFile(badConfig, 'worker:\n  concurrency: two\n');
  badRules = path.join(dir, 'bad-rules');
  await (await import('node:fs/promises')).mkdir(badRules);
  await writeFile(path.join(badRules, 'bad.toml'), '[rule]\nrule_id = "x"\n');
  events = path.join(dir, 'events.ndjson');
  await writeFile(events, `${JSON.stringify({ '@timestamp': '2026-01-01T00:00:00Z', event: { category: 'process' }, process: { name: 'bash' } })}\n`);
});
afterAll(async () => {
  await rx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const nowhere = '/nonexistent/eqlwatch-rules';

/** One case per README row: each runs the command(s) and checks the exit code (and that it says why). */
const CASES: Record<string, () => Promise<void>> = {
  'any|2': async () => {
    expect((await up([])).code).toBe(2);
    expect((await up(['frobnicate'])).code).toBe(2);
    expect((await up(['validate', '--nope'])).code).toBe(2);
  },
  '`--help`, `--version`|0': async () => {
    expect((await up(['--help'])).code).toBe(0);
    expect((await up(['--version'])).code).toBe(0);
    expect((await up(['replay', '--help'])).code).toBe(0);
  },
  '`validate`|0': async () => {
    expect((await up(['validate', '--config', env.configFile])).code).toBe(0);
    expect((await up(['validate', '--es', '--strict', '--config', env.configFile])).code).toBe(0);
  },
  '`validate`|1': async () => {
    expect((await up(['validate', '--config', env.configFile, '--rules', badRules])).code).toBe(1);
    const unreachable = await down(['validate', '--es', '--config', env.configFile]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(/cannot reach Elasticsearch/);
    expect((await up(['validate', '--es', '--config', lonely.configFile])).code).toBe(0);
    expect((await up(['validate', '--es', '--strict', '--config', lonely.configFile])).code).toBe(1);
  },
  '`validate`|2': async () => {
    expect((await up(['validate', '--config', badConfig])).code).toBe(2);
    expect((await up(['validate', '--config', path.join(dir, 'missing.yml')])).code).toBe(2);
    expect((await up(['validate', '--rules', nowhere])).code).toBe(2);
  },
  '`once`|0': async () => {
    const run = await up(['once', '--config', env.configFile]);
    expect(run.code, run.stderr).toBe(0);
  },
  '`once`|1': async () => {
    expect((await up(['once', '--config', env.configFile, '--rules', badRules])).code).toBe(1);
    const unreachable = await down(['once', '--config', env.configFile]);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot use Elasticsearch/);
  },
  '`once`|2': async () => {
    expect((await up(['once', '--config', badConfig])).code).toBe(2);
    expect((await up(['once', '--config', path.join(dir, 'missing.yml')])).code).toBe(2);
    expect((await up(['once', '--config', env.configFile, '--rules', nowhere])).code).toBe(2);
    expect((await up(['once', '--config', env.configFile, '--rule', 'no-such-rule'])).code).toBe(2);
  },
  '`run`|0': async () => {
    const w = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
    await w.waitForLog((r) => String(r.message).startsWith('eqlwatch worker started'), 60_000, 'the worker start');
    expect(await w.stop('SIGTERM')).toMatchObject({ code: 0, killedAfterGrace: false });
  },
  '`run`|1': async () => {
    expect((await down(['run', '--config', env.configFile])).code).toBe(1);
  },
  '`run`|2': async () => {
    expect((await up(['run', '--config', badConfig])).code).toBe(2);
    expect((await up(['run', '--config', env.configFile, '--rules', nowhere])).code).toBe(2);
  },
  '`replay`|0': async () => {
    const run = await up(['replay', '--rules', env.rulesDir, events]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  },
  '`replay`|1': async () => {
    expect((await up(['replay', '--rules', badRules, events])).code).toBe(1);
  },
  '`replay`|2': async () => {
    const none = await up(['replay']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^eqlwatch replay: missing --rules <dir\|file> \(the rules to evaluate\) and the events file \(an NDJSON export, or "-" for standard input\)$/m);
    const noFile = await up(['replay', '--rules', env.rulesDir]);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/missing the events file/);
    expect((await up(['replay', '--rules', env.rulesDir, path.join(dir, 'missing.ndjson')])).code).toBe(2);
    expect((await up(['replay', '--rules', nowhere, events])).code).toBe(2);
    expect((await up(['replay', '--rules', env.rulesDir, '--now', 'tuesday', events])).code).toBe(2);
    expect((await up(['replay', '--rules', env.rulesDir, '--config', badConfig, events])).code).toBe(2);
  },
  '`rescan`|0': async () => {
    const run = await up(['rescan', '--config', env.configFile, '--rule', 'exit-ok', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z']);
    expect(run.code, run.stderr).toBe(0);
  },
  '`rescan`|1': async () => {
    const unreachable = await down(['rescan', '--config', env.configFile, '--rule', 'exit-ok', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot use Elasticsearch/);
  },
  '`rescan`|2': async () => {
    const missing = await up(['rescan', '--config', env.configFile, '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --rule/);
    expect((await up(['rescan', '--config', env.configFile, '--rule', 'exit-ok', '--from', 'yesterday', '--to', '2026-01-02T00:00:00Z'])).code).toBe(2);
    expect((await up(['rescan', '--config', env.configFile, '--rule', 'no-such-rule', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z'])).code).toBe(2);
  },
  '`setup`|0': async () => {
    const run = await up(['setup', '--config', env.configFile]);
    expect(run.code, run.stderr).toBe(0);
  },
  '`setup`|1': async () => {
    expect((await down(['setup', '--config', env.configFile])).code).toBe(1);
  },
  '`setup`|2': async () => {
    expect((await up(['setup', '--config', badConfig])).code).toBe(2);
  },
  '`notify-test`|0': async () => {
    const run = await up(['notify-test', '--channel', 'hook', '--config', env.configFile]);
    expect(run.code, run.stderr).toBe(0);
    expect(rx.requests.length).toBeGreaterThan(0);
  },
  '`notify-test`|1': async () => {
    expect((await up(['notify-test', '--channel', 'down', '--config', env.configFile])).code).toBe(1);
  },
  '`notify-test`|2': async () => {
    expect((await up(['notify-test', '--config', env.configFile])).code).toBe(2);
    const unknown = await up(['notify-test', '--channel', 'nope', '--config', env.configFile]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no channel "nope" under notify\.channels \(configured: hook, down\)/);
    expect((await up(['notify-test', '--channel', 'hook', '--config', badConfig])).code).toBe(2);
  },
};

describe('exit codes (README "CLI" table)', () => {
  it('the README table and these cases list the same rows', () => {
    expect(readmeRows().sort()).toEqual(Object.keys(CASES).sort());
  });

  it.each(Object.keys(CASES))('%s', async (row) => {
    await CASES[row]!();
  });
});
