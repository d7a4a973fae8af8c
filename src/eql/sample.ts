/**
 * EQL `sample` evaluation, reproducing Elasticsearch's `SampleIterator`:
 * - join key groups are the key tuples present in every stage (composite aggregations, one bucket
 *   per value of a multi-valued key; a null key only for optional `?` keys), visited in composite
 *   order (ascending per key position, null first);
 * - per group and stage, the candidates are the first `stages + maxSamplesPerKey − 1` matching
 *   events in index order (ES queries without sort, `size`/`terminate_after` = that number);
 * - a backtracking search picks distinct events, one per stage, up to `maxSamplesPerKey` samples;
 * - samples are emitted group by group until `limit` samples have been found.
 * Chronology is ignored: events are taken in the order given (index order), not sorted.
 */
import type { CompiledQuery, EqlEvent, KeyTuple } from './compiled.js';
import { compareCompositeKeys, tupleId } from './ordering.js';

export interface SampleMatch {
  /** Key values of the group, as ES returns them in `join_keys`. */
  joinKeys: unknown[];
  /** One event per stage, in stage order. */
  events: EqlEvent[];
}

export interface SampleOptions {
  /** ES `max_samples_per_key` (default 1). */
  maxSamplesPerKey?: number;
  /** Maximum number of samples (ES `size`, or `head N`); default unlimited. */
  limit?: number;
}

interface Group {
  key: KeyTuple;
  /** Candidate events per stage, in input order, capped. */
  perStage: EqlEvent[][];
}

export function runSample(compiled: CompiledQuery, events: Iterable<EqlEvent>, options: SampleOptions = {}): SampleMatch[] {
  if (compiled.kind !== 'sample') throw new Error(`runSample needs a sample query, got ${compiled.kind}`);
  const stages = compiled.stages;
  const n = stages.length;
  const perKey = Math.max(1, Math.floor(options.maxSamplesPerKey ?? 1));
  const limit = options.limit ?? Infinity;
  if (n === 0 || limit <= 0) return [];
  const candidatesPerStage = n + perKey - 1;

  const groups = new Map<string, Group>();
  for (const event of events) {
    for (let s = 0; s < n; s++) {
      const stage = stages[s];
      if (stage === undefined || !stage.predicate(event)) continue;
      const seen = new Set<string>();
      for (const key of stage.keys(event)) {
        const id = tupleId(key);
        if (seen.has(id)) continue;
        seen.add(id);
        let g = groups.get(id);
        if (g === undefined) {
          g = { key, perStage: Array.from({ length: n }, () => [] as EqlEvent[]) };
          groups.set(id, g);
        }
        const list = g.perStage[s] as EqlEvent[];
        if (list.length < candidatesPerStage) list.push(event);
      }
    }
  }

  const ordered = [...groups.values()]
    .filter((g) => g.perStage.every((l) => l.length > 0))
    .sort((a, b) => compareCompositeKeys(a.key, b.key));

  const out: SampleMatch[] = [];
  for (const g of ordered) {
    for (const picked of pickDistinct(g.perStage, perKey)) {
      out.push({ joinKeys: [...g.key], events: picked });
      if (out.length >= limit) return out;
    }
  }
  return out;
}

/** ES `SampleIterator.matchSamples`: depth-first choice of distinct events, one per stage. */
function pickDistinct(perStage: EqlEvent[][], max: number): EqlEvent[][] {
  const result: EqlEvent[][] = [];
  const partial: EqlEvent[] = [];
  const visit = (stage: number): boolean => {
    for (const e of perStage[stage] as EqlEvent[]) {
      if (partial.includes(e)) continue;
      partial.push(e);
      if (stage === perStage.length - 1) {
        result.push([...partial]);
        if (result.length === max) return true;
      } else if (visit(stage + 1)) {
        return true;
      }
      partial.pop();
    }
    return false;
  };
  visit(0);
  return result;
}
