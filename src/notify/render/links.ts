/**
 * "Open in Kibana" link of a notification: the alert's own `kibana.alert.url` (alerts/links.ts builds it when
 * the alert is written: the promoted alert in Security, or the alert in Discover), so notifications and the
 * stored alert always agree. Only a summary without one (queued by an older eqlwatch, or the notify-test
 * sample) gets a Discover link built here from the notification's Kibana settings, by the same function.
 */
import { alertLink } from '../../alerts/links.js';
import type { AlertSummary } from '../types.js';

export interface KibanaLinkConfig {
  url?: string | undefined;
  spaceId?: string | undefined;
}

export function kibanaAlertUrl(k: KibanaLinkConfig, a: AlertSummary): string | undefined {
  if (a.url !== undefined && /^https?:\/\//i.test(a.url)) return a.url;
  if (!k.url || !a.timestamp) return undefined;
  return alertLink({ kibanaUrl: k.url, spaceId: k.spaceId ?? 'default', target: 'discover' }, a.alertId, a.timestamp);
}
