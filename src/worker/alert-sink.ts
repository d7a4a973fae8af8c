/**
 * Makes one window's alerts durable before its checkpoint may advance: the alert documents (bulk `create`,
 * deterministic ids), then, where promotion is set up, their promotion documents. Throws (so the run fails,
 * nothing is checkpointed and the window is read again) unless every alert was created or already present.
 *
 * Failures are told apart, because only one kind may change what is written:
 *  - a mapping rejection (400 with a parsing/mapping error type: a value the ECS fitting in alerts/sanitize.ts
 *    did not foresee) is permanent for that document, so the alert is written once more in a degraded form,
 *    its own fields indexed and the event kept unindexed under `eqlwatch.source`, rather than blocking the
 *    rule forever;
 *  - anything else (a 429/5xx that outlived the writer's retries, a 403, …) is not the document's fault: the
 *    alert is never rewritten, the run fails and the same alert is written whole on the retry.
 */
import type { Client } from '@elastic/elasticsearch';
import type { BuiltAlert } from '../alerts/build.js';
import type { LinkTarget } from '../alerts/links.js';
import { promotionDoc } from '../alerts/promotion.js';
import { writeAlerts, type FailedAlert, type WriteAlertsOptions, type WriteAlertsResult } from '../es/alert-writer.js';
import type { PromotionTarget } from '../es/promotion-target.js';
import type { Logger } from '../ops/logger.js';

export interface AlertSinkDeps {
  client: Pick<Client, 'bulk'>;
  logger: Logger;
  alertsIndex: string;
  /** Where promotion documents go; null/undefined when promotion is off. */
  promotion?: { target: PromotionTarget; namespace: string } | null;
  /** Writer options (tests shorten the backoff). */
  writeOptions?: WriteAlertsOptions;
  now?: () => number;
}

/** Where alert links point: the promoted alert in Security when promotion is on, else Discover. */
export function linkTarget(deps: Pick<AlertSinkDeps, 'promotion'>): LinkTarget {
  return deps.promotion ? 'security' : 'discover';
}

export class AlertWriteError extends Error {
  constructor(readonly failed: FailedAlert[], what = 'alert') {
    super(`${failed.length} ${what}(s) could not be written: ${failed.slice(0, 3).map((f) => `${f.id} (${f.status} ${f.reason})`).join('; ')}`);
    this.name = 'AlertWriteError';
  }
}

/** Error types of a document the index can never take as it is (see the header). */
const MAPPING_REJECTIONS = new Set(['document_parsing_exception', 'mapper_parsing_exception', 'strict_dynamic_mapping_exception']);

export function isMappingRejection(f: FailedAlert): boolean {
  if (f.status !== 400 || f.type === undefined) return false;
  // e.g. "Limit of total fields [6000] has been exceeded", "mapper [x] cannot be changed from type …"
  return MAPPING_REJECTIONS.has(f.type) || (f.type === 'illegal_argument_exception' && /mapp|field/i.test(f.reason));
}

export interface SinkResult extends WriteAlertsResult {
  promoted: number;
}

export async function writeAlertBatch(deps: AlertSinkDeps, alerts: BuiltAlert[]): Promise<SinkResult> {
  const written = await writeAlerts(deps.client, deps.alertsIndex, alerts, deps.writeOptions);
  const result: SinkResult = { ...written, failed: [], promoted: 0 };
  if (written.failed.length > 0) {
    const transient = written.failed.filter((f) => !isMappingRejection(f));
    if (transient.length > 0) throw new AlertWriteError(transient);
    const byId = new Map(alerts.map((a) => [a.id, a]));
    const retry = written.failed.map((f) => ({ id: f.id, doc: degradedAlert(byId.get(f.id)!.doc, f.reason) }));
    deps.logger.warn(
      { failed: written.failed.slice(0, 5), count: written.failed.length },
      `${written.failed.length} alert(s) rejected by the alerts index (mapping conflicts); writing them with the event unindexed under eqlwatch.source`,
    );
    const again = await writeAlerts(deps.client, deps.alertsIndex, retry, deps.writeOptions);
    if (again.failed.length > 0) throw new AlertWriteError(again.failed);
    result.created += again.created;
    result.createdIds.push(...again.createdIds);
    result.duplicates += again.duplicates;
  }
  const ignored = alerts.filter((a) => Array.isArray(a.doc['eqlwatch.ignored_fields']));
  if (ignored.length > 0) {
    deps.logger.warn(
      { count: ignored.length, fields: [...new Set(ignored.flatMap((a) => a.doc['eqlwatch.ignored_fields'] as string[]))].slice(0, 20) },
      `${ignored.length} alert(s) left out event values that do not fit the ECS mapping (listed in eqlwatch.ignored_fields; the source events keep them)`,
    );
  }
  if (deps.promotion) result.promoted = await promote(deps, deps.promotion, alerts);
  return result;
}

/** Promotion documents of every alert of the batch, new or already present (a crash may have come between). */
async function promote(deps: AlertSinkDeps, p: NonNullable<AlertSinkDeps['promotion']>, alerts: BuiltAlert[]): Promise<number> {
  const now = new Date(deps.now?.() ?? Date.now());
  const docs = alerts.map((a) => promotionDoc(a, deps.alertsIndex, p.namespace, now)).filter((d) => d !== null);
  if (docs.length === 0) return 0;
  const res = await writeAlerts(deps.client, p.target.index, docs, deps.writeOptions);
  if (res.failed.length > 0) throw new AlertWriteError(res.failed, 'promotion document');
  return res.created;
}

/** The alert's own fields stay indexed; everything copied from the event moves under `eqlwatch.source`. */
export function degradedAlert(doc: Record<string, unknown>, reason: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    const copied = k.startsWith('kibana.alert.original_event') || k.startsWith('kibana.alert.original_data_stream');
    const own = (k.startsWith('kibana.') && !copied) || k.startsWith('eqlwatch.') || k === '@timestamp' || k === 'event.kind';
    if (own) out[k] = v;
    else source[k] = v;
  }
  out['eqlwatch.source'] = source;
  out['eqlwatch.degraded'] = reason.slice(0, 1000);
  return out;
}
