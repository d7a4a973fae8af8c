/**
 * The fleet benchmark's attack generator (bench/lib/attack-gen.ts, through the feed that uses it): for every
 * container rule of Elastic's corpus and both seed rules, an attack is generated from the rule's EQL alone, its
 * documents are shaped as their integration writes them (file events in the file index, process events in the
 * process index, audit events without either category), and the real engine (replay) matches it as one
 * attack holding every one of its documents.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { replayRule } from '../../src/worker/replay-rule.js';
import { buildFeed } from '../../bench/lib/fleet-feed.js';
import { values } from '../../bench/lib/doc-paths.js';
import { HAS_SHARED, noteSharedMissing, REPO_ROOT, SHARED_DIR } from '../helpers/shared.js';

noteSharedMissing('attack generator over the container rules');
const indices = { process: 'logs-cloud_defend.process-t', file: 'logs-cloud_defend.file-t', audit: 'logs-kubernetes.audit_logs-t' };
const ctx = { now: new Date(0), spaceId: 'default', executionId: 't', kibanaUrl: null };

describe.skipIf(!HAS_SHARED)('attacks generated from the rules\' EQL', () => {
  it('every container rule and both seeds get an attack the engine matches whole, with documents where their integration puts them', async () => {
    const corpus = await loadRules(path.join(SHARED_DIR, 'corpus/detection-rules-toml'));
    const seeds = (await loadRules(path.join(REPO_ROOT, 'queries'))).rules.map((r): Rule => ({ ...r, id: `${r.id}-seed` }));
    const rules = [...corpus.rules, ...seeds];
    expect(rules.length).toBe(54);
    const feed = buildFeed({ rules, minutes: 1, rate: 60, attacksPerRule: 1, seed: 3, indices });
    expect(feed.unsatisfied).toEqual([]);
    expect(feed.attacks.size).toBe(rules.length);
    const byId = new Map(feed.docs.map((d) => [d.id, d]));
    for (const rule of rules) {
      const [attack] = feed.attacks.get(rule.id)!;
      const docs = attack!.ids.map((id) => byId.get(id)!);
      for (const d of docs) {
        const categories = values(d.doc, 'event.category');
        if (d.kind === 'audit') expect(categories).toEqual([]);
        else expect(categories).toEqual([d.kind]);
      }
      const r = replayRule(rule, docs.map((d) => ({ hit: { _index: indices[d.kind], _id: d.id, _source: d.doc }, bare: false })), { maxPendingSequences: 1000, ctx });
      const ancestors = new Set(r.alerts.flatMap((a) => ((a.doc['kibana.alert.ancestors'] as { id: string; type: string }[]) ?? []).filter((x) => x.type === 'event').map((x) => x.id)));
      expect(r.matches, rule.name).toBeGreaterThanOrEqual(1);
      expect(attack!.ids.filter((id) => !ancestors.has(id)), rule.name).toEqual([]);
    }
  });
});
