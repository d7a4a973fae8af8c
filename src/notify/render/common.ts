/** Pieces shared by the email, Slack and webhook templates. */
import type { AlertSummary, NotificationPayload, Severity } from '../types.js';
import type { KibanaLinkConfig } from './links.js';

/** Kibana's severity palette (security solution risk colours). */
export const SEVERITY_COLOR: Record<Severity, string> = {
  low: '#54B399',
  medium: '#D6BF57',
  high: '#DA8B45',
  critical: '#E7664C',
};

export interface RenderOptions {
  kibana: KibanaLinkConfig;
  subjectPrefix: string;
  subjectChars: number;
}

/** Everything a template needs: the stored payload plus delivery-time facts. */
export interface RenderInput {
  notificationId: string;
  payload: NotificationPayload;
  /** Alerts folded into this notification by throttling (recorded on the outbox item). */
  suppressed: number;
}

/** Label/value rows shown for one alert, in display order; values are raw (escape per context). */
export function alertRows(a: AlertSummary): Array<[string, string]> {
  const rows: Array<[string, string | undefined]> = [
    ['Rule', a.ruleName],
    ['Severity', `${a.severity}${a.riskScore !== undefined ? ` (risk ${a.riskScore})` : ''}`],
    ['Reason', a.reason],
    ['Event time', a.originalTime],
    ['Host', a.host],
    ['Container', a.containerName && a.containerId ? `${a.containerName} (${a.containerId})` : (a.containerName ?? a.containerId)],
    ['Pod', a.pod],
    ['Namespace', a.namespace],
    ['User', a.user],
    ['Command line', a.commandLine],
    ...mitreRows(a),
    ...a.extra,
    ['Tags', a.tags.length ? a.tags.join(', ') : undefined],
    ['Alert id', a.alertId],
  ];
  return rows.filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '');
}

export function mitreRows(a: AlertSummary): Array<[string, string]> {
  return a.threat.map((t) => {
    const tactic = t.tactic ? `${t.tactic.name} (${t.tactic.id})` : 'unknown tactic';
    const tech = t.techniques.map((x) => `${x.name} (${x.id})`).join(', ');
    return ['MITRE ATT&CK', tech ? `${tactic} / ${tech}` : tactic];
  });
}

export function headline(input: RenderInput): string {
  const p = input.payload;
  if (p.kind === 'digest') return `${p.total} alerts of rule ${p.ruleName} in the last run; first ${p.alerts.length} shown`;
  if (p.kind === 'test') return 'TEST notification from eqlwatch (sample alert, no action needed)';
  return `${p.severity.toUpperCase()} alert: ${p.ruleName}`;
}

export function suppressedLine(n: number): string | undefined {
  return n > 0 ? `${n} more alert${n === 1 ? '' : 's'} in the same group within the throttle window were folded into this notification.` : undefined;
}
