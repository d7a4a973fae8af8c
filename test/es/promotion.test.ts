/**
 * Promotion into Kibana's Security app, against the real node: the alert sink writes one ECS `event.kind: alert`
 * document per alert (single-event alerts and sequence shells, not building blocks) into the promotion data
 * stream, and the very query the Kibana promotion rule carries (Lucene, run by Elasticsearch's `query_string`
 * as Kibana runs a `language: lucene` rule), within the rule's window on its timestamp override
 * (`event.ingested`, with Kibana's `@timestamp` fallback), finds exactly one document per alert, and nothing
 * else that shares the data stream. No Kibana runs here: what Kibana then does with those documents is its
 * documented query-rule behaviour (README, Alerts, "Promotion into Kibana's Security app").
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildEventAlert, buildSequenceAlerts, type BuiltAlert } from '../../src/alerts/build.js';
import { ensurePromotionTarget } from '../../src/es/promotion-target.js';
import { promotionRuleBody, PROMOTION_QUERY } from '../../src/kibana/promotion-rule.js';
import { createLogger } from '../../src/ops/logger.js';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { writeAlertBatch } from '../../src/worker/alert-sink.js';
import { ensureAlertsIndex } from '../../src/es/alerts-template.js';
import { esUrl, useEs } from '../helpers/es.js';
import { httpReceiver } from '../helpers/http-receiver.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const es = useEs();

function rule(id: string, name: string, query: string, extra = ''): Rule {
  const out = loadRuleText(`${id}.toml`, `[rule]
rule_id = "${id}"
name = "${name}"
description = "d"
type = "eql"
severity = "high"
risk_score = 73
index = ["logs-*"]
query = '''${query}'''
${extra}
[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0002"
name = "Execution"
reference = "https://attack.mitre.org/tactics/TA0002/"
[[rule.threat.technique]]
id = "T1609"
name = "Container Administration Command"
reference = "https://attack.mitre.org/techniques/T1609/"
`);
  if (out.kind !== 'rule') throw new Error(JSON.stringify(out));
  return out.rule;
}

const event = (id: string, extra: Record<string, unknown> = {}) => ({
  _index: 'logs-cloud_defend.process-default',
  _id: id,
  _source: {
    '@timestamp': new Date(Date.now() - 60_000).toISOString(),
    event: { category: ['process'], type: ['start'], action: 'exec', module: 'cloud_defend', dataset: 'cloud_defend.process' },
    host: { name: 'worker-2' },
    container: { name: 'api', id: 'c0ffee' },
    orchestrator: { resource: { name: 'api-6d8f9b7c5-x2k4q', type: 'pod' }, namespace: 'payments' },
    user: { name: 'root' },
    process: { name: 'sh', command_line: 'sh -c id' },
    ...extra,
  },
});

describe('promotion documents on the real node', () => {
  it('the promotion rule\'s query finds exactly one document per alert, none per building block, none of the neighbours', async () => {
    const namespace = `t${randomBytes(5).toString('hex')}`;
    const target = await ensurePromotionTarget(es.client, namespace);
    es.onCleanup(() => es.client.indices.deleteDataStream({ name: target.index }).then(() => es.client.indices.deleteIndexTemplate({ name: `${target.index}-eqlwatch` })));
    expect(target).toEqual({ index: `logs-eqlwatch.alerts-${namespace}`, kind: 'data_stream' });
    const alertsIndex = es.name('alerts');
    await ensureAlertsIndex(es.client, { alias: alertsIndex });

    const ctx = { now: new Date(), spaceId: 'default', executionId: 'e', kibanaUrl: 'https://kibana.example', linkTarget: 'security' as const };
    const single = rule('promo-single', 'Shell in a container', 'process where process.name == "sh"', 'rule_name_override = "process.title"');
    const seq = rule('promo-seq', 'Shell then kubectl', 'sequence by host.name [process where true] [process where true]');
    const alerts: BuiltAlert[] = [
      buildEventAlert(single, event('e1', { process: { name: 'sh', title: 'Overridden name' } }), ctx)!,
      buildEventAlert(single, event('e2', { host: { name: { hostile: 'object' } } }), ctx)!,
      ...buildSequenceAlerts(seq, [event('e3'), event('e4')], ctx),
    ];
    const logger = createLogger({ level: 'silent' });
    const deps = { client: es.client, logger, alertsIndex, promotion: { target, namespace } };
    const first = await writeAlertBatch(deps, alerts);
    expect(first).toMatchObject({ created: 5, duplicates: 0, promoted: 3 });
    // A re-run of the same window (overlap, retry) promotes nothing twice.
    const again = await writeAlertBatch(deps, alerts);
    expect(again).toMatchObject({ created: 0, duplicates: 5, promoted: 0 });
    // Neighbours in the same data stream that the rule must not promote.
    await es.client.bulk({
      refresh: true,
      operations: [
        { create: { _index: target.index } }, { '@timestamp': new Date().toISOString(), event: { kind: 'event', module: 'eqlwatch', ingested: new Date().toISOString() }, message: 'not an alert' },
        { create: { _index: target.index } }, { '@timestamp': new Date().toISOString(), event: { kind: 'alert', module: 'endpoint', ingested: new Date().toISOString() }, message: 'someone else\'s alert' },
      ],
    });

    // The promotion rule's request, as Kibana builds it for a Lucene query rule with timestamp_override event.ingested.
    const body = promotionRuleBody(namespace);
    expect(body.query).toBe(PROMOTION_QUERY);
    const from = new Date(Date.now() - 2 * 60_000).toISOString();
    const to = new Date(Date.now() + 1000).toISOString();
    const range = (field: string) => ({ range: { [field]: { gte: from, lte: to, format: 'strict_date_optional_time' } } });
    const res = await es.client.search<Record<string, unknown>>({
      index: (body.index as string[]).join(','),
      size: 100,
      query: {
        bool: {
          filter: [
            { query_string: { query: String(body.query), analyze_wildcard: true } },
            { bool: { minimum_should_match: 1, should: [range('event.ingested'), { bool: { filter: [range('@timestamp')], must_not: [{ exists: { field: 'event.ingested' } }] } }] } },
          ],
        },
      },
    });
    const shown = alerts.filter((a) => !a.buildingBlock);
    const found = res.hits.hits.map((h) => (h._source!.event as { id: string }).id).sort();
    expect(found).toEqual(shown.map((a) => a.id).sort());

    const byId = new Map(res.hits.hits.map((h) => [(h._source!.event as { id: string }).id, h._source!]));
    const p1 = byId.get(alerts[0]!.id)! as Record<string, any>;
    // What the promotion rule maps: name override from message, severity and risk mappings, the timestamp override.
    expect(p1.message).toBe('Overridden name');
    expect(p1.event).toMatchObject({ kind: 'alert', module: 'eqlwatch', dataset: 'eqlwatch.alerts', severity: 73, risk_score: 73 });
    expect(typeof p1.event.ingested).toBe('string');
    expect(p1.rule).toMatchObject({ id: 'promo-single', name: 'Overridden name' });
    expect(p1.threat).toEqual({ framework: 'MITRE ATT&CK', tactic: { id: ['TA0002'], name: ['Execution'], reference: ['https://attack.mitre.org/tactics/TA0002/'] }, technique: { id: ['T1609'], name: ['Container Administration Command'], reference: ['https://attack.mitre.org/techniques/T1609/'] } });
    expect(p1.host).toEqual({ name: 'worker-2' });
    expect(p1.orchestrator).toEqual({ resource: { name: 'api-6d8f9b7c5-x2k4q', type: 'pod' }, namespace: 'payments' });
    expect(p1.eqlwatch).toEqual({ alert: { id: alerts[0]!.id, index: alertsIndex } });
    expect(p1.data_stream).toEqual({ type: 'logs', dataset: 'eqlwatch.alerts', namespace });
    // The hostile host.name never reaches the promotion document either.
    expect((byId.get(alerts[1]!.id) as Record<string, any>).host).toBeUndefined();
    // The promoted alert's fields analysts filter on are searchable as ECS types in the data stream.
    for (const [field, value] of [['event.id', alerts[0]!.id], ['host.name', 'worker-2'], ['threat.tactic.name', 'Execution'], ['rule.name', 'Shell then kubectl']] as const) {
      const hits = await es.client.search({ index: target.index, query: { term: { [field]: value } } });
      expect((hits.hits.total as { value: number }).value, field).toBeGreaterThan(0);
    }
  });

  it('`eqlwatch setup` installs the promotion data stream template and the Kibana rule, in the space, idempotently', async () => {
    ensureBuilt();
    const namespace = `s${randomBytes(5).toString('hex')}`;
    const rules = new Set<string>();
    const kibana = await httpReceiver((r) => {
      if (!r.path.endsWith('/api/detection_engine/rules')) return { status: 200, json: {} };
      const id = r.query.get('rule_id') ?? String((r.body as { rule_id?: string } | null)?.rule_id);
      if (r.method === 'GET') return rules.has(id) ? { status: 200, json: { rule_id: id } } : { status: 404, json: { message: 'not found', status_code: 404 } };
      rules.add(id);
      return { status: 200, json: { rule_id: id } };
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-setup-'));
    es.onCleanup(async () => {
      await kibana.close();
      await rm(dir, { recursive: true, force: true });
    });
    const config = path.join(dir, 'eqlwatch.yml');
    await writeFile(config, `alerts:
  index: ${es.name('alerts')}
  spaceId: soc
  promotion:
    namespace: ${namespace}
state:
  index: ${es.name('state')}
notify:
  outbox:
    index: ${es.name('outbox')}
kibana:
  url: ${kibana.url}
`);
    const env = { ES_URL: esUrl() };
    const first = await runCli(['setup', '--config', config], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(`promotion: data stream logs-eqlwatch.alerts-${namespace} ready`);
    expect(first.stdout).toMatch(new RegExp(`promotion rule "eqlwatch alerts \\(logs-eqlwatch\\.alerts-${namespace}\\)" \\(rule_id eqlwatch-promotion-${namespace}\\) created in space soc`));
    const second = await runCli(['setup', '--config', config], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`(rule_id eqlwatch-promotion-${namespace}) updated in space soc`);
    const template = await es.client.indices.getIndexTemplate({ name: `logs-eqlwatch.alerts-${namespace}-eqlwatch` });
    expect(template.index_templates[0]!.index_template.data_stream).toBeDefined();
    es.onCleanup(() => es.client.indices.deleteIndexTemplate({ name: `logs-eqlwatch.alerts-${namespace}-eqlwatch` }));
    expect(kibana.received.filter((r) => r.path.includes('detection_engine')).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /s/soc/api/detection_engine/rules', 'POST /s/soc/api/detection_engine/rules',
      'GET /s/soc/api/detection_engine/rules', 'PUT /s/soc/api/detection_engine/rules',
    ]);
  });
});
