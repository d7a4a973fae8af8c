/**
 * The detection-engine requests `eqlwatch setup` sends, checked against Kibana's published OpenAPI description
 * (an excerpt of elastic/kibana's security_solution_detections_api_2023_10_31.bundled.schema.yaml, see the
 * fixture's header for the commit and the changes). A local HTTP receiver stands in for Kibana (none runs on
 * these machines): it answers the rule look-up with 404 until the rule was created, so the test sees both the
 * first installation (POST) and the idempotent re-run (PUT of the same rule_id), in the configured space.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { promotionRuleBody, PROMOTION_QUERY } from '../../src/kibana/promotion-rule.js';
import { DETECTION_API_VERSION, setupKibana } from '../../src/kibana/setup.js';
import { httpReceiver, type Received, type Receiver } from '../helpers/http-receiver.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = parse(readFileSync(path.join(here, '../fixtures/kibana/detections-api-2023-10-31.excerpt.yaml'), 'utf8'), { merge: true }) as {
  info: { version: string };
  paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>>;
};

const ajv = new Ajv2019({ strict: false, allErrors: true });
ajv.addFormat('nonempty', /\S/);
ajv.addFormat('date-math', /^now(-\d+[smhd])?$/);
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addSchema(spec, 'kibana');
/** The operation's request body schema, with no property beyond those the schema declares. */
function bodyValidator(pathName: string, method: string) {
  const op = spec.paths[pathName]?.[method];
  const ref = op?.requestBody?.content['application/json']?.schema.$ref;
  if (!ref) throw new Error(`${method} ${pathName} has no JSON request body in the spec`);
  return ajv.compile({ $ref: `kibana${ref}`, unevaluatedProperties: false });
}
const validateCreate = bodyValidator('/api/detection_engine/rules', 'post');
const validateUpdate = bodyValidator('/api/detection_engine/rules', 'put');

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** Knows one thing about Kibana: a rule exists once it was POSTed (look-ups by rule_id). */
async function kibanaReceiver(): Promise<Receiver> {
  const rules = new Map<string, unknown>();
  const r = await httpReceiver((req) => {
    if (!req.path.endsWith('/api/detection_engine/rules')) return { status: 200, json: {} };
    const body = req.body as Record<string, unknown> | null;
    const ruleId = (req.method === 'GET' ? req.query.get('rule_id') : String(body?.rule_id)) ?? '';
    const notFound = { status: 404, json: { message: `rule_id: "${ruleId}" not found`, status_code: 404 } };
    if (req.method === 'GET') return rules.has(ruleId) ? { status: 200, json: rules.get(ruleId) } : notFound;
    if (req.method === 'POST') {
      if (rules.has(ruleId)) return { status: 409, json: { message: `rule_id: "${ruleId}" already exists`, status_code: 409 } };
      rules.set(ruleId, { ...body, id: '6541b99a-dee9-4f6d-a86d-dbd1869d73b1' });
      return { status: 200, json: rules.get(ruleId) };
    }
    return rules.has(ruleId) ? { status: 200, json: rules.get(ruleId) } : notFound;
  });
  close = r.close;
  return r;
}

/** Every detection-engine request must be an operation of the spec, with declared query parameters only. */
function checkAgainstSpec(r: Received): void {
  const apiPath = r.path.replace(/^\/s\/[^/]+/, '');
  const op = spec.paths[apiPath]?.[r.method.toLowerCase()];
  expect(op, `${r.method} ${apiPath} is not in the published API`).toBeDefined();
  const declared = new Set((op!.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of r.query.keys()) expect(declared.has(name), `query parameter ${name} of ${op!.operationId}`).toBe(true);
  if (r.method === 'POST') expect(validateCreate(r.body), JSON.stringify(validateCreate.errors)).toBe(true);
  if (r.method === 'PUT') expect(validateUpdate(r.body), JSON.stringify(validateUpdate.errors)).toBe(true);
}

describe('the promotion rule against Kibana\'s OpenAPI description of the detection engine API', () => {
  it('setup creates it once (POST) and updates it on every later run (PUT), in the configured space', async () => {
    const k = await kibanaReceiver();
    const config = configSchema.parse({ kibana: { url: k.url, username: 'elastic', password: 'pw' }, alerts: { spaceId: 'secops' } });
    const first = await setupKibana(config);
    const second = await setupKibana(config);
    expect(first.promotionRule).toEqual({ ruleId: 'eqlwatch-promotion-default', name: 'eqlwatch alerts (logs-eqlwatch.alerts-default)', created: true });
    expect(second.promotionRule?.created).toBe(false);
    const rules = k.received.filter((r) => r.path.includes('/api/detection_engine/'));
    expect(rules.map((r) => `${r.method} ${r.path}?${r.query}`)).toEqual([
      'GET /s/secops/api/detection_engine/rules?rule_id=eqlwatch-promotion-default',
      'POST /s/secops/api/detection_engine/rules?',
      'GET /s/secops/api/detection_engine/rules?rule_id=eqlwatch-promotion-default',
      'PUT /s/secops/api/detection_engine/rules?',
    ]);
    for (const r of rules) {
      checkAgainstSpec(r);
      expect(r.headers['kbn-xsrf']).toBeTruthy();
      expect(r.headers['elastic-api-version']).toBe(spec.info.version);
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
    }
    expect(DETECTION_API_VERSION).toBe(spec.info.version);
  });

  it('the body promotes as External Alerts does, reading only eqlwatch\'s data stream', () => {
    const body = promotionRuleBody('prod');
    expect(body).toMatchObject({
      type: 'query',
      language: 'lucene',
      query: PROMOTION_QUERY,
      index: ['logs-eqlwatch.alerts-prod'],
      rule_name_override: 'message',
      timestamp_override: 'event.ingested',
      interval: '1m',
      from: 'now-2m',
      max_signals: 1000,
      risk_score_mapping: [{ field: 'event.risk_score', operator: 'equals', value: '' }],
      severity_mapping: [
        { field: 'event.severity', operator: 'equals', value: '21', severity: 'low' },
        { field: 'event.severity', operator: 'equals', value: '47', severity: 'medium' },
        { field: 'event.severity', operator: 'equals', value: '73', severity: 'high' },
        { field: 'event.severity', operator: 'equals', value: '99', severity: 'critical' },
      ],
    });
    expect(validateCreate(body)).toBe(true);
  });

  it('the validator is not vacuous: it rejects an unknown key, a wrong type, a bad enum and an omitted schema', () => {
    const body = promotionRuleBody('default');
    expect(validateCreate({ ...body, bogus_key: 1 })).toBe(false);
    expect(validateCreate({ ...body, max_signals: '1000' })).toBe(false);
    expect(validateCreate({ ...body, severity: 'urgent' })).toBe(false);
    expect(validateCreate({ ...body, language: 'eql' })).toBe(false);
    expect(validateCreate({ ...body, actions: [{ id: 'x', action_type_id: '.slack', params: {} }] })).toBe(false);
    const { name: _name, ...nameless } = body;
    expect(validateCreate(nameless)).toBe(false);
  });
});
