/**
 * Turn a run's new alerts into outbox items: drop building blocks and muted alerts, route, throttle
 * (fold alerts of the same group into the notification that opened the window), and collapse a large
 * run into one digest per rule and route.
 */
import type { NotifyConfig } from '../config/notify.js';
import { type NewOutboxItem, type Outbox, notificationId } from './outbox.js';
import { isBuildingBlock, summarizeAlert } from './render/summary.js';
import { type ResolvedRoute, isMuted, matchRoutes, ruleKey, throttleKey } from './routing.js';
import { type AlertDoc, type AlertSummary, type NotificationPayload, SEVERITIES, severityRank } from './types.js';

export interface EnqueueReport {
  /** Outbox items created. */
  enqueued: number;
  /** Items that already existed (same alert and channel enqueued before). */
  duplicates: number;
  /** Alerts folded into an existing or sibling notification by throttling. */
  suppressed: number;
  muted: number;
  buildingBlocks: number;
  /** Alerts no route (and no default route) took. */
  unrouted: number;
  digests: number;
}

interface Candidate {
  doc: AlertDoc;
  summary: AlertSummary;
}

interface Bucket {
  route: ResolvedRoute;
  channel: string;
  alerts: Candidate[];
}

function maxSeverity(as: AlertSummary[]) {
  return as.reduce((m, a) => (severityRank(a.severity) > severityRank(m) ? a.severity : m), SEVERITIES[0] as AlertSummary['severity']);
}

export class Notifier {
  constructor(
    private readonly cfg: NotifyConfig,
    private readonly outbox: Outbox,
  ) {}

  async enqueueAlerts(docs: readonly AlertDoc[], now: number = Date.now()): Promise<EnqueueReport> {
    const report: EnqueueReport = { enqueued: 0, duplicates: 0, suppressed: 0, muted: 0, buildingBlocks: 0, unrouted: 0, digests: 0 };
    const buckets = new Map<string, Bucket>();
    for (const doc of docs) {
      if (isBuildingBlock(doc)) {
        report.buildingBlocks++;
        continue;
      }
      const summary = summarizeAlert(doc, this.cfg.limits);
      if (isMuted(summary, this.cfg.mute)) {
        report.muted++;
        continue;
      }
      const routes = matchRoutes(summary, this.cfg);
      if (routes.length === 0) {
        report.unrouted++;
        continue;
      }
      const taken = new Set<string>(); // one notification per alert and channel, whatever the routes
      for (const route of routes)
        for (const channel of route.channels) {
          if (taken.has(channel)) continue;
          taken.add(channel);
          const key = `${route.name}\0${channel}\0${ruleKey(summary)}`;
          let b = buckets.get(key);
          if (!b) buckets.set(key, (b = { route, channel, alerts: [] }));
          b.alerts.push({ doc, summary });
        }
    }
    const items: NewOutboxItem[] = [];
    for (const b of buckets.values()) await this.planBucket(b, now, items, report);
    const res = await this.outbox.enqueue(items, now);
    report.enqueued += res.created.length;
    report.duplicates += res.duplicates.length;
    return report;
  }

  private async planBucket(b: Bucket, now: number, items: NewOutboxItem[], report: EnqueueReport): Promise<void> {
    // 1. Throttle: the first alert of each group opens a notification; the rest fold into it.
    type Lead = { lead: Candidate; key?: string; folded: string[] };
    const leads: Lead[] = [];
    if (b.route.throttle) {
      const byKey = new Map<string, Lead>();
      for (const c of b.alerts) {
        const key = throttleKey(c.doc, c.summary, b.channel, b.route.throttle.groupBy);
        const inRun = byKey.get(key);
        if (inRun) {
          inRun.folded.push(c.summary.alertId);
          continue;
        }
        const open = await this.outbox.findRecent(key, now - b.route.throttle.window);
        if (open && !open.alertIds.includes(c.summary.alertId)) {
          await this.outbox.recordSuppressed(open.id, [c.summary.alertId], now);
          report.suppressed++;
          continue;
        }
        const l: Lead = { lead: c, key, folded: [] };
        byKey.set(key, l);
        leads.push(l);
      }
    } else for (const c of b.alerts) leads.push({ lead: c, folded: [] });
    for (const l of leads) report.suppressed += l.folded.length;

    // 2. Digest: too many notifications for one rule on one route in one run become one message.
    const base = { channel: b.channel };
    if (leads.length > b.route.digestThreshold) {
      const summaries = leads.map((l) => l.lead.summary);
      const alertIds = summaries.map((s) => s.alertId);
      const first = summaries[0] as AlertSummary;
      const payload: NotificationPayload = {
        kind: 'digest',
        ruleName: first.ruleName,
        ...(first.ruleId ? { ruleId: first.ruleId } : {}),
        severity: maxSeverity(summaries),
        alerts: summaries.slice(0, this.cfg.digest.show),
        total: summaries.length,
      };
      const keys = leads.map((l) => l.key).filter((k): k is string => k !== undefined);
      items.push({
        ...base,
        id: notificationId(b.channel, alertIds, 'digest'),
        alertIds,
        payload,
        ...(keys.length ? { throttleKeys: keys } : {}),
        suppressedIds: leads.flatMap((l) => l.folded),
      });
      report.digests++;
      return;
    }
    for (const l of leads) {
      const s = l.lead.summary;
      items.push({
        ...base,
        id: notificationId(b.channel, [s.alertId]),
        alertIds: [s.alertId],
        payload: { kind: 'alert', ruleName: s.ruleName, ...(s.ruleId ? { ruleId: s.ruleId } : {}), severity: s.severity, alerts: [s], total: 1 },
        ...(l.key ? { throttleKeys: [l.key] } : {}),
        suppressedIds: l.folded,
      });
    }
  }
}
