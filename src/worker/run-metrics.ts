/**
 * What one rule run tells /metrics. Every way an event could fail to reach the engine on time has a series
 * here (late arrivals by tolerance, evictions, query fallbacks, incomplete reads, gaps), so none is silent.
 */
import { IncompleteReadError } from '../es/snapshot.js';
import type { Metrics } from '../ops/metrics.js';
import type { ExecuteResult } from './execute.js';

type Labels = { rule_id: string; rule_name: string };

export function runMetrics(metrics: Metrics) {
  const runs = metrics.counter('eqlwatch_rule_runs_total', 'Rule executions by outcome');
  const events = metrics.counter('eqlwatch_events_read_total', 'Events read from Elasticsearch');
  const alerts = metrics.counter('eqlwatch_alerts_written_total', 'Alert documents created');
  const errors = metrics.counter('eqlwatch_errors_total', 'Errors by kind');
  const lag = metrics.gauge('eqlwatch_rule_lag_seconds', 'How far the rule checkpoint is behind now');
  const lastSuccess = metrics.gauge('eqlwatch_rule_last_success_timestamp_seconds', 'Unix time of the last successful run');
  const late = metrics.counter(
    'eqlwatch_late_events_total',
    'Events that became searchable after their window had been read, by tolerance (within, beyond worker.lateness, beyond_audit_horizon: not evaluated)',
  );
  const evictions = metrics.counter('eqlwatch_sequence_evictions_total', 'Pending partial sequences evicted (worker.maxPendingSequences or the state size bound)');
  const fallbacks = metrics.counter('eqlwatch_query_fallbacks_total', 'Reads retried with a broader query because Elasticsearch rejected one');
  const outOfOrder = metrics.counter('eqlwatch_out_of_order_events_total', 'Sequence events Elasticsearch returned out of timestamp order');
  const repairs = metrics.gauge('eqlwatch_sequence_repairs_pending', 'Stretches with late sequence events waiting to be re-evaluated');
  return {
    skipped(labels: Labels): void {
      runs({ ...labels, outcome: 'skipped' });
    },
    result(labels: Labels, result: Extract<ExecuteResult, { status: 'ok' | 'aborted' }>): void {
      runs({ ...labels, outcome: result.status });
      for (const w of result.windows) {
        events(labels, w.eventsRead);
        alerts(labels, w.alertsCreated);
      }
      const l = result.late;
      events(labels, l.eventsRead);
      alerts(labels, l.alertsCreated);
      if (l.events - l.beyondTolerance > 0) late({ ...labels, tolerance: 'within' }, l.events - l.beyondTolerance);
      if (l.beyondTolerance > 0) late({ ...labels, tolerance: 'beyond' }, l.beyondTolerance);
      if (l.olderThanHorizon > 0) late({ ...labels, tolerance: 'beyond_audit_horizon' }, l.olderThanHorizon);
      if (l.incomplete) errors({ kind: 'repair_truncated' });
      repairs(labels, l.repairsPending);
      if (result.health.evicted > 0) evictions(labels, result.health.evicted);
      if (result.health.fallbacks > 0) fallbacks(labels, result.health.fallbacks);
      if (result.health.outOfOrder > 0) outOfOrder(labels, result.health.outOfOrder);
      if (result.gap) errors({ kind: 'gap' });
      lag(labels, result.lagMs / 1000);
      if (result.status === 'ok') lastSuccess(labels, Date.now() / 1000);
    },
    failed(labels: Labels, err: unknown, aborted: boolean): void {
      runs({ ...labels, outcome: aborted ? 'aborted' : 'failed' });
      if (!aborted) errors({ kind: err instanceof IncompleteReadError ? 'incomplete_read' : 'rule_run' });
    },
  };
}
