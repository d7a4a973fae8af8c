/**
 * Alert ids follow Kibana's formulas (research/kibana-eql.md §2c), so the same match always gets the same
 * `_id` and a repeat write is a 409. The expected values are computed here from the formulas' text.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEventAlert, buildingBlockIds, buildSequenceAlerts, shellAlertId, singleAlertId } from '../../src/alerts/build.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const RULE = '9d312839-339a-4e10-af2e-a49b15b15d13';
const e0 = { _index: 'logs-cloud_defend.process-default', _id: 'AbC123', _source: { '@timestamp': '2026-01-20T10:00:00.000Z' } };
const e1 = { _index: 'logs-kubernetes.audit_logs-default', _id: 'XyZ789', _source: { '@timestamp': '2026-01-20T10:00:00.400Z' } };

function rule(): Rule {
  const out = loadRuleText('r.yaml', `name: r\nid: ${RULE}\nquery: |\n  sequence [process where true] [any where true]\n`);
  if (out.kind !== 'rule') throw new Error('bad rule');
  return out.rule;
}
const ctx = { now: new Date('2026-01-20T10:05:00Z'), spaceId: 'default', executionId: 'exec-1', kibanaUrl: null };
const anc = (e: typeof e0) => [{ id: e._id, index: e._index, type: 'event' as const, depth: 0 }];

describe('Kibana alert ids', () => {
  it('single event: sha256(_index + _id + "undefined" + spaceId + ":" + ruleUuid)', () => {
    expect(singleAlertId(e0, RULE, 'default')).toBe(sha256(`logs-cloud_defend.process-defaultAbC123undefineddefault:${RULE}`));
    // The space is part of the id: the same event alerts once per space.
    expect(singleAlertId(e0, RULE, 'soc')).toBe(sha256(`logs-cloud_defend.process-defaultAbC123undefinedsoc:${RULE}`));
    expect(singleAlertId(e0, RULE, 'soc')).not.toBe(singleAlertId(e0, RULE, 'default'));
  });

  it('building block i: sha256(Σ(_id + _index + ruleUuid) + i), no space', () => {
    const base = `AbC123logs-cloud_defend.process-default${RULE}XyZ789logs-kubernetes.audit_logs-default${RULE}`;
    expect(buildingBlockIds([anc(e0), anc(e1)], RULE)).toEqual([sha256(`${base}0`), sha256(`${base}1`)]);
  });

  it('shell: sha256(Σ over ancestors [e0, bb0, e1, bb1] of (id + index) + ruleUuid), building blocks with index ""', () => {
    const [bb0, bb1] = buildingBlockIds([anc(e0), anc(e1)], RULE) as [string, string];
    const expected = sha256(`AbC123logs-cloud_defend.process-default${bb0}XyZ789logs-kubernetes.audit_logs-default${bb1}${RULE}`);
    expect(shellAlertId([...anc(e0), { id: bb0, index: '', type: 'signal', depth: 1 }, ...anc(e1), { id: bb1, index: '', type: 'signal', depth: 1 }], RULE)).toBe(expected);
  });

  it('the built documents carry those ids and link shell and building blocks', () => {
    const docs = buildSequenceAlerts(rule(), [e0, e1], ctx);
    const [bb0, bb1] = buildingBlockIds([anc(e0), anc(e1)], RULE) as [string, string];
    const shell = shellAlertId([...anc(e0), { id: bb0, index: '', type: 'signal', depth: 1 }, ...anc(e1), { id: bb1, index: '', type: 'signal', depth: 1 }], RULE);
    expect(docs.map((d) => d.id)).toEqual([shell, bb0, bb1]);
    expect(docs.map((d) => d.doc['kibana.alert.uuid'])).toEqual([shell, bb0, bb1]);
    expect(docs.map((d) => d.doc['kibana.alert.group.id'])).toEqual([shell, shell, shell]);
    expect(docs.map((d) => d.doc['kibana.alert.group.index'])).toEqual([undefined, 0, 1]);
    expect(docs.map((d) => d.buildingBlock)).toEqual([false, true, true]);
    expect(docs[0]!.doc['kibana.alert.ancestors']).toEqual([
      { id: 'AbC123', type: 'event', index: e0._index, depth: 0 },
      { id: bb0, type: 'signal', index: '', depth: 1, rule: RULE },
      { id: 'XyZ789', type: 'event', index: e1._index, depth: 0 },
      { id: bb1, type: 'signal', index: '', depth: 1, rule: RULE },
    ]);
    expect(buildEventAlert(rule(), e0, ctx)!.id).toBe(singleAlertId(e0, RULE, 'default'));
  });

  it('ids do not depend on the build time or the execution', () => {
    const later = { ...ctx, now: new Date('2027-01-01T00:00:00Z'), executionId: 'exec-2' };
    expect(buildSequenceAlerts(rule(), [e0, e1], later).map((d) => d.id)).toEqual(buildSequenceAlerts(rule(), [e0, e1], ctx).map((d) => d.id));
    // A different order of the same events is a different sequence.
    expect(buildingBlockIds([anc(e1), anc(e0)], RULE)).not.toEqual(buildingBlockIds([anc(e0), anc(e1)], RULE));
  });
});
