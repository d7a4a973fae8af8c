import { describe, expect, it } from 'vitest';
import { Notifier } from '../../src/notify/notifier.js';
import { MemoryOutbox, notificationId } from '../../src/notify/outbox.js';
import { alertDoc, config } from './helpers.js';

const channels = {
  mail: { type: 'email' as const, host: 'localhost', from: 'eqlwatch@example.org', to: ['soc@example.org'] },
  slack: { type: 'slack' as const, webhookUrl: 'http://127.0.0.1:1/x' },
  pager: { type: 'webhook' as const, url: 'http://127.0.0.1:1/y' },
};

describe('routing', () => {
  const cfg = config({
    channels,
    routes: [
      { name: 'critical-to-pager', minSeverity: 'critical', channels: ['pager'] },
      { name: 'k8s', tags: ['Domain: Kubernetes'], channels: ['slack'] },
      { name: 'exec-rule', rules: ['rule-exec'], channels: ['mail', 'slack'] },
    ],
    defaultRoute: { channels: ['mail'] },
    mute: { tags: ['noisy'], rules: ['rule-muted'] },
  });

  it('sends each alert to every matching route, falls back to the default route, mutes by tag and rule, skips building blocks', async () => {
    const outbox = new MemoryOutbox();
    const n = new Notifier(cfg, outbox);
    const r = await n.enqueueAlerts(
      [
        alertDoc({ id: 'crit', severity: 'critical', ruleId: 'rule-exec' }), // pager + mail + slack
        alertDoc({ id: 'k8s', tags: ['Domain: Kubernetes'], ruleId: 'r2' }), // slack
        alertDoc({ id: 'other', ruleId: 'r3' }), // default -> mail
        alertDoc({ id: 'muted-tag', tags: ['noisy'], ruleId: 'r4' }),
        alertDoc({ id: 'muted-rule', ruleId: 'rule-muted' }),
        alertDoc({ id: 'bb', buildingBlock: true, groupId: 'crit' }),
      ],
      1000,
    );
    expect(r).toMatchObject({ enqueued: 5, muted: 2, buildingBlocks: 1, unrouted: 0, digests: 0 });
    const got = outbox.all().map((i) => `${i.alertIds[0]}->${i.channel}`).sort();
    expect(got).toEqual(['crit->mail', 'crit->pager', 'crit->slack', 'k8s->slack', 'other->mail']);
    // ids are deterministic from alert id + channel
    expect(outbox.all().find((i) => i.alertIds[0] === 'crit' && i.channel === 'mail')?.id).toBe(notificationId('mail', ['crit']));
  });

  it('enqueueing the same alerts again creates nothing new (duplicates recognised)', async () => {
    const outbox = new MemoryOutbox();
    const n = new Notifier(cfg, outbox);
    const docs = [alertDoc({ id: 'x1', ruleId: 'r3' }), alertDoc({ id: 'x2', ruleId: 'r3' })];
    expect((await n.enqueueAlerts(docs, 1)).enqueued).toBe(2);
    const again = await n.enqueueAlerts(docs, 2);
    expect(again).toMatchObject({ enqueued: 0, duplicates: 2 });
    expect(outbox.all()).toHaveLength(2);
  });

  it('without a default route, unmatched alerts are reported as unrouted', async () => {
    const n = new Notifier(config({ channels, routes: [{ name: 'only-crit', minSeverity: 'critical', channels: ['pager'] }] }), new MemoryOutbox());
    expect(await n.enqueueAlerts([alertDoc({ id: 'a', severity: 'high' })], 0)).toMatchObject({ unrouted: 1, enqueued: 0 });
  });
});

describe('throttling and digest', () => {
  const cfg = config({
    channels,
    routes: [{ name: 'pods', channels: ['slack'], throttle: { window: '10m', groupBy: ['orchestrator.resource.name'] }, digestThreshold: 10 }],
    digest: { show: 10 },
  });

  it('folds alerts of the same rule and pod within the window into the first notification, across runs', async () => {
    const outbox = new MemoryOutbox();
    const n = new Notifier(cfg, outbox);
    const t0 = 1_000_000;
    const r1 = await n.enqueueAlerts([alertDoc({ id: 'a1', pod: 'p1' }), alertDoc({ id: 'a2', pod: 'p1' }), alertDoc({ id: 'a3', pod: 'p2' })], t0);
    expect(r1).toMatchObject({ enqueued: 2, suppressed: 1 });
    const first = outbox.all().find((i) => i.alertIds[0] === 'a1')!;
    expect(first.suppressed).toBe(1);
    // 5 minutes later: same pod folds into a1's notification; rerunning the same alert does not double count.
    const r2 = await n.enqueueAlerts([alertDoc({ id: 'a4', pod: 'p1' })], t0 + 5 * 60_000);
    expect(r2).toMatchObject({ enqueued: 0, suppressed: 1 });
    await n.enqueueAlerts([alertDoc({ id: 'a4', pod: 'p1' })], t0 + 6 * 60_000);
    expect((await outbox.get(first.id))?.suppressed).toBe(2);
    expect((await outbox.get(first.id))?.suppressedIds).toEqual(['a2', 'a4']);
    // after the window a new notification opens
    const r3 = await n.enqueueAlerts([alertDoc({ id: 'a5', pod: 'p1' })], t0 + 11 * 60_000);
    expect(r3).toMatchObject({ enqueued: 1, suppressed: 0 });
  });

  it('more than digestThreshold alerts of one rule in one run become one digest showing the first N', async () => {
    const outbox = new MemoryOutbox();
    const n = new Notifier(cfg, outbox);
    const docs = Array.from({ length: 37 }, (_, i) => alertDoc({ id: `d${String(i).padStart(2, '0')}`, pod: `pod-${i}`, severity: i === 5 ? 'high' : 'low' }));
    const r = await n.enqueueAlerts(docs, 0);
    expect(r).toMatchObject({ enqueued: 1, digests: 1 });
    const [d] = outbox.all();
    expect(d?.payload).toMatchObject({ kind: 'digest', total: 37, severity: 'high' });
    expect(d?.payload.alerts).toHaveLength(10);
    expect(d?.alertIds).toHaveLength(37);
    expect(d?.id).toBe(notificationId('slack', docs.map((x) => x['kibana.alert.uuid'] as string), 'digest'));
    // the digest opened throttle windows for its pods: a later alert on pod-3 folds into it
    const r2 = await n.enqueueAlerts([alertDoc({ id: 'late', pod: 'pod-3' })], 60_000);
    expect(r2).toMatchObject({ enqueued: 0, suppressed: 1 });
    expect((await outbox.get(d!.id))?.suppressed).toBe(1);
  });

  it('exactly the threshold stays individual notifications', async () => {
    const outbox = new MemoryOutbox();
    const docs = Array.from({ length: 10 }, (_, i) => alertDoc({ id: `e${i}`, pod: `pod-${i}` }));
    expect(await new Notifier(cfg, outbox).enqueueAlerts(docs, 0)).toMatchObject({ enqueued: 10, digests: 0 });
  });
});
