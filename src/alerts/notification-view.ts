/**
 * What notifications see of a run's alerts. Building blocks are never notified on their own; a sequence's
 * shell alert holds only the fields its events share, so for the message it is completed with its events'
 * fields (first event first: the process that started the sequence, then e.g. the audit event), while the
 * stored shell alert stays exactly as Kibana shapes it.
 */
import type { BuiltAlert } from './build.js';

const GROUP_ID = 'kibana.alert.group.id';

export function notificationDocs(alerts: readonly BuiltAlert[]): Record<string, unknown>[] {
  const blocks = new Map<string, Record<string, unknown>[]>();
  for (const a of alerts) {
    if (!a.buildingBlock) continue;
    const group = a.doc[GROUP_ID];
    if (typeof group !== 'string') continue;
    const list = blocks.get(group) ?? [];
    list.push(a.doc);
    blocks.set(group, list);
  }
  return alerts
    .filter((a) => !a.buildingBlock)
    .map((a) => {
      const members = blocks.get(a.id);
      if (!members) return a.doc;
      const merged: Record<string, unknown> = {};
      for (const member of [...members].reverse()) {
        for (const [k, v] of Object.entries(member)) if (isEventField(k)) merged[k] = v;
      }
      return { ...merged, ...a.doc };
    });
}

/** Event fields only: alert bookkeeping of a building block must not leak into its shell's message. */
function isEventField(key: string): boolean {
  return !(key === 'kibana' || key.startsWith('kibana.') || key === 'eqlwatch' || key.startsWith('eqlwatch.') || key === '@timestamp' || key === 'event.kind');
}
