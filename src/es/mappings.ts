/** The mappings of every open index a rule reads, as one `IndexSchema` (see src/mappings/index-mappings.ts). */
import type { Client } from '@elastic/elasticsearch';
import { IndexSchema, parseMappingsResponse } from '../mappings/index-mappings.js';
import { classifySearchError } from './snapshot.js';

export async function fetchIndexSchema(client: Client, index: string[], signal?: AbortSignal): Promise<IndexSchema> {
  if (index.length === 0) return new IndexSchema([]);
  try {
    const res = await client.indices.getMapping(
      { index, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'open' },
      signal ? { signal } : undefined,
    );
    return new IndexSchema(parseMappingsResponse(res));
  } catch (e) {
    throw classifySearchError(e);
  }
}

/**
 * The concrete open indices `index` names now (indices, aliases' indices, data streams' backing indices), from
 * `_resolve/index`: far smaller than the mappings, so a cached schema can be checked against it every run.
 * Null when the cluster cannot say (the caller then fetches the mappings).
 */
export async function resolveIndexNames(client: Client, index: string[], signal?: AbortSignal): Promise<string[] | null> {
  if (index.length === 0) return [];
  try {
    const res = await client.indices.resolveIndex(
      { name: index, ignore_unavailable: true, allow_no_indices: true, expand_wildcards: 'open' },
      signal ? { signal } : undefined,
    );
    const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
    return [
      ...res.indices.filter((i) => !i.attributes.includes('closed')).map((i) => i.name),
      ...res.aliases.flatMap((a) => list(a.indices)),
      ...res.data_streams.flatMap((d) => list(d.backing_indices)),
    ];
  } catch (e) {
    if (signal?.aborted) throw e;
    return null;
  }
}
