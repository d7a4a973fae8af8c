/**
 * Rule loading: the shipped seed rules carry the exact queries of ../shared/seeds; the short YAML and .eql
 * forms get Kibana's defaults; per-rule enable/disable, exceptions and extra tags.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules, loadRuleText } from '../../src/rules/load.js';
import { REPO_ROOT, SHARED_DIR } from '../helpers/shared.js';

const SEEDS = path.join(SHARED_DIR, 'seeds');
const HAS_SEEDS = existsSync(SEEDS);
if (!HAS_SEEDS) console.warn(`[seed queries] skipped: ${SEEDS} not found (../shared is absent)`);

/** The query of a published rule page: the first line after the "Query" heading and its "text code block:" label. */
function seedQuery(file: string): string {
  const lines = readFileSync(path.join(SEEDS, file), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.trim() === 'Query');
  return lines.slice(at + 1).find((l) => l.trim() !== '' && !l.trim().endsWith('code block:'))!.trim();
}

describe('queries/ (the seed rules)', () => {
  it('loads both rules with no error', async () => {
    const report = await loadRules(path.join(REPO_ROOT, 'queries'));
    expect(report.errors).toEqual([]);
    expect(report.rules.map((r) => r.id).sort()).toEqual(['420e5bb4-93bf-40a3-8f4a-4cc1af90eca1', '9d312839-339a-4e10-af2e-a49b15b15d13']);
    for (const r of report.rules) {
      expect(r).toMatchObject({ from: 'now-6m', interval: '5m', lookbackMs: 360_000, intervalMs: 300_000, maxSignals: 100, timestampOverride: 'event.ingested', enabled: true });
    }
  });

  it.skipIf(!HAS_SEEDS)('their queries are exactly the published ones', async () => {
    const report = await loadRules(path.join(REPO_ROOT, 'queries'));
    const byId = new Map(report.rules.map((r) => [r.id, r.query.trim()]));
    expect(byId.get('9d312839-339a-4e10-af2e-a49b15b15d13')).toBe(seedQuery('000_e5629a0eea7e32f8.txt'));
    expect(byId.get('420e5bb4-93bf-40a3-8f4a-4cc1af90eca1')).toBe(seedQuery('004_ea0a7b3e1b19da3b.txt'));
  });
});

describe('short forms and per-rule settings', () => {
  it('YAML: Kibana defaults, risk score from severity, index as a string, exceptions and enabled', () => {
    const out = loadRuleText('rules/shell.yaml', `name: Shell in container
severity: high
index: logs-cloud_defend.process*
tags: [Custom]
enabled: false
exceptions:
  - process.parent.name == "runc"
query: |
  process where process.name == "bash"
`);
    expect(out.kind).toBe('rule');
    if (out.kind !== 'rule') return;
    expect(out.rule).toMatchObject({
      id: 'eqlwatch-shell', name: 'Shell in container', severity: 'high', riskScore: 73, index: ['logs-cloud_defend.process*'],
      from: 'now-6m', interval: '5m', maxSignals: 100, enabled: false, tags: ['Custom'], exceptions: ['process.parent.name == "runc"'],
      source: { file: 'rules/shell.yaml', format: 'yaml' },
    });
  });

  it('.eql: // key: value metadata, then the query', () => {
    const out = loadRuleText('x/curl.eql', '// name: Curl\n// id: curl-1\n// severity: critical\n// interval: 1m\nprocess where process.name == "curl"\n');
    expect(out.kind).toBe('rule');
    if (out.kind !== 'rule') return;
    expect(out.rule).toMatchObject({ id: 'curl-1', severity: 'critical', riskScore: 99, intervalMs: 60_000, query: 'process where process.name == "curl"\n', source: { format: 'eql' } });
  });

  it('TOML [eqlwatch] table: enabled, exceptions and extra tags merge with the rule', () => {
    const out = loadRuleText('r.toml', `[rule]
rule_id = "r1"
name = "R"
type = "eql"
language = "eql"
severity = "low"
risk_score = 21
tags = ["A"]
query = 'process where true'

[eqlwatch]
enabled = false
tags = ["A", "B"]
exceptions = ['user.name == "backup"']
`);
    expect(out.kind).toBe('rule');
    if (out.kind !== 'rule') return;
    expect(out.rule).toMatchObject({ enabled: false, tags: ['A', 'B'], exceptions: ['user.name == "backup"'] });
  });

  it('non-EQL rules are skipped with the reason, not reported as errors', () => {
    const out = loadRuleText('k.toml', '[rule]\nrule_id = "k"\nname = "K"\ntype = "query"\nlanguage = "kuery"\nquery = "x"\nseverity = "low"\nrisk_score = 1\n');
    expect(out).toEqual({ kind: 'skipped', file: 'k.toml', reason: 'not an EQL rule (type "query", language "kuery"): eqlwatch runs EQL rules only' });
  });
});
