/**
 * The Elasticsearch outbox against a real node (integration project: test/setup/es-global-setup.ts
 * provides it, or ES_URL). Two EsOutbox instances over separate clients stand for two worker processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverDue } from '../../src/notify/dispatch.js';
import { buildChannels, deliverOptions } from '../../src/notify/factory.js';
import { EsOutbox } from '../../src/notify/es-outbox.js';
import { Notifier } from '../../src/notify/notifier.js';
import type { NewOutboxItem, Outbox } from '../../src/notify/outbox.js';
import { esTestClient, useEs } from '../helpers/es.js';
import { alertDoc, config, startHttpReceiver, type HttpReceiver } from './helpers.js';

const es = useEs();
const other = esTestClient(); // a second "process"
afterAll(async () => other.close());

function item(id: string, channel = 'hook'): NewOutboxItem {
  return { id, channel, alertIds: [`alert-${id}`], payload: { kind: 'alert', ruleName: 'r', severity: 'low', alerts: [], total: 1 } };
}

describe('EsOutbox (real Elasticsearch)', () => {
  it('creates its index idempotently and enqueues with create semantics (duplicates recognised)', async () => {
    const index = es.name('outbox');
    const a = new EsOutbox(es.client, { index });
    await a.ensureIndex();
    await new EsOutbox(other, { index }).ensureIndex();
    expect(await a.enqueue([item('n1'), item('n2')], 100)).toEqual({ created: ['n1', 'n2'], duplicates: [] });
    expect(await a.enqueue([item('n2'), item('n3')], 200)).toEqual({ created: ['n3'], duplicates: ['n2'] });
    expect(await a.get('n2')).toMatchObject({ id: 'n2', status: 'pending', attempts: 0, createdAt: 100, nextAttemptAt: 100, suppressed: 0 });
    expect((await a.due(150, 10)).map((i) => i.id)).toEqual(['n1', 'n2']);
    expect((await a.due(1000, 1)).map((i) => i.id)).toEqual(['n1']);
  });

  it('claims are exclusive across instances (OCC), and failure/sent/dead states are recorded', async () => {
    const index = es.name('outbox');
    const a = new EsOutbox(es.client, { index });
    const b = new EsOutbox(other, { index });
    await a.ensureIndex();
    await a.enqueue([item('c1'), item('c2')], 0);
    const wins = await Promise.all([a.claim('c1', 10, 1000), b.claim('c1', 10, 1000), a.claim('c1', 10, 1000), b.claim('c1', 10, 1000)]);
    expect(wins.filter(Boolean)).toHaveLength(1);
    await es.client.indices.refresh({ index });
    expect((await a.due(10, 10)).map((i) => i.id)).toEqual(['c2']); // leased item invisible
    await b.markFailed('c1', 'HTTP 503', 5000, 20);
    expect(await a.get('c1')).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 503', nextAttemptAt: 5000 });
    expect(await a.claim('c1', 4999, 9999)).toBeUndefined(); // not due yet
    expect(await a.claim('c1', 5000, 9999)).toMatchObject({ id: 'c1', leaseUntil: 9999, attempts: 1 });
    await a.markSent('c1', 5001);
    expect(await b.get('c1')).toMatchObject({ status: 'sent', attempts: 2, sentAt: 5001 });
    expect(await b.claim('c1', 99_999, 999_999)).toBeUndefined();
    await a.markFailed('c2', 'gave up', null, 30);
    expect(await b.get('c2')).toMatchObject({ status: 'dead', lastError: 'gave up' });
  });

  it('concurrent suppressed-count updates from two instances are not lost', async () => {
    const index = es.name('outbox');
    const a = new EsOutbox(es.client, { index });
    const b = new EsOutbox(other, { index });
    await a.ensureIndex();
    await a.enqueue([item('s1')], 0);
    const ops: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) ops.push((i % 2 ? a : b).recordSuppressed('s1', [`x-${i}`], i));
    await Promise.all(ops);
    await a.recordSuppressed('s1', ['x-0', 'x-1'], 99); // already counted
    const got = await a.get('s1');
    expect(got?.suppressed).toBe(10);
    expect(new Set(got?.suppressedIds)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `x-${i}`)));
  });

  describe('with a webhook receiver', () => {
    let hook: HttpReceiver;
    beforeAll(async () => {
      hook = await startHttpReceiver();
    });
    afterAll(async () => hook.stop());

    it('throttling state survives a restart (findRecent over the index) and a killed dispatcher loses nothing', async () => {
      const index = es.name('outbox');
      const cfg = config({
        channels: { hook: { type: 'webhook', url: hook.url } },
        routes: [{ name: 'r', channels: ['hook'], throttle: { window: '10m', groupBy: ['orchestrator.resource.name'] } }],
        delivery: { lease: '1m' },
      });
      const a = new EsOutbox(es.client, { index });
      await a.ensureIndex();
      await new Notifier(cfg, a).enqueueAlerts([1, 2, 3].map((i) => alertDoc({ id: `e-${i}`, pod: `p${i}` })), 0);
      // "restarted" worker: a new outbox instance and notifier; same pod within the window folds.
      const b = new EsOutbox(other, { index });
      const r = await new Notifier(cfg, b).enqueueAlerts([alertDoc({ id: 'e-4', pod: 'p1' })], 60_000);
      expect(r).toMatchObject({ enqueued: 0, suppressed: 1 });

      // Dispatcher A dies after its first send, before recording it.
      let sends = 0;
      const dying: Outbox = Object.assign(Object.create(a) as EsOutbox, {
        markSent: async (id: string, now?: number) => {
          if (++sends === 1) throw new Error('SIGKILL');
          return a.markSent(id, now);
        },
      });
      const channels = buildChannels(cfg);
      await expect(deliverDue(dying, channels, 100_000, deliverOptions(cfg))).rejects.toThrow('SIGKILL');
      expect(hook.requests).toHaveLength(1);
      // Dispatcher B (other process) after the lease expired: delivers the rest and re-sends the unrecorded one.
      await es.client.indices.refresh({ index });
      const m = await deliverDue(b, channels, 100_000 + 60_001, deliverOptions(cfg));
      expect(m.sent).toBe(3);
      const ids = hook.requests.map((q) => q.headers['x-eqlwatch-alert-id']);
      expect(ids.slice().sort()).toEqual([ids[0], 'e-1', 'e-2', 'e-3'].sort());
      const first = hook.requests[0]!;
      const dup = hook.requests.slice(1).find((q) => q.headers['x-eqlwatch-alert-id'] === first.headers['x-eqlwatch-alert-id'])!;
      expect(dup.headers['x-eqlwatch-notification-id']).toBe(first.headers['x-eqlwatch-notification-id']);
      const p1 = hook.requests.find((q) => q.headers['x-eqlwatch-alert-id'] === 'e-1')!;
      expect((p1.json as { suppressed: number }).suppressed).toBe(1);
      await es.client.indices.refresh({ index });
      expect(await b.due(10_000_000, 10)).toEqual([]);
    });
  });
});
