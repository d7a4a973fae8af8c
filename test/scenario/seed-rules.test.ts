/**
 * The engine, run with the seed rules' exact queries over a generated scenario, must raise
 * exactly the alerts the scenario's ground truth lists.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileQuery, SequenceMatcher } from '../../src/eql/index.js';
import { generateScenario, SEED_RULES } from '../../src/scenario/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seeds = path.resolve(repoRoot, '../shared/seeds');
const haveSeeds = existsSync(seeds);
if (!haveSeeds) console.warn(`[scenario] ${seeds} not found: seed-rule tests skipped`);

/** The query is the line after "text code block:" in a seed file. */
function seedQuery(file: string): string {
  const text = readFileSync(path.join(seeds, file), 'utf8');
  const marker = 'text code block:\n';
  const start = text.indexOf(marker) + marker.length;
  return text.slice(start, text.indexOf('\n', start)).trim();
}

describe.skipIf(!haveSeeds)('seed rules over a generated scenario', () => {
  const s = generateScenario({ events: 40_000, attacks: 30, seed: 77 });
  const position = new Map(s.events.map((e, i) => [e, i]));

  it('Interactive Exec Into Container alerts on exactly the injected interactive shells', () => {
    const compiled = compileQuery(seedQuery(SEED_RULES.interactive_exec.seedFile));
    const predicate = compiled.predicate as (e: Record<string, unknown>) => boolean;
    const found = s.events.flatMap((e, i) => (predicate(e) ? [i] : []));
    expect(found).toEqual(s.expectedAlerts.filter((a) => a.rule === 'interactive_exec').map((a) => a.eventIndices[0]));
    expect(found).toHaveLength(30);
  });

  it('Direct Interactive Kubernetes API Request alerts on exactly the injected API requests', () => {
    const matcher = new SequenceMatcher(compileQuery(seedQuery(SEED_RULES.api_request.seedFile)));
    const found: string[] = [];
    const take = () => { for (const m of matcher.drain()) found.push(m.events.map((e) => position.get(e)).join(',')); };
    for (const e of s.events) { matcher.push(e); take(); }
    matcher.flush();
    take();
    const expected = s.expectedAlerts.filter((a) => a.rule === 'api_request').map((a) => a.eventIndices.join(','));
    expect(expected.length).toBeGreaterThan(0);
    expect(found.sort()).toEqual(expected.sort());
  });
});
