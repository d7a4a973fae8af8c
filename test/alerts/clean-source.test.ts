/** cleanSource and alert building: an event (attacker-controlled) cannot forge alert fields. */
import { describe, expect, it } from 'vitest';
import { buildEventAlert, buildSequenceAlerts, cleanSource } from '../../src/alerts/build.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';

function rule(query = 'process where true'): Rule {
  const out = loadRuleText('r.yaml', `name: Real rule\nid: real-rule\nseverity: low\nquery: |\n  ${query}\n`);
  if (out.kind !== 'rule') throw new Error('bad rule');
  return out.rule;
}
const ctx = { now: new Date('2026-01-20T10:05:00Z'), spaceId: 'default', executionId: 'exec-1', kibanaUrl: null };

const FORGED = {
  '@timestamp': '2026-01-20T10:00:00.000Z',
  event: { category: 'process', kind: 'alert', action: 'exec' },
  process: { name: 'bash' },
  kibana: { alert: { severity: 'critical', workflow_status: 'closed', rule: { name: 'Forged' } } },
  'kibana.alert.workflow_status': 'closed',
  'kibana.alert.rule.name': 'Forged rule',
  'kibana.space_ids': ['attacker'],
  signal: { status: 'closed' },
  'signal.rule.name': 'forged',
  threshold_result: { count: 1 },
  eqlwatch: { notification: { slack: { status: 'sent' } }, degraded: 'forged' },
  'eqlwatch.notification.email.status': 'sent',
  '\u0000eqlwatch.hit': { _id: 'victim', _index: 'victim' },
  data_stream: { dataset: 'cloud_defend.process', type: 'logs' },
};

describe('cleanSource', () => {
  it('drops kibana.*, signal.*, threshold_result, eqlwatch.* and internal keys; keeps ECS fields', () => {
    const out = cleanSource(FORGED).doc;
    expect(Object.keys(out).filter((k) => ['kibana', 'signal', 'threshold_result', 'eqlwatch'].includes(k) || /^(signal|eqlwatch)\.|^\u0000/.test(k))).toEqual([]);
    expect(Object.keys(out).filter((k) => k.startsWith('kibana.')).sort()).toEqual(['kibana.alert.original_data_stream', 'kibana.alert.original_event']);
    expect(out.process).toEqual({ name: 'bash' });
    expect(out.data_stream).toEqual({ dataset: 'cloud_defend.process', type: 'logs' });
  });

  it('copies event.* to kibana.alert.original_event and removes event.kind; data_stream to original_data_stream', () => {
    const out = cleanSource(FORGED).doc;
    expect(out['kibana.alert.original_event']).toEqual({ category: 'process', kind: 'alert', action: 'exec' });
    expect(out.event).toEqual({ category: 'process', action: 'exec' });
    expect(out['kibana.alert.original_data_stream']).toEqual({ dataset: 'cloud_defend.process', type: 'logs' });
    const dotted = cleanSource({ 'event.kind': 'event', 'event.action': 'exec' }).doc;
    expect(dotted).toEqual({ 'event.action': 'exec', 'kibana.alert.original_event': { kind: 'event', action: 'exec' } });
  });

  it('an alert built from a forging event has the rule\'s values, not the event\'s', () => {
    const { doc } = buildEventAlert(rule(), { _index: 'logs', _id: 'e1', _source: FORGED }, ctx)!;
    expect(doc['kibana.alert.rule.name']).toBe('Real rule');
    expect(doc['kibana.alert.workflow_status']).toBe('open');
    expect(doc['kibana.alert.severity']).toBe('low');
    expect(doc['kibana.space_ids']).toEqual(['default']);
    expect(doc['event.kind']).toBe('signal');
    expect(doc.kibana).toBeUndefined();
    expect(doc.signal).toBeUndefined();
    expect(doc['signal.rule.name']).toBeUndefined();
    expect(doc.threshold_result).toBeUndefined();
    expect(JSON.stringify(doc)).not.toMatch(/Forged|forged|attacker|victim|closed|"sent"/);
    expect(doc.eqlwatch).toBeUndefined();
  });

  it('an out-of-range numeric @timestamp does not throw (it would stall the rule): no original_time', () => {
    const { doc } = buildEventAlert(rule(), { _index: 'logs', _id: 'e1', _source: { '@timestamp': -8640000000000001, process: { name: 'bash' } } }, ctx)!;
    expect(doc['kibana.alert.original_time']).toBeUndefined();
    expect(buildEventAlert(rule(), { _index: 'logs', _id: 'e2', _source: { '@timestamp': 0 } }, ctx)!.doc['kibana.alert.original_time']).toBe('1970-01-01T00:00:00.000Z');
  });

  it('a sequence of forging events: shell and building blocks are clean too', () => {
    const r = rule('sequence [process where true] [process where true]');
    const docs = buildSequenceAlerts(r, [{ _index: 'logs', _id: 'e1', _source: FORGED }, { _index: 'logs', _id: 'e2', _source: { ...FORGED, '@timestamp': '2026-01-20T10:00:01.000Z' } }], ctx);
    expect(docs).toHaveLength(3);
    for (const { doc } of docs) {
      expect(doc['kibana.alert.rule.name']).toBe('Real rule');
      expect(doc['kibana.alert.workflow_status']).toBe('open');
      expect(JSON.stringify(doc)).not.toMatch(/Forged|attacker|victim|closed/);
    }
  });
});
