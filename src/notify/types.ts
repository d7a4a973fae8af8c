/**
 * Shared notification types and a thin accessor for Kibana-compatible alert documents.
 *
 * Alert documents mix nested objects and dotted keys (`{"kibana.alert.rule.name": …}` next to
 * `{host: {name: …}}`), and any level may be an array. `getValues` walks every way a dotted path can
 * be split so callers never care how the writer stored a field.
 */

/** A Kibana-compatible alert document (`_source`), as written by the alert sink. */
export type AlertDoc = Record<string, unknown>;

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function parseSeverity(v: unknown): Severity {
  const s = typeof v === 'string' ? v.toLowerCase() : '';
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : 'low';
}

function collect(node: unknown, parts: readonly string[], from: number, out: unknown[]): void {
  if (node === undefined || node === null) return;
  if (Array.isArray(node)) {
    for (const n of node) collect(n, parts, from, out);
    return;
  }
  if (from === parts.length) {
    out.push(node);
    return;
  }
  if (typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  // Try every prefix as a (possibly dotted) key: "a.b.c" may be stored as a→b→c, "a.b"→c, "a"→"b.c", …
  let key = '';
  for (let i = from; i < parts.length; i++) {
    key = i === from ? (parts[i] as string) : `${key}.${parts[i] as string}`;
    if (Object.prototype.hasOwnProperty.call(obj, key)) collect(obj[key], parts, i + 1, out);
  }
}

/** All leaf values at a dotted path, arrays flattened, null/undefined dropped. */
export function getValues(doc: AlertDoc, path: string): unknown[] {
  const out: unknown[] = [];
  collect(doc, path.split('.'), 0, out);
  return out.flat(Infinity).filter((v) => v !== null && v !== undefined);
}

function scalarToString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return undefined;
}

/** The values at `path` as strings (objects JSON-encoded); empty when absent. */
export function getStrings(doc: AlertDoc, path: string): string[] {
  const out: string[] = [];
  for (const v of getValues(doc, path)) {
    const s = scalarToString(v);
    if (s !== undefined && s !== '') out.push(s);
  }
  return out;
}

/** The values at `path` joined with ", " (Kibana's convention for multi-valued fields), or undefined. */
export function getString(doc: AlertDoc, path: string): string | undefined {
  const vs = getStrings(doc, path);
  return vs.length === 0 ? undefined : vs.join(', ');
}

/** MITRE ATT&CK entry from `kibana.alert.rule.threat`. */
export interface MitreRef {
  id: string;
  name: string;
  reference?: string;
}

export interface MitreThreat {
  tactic?: MitreRef;
  techniques: MitreRef[];
}

/**
 * What a notification needs from one alert: strings extracted from the document, already capped to the
 * configured byte limits (but NOT escaped: escaping happens per output context at render time).
 * Stored in the outbox so a retry renders the same message even if the alert document changes.
 */
export interface AlertSummary {
  alertId: string;
  /** The alert's `kibana.alert.url`: the Kibana page that shows it (see alerts/links.ts). */
  url?: string;
  /** Alert `@timestamp` (build time), used by Kibana's redirect URL. */
  timestamp?: string;
  originalTime?: string;
  ruleUuid?: string;
  ruleId?: string;
  ruleName: string;
  severity: Severity;
  riskScore?: number;
  reason?: string;
  tags: string[];
  groupId?: string;
  host?: string;
  containerId?: string;
  containerName?: string;
  pod?: string;
  namespace?: string;
  user?: string;
  commandLine?: string;
  threat: MitreThreat[];
  /** Extra event fields shown in the email table, e.g. kubernetes.audit.verb. */
  extra: Array<[string, string]>;
}

/** The renderable content of one notification (a single alert or a digest). */
export interface NotificationPayload {
  kind: 'alert' | 'digest' | 'test';
  ruleName: string;
  ruleId?: string;
  severity: Severity;
  /** Alerts shown in the message (all for `alert`, the first N for a digest). */
  alerts: AlertSummary[];
  /** Number of alerts this notification stands for (>= alerts.length). */
  total: number;
}
