/**
 * Worker configuration: bad files are reported with file, line, column and hint; environment variables
 * override the file; secrets never appear in error output or logs (checked on the real command's output).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, safeExcerpt } from '../../src/config/load.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { ensureBuilt, runCli } from './run-cli.js';

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-config-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

function configError(p: string, env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig(p, env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('bad config files', () => {
  const cases: { name: string; text: string; line: number; column: number; message: RegExp; hint: RegExp }[] = [
    {
      name: 'tab-indented.yml',
      text: 'worker:\n\tconcurrency: 2\n',
      line: 2, column: 1, message: /^invalid YAML: /, hint: /indentation/,
    },
    {
      name: 'unknown-key.yml',
      text: 'elasticsearch:\n  node: http://127.0.0.1:9200\nworker:\n  concurrency: 2\n  intervall: 5m\n',
      line: 5, column: 3, message: /^worker: Unrecognized key: "intervall"/, hint: /unknown key/,
    },
    {
      name: 'wrong-type.yml',
      text: 'worker:\n  concurrency: two\n',
      line: 2, column: 16, message: /^worker\.concurrency: /, hint: /configuration reference/,
    },
    {
      name: 'bad-duration.yml',
      text: 'worker:\n  pageSize: 500\n  lateness: soon\n',
      line: 3, column: 13, message: /^worker\.lateness: "soon" is not a duration/, hint: /configuration reference/,
    },
    {
      name: 'bad-index.yml',
      text: 'alerts:\n  index: My Alerts\n',
      line: 2, column: 10, message: /^alerts\.index: Elasticsearch index names are lower case/, hint: /configuration reference/,
    },
    {
      name: 'bad-url.yml',
      text: 'elasticsearch:\n  node: localhost:9200\n',
      line: 2, column: 9, message: /^elasticsearch\.node: expected an http:\/\/ or https:\/\/ URL/, hint: /ES_URL/,
    },
    {
      name: 'not-a-mapping.yml',
      text: '- elasticsearch\n- worker\n',
      line: 1, column: 1, message: /must be a YAML mapping/, hint: /eqlwatch\.example\.yml/,
    },
  ];
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const p = await file(c.name, c.text);
    const e = configError(p);
    expect({ file: e.file, line: e.line, column: e.column }).toEqual({ file: p, line: c.line, column: c.column });
    expect(e.message).toMatch(c.message);
    expect(e.hint ?? '').toMatch(c.hint);
    // The formatted error points at the line with a caret.
    expect(e.format().split('\n')[0]).toBe(`${p}:${c.line}:${c.column}: ${e.message}`);
  });

  it('every problem of a config is reported, each at its own line, in file order (API, text and --json)', async () => {
    const text = 'worker:\n  concurrency: two\n  intervall: 5m\nalerts:\n  index: My Alerts\nhttp:\n  prot: 9464\n  host: 127.0.0.1\n';
    const p = await file('several-problems.yml', text);
    const e = configError(p);
    expect(e.problems.map((x) => [x.line, x.column, x.message])).toEqual([
      [2, 16, expect.stringMatching(/^worker\.concurrency: /)],
      [3, 3, 'worker: Unrecognized key: "intervall"'],
      [5, 10, expect.stringMatching(/^alerts\.index: Elasticsearch index names are lower case/)],
      [7, 3, 'http: Unrecognized key: "prot"'],
    ]);
    expect(e.message).not.toMatch(/more problem/);
    const run = await runCli(['validate', '--config', p, '--rules', path.join(REPO_ROOT, 'queries')]);
    expect(run.code).toBe(2);
    for (const x of e.problems) expect(run.stdout).toContain(`${p}:${x.line}:${x.column}: ${x.message}\n  ${text.split('\n')[x.line - 1]}`);
    expect(run.stdout).toMatch(/config .*several-problems\.yml INVALID \(4 problem\(s\)\)/);
    const json = await runCli(['validate', '--json', '--config', p, '--rules', path.join(REPO_ROOT, 'queries')]);
    expect(json.code).toBe(2);
    const report = JSON.parse(json.stdout) as { config: { valid: boolean; errors: { line: number; column: number; message: string }[] } };
    expect(report.config.valid).toBe(false);
    expect(report.config.errors.map((x) => [x.line, x.column, x.message])).toEqual(e.problems.map((x) => [x.line, x.column, x.message]));
  });

  it('a missing file is an error with a hint, not a crash', () => {
    const e = configError(path.join(dir, 'nope.yml'));
    expect(e.message).toMatch(/cannot read config file/);
    expect(e.hint).toMatch(/--config/);
  });

  it('the example config validates and documents every top-level section', async () => {
    const example = path.join(REPO_ROOT, 'config/eqlwatch.example.yml');
    const { config } = loadConfig(example, {});
    expect(config.worker.lateness).toBeGreaterThan(0);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(example, 'utf8');
    for (const key of ['elasticsearch', 'rules', 'alerts', 'state', 'kibana', 'worker', 'notify', 'http', 'logging']) {
      expect(text).toMatch(new RegExp(`^#? ?${key}:`, 'm'));
    }
    for (const key of ['ingestDelay', 'lateness', 'auditHorizon', 'maxWindow', 'maxCatchup', 'leaseTtl', 'concurrency', 'pageSize', 'maxPendingSequences']) {
      expect(text).toContain(`${key}:`);
    }
  });
});

describe('environment overrides', () => {
  it('ES_*, KIBANA_URL and EQLWATCH_* override the file; secrets stay references to the environment', async () => {
    const p = await file('base.yml', [
      'elasticsearch:',
      '  node: http://file-host:9200',
      'alerts:',
      '  index: from-file',
      'rules:',
      '  dir: file-rules',
      'logging:',
      '  level: warn',
      'http:',
      '  port: 1000',
      '',
    ].join('\n'));
    const env = {
      ES_URL: 'https://env-host:9243',
      ES_API_KEY: 'c2VjcmV0LWFwaS1rZXk=',
      KIBANA_URL: 'https://kibana.example.com',
      EQLWATCH_ALERTS_INDEX: 'from-env',
      EQLWATCH_RULES_DIR: '/etc/eqlwatch/rules',
      EQLWATCH_LOG_LEVEL: 'debug',
      EQLWATCH_HTTP_PORT: '9999',
      EQLWATCH_WORKER_ID: 'worker-7',
    };
    const { config } = loadConfig(p, env);
    expect(config.elasticsearch.node).toBe('https://env-host:9243');
    expect(config.elasticsearch.auth).toEqual({ apiKey: { env: 'ES_API_KEY' } });
    expect(JSON.stringify(config)).not.toContain(env.ES_API_KEY);
    expect(config.kibana.url).toBe('https://kibana.example.com');
    expect(config.alerts.index).toBe('from-env');
    expect(config.rules.dir).toBe('/etc/eqlwatch/rules');
    expect(config.logging.level).toBe('debug');
    expect(config.http.port).toBe(9999);
    expect(config.worker.id).toBe('worker-7');
    // Without the environment the file's values stand.
    const plain = loadConfig(p, {}).config;
    expect([plain.elasticsearch.node, plain.alerts.index, plain.rules.dir, plain.logging.level, plain.http.port]).toEqual([
      'http://file-host:9200', 'from-file', 'file-rules', 'warn', 1000,
    ]);
  });

  it('EQLWATCH_CONFIG names the file; with no file at all the defaults work against a local stack', async () => {
    const p = await file('named.yml', 'alerts:\n  index: named-by-env\n');
    expect(loadConfig(undefined, { EQLWATCH_CONFIG: p }).config.alerts.index).toBe('named-by-env');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const d = loadConfig(undefined, {});
      expect(d.file).toBeNull();
      expect(d.config.elasticsearch.node).toBe('http://127.0.0.1:9200');
      expect(d.config.alerts.index).toBe('eqlwatch-alerts-default');
      expect(d.config.rules.dir).toBe('queries');
    } finally {
      process.chdir(cwd);
    }
  });

  it('ES_USERNAME + ES_PASSWORD become basic auth with the password read from the environment', () => {
    const { config } = loadConfig(undefined, { EQLWATCH_CONFIG: undefined as unknown as string, ES_USERNAME: 'elastic', ES_PASSWORD: 'pw-value' });
    expect(config.elasticsearch.auth).toEqual({ username: 'elastic', password: { env: 'ES_PASSWORD' } });
  });
});

describe('environment and file together', () => {
  it('a bad elasticsearch section is reported at its place in the file even when ES_* variables are set', async () => {
    const p = await file('bad-es-with-env.yml', 'elasticsearch:\n  node: http://127.0.0.1:9200\n  requestTimeout: soon\n');
    const e = configError(p, { ES_URL: 'http://127.0.0.1:9200' });
    expect({ file: e.file, line: e.line, column: e.column }).toEqual({ file: p, line: 3, column: 19 });
    expect(e.message).toMatch(/^elasticsearch\.requestTimeout: /);
  });

  it('a bad environment value is reported as coming from the environment, with a hint', async () => {
    const p = await file('fine.yml', 'alerts:\n  index: fine\n');
    const e = configError(p, { ES_URL: 'localhost:9200' });
    expect(e.file).toBe('(environment)');
    expect(e.message).toMatch(/^elasticsearch \(from the environment\): node: expected an http/);
    expect(e.hint).toMatch(/ES_URL/);
  });
});

describe('secrets never appear in errors or logs', () => {
  const SECRET = 'S3cr3t-Do-Not-Print-42';
  beforeAll(() => ensureBuilt());

  it('safeExcerpt masks secret-looking values and URL credentials', () => {
    expect(safeExcerpt(`    password: "${SECRET}`)).not.toContain(SECRET);
    expect(safeExcerpt(`  apiKey: ${SECRET}`)).not.toContain(SECRET);
    expect(safeExcerpt(`      webhookUrl: https://hooks.slack.com/services/${SECRET}`)).not.toContain(SECRET);
    expect(safeExcerpt(`  node: htp://elastic:${SECRET}@es:9200`)).not.toContain(SECRET);
    expect(safeExcerpt('  password: { env: ES_PASSWORD }')).toBe('  password: { env: ES_PASSWORD }');
    expect(safeExcerpt('  concurrency: two')).toBe('  concurrency: two');
  });

  const leaky: Record<string, string> = {
    'yaml-error-on-password.yml': `elasticsearch:\n  node: http://127.0.0.1:9200\n  auth:\n    username: elastic\n    password: "${SECRET}\n`,
    'bad-password-type.yml': `elasticsearch:\n  node: http://127.0.0.1:9200\n  auth:\n    username: elastic\n    password: [${SECRET}]\n`,
    'credentials-in-bad-url.yml': `elasticsearch:\n  node: htp://elastic:${SECRET}@127.0.0.1:9200\n`,
    'slack-webhook-line.yml': `notify:\n  channels:\n    ops:\n      type: slack\n      webhookUrl: https://hooks.slack.com/services/${SECRET}\n      timeout: [1\n`,
    'kibana-password.yml': `kibana:\n  url: http://kibana:5601\n  password: ${SECRET}\n  pasword: typo\n`,
  };
  // With and without ES_URL in the environment (the env overlay once crashed with a raw zod dump).
  const NO_ES_ENV = { ES_URL: undefined, ES_API_KEY: undefined, ES_USERNAME: undefined, ES_PASSWORD: undefined, ES_CLOUD_ID: undefined, EQLWATCH_CONFIG: undefined };
  it.each(Object.keys(leaky).flatMap((n) => [[n, 'no ES_URL'], [n, 'ES_URL set']]))('validate --config %s (%s)', async (name, mode) => {
    const p = await file(name, leaky[name]!);
    const env = mode === 'ES_URL set' ? { ...NO_ES_ENV, ES_URL: 'http://127.0.0.1:9200' } : NO_ES_ENV;
    const run = await runCli(['validate', '--config', p, '--rules', path.join(REPO_ROOT, 'queries')], { env });
    // ES_URL replaces the file's bad node URL, so that one config is then valid.
    const valid = name === 'credentials-in-bad-url.yml' && mode === 'ES_URL set';
    expect(run.code).toBe(valid ? 0 : 2);
    expect(run.stdout).toMatch(valid ? /config .* valid/ : /config .* INVALID/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  });

  it('once with secrets in the environment and an unreachable cluster: a clear error, no secret', async () => {
    const p = await file('unreachable.yml', 'http:\n  enabled: false\n');
    const run = await runCli(['once', '--config', p, '--rules', path.join(REPO_ROOT, 'queries')], {
      env: {
        ES_URL: `http://elastic:${SECRET}@127.0.0.1:1`,
        ES_USERNAME: 'elastic',
        ES_PASSWORD: SECRET,
        ES_MAX_RETRIES: '0',
        ES_REQUEST_TIMEOUT: '2000',
        EQLWATCH_CONFIG: undefined,
      },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot use Elasticsearch .*ECONNREFUSED/);
    expect(run.stderr).toMatch(/hint: check elasticsearch\.node/);
    expect(run.stdout).toMatch(/"log\.level":"fatal"/);
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  });

  it('once with an API key in the environment: the logs name the variable, never the key', async () => {
    const p = await file('apikey.yml', 'http:\n  enabled: false\n');
    const run = await runCli(['once', '--config', p, '--rules', path.join(REPO_ROOT, 'queries')], {
      env: { ES_URL: 'http://127.0.0.1:1', ES_API_KEY: SECRET, ES_MAX_RETRIES: '0', ES_REQUEST_TIMEOUT: '2000', EQLWATCH_CONFIG: undefined },
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('auth=apiKey <from env ES_API_KEY>');
    expect(`${run.stdout}${run.stderr}`).not.toContain(SECRET);
  });
});
