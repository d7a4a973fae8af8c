/** Creates the alerts data view and saved search through Kibana's APIs (idempotent: overwrite). */
import type { Config } from '../config/schema.js';
import { resolveSecret } from '../notify/secrets.js';
import { DATA_VIEW_ID, SAVED_SEARCH_ID, dataViewSpec, savedSearchAttributes } from './saved-objects.js';

export async function setupKibana(config: Config, fetchImpl: typeof fetch = fetch) {
  const base = config.kibana.url!.replace(/\/+$/, '');
  const space = config.alerts.spaceId === 'default' ? '' : `/s/${config.alerts.spaceId}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'kbn-xsrf': 'eqlwatch' };
  if (config.kibana.apiKey) headers.authorization = `ApiKey ${resolveSecret(config.kibana.apiKey)}`;
  else if (config.kibana.username && config.kibana.password) {
    headers.authorization = `Basic ${Buffer.from(`${config.kibana.username}:${resolveSecret(config.kibana.password)}`).toString('base64')}`;
  }
  const call = async (path: string, body: unknown) => {
    const res = await fetchImpl(`${base}${space}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
    if (!res.ok) {
      const text = (await res.text()).slice(0, 500);
      throw new Error(`Kibana ${path} answered ${res.status}: ${text}`);
    }
    return res.json() as Promise<unknown>;
  };
  const dv = dataViewSpec(config.alerts.index);
  await call('/api/data_views/data_view', { data_view: dv, override: true });
  await call(`/api/saved_objects/search/${SAVED_SEARCH_ID}?overwrite=true`, {
    attributes: savedSearchAttributes(),
    references: [{ id: DATA_VIEW_ID, name: 'kibanaSavedObjectMeta.searchSourceJSON.index', type: 'index-pattern' }],
  });
  return { dataViewId: dv.id, dataViewTitle: dv.title, savedSearchTitle: savedSearchAttributes().title };
}
