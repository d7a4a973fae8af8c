/**
 * The start check against the real node: a rule whose index patterns match no index, or whose needed fields
 * no matching index maps, gets a warning naming the rule, the patterns and the fields — from the API, from
 * `validate --es` (exit 1 only with --strict), in `once`'s log and in `run`'s /metrics.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { esConfigFromEnv } from '../../src/config/es.js';
import { createEsClient } from '../../src/es/client.js';
import { preflightRules, type PreflightWarning } from '../../src/worker/preflight.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { ensureBuilt, logLines, runCli } from '../cli/run-cli.js';
import { esUrl, useEs } from '../helpers/es.js';
import { parseExposition, sampleValue } from '../ops/prometheus.js';
import { startWorker } from '../ops/worker-process.js';
import { testEnv, type WorkerEnv } from './e2e-helpers.js';

const es = useEs();
const index = es.name('preflight');
const nothing = `${es.name('nothing')}-*`;

const rule = (id: string, indexes: string[], query: string): string =>
  `[rule]\nrule_id = "${id}"\nname = "Rule ${id}"\ntype = "eql"\nlanguage = "eql"\ndescription = ""\nseverity = "low"\nrisk_score = 21\n` +
  `index = ${JSON.stringify(indexes)}\ninterval = "1h"\nquery = '''\n${query}\n'''\n`;

const RULES: Record<string, string> = {
  'ok.toml': rule('pf-ok', [index], 'process where process.name == "bash" and ?host.name == "x"'),
  'no-index.toml': rule('pf-no-index', [nothing], 'process where process.name == "bash"'),
  'unmapped.toml': rule('pf-unmapped', [index, nothing], 'process where process.name == "bash" and user.name == "root" and process.parent.name : "sh*"'),
  'flattened.toml': rule('pf-flattened', [index], 'process where labels.team == "payments"'),
  'sequence.toml': rule('pf-sequence', [index], 'sequence by container.id with maxspan=1m [process where true] [process where process.name == "curl"]'),
};

function loaded(): Rule[] {
  return Object.entries(RULES).map(([file, text]) => {
    const out = loadRuleText(file, text);
    if (out.kind !== 'rule') throw new Error(`${file}: ${JSON.stringify(out)}`);
    return out.rule;
  });
}

let env: WorkerEnv;
beforeAll(async () => {
  ensureBuilt();
  await es.client.indices.create({
    index,
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        event: { properties: { category: { type: 'keyword' } } },
        process: { properties: { name: { type: 'keyword' } } },
        labels: { type: 'flattened' },
      },
    },
  });
  env = await testEnv(es, { rules: RULES, writer: 'preflight tests', http: true, workerYaml: '  leaseTtl: 5s\n' });
});

const byRule = (ws: PreflightWarning[]) => Object.fromEntries(ws.map((w) => [w.ruleId, { problem: w.problem, fields: w.fields, indices: w.indices }]));

describe('start check against the cluster', () => {
  it('finds the rule with no index and the rules with unmapped needed fields, and nothing else', async () => {
    const warnings = await preflightRules(es.client, loaded());
    expect(byRule(warnings)).toEqual({
      'pf-no-index': { problem: 'no_index', fields: [], indices: 0 },
      // ?host.name is optional; labels.team sits under a flattened field; @timestamp and event.category are mapped.
      'pf-unmapped': { problem: 'unmapped_fields', fields: ['process.parent.name', 'user.name'], indices: 1 },
      'pf-sequence': { problem: 'unmapped_fields', fields: ['container.id'], indices: 1 },
    });
    const w = warnings.find((x) => x.ruleId === 'pf-unmapped')!;
    expect(w.message).toBe(`rule "Rule pf-unmapped" (pf-unmapped) may never fire: field(s) process.parent.name, user.name are not mapped in any of the 1 index(es) matching ${index}, ${nothing}`);
    expect(warnings.find((x) => x.ruleId === 'pf-no-index')!.message).toBe(`rule "Rule pf-no-index" (pf-no-index) cannot fire: its index pattern(s) ${nothing} match no index`);
  });

  it('an unreachable cluster is a warning per rule, not a crash', async () => {
    const down = await createEsClient(esConfigFromEnv({ ES_URL: 'http://127.0.0.1:1', ES_MAX_RETRIES: '0', ES_REQUEST_TIMEOUT: '2000' }));
    try {
      const warnings = await preflightRules(down, loaded().slice(0, 2));
      expect(warnings.map((w) => w.problem)).toEqual(['check_failed', 'check_failed']);
      expect(warnings[0]!.message).toMatch(/could not check index pattern\(s\) .* against the cluster/);
    } finally {
      await down.close();
    }
  });

  it('validate --es prints each warning with the rule file; exit 0, or 1 with --strict; --json lists them', async () => {
    const args = ['validate', '--es', '--config', env.configFile];
    const run = await runCli(args, { env: { ES_URL: esUrl() } });
    expect(run.code, run.stderr).toBe(0);
    const warnings = run.stdout.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toHaveLength(3);
    expect(warnings.find((l) => l.includes('pf-no-index'))).toBe(`warning: ${env.rulesDir}/no-index.toml: rule "Rule pf-no-index" (pf-no-index) cannot fire: its index pattern(s) ${nothing} match no index`);
    expect(run.stdout).toMatch(/^cluster: 5 enabled rule\(s\) checked, 3 warning\(s\)$/m);
    const strict = await runCli([...args, '--strict'], { env: { ES_URL: esUrl() } });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/3 warning\(s\) \(--strict: failing\)/);
    const json = JSON.parse((await runCli([...args, '--json'], { env: { ES_URL: esUrl() } })).stdout) as { cluster: { warnings: PreflightWarning[]; error: null }; exitCode: number };
    expect(json.exitCode).toBe(0);
    expect(byRule(json.cluster.warnings)).toEqual(byRule(await preflightRules(es.client, loaded())));
  });

  it('validate --es against an unreachable cluster exits 1 and says so', async () => {
    const run = await runCli(['validate', '--es', '--config', env.configFile], { env: { ES_URL: 'http://127.0.0.1:1', ES_MAX_RETRIES: '0' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^cluster: cannot reach Elasticsearch \(/m);
  });

  it('once logs a warning per rule that cannot fire (rule, patterns, fields), and still runs every rule', async () => {
    const run = await runCli(['once', '--config', env.configFile], { env: { ES_URL: esUrl() } });
    const logs = logLines(run.stdout);
    // A warning does not fail the run: every rule is run after the check.
    expect(run.code, run.stdout.split('\n').filter((l) => l.includes('"log.level":"error"')).join('\n')).toBe(0);
    for (const id of ['pf-ok', 'pf-no-index', 'pf-unmapped', 'pf-flattened', 'pf-sequence']) {
      expect(logs.some((l) => l['rule.id'] === id && l['eqlwatch.preflight'] === undefined), id).toBe(true);
    }
    const warned = logs.filter((l) => l['log.level'] === 'warn' && l['eqlwatch.preflight'] !== undefined);
    expect(Object.fromEntries(warned.map((l) => [l['rule.id'], l['eqlwatch.preflight']]))).toEqual({
      'pf-no-index': { problem: 'no_index', patterns: [nothing], fields: [], indices: 0 },
      'pf-unmapped': { problem: 'unmapped_fields', patterns: [index, nothing], fields: ['process.parent.name', 'user.name'], indices: 1 },
      'pf-sequence': { problem: 'unmapped_fields', patterns: [index], fields: ['container.id'], indices: 1 },
    });
    expect(logs.some((l) => l.message === 'start check: 5 rule(s) checked against the cluster, 3 warning(s)')).toBe(true);
  });

  it('run exports the warnings in /metrics', async () => {
    const w = startWorker(['run', '--config', env.configFile], { ES_URL: esUrl() });
    try {
      const started = await w.waitForLog((r) => typeof r.url === 'string' && String(r.message).includes('/metrics'), 60_000, 'the ops server');
      await w.waitForLog((r) => String(r.message).startsWith('start check:'), 60_000, 'the start check');
      const m = parseExposition(await (await fetch(`${started.url as string}/metrics`)).text());
      expect(m.types.get('eqlwatch_rule_preflight_warning')).toBe('gauge');
      expect(sampleValue(m, 'eqlwatch_preflight_warnings')).toBe(3);
      expect(sampleValue(m, 'eqlwatch_rule_preflight_warning', { rule_id: 'pf-no-index', rule_name: 'Rule pf-no-index', problem: 'no_index' })).toBe(1);
      expect(sampleValue(m, 'eqlwatch_rule_preflight_warning', { rule_id: 'pf-unmapped', problem: 'unmapped_fields' })).toBe(1);
      expect(sampleValue(m, 'eqlwatch_rule_preflight_warning', { rule_id: 'pf-ok' })).toBeUndefined();
      // Every metric the worker exported before prom-client, under its name and type, and the default process metrics.
      const types = { eqlwatch_rule_runs_total: 'counter', eqlwatch_events_read_total: 'counter', eqlwatch_alerts_written_total: 'counter',
        eqlwatch_errors_total: 'counter', eqlwatch_notifications_total: 'counter', eqlwatch_rule_lag_seconds: 'gauge',
        eqlwatch_rule_last_success_timestamp_seconds: 'gauge', process_resident_memory_bytes: 'gauge', process_cpu_seconds_total: 'counter' };
      for (const [name, type] of Object.entries(types)) expect(m.types.get(name), name).toBe(type);
    } finally {
      expect((await w.stop('SIGTERM')).code).toBe(0);
    }
  });
});
