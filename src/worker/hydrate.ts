/**
 * Matched events whose documents are not at hand whole: sequence events kept in a rule's stored state as
 * references (index and id), and events read with only the fields the rules need (group-run.ts). Their
 * documents are fetched when they become alerts, so the alert carries the whole event. A document that no
 * longer exists (deleted, index removed) still yields its alert, from what is at hand, and is reported.
 */
import type { Client } from '@elastic/elasticsearch';
import { HIT_REF, isSlim, type RuleMatch } from './rule-engine.js';

export interface HydrateReport {
  fetched: number;
  missing: { _index: string; _id: string }[];
}

/** Replaces every slim hit's `_source` with the stored document (one `mget` for all). */
export async function hydrateMatches(client: Client, matches: RuleMatch[], signal?: AbortSignal): Promise<HydrateReport> {
  const slim = matches.flatMap((m) => (m.kind === 'sequence' ? m.hits : [m.hit])).filter(isSlim);
  if (slim.length === 0) return { fetched: 0, missing: [] };
  const res = await client.mget<Record<string, unknown>>(
    { docs: slim.map((h) => ({ _index: h._index, _id: h._id })) },
    signal ? { signal } : undefined,
  );
  const missing: HydrateReport['missing'] = [];
  res.docs.forEach((d, i) => {
    const h = slim[i]!;
    if ('found' in d && d.found && d._source) {
      h._source = { ...d._source, [HIT_REF]: { _index: h._index, _id: h._id } };
    } else missing.push({ _index: h._index, _id: h._id });
  });
  return { fetched: slim.length - missing.length, missing };
}
