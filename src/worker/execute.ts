/**
 * One execution of one rule against Elasticsearch: a group of one (group-run.ts runs rules that share
 * their indices together). The run takes the rule's lease, opens one point in time over its indices and
 * compiles the rule against their mappings; audits what it read before (coverage.ts) and reads again what
 * arrived late; reads each new window (single-event rules up to now on their arrival field, sequence rules
 * up to now minus the lateness tolerance on `@timestamp`, in order, with key narrowing); writes alerts with
 * deterministic ids, hands them to notifications, and only then saves the new frontier, audit and sequence
 * state under optimistic concurrency.
 *
 * A crash anywhere before the save repeats the run; deterministic ids and bulk `create` make the repeat
 * write nothing new, so every match gives exactly one alert. A read that is not complete (failed shards,
 * timeouts) fails the run before anything is saved; a query the cluster rejects is retried broader.
 */
import { executeGroup } from './group-run.js';
import type { PreparedRule } from './prepared-rule.js';
import type { ExecuteDeps, ExecuteResult } from './run-types.js';

export { readContext } from './group-run.js';
export type { ExecuteDeps, ExecuteResult, ExecuteSettings, LateReport, RunHealth, RunResult, WindowReport } from './run-types.js';

export async function executeRule(deps: ExecuteDeps, p: PreparedRule): Promise<ExecuteResult> {
  return (await executeGroup(deps, [p])).get(p.rule.id)!;
}
