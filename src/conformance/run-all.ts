/**
 * Orchestration shared by `scripts/conformance.ts` and the conformance test: load each suite (the
 * built-in ES QA suites, or any suite in the same format), run it, never throw for a query.
 */
import type { DatasetOptions } from './dataset.js';
import type { Engine } from './engine.js';
import { DatasetCache, loadDataset, loadSpecs } from './files.js';
import { runSuite, type EngineCapabilities, type SuiteResult } from './runner.js';
import { BUILTIN_SUITES, DATE_NANOS_SUITE, type IndexSource, type SuiteConfig, type SuiteSettings } from './suites.js';

export interface RunOptions {
  filter?: string;
  caps: EngineCapabilities;
  dataset?: DatasetOptions;
  /** Run only these built-in suite files (all when absent). */
  only?: readonly string[];
  /** Also run test_queries.toml on the date_nanos variant of the endgame index. */
  dateNanos?: boolean;
}

/** Report label of the date_nanos variant run. */
export const DATE_NANOS_LABEL = `${DATE_NANOS_SUITE.file} [date_nanos]`;

export function runBuiltinSuites(engine: Engine, root: string, options: RunOptions): SuiteResult[] {
  const cache = new DatasetCache(root, options.dataset);
  const selected = options.only ? BUILTIN_SUITES.filter((s) => options.only!.includes(s.file)) : BUILTIN_SUITES;
  const runs: { label: string; suite: SuiteConfig }[] = selected.map((suite) => ({ label: suite.file, suite }));
  if (options.dateNanos) runs.push({ label: DATE_NANOS_LABEL, suite: DATE_NANOS_SUITE });
  return runs.map(({ label, suite }) => {
    const { specs, dataset, commentedOut } = cache.load(suite.file, suite.indices);
    return runSuite(
      engine,
      { file: label, specs, dataset, settings: suite.settings, commentedOut, ...(options.filter ? { filter: options.filter } : {}) },
      options.caps,
    );
  });
}

export interface CustomSuite {
  /** Suite file path (absolute or relative to `root`). */
  suite: string;
  indices: IndexSource[];
  settings: SuiteSettings;
}

export function runCustomSuite(engine: Engine, root: string, custom: CustomSuite, options: RunOptions): SuiteResult {
  const { specs, commentedOut } = loadSpecs(root, custom.suite);
  const dataset = loadDataset(root, custom.indices, options.dataset);
  return runSuite(
    engine,
    { file: custom.suite, specs, dataset, settings: custom.settings, commentedOut, ...(options.filter ? { filter: options.filter } : {}) },
    options.caps,
  );
}
