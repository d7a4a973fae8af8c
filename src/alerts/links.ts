/**
 * The Kibana page that shows one eqlwatch alert (`kibana.alert.url`, and the "Open in Kibana" link of every
 * notification). Built from Kibana's routing source, not guessed:
 *
 * - Space prefix: `addSpaceIdToPath` (@kbn/core-spaces-common, used by security_solution
 *   common/utils/alert_detail_path.ts `getAlertDetailsUrl`): `<base>/s/<space><path>`, nothing for `default`.
 * - Promotion set up (`security`): the Security Alerts page exactly as Kibana's own alert redirect builds it
 *   (security_solution public/detections/pages/alerts/alert_details_redirect.tsx: `/app/security/alerts?` with
 *   `query` = rison `(language:kuery,query:'…')`, `timerange` = rison global/timeline absolute ranges, and the
 *   `pageFilters` Status control), filtered to the promoted alert by `event.id`, which the promotion document
 *   carries (the promoted alert's own id is computed by Kibana, from the rule's saved-object id, at promotion).
 * - Otherwise (`discover`): Discover on eqlwatch's data view, as Discover's locator builds it
 *   (discover common/app_locator_get_location.ts: `#/` + `_g=(time:…)` + `_a=(dataSource:(dataViewId,type:dataView),query)`),
 *   filtered to `kibana.alert.uuid`.
 * The time range starts at the alert's `@timestamp`; Kibana's redirect adds 5 minutes after it, the Security
 * page gets a day because the promoted alert is created by the promotion rule's next run.
 */
import { DATA_VIEW_ID } from '../kibana/saved-objects.js';

export type LinkTarget = 'security' | 'discover';

export interface AlertLinkConfig {
  kibanaUrl: string | null;
  spaceId: string;
  target: LinkTarget;
}

const FIVE_MINUTES = 5 * 60_000;
const ONE_DAY = 24 * 60 * 60_000;

/** URL of the page showing alert `id` written at `timestamp` (ISO), or undefined when no Kibana is configured. */
export function alertLink(cfg: AlertLinkConfig, id: string, timestamp: string): string | undefined {
  if (!cfg.kibanaUrl) return undefined;
  const base = `${cfg.kibanaUrl.replace(/\/+$/, '')}${spacePrefix(cfg.spaceId)}`;
  const from = Date.parse(timestamp);
  const start = Number.isFinite(from) ? new Date(from).toISOString() : timestamp;
  const end = (ms: number) => (Number.isFinite(from) ? new Date(from + ms).toISOString() : timestamp);
  if (cfg.target === 'security') {
    const range = { kind: 'absolute', from: start, to: end(ONE_DAY) };
    const params = new URLSearchParams({
      query: rison({ language: 'kuery', query: `event.id: "${id}"` }),
      timerange: rison({ global: { timerange: range, linkTo: [] }, timeline: { timerange: range, linkTo: [] } }),
      pageFilters: rison([{ fieldName: 'kibana.alert.workflow_status', title: 'Status', selectedOptions: [], existsSelected: false }]),
    });
    return `${base}/app/security/alerts?${params}`;
  }
  const g = rison({ time: { from: start, to: end(FIVE_MINUTES) } });
  const a = rison({ dataSource: { dataViewId: DATA_VIEW_ID, type: 'dataView' }, query: { language: 'kuery', query: `kibana.alert.uuid: "${id}"` } });
  return `${base}/app/discover#/?_g=${encodeURIComponent(g)}&_a=${encodeURIComponent(a)}`;
}

/** `addSpaceIdToPath`: the default space has no prefix. */
export function spacePrefix(spaceId: string): string {
  return spaceId === '' || spaceId === 'default' ? '' : `/s/${encodeURIComponent(spaceId)}`;
}

/** Rison (the URL state encoding Kibana uses): strings always quoted, `!` and `'` escaped with `!`. */
export function rison(v: unknown): string {
  if (v === null || v === undefined) return '!n';
  if (typeof v === 'boolean') return v ? '!t' : '!f';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '!n';
  if (typeof v === 'string') return `'${v.replace(/!/g, '!!').replace(/'/g, "!'")}'`;
  if (Array.isArray(v)) return `!(${v.map(rison).join(',')})`;
  const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
  return `(${entries.map(([k, x]) => `${/^[A-Za-z_][A-Za-z0-9_.]*$/.test(k) ? k : rison(k)}:${rison(x)}`).join(',')})`;
}
