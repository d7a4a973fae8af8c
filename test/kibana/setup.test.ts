/**
 * `eqlwatch setup` talks to Kibana's data view and saved-objects APIs. There is no Kibana on the test machines,
 * so a local HTTP receiver records the requests; what is asserted is the contract Kibana documents
 * (paths, kbn-xsrf, auth, space prefix, overwrite), not a simulated Kibana behaviour.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { setupKibana } from '../../src/kibana/setup.js';
import { DATA_VIEW_ID, SAVED_SEARCH_ID } from '../../src/kibana/saved-objects.js';
import { httpReceiver, type Receiver } from '../helpers/http-receiver.js';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function receiver(status = 200): Promise<Receiver> {
  const r = await httpReceiver(() => ({ status, json: status === 200 ? {} : { message: 'nope' } }));
  close = r.close;
  return r;
}

describe('setupKibana', () => {
  it('creates the data view and the saved search with overwrite, kbn-xsrf and basic auth', async () => {
    const k = await receiver();
    const config = configSchema.parse({ kibana: { url: `${k.url}/`, username: 'elastic', password: 's3cret' }, alerts: { index: 'eqlwatch-alerts-default' } });
    const res = await setupKibana(config);
    expect(res.dataViewId).toBe(DATA_VIEW_ID);
    expect(k.received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /api/data_views/data_view',
      `POST /api/saved_objects/search/${SAVED_SEARCH_ID}?overwrite=true`,
      // The promotion rule exists (the receiver answers 200): it is updated, not created twice.
      'GET /api/detection_engine/rules?rule_id=eqlwatch-promotion-default',
      'PUT /api/detection_engine/rules',
    ]);
    for (const r of k.received) {
      expect(r.headers['kbn-xsrf']).toBeTruthy();
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
    }
    expect(k.received[0]!.body).toMatchObject({ override: true, data_view: { id: DATA_VIEW_ID, title: 'eqlwatch-alerts-default*', timeFieldName: '@timestamp' } });
    expect(k.received[1]!.body).toMatchObject({ references: [{ id: DATA_VIEW_ID, type: 'index-pattern' }] });
  });

  it('prefixes a non-default space and uses an API key', async () => {
    const k = await receiver();
    const config = configSchema.parse({ kibana: { url: k.url, apiKey: 'abc==' }, alerts: { spaceId: 'secops' } });
    await setupKibana(config);
    expect(k.received[0]!.url).toBe('/s/secops/api/data_views/data_view');
    expect(k.received[0]!.headers.authorization).toBe('ApiKey abc==');
  });

  it('fails with Kibana\'s status and message when Kibana refuses', async () => {
    const k = await receiver(403);
    const config = configSchema.parse({ kibana: { url: k.url } });
    await expect(setupKibana(config)).rejects.toThrow(/answered 403: .*nope/);
  });
});
