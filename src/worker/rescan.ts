/**
 * `eqlwatch rescan`: one rule evaluated afresh over a past stretch of its read field, for what the
 * late-arrival audit cannot recover (documents that became searchable later than worker.auditHorizon, a
 * stretch skipped as a gap, a rule added after the fact). Alerts are written with their deterministic ids,
 * so whatever was alerted before is not alerted twice; the rule's checkpoint and state are not touched.
 */
import type { BuiltAlert } from '../alerts/build.js';
import { writeAlertBatch, linkTarget } from './alert-sink.js';
import { readContext, type ExecuteDeps } from './execute.js';
import { alertsForMatches, type PreparedRule } from './prepared-rule.js';
import { openRuleView } from './rule-view.js';
import { evaluateFresh } from './window-read.js';

export interface RescanReport {
  eventsRead: number;
  matches: number;
  alertsCreated: number;
  alertsDuplicate: number;
  /** False when the read stopped at its size bound (rescan shorter stretches then). */
  complete: boolean;
  fallbacks: number;
}

export async function rescanRule(
  deps: Pick<ExecuteDeps, 'client' | 'alertsIndex' | 'logger' | 'settings' | 'spaceId' | 'kibanaUrl' | 'promotion' | 'onAlerts' | 'signal'>,
  p: PreparedRule,
  from: number,
  to: number,
): Promise<RescanReport> {
  const view = await openRuleView(deps.client, p, deps.signal);
  let fallbacks = 0;
  try {
    const ctx = readContext(view, deps, () => fallbacks++);
    const fresh = await evaluateFresh(ctx, { from, to });
    const context = { now: new Date(), spaceId: deps.spaceId, executionId: crypto.randomUUID(), kibanaUrl: deps.kibanaUrl, linkTarget: linkTarget(deps) };
    // No max_signals here: a rescan is asked for everything the stretch holds.
    const alerts = dedupe(alertsForMatches({ ...view.prepared, rule: { ...view.prepared.rule, maxSignals: Number.MAX_SAFE_INTEGER } }, fresh.matches, context).alerts);
    const written = await writeAlertBatch(deps, alerts);
    if (deps.onAlerts && alerts.length > 0) await deps.onAlerts(alerts);
    return { eventsRead: fresh.eventsRead, matches: fresh.matches.length, alertsCreated: written.created, alertsDuplicate: written.duplicates, complete: fresh.complete, fallbacks };
  } finally {
    await view.snapshot.close();
  }
}

function dedupe(alerts: BuiltAlert[]): BuiltAlert[] {
  const seen = new Set<string>();
  return alerts.filter((a) => (seen.has(a.id) ? false : (seen.add(a.id), true)));
}
