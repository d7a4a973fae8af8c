/**
 * `eqlwatch validate` (the real command): every EQL rule of Elastic's corpus validates and the non-EQL one is
 * reported as skipped; broken rule files each give an error with file, line, column and hint while the other
 * rules still load.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_DIR } from '../helpers/shared.js';
import { ensureBuilt, runCli } from './run-cli.js';

const CORPUS = path.join(SHARED_DIR, 'corpus/detection-rules-toml');
const HAS_CORPUS = existsSync(CORPUS);
if (!HAS_CORPUS) console.warn(`[validate corpus] skipped: ${CORPUS} not found (../shared is absent)`);

beforeAll(() => ensureBuilt());

describe.skipIf(!HAS_CORPUS)('eqlwatch validate on the detection-rules corpus', () => {
  it('accepts every EQL rule and says the non-EQL rule is skipped', async () => {
    const run = await runCli(['validate', '--rules', path.relative(process.cwd(), CORPUS)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^skipped .*container_workload_protection\.toml: not an EQL rule \(type "query", language "kuery"\): eqlwatch runs EQL rules only$/m);
    expect(run.stdout).toMatch(/^52 rule\(s\) valid, 1 skipped, 0 invalid file\(s\) with 0 error\(s\)/m);
    const json = await runCli(['validate', '--json', '--rules', CORPUS]);
    const report = JSON.parse(json.stdout) as { rules: unknown[]; skipped: { file: string }[]; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect(report.rules).toHaveLength(52);
    expect(report.skipped.map((s) => path.basename(s.file))).toEqual(['container_workload_protection.toml']);
  });
});

describe('eqlwatch validate --verbose', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-verbose-'));
    const rule = (id: string, extra: string) => `${HEAD}rule_id = "${id}"\nseverity = "low"\nrisk_score = 21\n${extra}${q(ok)}`;
    await writeFile(path.join(dir, 'a.toml'), rule('v1', 'setup = "Install the integration"\ntimeline_id = "t"\n'));
    await writeFile(path.join(dir, 'b.toml'), rule('v2', 'setup = "Same"\n'));
    await writeFile(path.join(dir, 'c.toml'), rule('v3', ''));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('accepts detection-rules keys eqlwatch does not read, and lists them once (with --verbose only)', async () => {
    const quiet = await runCli(['validate', '--rules', dir]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).not.toMatch(/accepted without use/);
    const verbose = await runCli(['validate', '--verbose', '--rules', dir]);
    expect(verbose.code).toBe(0);
    expect(verbose.stdout.match(/^accepted without use.*$/gm)).toEqual(['accepted without use (detection-rules keys eqlwatch does not read): setup (2 files), timeline_id (1 file)']);
    expect(verbose.stdout).toMatch(/^3 rule\(s\) valid, 0 skipped, 0 invalid file\(s\) with 0 error\(s\)/m);
    const json = JSON.parse((await runCli(['validate', '--json', '--rules', dir])).stdout) as { unusedKeys: { key: string; files: string[] }[] };
    expect(json.unusedKeys).toEqual([
      { key: 'setup', files: [path.join(dir, 'a.toml'), path.join(dir, 'b.toml')] },
      { key: 'timeline_id', files: [path.join(dir, 'a.toml')] },
    ]);
  });
});

/** 1-based line and column of the n-th occurrence of `needle` in `text`. */
function pos(text: string, needle: string, nth = 1): { line: number; column: number } {
  let at = -1;
  for (let i = 0; i < nth; i++) {
    at = text.indexOf(needle, at + 1);
    if (at < 0) throw new Error(`"${needle}" not in text`);
  }
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

const HEAD = `[metadata]
maturity = "production"

[rule]
name = "Broken"
type = "eql"
language = "eql"
description = "d"
`;
const toml = (body: string) => `${HEAD}${body}`;
const q = (query: string) => `query = '''\n${query}\n'''\n`;
const ok = 'process where process.name == "bash"';

interface Case {
  file: string;
  text: string;
  /** Where the error must point. */
  at: (text: string) => { line: number; column: number };
  message: RegExp;
  hint: RegExp;
}

const CASES: Case[] = [
  {
    file: 'invalid_toml.toml',
    text: toml('rule_id = "t1"\nseverity = "low\nrisk_score = 21\n'),
    at: (t) => ({ line: pos(t, 'severity').line, column: pos(t, '"low').column + 4 }),
    message: /^invalid TOML: /,
    hint: /quoting/,
  },
  {
    file: 'missing_rule_table.toml',
    text: '[metadata]\nmaturity = "production"\n\n[rules]\nname = "typo in the table name"\n',
    at: (t) => pos(t, '[rules]'),
    message: /^unknown top-level key rules$/,
    hint: /^did you mean rule\?$/,
  },
  {
    file: 'missing_query.toml',
    text: toml('rule_id = "t3"\nseverity = "low"\nrisk_score = 21\n'),
    at: (t) => pos(t, '[rule]'),
    message: /^missing required key rule\.query$/,
    hint: /^add query = /,
  },
  {
    file: 'missing_rule_id.toml',
    text: toml(`severity = "low"\nrisk_score = 21\n${q(ok)}`),
    at: (t) => pos(t, '[rule]'),
    message: /^missing required key rule\.rule_id$/,
    hint: /^add rule_id = /,
  },
  {
    file: 'bad_severity.toml',
    text: toml(`rule_id = "t5"\nseverity = "urgent"\nrisk_score = 21\n${q(ok)}`),
    at: (t) => pos(t, 'severity ='),
    message: /^rule\.severity: /,
    hint: /^one of: low, medium, high, critical$/,
  },
  {
    file: 'bad_risk_score.toml',
    text: toml(`rule_id = "t6"\nseverity = "low"\nrisk_score = 150\n${q(ok)}`),
    at: (t) => pos(t, 'risk_score ='),
    message: /^rule\.risk_score: .*100/,
    hint: /0 to 100/,
  },
  {
    file: 'bad_interval.toml',
    text: toml(`rule_id = "t7"\nseverity = "low"\nrisk_score = 21\ninterval = "5 minutes"\n${q(ok)}`),
    at: (t) => pos(t, 'interval ='),
    message: /^rule\.interval: expected a duration/,
    hint: /interval = "5m"/,
  },
  {
    file: 'bad_from.toml',
    text: toml(`rule_id = "t8"\nseverity = "low"\nrisk_score = 21\nfrom = "yesterday"\n${q(ok)}`),
    at: (t) => pos(t, 'from ='),
    message: /^rule\.from: expected relative date math/,
    hint: /from = "now-6m"/,
  },
  {
    file: 'bad_max_signals.toml',
    text: toml(`rule_id = "t9"\nseverity = "low"\nrisk_score = 21\nmax_signals = "lots"\n${q(ok)}`),
    at: (t) => pos(t, 'max_signals ='),
    message: /^rule\.max_signals: /,
    hint: /1 to 10000/,
  },
  {
    // The error is reported at its position in the FILE, not in the query string.
    file: 'eql_syntax.toml',
    text: toml(`rule_id = "t10"\nseverity = "low"\nrisk_score = 21\n${q('process where\n  process.name == "bash" and and process.pid > 1')}`),
    at: (t) => pos(t, 'and process.pid'),
    message: /^EQL syntax error: unexpected keyword 'and'/,
    hint: /expected .*a field/,
  },
  {
    file: 'unknown_function.toml',
    text: toml(`rule_id = "t11"\nseverity = "low"\nrisk_score = 21\n${q('process where\n  frobnicate(process.name)')}`),
    at: (t) => pos(t, 'frobnicate'),
    message: /^EQL semantic error: Unknown function \[frobnicate\]/,
    hint: /supported functions: .*startsWith/,
  },
  {
    file: 'unsupported_pipe.toml',
    text: toml(`rule_id = "t12"\nseverity = "low"\nrisk_score = 21\n${q(`${ok} | unique process.name`)}`),
    at: (t) => pos(t, 'unique'),
    message: /^EQL unsupported error: Pipe \[unique\] is not supported/,
    hint: /head N.*tail N/,
  },
  {
    file: 'zz_duplicate_id.toml',
    text: toml(`rule_id = "good-yaml-rule"\nseverity = "low"\nrisk_score = 21\n${q(ok)}`),
    at: (t) => pos(t, 'rule_id ='),
    message: /^duplicate rule id good-yaml-rule \(also in .*good\.yaml\)$/,
    hint: /its own rule_id/,
  },
  {
    file: 'bad_yaml.yaml',
    text: 'name: Bad yaml\nquery: process where true\n  severity: low\n',
    at: (t) => pos(t, 'process where'),
    message: /^invalid YAML: /,
    hint: /indentation/,
  },
  {
    file: 'bad_exception.toml',
    text: toml(`rule_id = "t15"\nseverity = "low"\nrisk_score = 21\n${q(ok)}\n[eqlwatch]\nexceptions = ["process.name == "]\n`),
    at: (t) => ({ line: pos(t, 'exceptions').line, column: pos(t, '"process.name == "').column + '"process.name == '.length }),
    message: /^EQL syntax error: unexpected end of query/,
    hint: /expected/,
  },
  {
    file: 'bad_eqlwatch_key.toml',
    text: toml(`rule_id = "t16"\nseverity = "low"\nrisk_score = 21\n${q(ok)}\n[eqlwatch]\nenabeld = false\n`),
    at: (t) => pos(t, 'enabeld'),
    message: /^unknown key eqlwatch\.enabeld$/,
    hint: /^did you mean enabled\?$/,
  },
  {
    file: 'unknown_rule_key.toml',
    text: toml(`rule_id = "t19"\nseverity = "low"\nrisk_score = 21\nintervall = "5m"\n${q(ok)}`),
    at: (t) => pos(t, 'intervall'),
    message: /^unknown key rule\.intervall$/,
    hint: /^did you mean interval\?$/,
  },
  {
    file: 'unknown_rule_key_far.toml',
    text: toml(`rule_id = "t20"\nseverity = "low"\nrisk_score = 21\nfrobnication_level = 3\n${q(ok)}`),
    at: (t) => pos(t, 'frobnication_level'),
    message: /^unknown key rule\.frobnication_level$/,
    hint: /^not a \[rule\] key of detection-rules or eqlwatch; README "Rules" lists the keys eqlwatch reads$/,
  },
  {
    file: 'unknown_type.toml',
    text: toml(`rule_id = "t21"\nseverity = "low"\nrisk_score = 21\n${q(ok)}`).replace('type = "eql"', 'type = "eqll"'),
    at: (t) => pos(t, 'type = "eqll"'),
    message: /^unknown rule type "eqll"$/,
    hint: /^did you mean eql\?$/,
  },
  {
    file: 'unknown_language.toml',
    text: toml(`rule_id = "t22"\nseverity = "low"\nrisk_score = 21\n${q(ok)}`).replace('language = "eql"', 'language = "painless"'),
    at: (t) => pos(t, 'language = "painless"'),
    message: /^unknown query language "painless"$/,
    hint: /^detection-rules languages are eql, esql, kuery, lucene; eqlwatch runs "eql"$/,
  },
  {
    // The second [[rule.threat]] entry's tactic: the position is found through the array-of-tables headers.
    file: 'unknown_threat_key.toml',
    text: toml(`rule_id = "t23"\nseverity = "low"\nrisk_score = 21\n${q(ok)}
[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0002"
name = "Execution"
reference = "https://attack.mitre.org/tactics/TA0002/"

[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0004"
naem = "Privilege Escalation"
reference = "https://attack.mitre.org/tactics/TA0004/"
`),
    at: (t) => pos(t, 'naem'),
    message: /^unknown key rule\.threat\.tactic\.naem$/,
    hint: /^did you mean name\?$/,
  },
  {
    file: 'unknown_key.yaml',
    text: 'name: Typo in YAML\nid: t24\nquery: process where true\nintervall: 5m\nexception: [\'user.name == "x"\']\n',
    at: (t) => pos(t, 'intervall'),
    message: /^unknown key intervall$/,
    hint: /^did you mean interval\?$/,
  },
  {
    // EQL errors inside YAML block scalars point inside the block (literal |, folded >, syntax and semantic).
    file: 'block_literal_syntax.yaml',
    text: 'name: Literal block\nid: t25\nquery: |\n  process where\n    process.name == "bash" and and process.pid > 1\n',
    at: (t) => pos(t, 'and process.pid'),
    message: /^EQL syntax error: unexpected keyword 'and'/,
    hint: /expected/,
  },
  {
    file: 'block_literal_semantic.yaml',
    text: 'name: Literal block\nid: t26\nseverity: low\nquery: |-\n  process where\n\n    process.name == "bash" and\n    frobnicate(process.name)\n',
    at: (t) => pos(t, 'frobnicate'),
    message: /^EQL semantic error: Unknown function \[frobnicate\]/,
    hint: /supported functions/,
  },
  {
    file: 'block_folded_syntax.yaml',
    text: 'name: Folded block\nid: t27\nquery: >\n  process where process.name == "bash"\n  and and process.pid > 1\n',
    at: (t) => pos(t, 'and process.pid'),
    message: /^EQL syntax error: unexpected keyword 'and'/,
    hint: /expected/,
  },
  {
    file: 'block_folded_semantic.yaml',
    text: 'name: Folded block\nid: t28\nquery: >+\n    process where\n      process.name == "bash"\n\n    and frobnicate(process.name)\n\n',
    at: (t) => pos(t, 'frobnicate'),
    message: /^EQL semantic error: Unknown function \[frobnicate\]/,
    hint: /supported functions/,
  },
  {
    file: 'block_exception.yaml',
    text: `name: Exception block\nid: t29\nquery: ${ok}\nexceptions:\n  - >-\n    user.name == "x" or\n    user.name ==\n`,
    at: (t) => ({ line: pos(t, 'user.name ==\n').line, column: pos(t, 'user.name ==\n').column + 'user.name =='.length }),
    message: /^EQL syntax error: unexpected end of query/,
    hint: /expected/,
  },
  {
    file: 'eqlwatch_not_table.toml',
    text: `eqlwatch = "off"\n${toml(`rule_id = "t17"\nseverity = "low"\nrisk_score = 21\n${q(ok)}`)}`,
    at: () => ({ line: 1, column: 1 }),
    message: /^\[eqlwatch\] must be a table$/,
    hint: /\[eqlwatch\] section/,
  },
  {
    file: 'bad_query.eql',
    text: '// name: Bad eql\n// severity: low\nprocess where process.name == "bash" and process.pid >\n',
    at: () => ({ line: 4, column: 1 }),
    message: /^EQL syntax error: unexpected end of query/,
    hint: /expected/,
  },
];

const GOOD_YAML = `name: Good YAML rule
id: good-yaml-rule
severity: high
index: logs-*
query: |
  process where process.name == "bash"
`;
const GOOD_TOML = toml(`rule_id = "good-toml-rule"\nseverity = "low"\nrisk_score = 21\n${q(ok)}`);

describe('eqlwatch validate on broken rule files', () => {
  let dir = '';
  let run: Awaited<ReturnType<typeof runCli>>;
  let report: {
    rules: { id: string }[];
    errors: { file: string; line: number; column: number; message: string; hint: string | null }[];
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-broken-'));
    await writeFile(path.join(dir, 'good.yaml'), GOOD_YAML);
    await writeFile(path.join(dir, 'good.toml'), GOOD_TOML);
    for (const c of CASES) await writeFile(path.join(dir, c.file), c.text);
    run = await runCli(['validate', '--json', '--rules', dir]);
    report = JSON.parse(run.stdout) as typeof report;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 and still loads the good rules', () => {
    expect(run.code).toBe(1);
    expect(report.rules.map((r) => r.id).sort()).toEqual(['good-toml-rule', 'good-yaml-rule']);
  });

  it.each(CASES.map((c) => [c.file, c] as const))('%s: file, line, column, message and hint', (_name, c) => {
    const mine = report.errors.filter((e) => path.basename(e.file) === c.file);
    expect(mine.length, JSON.stringify(report.errors.filter((e) => !CASES.some((k) => path.basename(e.file) === k.file)))).toBeGreaterThan(0);
    const e = mine[0]!;
    expect(e.file).toBe(path.join(dir, c.file));
    expect({ line: e.line, column: e.column }).toEqual(c.at(c.text));
    expect(e.message).toMatch(c.message);
    expect(e.hint ?? '').toMatch(c.hint);
  });

  it('reports no error for files that have none, and one kind per broken file', () => {
    const files = new Set(report.errors.map((e) => path.basename(e.file)));
    expect([...files].sort()).toEqual(CASES.map((c) => c.file).sort());
  });

  it('prints file:line:column, the source line with a caret, and the hint in text mode', async () => {
    const text = await runCli(['validate', '--rules', path.join(dir, 'eql_syntax.toml')]);
    expect(text.code).toBe(1);
    const c = CASES.find((k) => k.file === 'eql_syntax.toml')!;
    const p = c.at(c.text);
    const lines = text.stdout.split('\n');
    const head = lines.findIndex((l) => l.startsWith(`${path.join(dir, 'eql_syntax.toml')}:${p.line}:${p.column}: EQL syntax error`));
    expect(head).toBeGreaterThanOrEqual(0);
    expect(lines[head + 1]).toBe(`  ${c.text.split('\n')[p.line - 1]}`);
    expect(lines[head + 2]).toBe(`  ${' '.repeat(p.column - 1)}^`);
    expect(lines[head + 3]).toMatch(/^hint: /);
    expect(text.stdout).toMatch(/0 rule\(s\) valid, 0 skipped, 1 invalid file\(s\) with 1 error\(s\)/);
  });
});
