/**
 * What one run (or a rescan) of a rule reads through: one point in time over its indices, and the rule
 * compiled against those indices' mappings with its read field and pushed-down filters.
 */
import type { Client } from '@elastic/elasticsearch';
import { fetchIndexSchema } from '../es/mappings.js';
import { ReadSnapshot } from '../es/snapshot.js';
import { prepareForIndices, type PreparedRule } from './prepared-rule.js';
import { readField, ruleFilters, type ReadField, type RuleFilters } from './rule-reads.js';

export interface RuleView {
  snapshot: ReadSnapshot;
  /** The rule compiled against the mappings of the indices it reads now. */
  prepared: PreparedRule;
  field: ReadField;
  filters: RuleFilters;
}

/** Opens the point in time first, so every index it holds is in the mappings read after it. */
export async function openRuleView(client: Client, p: PreparedRule, signal?: AbortSignal): Promise<RuleView> {
  const snapshot = await ReadSnapshot.open(client, p.rule.index, signal ? { signal } : {});
  try {
    const schema = await fetchIndexSchema(client, p.rule.index, signal);
    const prepared = prepareForIndices(p, schema);
    return { snapshot, prepared, field: readField(prepared, schema), filters: ruleFilters(prepared, schema) };
  } catch (e) {
    await snapshot.close();
    throw e;
  }
}
