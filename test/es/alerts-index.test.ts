/** Alerts template, index and writer against the real node. */
import { describe, expect, it } from 'vitest';
import {
  alertsIndexTemplate,
  alertsTemplateName,
  ensureAlertsIndex,
  initialAlertsIndex,
} from '../../src/es/alerts-template.js';
import { writeAlerts, type AlertToWrite } from '../../src/es/alert-writer.js';
import { useEs } from '../helpers/es.js';

const es = useEs();

function alert(id: string, extra: Record<string, unknown> = {}): AlertToWrite {
  return {
    id,
    doc: {
      '@timestamp': '2026-01-02T03:04:05.000Z',
      'kibana.alert.uuid': id,
      'kibana.alert.rule.uuid': 'rule-1',
      'kibana.alert.rule.name': 'Test rule',
      'kibana.alert.severity': 'high',
      'kibana.alert.risk_score': 73,
      'kibana.alert.original_time': '2026-01-02T03:00:00.000Z',
      'kibana.alert.reason': 'process event with process sh, created high alert Test rule.',
      'kibana.alert.workflow_status': 'open',
      'kibana.alert.ancestors': [{ id: `ev-${id}`, index: 'logs-x', type: 'event', depth: 0 }],
      'process.name': 'sh',
      ...extra,
    },
  };
}

async function count(index: string): Promise<number> {
  await es.client.indices.refresh({ index });
  return (await es.client.count({ index })).count;
}

describe('alerts index template', () => {
  it('is idempotent: installing twice leaves one template, one index, one write alias', async () => {
    const alias = es.name('alerts');
    const first = await ensureAlertsIndex(es.client, { alias });
    const second = await ensureAlertsIndex(es.client, { alias });
    expect(first).toEqual({ alias, writeIndex: initialAlertsIndex(alias), created: true });
    expect(second).toEqual({ alias, writeIndex: initialAlertsIndex(alias), created: false });

    const templates = await es.client.indices.getIndexTemplate({ name: alertsTemplateName(alias) });
    expect(templates.index_templates).toHaveLength(1);
    expect(templates.index_templates[0]?.index_template._meta).toEqual(alertsIndexTemplate({ alias })._meta);

    const aliases = await es.client.indices.getAlias({ name: alias });
    expect(Object.keys(aliases)).toEqual([initialAlertsIndex(alias)]);
    expect(aliases[initialAlertsIndex(alias)]?.aliases[alias]?.is_write_index).toBe(true);
  });

  it('concurrent installs all succeed and create the index once', async () => {
    const alias = es.name('alerts-race');
    const results = await Promise.all([1, 2, 3].map(() => ensureAlertsIndex(es.client, { alias })));
    expect(results.every((r) => r.writeIndex === initialAlertsIndex(alias))).toBe(true);
    const aliases = await es.client.indices.getAlias({ name: alias });
    expect(Object.keys(aliases)).toEqual([initialAlertsIndex(alias)]);
  });

  it('maps kibana.alert.* with Kibana types and copied strings as keyword', async () => {
    const alias = es.name('alerts-map');
    await ensureAlertsIndex(es.client, { alias });
    await writeAlerts(es.client, alias, [alert('m1', { 'orchestrator.resource.name': 'pod-a' })], { refresh: true });
    const res = await es.client.indices.getFieldMapping({
      index: alias,
      fields: [
        '@timestamp',
        'kibana.alert.risk_score',
        'kibana.alert.original_time',
        'kibana.alert.severity',
        'kibana.alert.reason',
        'orchestrator.resource.name',
      ],
    });
    const fields = Object.values(res)[0]?.mappings ?? {};
    const typeOf = (f: string): unknown => {
      const leaf = f.split('.').pop() as string;
      return (fields[f]?.mapping[leaf] as { type?: string } | undefined)?.type;
    };
    expect(typeOf('@timestamp')).toBe('date');
    expect(typeOf('kibana.alert.risk_score')).toBe('float');
    expect(typeOf('kibana.alert.original_time')).toBe('date');
    expect(typeOf('kibana.alert.severity')).toBe('keyword');
    expect(typeOf('kibana.alert.reason')).toBe('keyword');
    expect(typeOf('orchestrator.resource.name')).toBe('keyword');
  });

  it('keeps an alert whose copied field has the wrong type, listing the field in _ignored', async () => {
    const alias = es.name('alerts-malformed');
    await ensureAlertsIndex(es.client, { alias });
    const res = await writeAlerts(es.client, alias, [alert('bad-date', { 'event.ingested': 'not a date' })], {
      refresh: true,
    });
    expect(res).toEqual({ created: 1, duplicates: 0, failed: [], createdIds: ['bad-date'] });
    const hit = await es.client.search({ index: alias, query: { exists: { field: '_ignored' } }, fields: ['_ignored'] });
    expect(hit.hits.hits.map((h) => h._id)).toEqual(['bad-date']);
    expect(hit.hits.hits[0]?.fields?._ignored).toEqual(['event.ingested']);
  });
});

describe('writeAlerts', () => {
  it('creates new alerts, and re-writing the same ids yields duplicates, not new documents', async () => {
    const alias = es.name('alerts-dup');
    await ensureAlertsIndex(es.client, { alias });
    const docs = ['a', 'b', 'c'].map((id) => alert(id));

    const first = await writeAlerts(es.client, alias, docs, { refresh: true });
    expect(first).toEqual({ created: 3, duplicates: 0, failed: [], createdIds: ['a', 'b', 'c'] });
    expect(await count(alias)).toBe(3);

    const again = await writeAlerts(es.client, alias, [...docs, alert('d')], { refresh: true });
    expect(again).toEqual({ created: 1, duplicates: 3, failed: [], createdIds: ['d'] });
    expect(await count(alias)).toBe(4);
  });

  it('writes the rest of a bulk with a bad document and reports the bad one with its reason', async () => {
    const alias = es.name('alerts-bad');
    await ensureAlertsIndex(es.client, { alias });
    // `kibana.alert.ancestors` is an object field: a plain string there is a mapping conflict that
    // ignore_malformed does not cover, so Elasticsearch rejects the document with 400.
    const bad = alert('bad', { 'kibana.alert.ancestors': 'just a string' });
    const res = await writeAlerts(es.client, alias, [alert('ok1'), bad, alert('ok2')], { refresh: true });

    expect(res.created).toBe(2);
    expect(res.duplicates).toBe(0);
    expect(res.failed).toHaveLength(1);
    expect(res.failed[0]?.id).toBe('bad');
    expect(res.failed[0]?.status).toBe(400);
    expect(res.failed[0]?.reason).toMatch(/kibana\.alert\.ancestors/);
    const ids = (await es.client.search({ index: alias, size: 10 })).hits.hits.map((h) => h._id).sort();
    expect(ids).toEqual(['ok1', 'ok2']);
  });

  it('splits large inputs into several bulk requests without losing any', async () => {
    const alias = es.name('alerts-batches');
    await ensureAlertsIndex(es.client, { alias });
    const docs = Array.from({ length: 25 }, (_, i) => alert(`n${i}`));
    const res = await writeAlerts(es.client, alias, docs, { batchSize: 7, refresh: true });
    expect(res).toEqual({ created: 25, duplicates: 0, failed: [], createdIds: docs.map((d) => d.id) });
    expect(await count(alias)).toBe(25);
  });

  it('writes hostile field names and values verbatim', async () => {
    const alias = es.name('alerts-hostile');
    await ensureAlertsIndex(es.client, { alias });
    const value = `x\r\nBcc: evil@example.com <script>alert(1)</script> ${'A'.repeat(5000)}`;
    const res = await writeAlerts(es.client, alias, [alert('h1', { 'process.args': [value], 'weird key $': value })], {
      refresh: true,
    });
    expect(res).toEqual({ created: 1, duplicates: 0, failed: [], createdIds: ['h1'] });
    const got = await es.client.get<Record<string, unknown>>({ index: alias, id: 'h1' });
    expect(got._source?.['process.args']).toEqual([value]);
    expect(got._source?.['weird key $']).toBe(value);
  });
});
