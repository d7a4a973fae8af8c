/**
 * The never-miss guarantee as a generative test against the real node: for random documents over one
 * index pattern with conflicting mappings, arriving and becoming searchable at random times within the
 * lateness tolerance, and a random schedule of runs with restarts and crashes, the alert ids the worker
 * writes equal those `replay` gives over all the documents (test/fixtures/equivalence-case.ts says what is
 * drawn). Every run is a restart: the engine is rebuilt from the stored state. Half the cases run the rules
 * in groups that share one read per window (group-run.ts), half rule by rule.
 *
 * CI runs EQLWATCH_EQUIVALENCE_CASES (default 4) cases from EQLWATCH_EQUIVALENCE_SEED (default 20261204);
 * `EQLWATCH_EQUIVALENCE_CASES=100 EQLWATCH_EQUIVALENCE_SEED=7 npm run test:equivalence` runs more (see the README).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuleFile } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { generateCase, type EquivalenceCase } from '../fixtures/equivalence-case.js';
import { useEs } from '../helpers/es.js';
import { REPO_ROOT, SHARED_DIR } from '../helpers/shared.js';
import { DEFAULT_TEST_SETTINGS, ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const CASES = Number(process.env.EQLWATCH_EQUIVALENCE_CASES ?? 4);
const SEED = Number(process.env.EQLWATCH_EQUIVALENCE_SEED ?? 20261204);
const CORPUS_DIR = path.join(SHARED_DIR, 'corpus/detection-rules-toml');

async function corpusFiles(): Promise<string[]> {
  try {
    return (await readdir(CORPUS_DIR)).filter((f) => f.endsWith('.toml')).sort();
  } catch {
    // A user's clone has no ../shared: the cases then use the seeds and random rules only.
    return [];
  }
}

async function loadCaseRules(c: EquivalenceCase, pattern: string): Promise<Rule[]> {
  const out: Rule[] = [];
  for (const r of c.rules) {
    let rule: Rule;
    if (r.yaml) rule = ruleFrom('random.yaml', r.yaml);
    else {
      const file = r.origin === 'seed' ? path.join(REPO_ROOT, 'queries', r.file!) : path.join(CORPUS_DIR, r.file!);
      const loaded = await loadRuleFile(file);
      if (loaded.kind !== 'rule') continue; // a non-EQL corpus rule
      // Same query, read from this case's indices, and no max_signals truncation to compare against.
      rule = { ...loaded.rule, index: [pattern], maxSignals: 10_000 };
    }
    if (!out.some((x) => x.id === rule.id)) out.push(rule);
  }
  return out;
}

describe('worker alerts = replay alerts (generative, real node)', () => {
  for (let k = 0; k < CASES; k++) {
    const seed = SEED + k;
    // Every other case runs the rules in groups sharing their reads (the worker's default), the others rule by
    // rule: both must give replay's alerts, so a group's alerts are those of its rules run alone.
    const shared = k % 2 === 0;
    it(`case ${k + 1}/${CASES} (seed ${seed}, ${shared ? 'shared scans' : 'rule by rule'})`, async () => {
      const prefix = `${es.name(`eq-${seed}`)}-`;
      const pattern = `${prefix}*`;
      const c = generateCase({ seed, pattern, corpus: await corpusFiles(), latenessMs: DEFAULT_TEST_SETTINGS.latenessMs });
      const names = c.indices.map((i) => `${prefix}${i.suffix}`);
      for (const [i, idx] of c.indices.entries()) {
        await es.client.indices.create({
          index: names[i]!,
          settings: { 'index.refresh_interval': '-1', 'index.number_of_replicas': 0, ...idx.settings },
          mappings: idx.mappings,
        });
      }
      const rules = await loadCaseRules(c, pattern);
      // Small pages, so windows span several pages (ordering across page boundaries and index types matters).
      const h = new WorkerHarness(es, rules, { ...DEFAULT_TEST_SETTINGS, latenessMs: c.latenessMs, pageSize: 2 + (seed % 9) }, 'harness', shared);
      const pending = [...c.docs].sort((a, b) => a.visibleAt - b.visibleAt);
      let next = 0;
      for (const run of c.runs) {
        // Everything searchable by the run's time is indexed and refreshed; the rest does not exist yet.
        const batch: typeof pending = [];
        while (next < pending.length && pending[next]!.visibleAt <= run.at) batch.push(pending[next++]!);
        if (batch.length > 0) {
          const res = await es.client.bulk({ operations: batch.flatMap((d) => [{ create: { _index: d.index, _id: d.id } }, d.source]) });
          const failed = res.items.filter((i) => i.create?.error);
          expect(failed.map((f) => f.create?.error?.reason), 'every generated document is indexable').toEqual([]);
        }
        await es.client.indices.refresh({ index: names });
        await h.run(run.at, { crashAfterAlerts: run.crash });
      }
      expect(next).toBe(pending.length);
      const workerAlerts = await h.workerAlerts();
      const replayAlerts = await h.replayAlerts(names);
      const worker = [...workerAlerts.keys()];
      const replay = [...replayAlerts.keys()];
      const missing = replay.filter((id) => !workerAlerts.has(id)).map((id) => replayAlerts.get(id)!).sort();
      const extra = worker.filter((id) => !replayAlerts.has(id)).map((id) => workerAlerts.get(id)!).sort();
      expect({ missing, extra }, `seed ${seed}: rules ${rules.map((r) => r.id).join(', ')}`).toEqual({ missing: [], extra: [] });
      // Not a vacuous case: documents were read and alerts raised.
      expect(replay.length).toBeGreaterThan(0);
    });
  }
});
