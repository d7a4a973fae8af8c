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
