/** Loading a scenario into a real node: templates, field types, counts, namespaces and the safety check. */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/scenario/index.js';
import { LoadError, loadScenario } from '../../src/scenario/load.js';
import { scenarioTemplates } from '../../src/scenario/mappings.js';
import { useEs } from '../helpers/es.js';

describe('loadScenario', () => {
  const es = useEs();
  const ns = `eqlwatchtest${randomBytes(4).toString('hex')}`;
  const foreignNs = `${ns}foreign`;
  const processIndex = `logs-cloud_defend.process-${ns}`;
  const auditIndex = `logs-kubernetes.audit_logs-${ns}`;
  const scenario = generateScenario({ events: 600, attacks: 1, seed: 3 });

  afterAll(async () => {
    for (const n of [ns, foreignNs]) {
      for (const t of scenarioTemplates(n)) {
        await es.client.indices.delete({ index: t.index, ignore_unavailable: true }).catch(() => undefined);
        await es.client.indices.deleteIndexTemplate({ name: t.name }).catch(() => undefined);
      }
    }
  });

  it('writes every document to the index of its dataset in the chosen namespace', async () => {
    const report = await loadScenario(es.client, scenario, { namespace: ns });
    expect(report.total).toBe(scenario.events.length);
    expect(report.indices).toEqual({ [processIndex]: scenario.stats.processEvents, [auditIndex]: scenario.stats.auditEvents });
    const p = await es.client.count({ index: processIndex });
    const a = await es.client.count({ index: auditIndex });
    expect([p.count, a.count]).toEqual([scenario.stats.processEvents, scenario.stats.auditEvents]);
    const other = await es.client.count({ index: processIndex, query: { bool: { must_not: { term: { 'data_stream.namespace': ns } } } } });
    expect(other.count).toBe(0);
  });

  it('maps the fields the seed rules query with the integrations\' types', async () => {
    const caps = await es.client.fieldCaps({
      index: [processIndex, auditIndex],
      fields: ['process.interactive', 'process.entry_leader.same_as_process', 'event.ingested', 'process.args', 'container.id',
        'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name', 'kubernetes.audit.stage', 'source.ip', 'orchestrator.resource.name'],
    });
    const typeOf = (f: string) => Object.keys(caps.fields[f] ?? {});
    expect(typeOf('process.interactive')).toEqual(['boolean']);
    expect(typeOf('process.entry_leader.same_as_process')).toEqual(['boolean']);
    expect(typeOf('event.ingested')).toEqual(['date']);
    expect(typeOf('process.args')).toEqual(['keyword']);
    expect(typeOf('container.id')).toEqual(['keyword']);
    expect(typeOf('kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name')).toEqual(['keyword']);
    expect(typeOf('kubernetes.audit.stage')).toEqual(['keyword']);
    expect(typeOf('source.ip')).toEqual(['ip']);
    expect(typeOf('orchestrator.resource.name')).toEqual(['keyword']);
  });

  it('replaces its own earlier load instead of doubling it', async () => {
    await loadScenario(es.client, scenario, { namespace: ns });
    const p = await es.client.count({ index: processIndex });
    expect(p.count).toBe(scenario.stats.processEvents);
  });

  it('refuses to write into an index it did not create, leaving it and the cluster untouched', async () => {
    // The audit index (checked second) holds "real" data: nothing may be created for the process index either.
    const foreign = `logs-kubernetes.audit_logs-${foreignNs}`;
    await es.client.indices.create({ index: foreign });
    await es.client.index({ index: foreign, document: { message: 'real data' }, refresh: true });
    await expect(loadScenario(es.client, scenario, { namespace: foreignNs })).rejects.toThrow(LoadError);
    const c = await es.client.count({ index: foreign });
    expect(c.count).toBe(1);
    expect(await es.client.indices.exists({ index: `logs-cloud_defend.process-${foreignNs}` })).toBe(false);
  });
});
