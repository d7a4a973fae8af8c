/** Generic webhook body: plain JSON (the channel serialises it with jsonText: JSON escaping, invisible characters as \u escapes). */
import type { AlertSummary } from '../types.js';
import type { RenderInput, RenderOptions } from './common.js';
import { kibanaAlertUrl } from './links.js';

export interface WebhookBody {
  version: 1;
  source: 'eqlwatch';
  kind: 'alert' | 'digest' | 'test';
  notification_id: string;
  alert_ids: string[];
  rule: { name: string; id?: string };
  severity: string;
  total: number;
  suppressed: number;
  alerts: Array<AlertSummary & { kibana_url?: string }>;
}

export function renderWebhook(input: RenderInput, opts: RenderOptions, alertIds: string[]): WebhookBody {
  const p = input.payload;
  return {
    version: 1,
    source: 'eqlwatch',
    kind: p.kind,
    notification_id: input.notificationId,
    alert_ids: alertIds,
    rule: { name: p.ruleName, ...(p.ruleId ? { id: p.ruleId } : {}) },
    severity: p.severity,
    total: p.total,
    suppressed: input.suppressed,
    alerts: p.alerts.map((a) => {
      const url = kibanaAlertUrl(opts.kibana, a);
      return url ? { ...a, kibana_url: url } : a;
    }),
  };
}
