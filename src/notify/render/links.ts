/**
 * Link to an alert in Kibana. Shape from Kibana's `getAlertDetailsUrl`
 * (security_solution/common/utils/alert_detail_path.ts):
 *   `${basePath}[/s/${spaceId}]/app/security/alerts/redirect/${alertId}?index=${index}&timestamp=${ts}`
 * Kibana concatenates raw values; we percent-encode them because the id and timestamp come from the
 * document.
 */
import type { AlertSummary } from '../types.js';

export interface KibanaLinkConfig {
  url?: string | undefined;
  spaceId?: string | undefined;
  alertsIndex: string;
}

export function kibanaAlertUrl(k: KibanaLinkConfig, a: AlertSummary): string | undefined {
  if (!k.url) return undefined;
  const base = k.url.replace(/\/+$/, '');
  const space = k.spaceId && k.spaceId !== 'default' ? `/s/${encodeURIComponent(k.spaceId)}` : '';
  const q = [`index=${encodeURIComponent(k.alertsIndex)}`];
  if (a.timestamp) q.push(`timestamp=${encodeURIComponent(a.timestamp)}`);
  return `${base}${space}/app/security/alerts/redirect/${encodeURIComponent(a.alertId)}?${q.join('&')}`;
}
