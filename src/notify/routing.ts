/**
 * Pure routing decisions: which routes an alert takes, whether it is muted, its throttle group.
 */
import { createHash } from 'node:crypto';
import type { NotifyConfig, RouteConfig } from '../config/notify.js';
import { type AlertDoc, type AlertSummary, getStrings, severityRank } from './types.js';

export interface ResolvedRoute {
  name: string;
  channels: string[];
  throttle?: { window: number; groupBy: string[] } | undefined;
  digestThreshold: number;
}

/** Identifiers a rule can be named by in `routes[].rules` and `mute.rules`. */
function ruleNames(a: AlertSummary): string[] {
  return [a.ruleId, a.ruleUuid, a.ruleName].filter((x): x is string => x !== undefined);
}

/** A stable key for "the same rule" (uuid, else TOML rule_id, else name). */
export function ruleKey(a: AlertSummary): string {
  return a.ruleUuid ?? a.ruleId ?? a.ruleName;
}

export function isMuted(a: AlertSummary, mute: NotifyConfig['mute']): boolean {
  return ruleNames(a).some((n) => mute.rules.includes(n)) || a.tags.some((t) => mute.tags.includes(t));
}

export function routeMatches(a: AlertSummary, r: RouteConfig): boolean {
  if (r.rules && !ruleNames(a).some((n) => r.rules!.includes(n))) return false;
  if (r.minSeverity && severityRank(a.severity) < severityRank(r.minSeverity)) return false;
  if (r.tags && !a.tags.some((t) => r.tags!.includes(t))) return false;
  return true;
}

/** Every matching route, in configuration order; the default route only when none matches. */
export function matchRoutes(a: AlertSummary, cfg: NotifyConfig): ResolvedRoute[] {
  const out: ResolvedRoute[] = [];
  for (const r of cfg.routes)
    if (routeMatches(a, r)) out.push({ name: r.name, channels: r.channels, throttle: r.throttle, digestThreshold: r.digestThreshold ?? cfg.digest.threshold });
  if (out.length === 0 && cfg.defaultRoute)
    out.push({
      name: 'default',
      channels: cfg.defaultRoute.channels,
      throttle: cfg.defaultRoute.throttle,
      digestThreshold: cfg.defaultRoute.digestThreshold ?? cfg.digest.threshold,
    });
  return out;
}

/** Throttle group: rule + channel + the group-by field values of the alert document. */
export function throttleKey(doc: AlertDoc, a: AlertSummary, channel: string, groupBy: readonly string[]): string {
  const h = createHash('sha256');
  h.update(`eqlwatch-throttle\0${ruleKey(a)}\0${channel}`);
  for (const f of groupBy) h.update(`\0${f}=${JSON.stringify(getStrings(doc, f))}`);
  return h.digest('hex').slice(0, 40);
}
