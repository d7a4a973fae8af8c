/**
 * Kibana side of `eqlwatch setup`, in the configured space: the alerts data view and saved search (saved
 * objects, overwritten), and, when promotion is on, the promotion detection rule (promotion-rule.ts), created
 * or updated by its `rule_id` through the detection engine API, so running setup again changes nothing.
 */
import type { Config } from '../config/schema.js';
import { spacePrefix } from '../alerts/links.js';
import { resolveSecret } from '../notify/secrets.js';
import { promotionRuleBody, promotionRuleId } from './promotion-rule.js';
import { DATA_VIEW_ID, SAVED_SEARCH_ID, dataViewSpec, savedSearchAttributes } from './saved-objects.js';

/** Version of the detection engine API the rule requests are written for (Kibana's OpenAPI `info.version`). */
export const DETECTION_API_VERSION = '2023-10-31';

export interface KibanaSetupResult {
  dataViewId: string;
  dataViewTitle: string;
  savedSearchTitle: string;
  promotionRule: { ruleId: string; name: string; created: boolean } | null;
}

export async function setupKibana(config: Config, fetchImpl: typeof fetch = fetch): Promise<KibanaSetupResult> {
  const base = `${config.kibana.url!.replace(/\/+$/, '')}${spacePrefix(config.alerts.spaceId)}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'kbn-xsrf': 'eqlwatch', 'elastic-api-version': DETECTION_API_VERSION };
  if (config.kibana.apiKey) headers.authorization = `ApiKey ${resolveSecret(config.kibana.apiKey)}`;
  else if (config.kibana.username && config.kibana.password) {
    headers.authorization = `Basic ${Buffer.from(`${config.kibana.username}:${resolveSecret(config.kibana.password)}`).toString('base64')}`;
  }
  const call = async (method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<{ status: number; json: unknown }> => {
    const res = await fetchImpl(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!res.ok && !okStatuses.includes(res.status)) {
      const text = (await res.text()).slice(0, 500);
      throw new Error(`Kibana ${method} ${path} answered ${res.status}: ${text}`);
    }
    return { status: res.status, json: (await res.text().then((t) => (t ? JSON.parse(t) : null)).catch(() => null)) as unknown };
  };
  const dv = dataViewSpec(config.alerts.index);
  await call('POST', '/api/data_views/data_view', { data_view: dv, override: true });
  await call('POST', `/api/saved_objects/search/${SAVED_SEARCH_ID}?overwrite=true`, {
    attributes: savedSearchAttributes(),
    references: [{ id: DATA_VIEW_ID, name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
  });
  let promotionRule: KibanaSetupResult['promotionRule'] = null;
  if (config.alerts.promotion.enabled) {
    const namespace = config.alerts.promotion.namespace;
    const ruleId = promotionRuleId(namespace);
    const body = promotionRuleBody(namespace);
    const existing = await call('GET', `/api/detection_engine/rules?${new URLSearchParams({ rule_id: ruleId })}`, undefined, [404]);
    // Update replaces the whole rule (PUT), so a changed eqlwatch version also changes an installed rule.
    if (existing.status === 404) await call('POST', '/api/detection_engine/rules', body);
    else await call('PUT', '/api/detection_engine/rules', body);
    promotionRule = { ruleId, name: String(body.name), created: existing.status === 404 };
  }
  return { dataViewId: dv.id, dataViewTitle: dv.title, savedSearchTitle: savedSearchAttributes().title, promotionRule };
}
