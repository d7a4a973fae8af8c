import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { EqlEvent } from '../../src/eql/compiled.js';
import * as eql from '../../src/eql/index.js';
import { parseCorpus, runCorpus } from '../../src/conformance/corpus.js';
import { buildDataset } from '../../src/conformance/dataset.js';
import { loadEngine, type Engine, type EngineResult } from '../../src/conformance/engine.js';
import { summaryJson } from '../../src/conformance/report.js';
import { DATE_NANOS_LABEL, runBuiltinSuites } from '../../src/conformance/run-all.js';
import { runSpec, runSuite, type SpecResult } from '../../src/conformance/runner.js';
import { parseSuite, type EqlSpec } from '../../src/conformance/suite.js';
import { BUILTIN_SUITES, DEFAULT_SETTINGS } from '../../src/conformance/suites.js';

/* ---------------------------------------------------------------------------------------------- */
/* Runner semantics, with small in-test engines (pure unit tests of the runner itself).            */
/* ---------------------------------------------------------------------------------------------- */

const dataset = buildDataset([{ dataFile: 'd.json', dataText: '[{"id":1,"k":"a"},{"id":2,"k":"a"},{"id":3,"k":null}]' }]);
const settings = { ...DEFAULT_SETTINGS, idField: 'id' };
const noCaps = { maxSamplesPerKey: false };

function engineReturning(result: EngineResult | ((query: string) => EngineResult)): Engine {
  return {
    compileQuery: (query: string) => query,
    evaluate: (compiled: unknown) => (typeof result === 'function' ? result(compiled as string) : result),
  };
}

function spec(partial: Partial<EqlSpec>): EqlSpec {
  return { name: 't', query: 'any where true', expectedEventIds: [[]], joinKeys: [], tags: [], unknownKeys: [], ...partial };
}

function outcome(engine: Engine, s: EqlSpec): SpecResult['outcome'] {
  return runSpec(engine, dataset, s, settings, noCaps).outcome;
}

const ev = (id: number): EqlEvent => dataset.events[id - 1]!;

describe('conformance runner', () => {
  it('passes when the flattened ids equal the expected list, in order', () => {
    const engine = engineReturning({ kind: 'events', events: [ev(1), ev(2)] });
    expect(outcome(engine, spec({ expectedEventIds: [[1, 2]] })).status).toBe('passed');
    expect(outcome(engine, spec({ expectedEventIds: [[2, 1]] }))).toMatchObject({ status: 'failed', kind: 'wrong-ids' });
  });

  it('accepts any listed alternative for non-deterministic specs', () => {
    const engine = engineReturning({ kind: 'events', events: [ev(3)] });
    expect(outcome(engine, spec({ expectedEventIds: [[1], [3]] })).status).toBe('passed');
  });

  it('counts a missing sequence event as id -1 and flattens sequences', () => {
    const engine = engineReturning({
      kind: 'sequences',
      sequences: [
        { joinKeys: ['a'], events: [ev(1), null, ev(2)] },
        { joinKeys: [null], events: [ev(3), undefined] },
      ],
    });
    expect(outcome(engine, spec({ expectedEventIds: [[1, -1, 2, 3, -1]], joinKeys: ['a', 'null'] })).status).toBe('passed');
  });

  it('puts -1 back at missing-stage positions when the engine returns only positive-stage events', () => {
    const engine: Engine = {
      compileQuery: () => ({ stages: [{ missing: false }, { missing: true }, { missing: false }] }),
      evaluate: () => ({ kind: 'sequences', sequences: [{ joinKeys: [], events: [ev(1), ev(2)] }] }),
    };
    expect(outcome(engine, spec({ expectedEventIds: [[1, -1, 2]] })).status).toBe('passed');
    expect(outcome(engine, spec({ expectedEventIds: [[1, 2]] })).status).toBe('failed');
  });

  it('fails a spec whose result differs between result_position tail and head', () => {
    const engine: Engine = {
      compileQuery: (q: string) => q,
      evaluate: (_c: unknown, _e, options) => ({ kind: 'events', events: options.resultPosition === 'tail' ? [ev(1)] : [ev(2)] }),
    };
    expect(outcome(engine, spec({ expectedEventIds: [[1]] }))).toMatchObject({ status: 'failed', message: expect.stringMatching(/result_position=head/) });
  });

  it('compares join keys only when the spec lists them, as strings', () => {
    const engine = engineReturning({ kind: 'samples', samples: [{ joinKeys: [1234, true], events: [ev(1)] }] });
    expect(outcome(engine, spec({ expectedEventIds: [[1]] })).status).toBe('passed');
    expect(outcome(engine, spec({ expectedEventIds: [[1]], joinKeys: ['1234', 'true'] })).status).toBe('passed');
    expect(outcome(engine, spec({ expectedEventIds: [[1]], joinKeys: ['1234', 'false'] }))).toMatchObject({ status: 'failed', kind: 'wrong-keys' });
  });

  it('turns an EqlError into a "rejected" failure and any other throw into a "crashed" failure', () => {
    const rejecting: Engine = {
      compileQuery: () => {
        const e = new Error('unknown field');
        e.name = 'EqlError';
        throw e;
      },
      evaluate: () => ({ kind: 'events', events: [] }),
    };
    const crashing: Engine = {
      compileQuery: (q: string) => q,
      evaluate: () => {
        throw new TypeError('boom');
      },
    };
    expect(outcome(rejecting, spec({}))).toMatchObject({ status: 'failed', kind: 'rejected', message: 'compile: EqlError: unknown field' });
    expect(outcome(crashing, spec({}))).toMatchObject({ status: 'failed', kind: 'crashed', message: 'evaluate: TypeError: boom' });
    const malformed = engineReturning({ kind: 'sequences' } as unknown as EngineResult);
    expect(outcome(malformed, spec({}))).toMatchObject({ status: 'failed', kind: 'crashed' });
  });

  it('passes the spec size (default 50) and compiles with the suite settings and schema', () => {
    const seen: unknown[] = [];
    const engine: Engine = {
      compileQuery: (_q: string, options) => {
        seen.push(options);
        return 'c';
      },
      evaluate: (_c: unknown, _e, options) => {
        seen.push(options);
        return { kind: 'events', events: [] };
      },
    };
    runSpec(engine, dataset, spec({ size: 2 }), { ...settings, tiebreakerField: 'id' }, noCaps);
    runSpec(engine, dataset, spec({}), settings, noCaps);
    expect(seen[0]).toEqual({ eventCategoryField: 'event.category', timestampField: '@timestamp', tiebreakerField: 'id', schema: dataset.schema });
    // Both result positions are checked, as ES's runner picks one at random.
    expect(seen.slice(1, 3)).toEqual([
      { size: 2, resultPosition: 'tail' },
      { size: 2, resultPosition: 'head' },
    ]);
    expect(seen[4]).toEqual({ size: 50, resultPosition: 'tail' });
  });

  it('skips what cannot be honoured, with the reason', () => {
    const engine = engineReturning({ kind: 'events', events: [] });
    expect(outcome(engine, spec({ caseSensitive: false }))).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/case-insensitive request mode/) });
    expect(outcome(engine, spec({ maxSamplesPerKey: 2 }))).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/max_samples_per_key=2/) });
    expect(outcome(engine, spec({ maxSamplesPerKey: 1 })).status).toBe('passed');
    expect(runSpec(engine, dataset, spec({ maxSamplesPerKey: 2 }), settings, { maxSamplesPerKey: true }).outcome.status).toBe('passed');
    expect(outcome(engine, spec({ unknownKeys: ['expect_shard_failures'] }))).toMatchObject({ status: 'skipped' });
  });

  it('counts per suite and filters by name substring', () => {
    const specs = parseSuite(
      `[[queries]]\nname = "oneA"\nquery = "a"\nexpected_event_ids = [1]\n[[queries]]\nname = "twoB"\nquery = "b"\nexpected_event_ids = [2]\n[[queries]]\nname = "threeA"\nquery = "c"\nexpected_event_ids = []\ncase_insensitive = true\n`,
      's.toml',
    );
    const engine = engineReturning((q) => ({ kind: 'events', events: q === 'a' ? [ev(1)] : [] }));
    const all = runSuite(engine, { file: 's.toml', specs, dataset, settings }, noCaps);
    expect([all.passed, all.failed, all.skipped]).toEqual([1, 1, 1]);
    const filtered = runSuite(engine, { file: 's.toml', specs, dataset, settings, filter: 'a' }, noCaps);
    expect(filtered.results.map((r) => r.spec.name)).toEqual(['oneA', 'threeA']);
    expect(all.commentedOut).toBe(0);
    expect(summaryJson([all], { parsed: 3, failed: 1, failures: [] })).toEqual({
      suites: { 's.toml': { passed: 1, failed: 1, skipped: 1 } },
      corpus: { parsed: 3, failed: 1 },
    });
  });

  it('corpus: counts queries that compile, keeps the failures', () => {
    const rules = parseCorpus(JSON.stringify({ rules: [{ name: 'ok', query: 'process where true' }, { name: 'bad', path: 'r/bad.toml', query: 'nope' }] }));
    const engine: Engine = {
      compileQuery: (q: string) => {
        if (q === 'nope') throw new SyntaxError('no');
        return q;
      },
      evaluate: () => ({ kind: 'events', events: [] }),
    };
    expect(runCorpus(engine, rules)).toEqual({ parsed: 1, failed: 1, failures: [{ name: 'bad', path: 'r/bad.toml', message: 'SyntaxError: no' }] });
  });
});

/* ---------------------------------------------------------------------------------------------- */
/* The real engine against Elasticsearch's QA suites: pass counts may only go up (a ratchet).       */
/* ---------------------------------------------------------------------------------------------- */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const esEql = path.join(shared, 'conformance/es-eql');
const corpusFile = path.join(shared, 'corpus/detection-rules-eql.json');
const haveShared = existsSync(esEql);
if (!haveShared) console.warn(`[conformance.test] ${esEql} absent: skipping the Elasticsearch QA conformance run`);

interface Floor {
  suites: Record<string, number>;
  corpusParsed: number;
}
const floorFile = path.join(repoRoot, 'test/eql/conformance-floor.json');
const floor = JSON.parse(readFileSync(floorFile, 'utf8')) as Floor;

// Type-level check (tsc): the real EQL core satisfies the runner's structural Engine interface.
const realEngine: Engine = eql;

describe.skipIf(!haveShared)('conformance with Elasticsearch QA suites', () => {
  it('the engine loads, and is the src/eql/index module', async () => {
    const load = await loadEngine();
    expect(load.ok ? 'loaded' : load.reason).toBe('loaded');
    if (load.ok) expect(load.engine.evaluate).toBe(realEngine.evaluate);
  });

  it('every suite runs to completion and passes at least its floor', async () => {
    const load = await loadEngine();
    if (!load.ok) throw new Error(`engine not available: ${load.reason}`);
    // src/eql/evaluate.ts accepts maxSamplesPerKey.
    const results = runBuiltinSuites(load.engine, esEql, { caps: { maxSamplesPerKey: true }, dateNanos: true });
    expect(results.map((r) => r.file)).toEqual([...BUILTIN_SUITES.map((s) => s.file), DATE_NANOS_LABEL]);
    const improved: string[] = [];
    for (const r of results) {
      // Every spec got an outcome: a crashing query is a failure, not a runner crash.
      expect(r.passed + r.failed + r.skipped).toBe(r.results.length);
      const min = floor.suites[r.file] ?? 0;
      expect(r.passed, `${r.file}: ${r.passed} passed, below the floor ${min} in test/eql/conformance-floor.json (a regression)`).toBeGreaterThanOrEqual(min);
      if (r.passed > min) improved.push(`${r.file}: ${min} → ${r.passed}`);
    }
    if (improved.length > 0) console.info(`[conformance] pass counts went up; raise the floor in test/eql/conformance-floor.json: ${improved.join('; ')}`);
  });

  it.skipIf(!existsSync(corpusFile))('the detection-rules corpus compiles at least as well as its floor', async () => {
    const load = await loadEngine();
    if (!load.ok) throw new Error(`engine not available: ${load.reason}`);
    const corpus = runCorpus(load.engine, parseCorpus(readFileSync(corpusFile, 'utf8')));
    expect(corpus.parsed + corpus.failed).toBe(1024);
    expect(corpus.parsed, `corpus: ${corpus.parsed} compiled, below the floor ${floor.corpusParsed} (first failure: ${corpus.failures[0]?.message})`).toBeGreaterThanOrEqual(
      floor.corpusParsed,
    );
    if (corpus.parsed > floor.corpusParsed) console.info(`[conformance] corpus went up; raise corpusParsed in test/eql/conformance-floor.json to ${corpus.parsed}`);
  });
});
