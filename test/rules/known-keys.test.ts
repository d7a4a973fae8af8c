/**
 * Unknown keys are errors with a nearest-key hint; every key detection-rules defines is accepted (and those
 * eqlwatch does not read are reported as unused); every rule type detection-rules defines is either run
 * (eql) or skipped with its type named; the whole detection-rules EQL corpus still loads.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { DETECTION_RULES_RULE_KEYS, DETECTION_RULES_TYPES, nearest } from '../../src/rules/known-keys.js';
import { loadRuleText } from '../../src/rules/load.js';
import { detectionRuleSchema } from '../../src/rules/schema.js';
import { HAS_SHARED, noteSharedMissing, SHARED_DIR } from '../helpers/shared.js';

const BASE = { rule_id: 'k1', name: 'K', description: 'd', type: 'eql', language: 'eql', severity: 'low', risk_score: 21, query: 'process where true' };
const tomlRule = (rule: Record<string, unknown>, extra = ''): string => `${stringify({ metadata: { maturity: 'production' }, rule })}\n${extra}`;

describe('nearest key', () => {
  it('suggests plausible typos only', () => {
    expect(nearest('intervall', ['interval', 'index', 'from'])).toBe('interval');
    expect(nearest('Severity', ['severity', 'setup'])).toBe('severity');
    expect(nearest('timestamp_overide', ['timestamp_override', 'timestamp_field'])).toBe('timestamp_override');
    expect(nearest('foo', ['tags', 'from', 'note'])).toBeUndefined();
    expect(nearest('x', [])).toBeUndefined();
  });
});

describe('keys detection-rules defines', () => {
  it('are all accepted; the ones eqlwatch does not read are reported as unused, once each', () => {
    const used = new Set(Object.keys(detectionRuleSchema.shape));
    const unused = DETECTION_RULES_RULE_KEYS.filter((k) => !used.has(k));
    expect(unused).toEqual(expect.arrayContaining(['setup', 'required_fields', 'related_integrations', 'investigation_fields', 'alert_suppression', 'throttle']));
    const rule: Record<string, unknown> = { ...BASE };
    for (const k of unused) rule[k] = k === 'alert_suppression' ? { group_by: ['host.name'] } : 'x';
    const out = loadRuleText('all-keys.toml', tomlRule(rule));
    expect(out.kind, JSON.stringify(out)).toBe('rule');
    if (out.kind !== 'rule') return;
    expect(out.unusedKeys).toEqual([...unused].sort());
  });

  it('a key nobody defines is an error at its line, with the nearest key as hint', () => {
    const text = tomlRule({ ...BASE, timestamp_overide: 'event.ingested' });
    const out = loadRuleText('typo.toml', text);
    expect(out.kind).toBe('invalid');
    if (out.kind !== 'invalid') return;
    const line = text.split('\n').findIndex((l) => l.startsWith('timestamp_overide')) + 1;
    expect(out.errors.map((e) => [e.message, e.line, e.column, e.hint])).toEqual([
      ['unknown key rule.timestamp_overide', line, 1, 'did you mean timestamp_override?'],
    ]);
  });

  it('short forms: YAML keys beside the rule (id, enabled, exceptions) are known, and their typos get hints too', () => {
    const out = loadRuleText('y.yaml', 'id: y1\nname: Y\nquery: process where true\nexception: [\'user.name == "x"\']\nenbled: false\n');
    expect(out.kind).toBe('invalid');
    if (out.kind !== 'invalid') return;
    expect(out.errors.map((e) => [e.message, e.line, e.hint])).toEqual([
      ['unknown key exception', 4, 'did you mean exceptions?'],
      ['unknown key enbled', 5, 'did you mean enabled?'],
    ]);
    const eql = loadRuleText('e.eql', '// name: E\n// severty: high\nprocess where true\n');
    expect(eql.kind === 'invalid' && eql.errors.map((e) => [e.message, e.line, e.hint])).toEqual([['unknown key severty', 2, 'did you mean severity?']]);
  });
});

describe('rule types', () => {
  it.each(DETECTION_RULES_TYPES.filter((t) => t !== 'eql'))('type "%s" is skipped with its type named', (type) => {
    const out = loadRuleText(`${type}.toml`, tomlRule({ ...BASE, type, language: type === 'esql' ? 'esql' : 'kuery' }));
    expect(out).toMatchObject({ kind: 'skipped', reason: expect.stringContaining(`type "${type}"`) });
  });

  it('an unknown type is an error, not a skip', () => {
    const out = loadRuleText('t.toml', tomlRule({ ...BASE, type: 'eqll' }));
    expect(out.kind === 'invalid' && out.errors.map((e) => [e.message, e.hint])).toEqual([['unknown rule type "eqll"', 'did you mean eql?']]);
  });
});

noteSharedMissing('detection-rules corpus (keys)');

describe.skipIf(!HAS_SHARED)('detection-rules corpus', () => {
  it('every one of the 1,024 EQL rules, written back as TOML with the fields the corpus keeps, loads with no error', () => {
    const doc = JSON.parse(readFileSync(path.join(SHARED_DIR, 'corpus/detection-rules-eql.json'), 'utf8')) as { rules: Record<string, unknown>[] };
    expect(doc.rules).toHaveLength(1024);
    const failures: string[] = [];
    let sample = 0;
    for (const r of doc.rules) {
      // path, integration and min_stack_version are [metadata] (or file) facts, the rest [rule] keys.
      const { path: file, integration, min_stack_version, ...rule } = r;
      for (const [k, v] of Object.entries(rule)) if (v === null || v === undefined) delete rule[k];
      const metadata = { maturity: 'production', ...(integration ? { integration } : {}), ...(min_stack_version ? { min_stack_version } : {}) };
      const text = stringify({ metadata, rule: { description: '', author: ['Elastic'], ...rule, language: 'eql' } });
      const out = loadRuleText(path.basename(String(file)), text);
      if (out.kind === 'invalid') {
        // Sample queries are not detection rules here (validate says so); everything else must load.
        if (out.errors.every((e) => e.message === 'a sample query cannot be a detection rule')) sample++;
        else failures.push(`${String(file)}: ${out.errors.map((e) => e.format()).join('\n')}`);
      } else expect(out.kind, String(file)).toBe('rule');
    }
    expect(failures).toEqual([]);
    expect(sample).toBeLessThanOrEqual(3);
  });
});
