/**
 * Sample rules, as Kibana alerts on them: Elastic's three production `sample by …` rules (detection-rules
 * rules/linux/, queries read from ../shared/corpus/detection-rules-eql.json) validate, and fire in `replay` on
 * events that satisfy them with Kibana's sequence alert shape (Kibana wraps a sample's `hits.sequences` like a
 * sequence: one shell plus one building block per event). The pure per-window evaluation (sample-rule.ts) is
 * what the worker's read path calls.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsForMatches, prepareRule } from '../../src/worker/prepared-rule.js';
import { evaluateSampleRule } from '../../src/worker/sample-rule.js';
import { loadRuleText } from '../../src/rules/load.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { HAS_SHARED, noteSharedMissing } from '../helpers/shared.js';

import { corpusRules, eventsFor, SAMPLE_RULES, T, toToml, type CorpusRule } from '../fixtures/sample-rules.js';

const ts = (s: number) => new Date(T + s * 1000).toISOString();
const hit = (id: string, index: string, source: Record<string, unknown>) => ({ _index: index, _id: id, _source: source });

describe.skipIf(!HAS_SHARED)("Elastic's production sample rules", () => {
  noteSharedMissing('sample rules');
  let dir = '';
  let rules: CorpusRule[] = [];
  beforeAll(async () => {
    ensureBuilt();
    rules = corpusRules();
    dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-sample-'));
    for (const r of rules) await writeFile(path.join(dir, path.basename(r.path)), toToml(r));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are the three `sample by` rules of detection-rules rules/linux/', () => {
    expect(rules.map((r) => r.query.trimStart().split(/\s+/, 2).join(' '))).toEqual(['sample by', 'sample by', 'sample by']);
  });

  it('validate', async () => {
    const run = await runCli(['validate', '--json', '--rules', dir]);
    const report = JSON.parse(run.stdout) as { rules: { id: string }[]; errors: unknown[] };
    expect(report.errors).toEqual([]);
    expect(report.rules.map((r) => r.id).sort()).toEqual(rules.map((r) => r.rule_id).sort());
    expect(run.code).toBe(0);
  });

  it.each(SAMPLE_RULES)('%s fires in replay with the sequence alert shape: one shell, one building block per event', async (rulePath) => {
    const r = rules.find((x) => x.path === rulePath)!;
    const events = eventsFor(rulePath);
    const input = path.join(dir, `${path.basename(rulePath)}.ndjson`);
    await writeFile(input, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const run = await runCli(['replay', '--rules', path.join(dir, path.basename(rulePath)), '--now', '2026-11-24T10:05:00Z', input]);
    expect(run.code, run.stderr).toBe(0);
    const docs = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { _id: string; _source: Record<string, unknown> });
    const stages = prepareRule(loadOne(toToml(r))).compiled.stages.length;
    expect(docs).toHaveLength(stages + 1);
    const [shell, ...blocks] = docs;
    expect(shell!._source['kibana.alert.building_block_type']).toBeUndefined();
    expect(shell!._source['kibana.alert.group.id']).toBe(shell!._id);
    expect(shell!._source['kibana.alert.depth']).toBe(2);
    expect(shell!._source['kibana.alert.rule.rule_id']).toBe(r.rule_id);
    expect(shell!._source['kibana.alert.severity']).toBe(r.severity);
    for (const [i, b] of blocks.entries()) {
      expect(b._source['kibana.alert.building_block_type']).toBe('default');
      expect(b._source['kibana.alert.group.id']).toBe(shell!._id);
      expect(b._source['kibana.alert.group.index']).toBe(i);
    }
    // One event per stage, in stage order; the decoy never appears.
    const used = (shell!._source['eqlwatch.sequence.events'] as { id: string }[]).map((e) => e.id);
    expect(used).toHaveLength(stages);
    expect(used.some((id) => id.includes('decoy'))).toBe(false);
    // The shell carries the join key fields all events share.
    expect((shell!._source.host as { id: string }).id).toBe('host-1');
    // Deterministic: the same events give the same alert ids.
    const again = await runCli(['replay', '--rules', path.join(dir, path.basename(rulePath)), '--now', '2027-01-01T00:00:00Z', input]);
    expect(again.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id)).toEqual(docs.map((d) => d._id));
  });
});

function loadOne(text: string) {
  const out = loadRuleText('r.toml', text);
  if (out.kind !== 'rule') throw new Error(JSON.stringify(out));
  return out.rule;
}

describe('evaluateSampleRule (the pure per-window evaluation the worker calls)', () => {
  const rule = (extra = '') => prepareRule(loadOne(`[rule]
rule_id = "s"
name = "S"
type = "eql"
severity = "medium"
risk_score = 47
max_signals = 2
query = '''sample by host.id [process where process.name == "a"] [process where process.name == "b"]'''
${extra}`));
  const ev = (id: string, host: string, name: string) => hit(id, 'logs-x', { '@timestamp': ts(0), event: { category: ['process'] }, host: { id: host }, process: { name } });

  it('finds one sample per join key, events in stage order, at most max_signals, groups in key order', () => {
    const hits = [ev('b1', 'h1', 'b'), ev('a1', 'h1', 'a'), ev('a2', 'h2', 'a'), ev('b2', 'h2', 'b'), ev('a3', 'h3', 'a'), ev('b3', 'h3', 'b'), ev('a4', 'h4', 'a')];
    const { matches } = evaluateSampleRule(rule(), hits);
    expect(matches.map((m) => (m.kind === 'sequence' ? m.hits.map((h) => h._id) : []))).toEqual([['a1', 'b1'], ['a2', 'b2']]);
  });

  it("leaves out events matching the rule's exceptions, and counts them", () => {
    const p = rule(`[eqlwatch]\nexceptions = ['host.id == "h1"']`);
    const { matches, excluded } = evaluateSampleRule(p, [ev('a1', 'h1', 'a'), ev('b1', 'h1', 'b'), ev('a2', 'h2', 'a'), ev('b2', 'h2', 'b')]);
    expect(matches.map((m) => (m.kind === 'sequence' ? m.hits.map((h) => h._id) : []))).toEqual([['a2', 'b2']]);
    expect(excluded).toBe(2);
  });

  it('its matches become sequence alerts (shell + building blocks), the same ids on every overlapping window', () => {
    const p = rule();
    const window1 = [ev('a1', 'h1', 'a'), ev('b1', 'h1', 'b')];
    const window2 = [ev('x', 'h9', 'c'), ...window1];
    const ctx = { now: new Date(T), spaceId: 'default', executionId: 'e', kibanaUrl: null };
    const ids1 = alertsForMatches(p, evaluateSampleRule(p, window1).matches, ctx).alerts.map((a) => a.id);
    const ids2 = alertsForMatches(p, evaluateSampleRule(p, window2).matches, { ...ctx, now: new Date(T + 60_000) }).alerts.map((a) => a.id);
    expect(ids1).toHaveLength(3);
    expect(ids2).toEqual(ids1);
  });

  it('refuses a rule that is not a sample rule', () => {
    const p = prepareRule(loadOne('[rule]\nrule_id = "q"\nname = "Q"\ntype = "eql"\nseverity = "low"\nrisk_score = 1\nquery = \'process where true\'\n'));
    expect(() => evaluateSampleRule(p, [])).toThrow(/needs a sample rule/);
  });
});
