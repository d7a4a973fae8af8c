/**
 * Rule parity with Kibana's detection engine, on the built documents: per-event severity / risk score / name
 * overrides for single events only (transform_hit_to_alert.ts `applyOverrides`), the whole rule in
 * `kibana.alert.rule.parameters`, eqlwatch's fields outside Kibana's namespace, and alerts on alerts
 * (build_alert.ts buildParent/buildAncestors, wrap_hits.ts and build_alert_group_from_sequence.ts loop guards).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEventAlert, buildSequenceAlerts, type BuiltAlert } from '../../src/alerts/build.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const ctx = { now: new Date('2026-01-20T10:05:00Z'), spaceId: 'default', executionId: 'exec-1', kibanaUrl: null };

function toml(extra: string, query = 'process where true'): Rule {
  const out = loadRuleText('r.toml', `[rule]
rule_id = "parity-rule"
name = "Parity rule"
description = "d"
type = "eql"
language = "eql"
index = ["logs-*"]
severity = "low"
risk_score = 21
setup = "some setup text"
query = '''${query}'''
${extra}`);
  if (out.kind !== 'rule') throw new Error(JSON.stringify(out));
  return out.rule;
}

const MAPPINGS = `rule_name_override = "rule.name"
[[rule.severity_mapping]]
field = "event.severity"
operator = "equals"
value = "73"
severity = "high"
[[rule.severity_mapping]]
field = "event.severity"
operator = "equals"
value = "99"
severity = "critical"
[[rule.severity_mapping]]
field = "labels.tier"
operator = "equals"
value = "gold"
severity = "medium"
[[rule.risk_score_mapping]]
field = "event.risk_score"
operator = "equals"
value = ""
`;

const hit = (id: string, source: Record<string, unknown>) => ({ _index: 'logs-x', _id: id, _source: { '@timestamp': '2026-01-20T10:00:00.000Z', ...source } });
const single = (r: Rule, h: ReturnType<typeof hit>): Record<string, unknown> => buildEventAlert(r, h, ctx)!.doc;

describe('severity_mapping, risk_score_mapping, rule_name_override (single events, as Kibana)', () => {
  const r = toml(MAPPINGS);

  it('the highest matching severity wins; event.severity compares as integers; other fields as strings', () => {
    expect(single(r, hit('a', { event: { severity: 73 } }))['kibana.alert.severity']).toBe('high');
    expect(single(r, hit('b', { event: { severity: [73, 99] } }))['kibana.alert.severity']).toBe('critical');
    // A string "73" in event.severity is not a number: no match (Kibana isValidNumber).
    expect(single(r, hit('c', { event: { severity: '73' } }))['kibana.alert.severity']).toBe('low');
    expect(single(r, hit('d', { labels: { tier: 'gold' } }))['kibana.alert.severity']).toBe('medium');
    expect(single(r, hit('e', { labels: { tier: 'gold' }, event: { severity: 99 } }))['kibana.alert.severity']).toBe('critical');
    // The rule's own severity stays in kibana.alert.rule.severity.
    expect(single(r, hit('f', { event: { severity: 99 } }))['kibana.alert.rule.severity']).toBe('low');
  });

  it('risk score: the largest value in [0, 100] of the mapped field, numbers or numeric strings, else the rule value', () => {
    expect(single(r, hit('a', { event: { risk_score: 88 } }))['kibana.alert.risk_score']).toBe(88);
    expect(single(r, hit('b', { event: { risk_score: ['12', 40, 250] } }))['kibana.alert.risk_score']).toBe(40);
    expect(single(r, hit('c', { event: { risk_score: 'high' } }))['kibana.alert.risk_score']).toBe(21);
    expect(single(r, hit('d', {}))['kibana.alert.risk_score']).toBe(21);
  });

  it('name override: the event field when it is a string, also in the reason', () => {
    const doc = single(r, hit('a', { rule: { name: 'Sensor says: ransomware' }, event: { severity: 99 } }));
    expect(doc['kibana.alert.rule.name']).toBe('Sensor says: ransomware');
    expect(doc['kibana.alert.reason']).toBe('event created critical alert Sensor says: ransomware.');
    expect(doc['kibana.alert.rule.rule_name_override']).toBe('rule.name');
    expect(single(r, hit('b', { rule: { name: ['a', 'b'] } }))['kibana.alert.rule.name']).toBe('Parity rule');
  });

  it('sequences keep the rule values on the shell and the building blocks', () => {
    const rs = toml(MAPPINGS, 'sequence [process where true] [process where true]');
    const docs = buildSequenceAlerts(rs, [hit('a', { event: { severity: 99, risk_score: 90 }, rule: { name: 'x' } }), hit('b', { event: { severity: 99, risk_score: 90 }, rule: { name: 'x' } })], ctx);
    expect(docs).toHaveLength(3);
    for (const { doc } of docs) {
      expect(doc['kibana.alert.severity']).toBe('low');
      expect(doc['kibana.alert.risk_score']).toBe(21);
      expect(doc['kibana.alert.rule.name']).toBe('Parity rule');
    }
  });

  it('invalid mappings are reported by validate, with the key', () => {
    const out = loadRuleText('r.toml', `[rule]\nrule_id = "x"\nname = "x"\ntype = "eql"\nseverity = "low"\nrisk_score = 1\nquery = 'any where true'\n[[rule.severity_mapping]]\nfield = "a"\noperator = "contains"\nvalue = "b"\nseverity = "urgent"\n`);
    expect(out.kind).toBe('invalid');
    const messages = out.kind === 'invalid' ? out.errors.map((e) => e.message) : [];
    expect(messages.some((m) => m.startsWith('rule.severity_mapping.0.operator'))).toBe(true);
    expect(messages.some((m) => m.startsWith('rule.severity_mapping.0.severity'))).toBe(true);
  });
});

describe('kibana.alert.rule.parameters', () => {
  it('is the whole rule in snake_case, as Kibana writes it, without the attributes Kibana keeps outside params', () => {
    const r = toml(MAPPINGS);
    const p = single(r, hit('a', {}))['kibana.alert.rule.parameters'] as Record<string, unknown>;
    expect(p).toMatchObject({
      rule_id: 'parity-rule',
      description: 'd',
      type: 'eql',
      language: 'eql',
      index: ['logs-*'],
      query: 'process where true',
      severity: 'low',
      risk_score: 21,
      from: 'now-6m',
      to: 'now',
      max_signals: 100,
      version: 1,
      immutable: false,
      exceptions_list: [],
      rule_name_override: 'rule.name',
      setup: 'some setup text',
      author: [],
      references: [],
      false_positives: [],
      threat: [],
    });
    expect((p.severity_mapping as unknown[]).length).toBe(3);
    expect(p.risk_score_mapping).toEqual([{ field: 'event.risk_score', operator: 'equals', value: '' }]);
    for (const k of ['name', 'tags', 'interval', 'enabled']) expect(p).not.toHaveProperty(k);
  });
});

describe("eqlwatch's own fields", () => {
  it('live under eqlwatch.*, none inside kibana.*', () => {
    const r = toml('', 'sequence [process where true] [process where true]');
    const docs = buildSequenceAlerts(r, [hit('a', {}), hit('b', {})], ctx);
    const keys = docs.flatMap((d) => Object.keys(d.doc));
    expect(keys).not.toContain('kibana.alert.sequence.events');
    expect(keys).not.toContain('kibana.alert.rule.producer_engine');
    expect(docs[0]!.doc['eqlwatch.sequence.events']).toEqual([
      { id: 'a', index: 'logs-x', original_time: '2026-01-20T10:00:00.000Z' },
      { id: 'b', index: 'logs-x', original_time: '2026-01-20T10:00:00.000Z' },
    ]);
  });
});

/** An alert document as Kibana (or eqlwatch) stores it: `_id` = `kibana.alert.uuid`. */
function alertHit(id: string, rule: string, depth: number, ancestors: unknown[]) {
  return {
    _index: '.internal.alerts-security.alerts-default-000001',
    _id: id,
    _source: {
      '@timestamp': '2026-01-20T10:00:00.000Z',
      'kibana.alert.uuid': id,
      'kibana.alert.rule.uuid': rule,
      'kibana.alert.depth': depth,
      'kibana.alert.ancestors': ancestors,
      host: { name: 'h1' },
    },
  };
}
const EVENT_ANCESTOR = { id: 'ev1', type: 'event', index: 'logs-x', depth: 0 };

describe('alerts on alerts (lineage and loop guard, as Kibana builds them)', () => {
  const r = toml('');

  it("an alert of another rule: its ancestors, then itself as a signal ancestor at its depth; depth + 1", () => {
    const parent = alertHit('p1', 'other-rule', 1, [EVENT_ANCESTOR]);
    const a = buildEventAlert(r, parent, ctx)!;
    expect(a.doc['kibana.alert.ancestors']).toEqual([EVENT_ANCESTOR, { id: 'p1', type: 'signal', index: parent._index, depth: 1, rule: 'other-rule' }]);
    expect(a.doc['kibana.alert.depth']).toBe(2);
    // The parent's kibana.* fields are not copied (they are its own), its event fields are.
    expect(a.doc['kibana.alert.rule.uuid']).toBe('parity-rule');
    expect(a.doc.host).toEqual({ name: 'h1' });
  });

  it("an alert of this same rule, or one descending from it, is not alerted again (Kibana's loop guard)", () => {
    expect(buildEventAlert(r, alertHit('p1', 'parity-rule', 1, [EVENT_ANCESTOR]), ctx)).toBeNull();
    const grandchild = alertHit('p2', 'other-rule', 2, [EVENT_ANCESTOR, { id: 'p1', type: 'signal', index: 'i', depth: 1, rule: 'parity-rule' }]);
    expect(buildEventAlert(r, grandchild, ctx)).toBeNull();
    const rs = toml('', 'sequence [any where true] [any where true]');
    expect(buildSequenceAlerts(rs, [hit('e', {}), alertHit('p1', 'parity-rule', 1, [EVENT_ANCESTOR])], ctx)).toEqual([]);
  });

  it('a document whose kibana.alert.uuid is not its own _id is an event: an event cannot forge a lineage', () => {
    const forged = { ...alertHit('p1', 'parity-rule', 5, [EVENT_ANCESTOR]), _id: 'someone-else' };
    const a = buildEventAlert(r, forged, ctx)!;
    expect(a).not.toBeNull();
    expect(a.doc['kibana.alert.ancestors']).toEqual([{ id: 'someone-else', type: 'event', index: forged._index, depth: 0 }]);
    expect(a.doc['kibana.alert.depth']).toBe(1);
  });

  it("a sequence over alerts: building-block ids over each block's whole lineage, shell ancestors and depth as Kibana", () => {
    const rs = toml('', 'sequence [any where true] [any where true]');
    const p1 = alertHit('p1', 'other-rule', 1, [EVENT_ANCESTOR]);
    const e2 = hit('e2', {});
    const docs = buildSequenceAlerts(rs, [p1, e2], ctx);
    const [shell, bb0, bb1] = docs as [BuiltAlert, BuiltAlert, BuiltAlert];
    const p1Parent = { id: 'p1', type: 'signal', index: p1._index, depth: 1, rule: 'other-rule' };
    const base = `ev1logs-xp1${p1._index}parity-rulee2logs-xparity-rule`;
    expect([bb0.id, bb1.id]).toEqual([sha256(`${base}0`), sha256(`${base}1`)]);
    expect(bb0.doc['kibana.alert.ancestors']).toEqual([EVENT_ANCESTOR, p1Parent]);
    expect(bb0.doc['kibana.alert.depth']).toBe(2);
    expect(bb1.doc['kibana.alert.depth']).toBe(1);
    const shellAncestors = [
      EVENT_ANCESTOR, p1Parent, { id: bb0.id, type: 'signal', index: '', depth: 2, rule: 'parity-rule' },
      { id: 'e2', type: 'event', index: 'logs-x', depth: 0 }, { id: bb1.id, type: 'signal', index: '', depth: 1, rule: 'parity-rule' },
    ];
    expect(shell.doc['kibana.alert.ancestors']).toEqual(shellAncestors);
    expect(shell.doc['kibana.alert.depth']).toBe(3);
    expect(shell.id).toBe(sha256(`${shellAncestors.map((a) => `${a.id}${a.index}`).join('')}parity-rule`));
  });
});
