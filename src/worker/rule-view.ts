/**
 * What one run (of a rule, a group of rules, or a rescan) reads through: one point in time over the
 * indices, and each rule compiled against those indices' mappings with its read field and pushed-down
 * filters. Mappings are cached per index pattern list for `ttlMs` (a `SchemaCache` lives as long as the
 * worker process) and fetched again at once when the patterns name an index the cached mappings do not know
 * (a rollover, a new data stream): a read never runs with mappings that miss one of its indices.
 */
import type { Client } from '@elastic/elasticsearch';
import { fetchIndexSchema, resolveIndexNames } from '../es/mappings.js';
import { ReadSnapshot } from '../es/snapshot.js';
import type { IndexSchema } from '../mappings/index-mappings.js';
import { prepareForIndices, type PreparedRule } from './prepared-rule.js';
import { readField, ruleFilters, type ReadField, type RuleFilters } from './rule-reads.js';

export interface RuleView {
  snapshot: ReadSnapshot;
  /** The rule compiled against the mappings of the indices it reads now. */
  prepared: PreparedRule;
  field: ReadField;
  filters: RuleFilters;
}

export class SchemaCache {
  private readonly entries = new Map<string, { schema: IndexSchema; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The mappings of `index`: cached ones while younger than the TTL and while they know every index the
   * patterns name now (one `_resolve/index` request), else fetched. Call it after opening the point in time,
   * so that every index the read can see is checked.
   */
  async get(client: Client, index: string[], signal?: AbortSignal): Promise<IndexSchema> {
    const key = JSON.stringify(index);
    const hit = this.entries.get(key);
    if (hit && this.now() - hit.at < this.ttlMs) {
      const names = await resolveIndexNames(client, index, signal);
      const known = new Set(hit.schema.indexNames);
      if (names !== null && names.every((n) => known.has(n))) return hit.schema;
    }
    const schema = await fetchIndexSchema(client, index, signal);
    if (this.ttlMs > 0) this.entries.set(key, { schema, at: this.now() });
    return schema;
  }
}

/** The view of one rule over a snapshot and mappings already at hand. */
export function viewOf(snapshot: ReadSnapshot, schema: IndexSchema, p: PreparedRule): RuleView {
  const prepared = prepareForIndices(p, schema);
  return { snapshot, prepared, field: readField(prepared, schema), filters: ruleFilters(prepared, schema) };
}

/** Opens the point in time first, so every index it holds is in the mappings read after it. */
export async function openRuleView(client: Client, p: PreparedRule, signal?: AbortSignal): Promise<RuleView> {
  const snapshot = await ReadSnapshot.open(client, p.rule.index, signal ? { signal } : {});
  try {
    return viewOf(snapshot, await fetchIndexSchema(client, p.rule.index, signal), p);
  } catch (e) {
    await snapshot.close();
    throw e;
  }
}
