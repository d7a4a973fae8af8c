/**
 * File I/O of the conformance runner: reads a suite, its data and mappings from disk into the pure
 * structures of `suite.ts` / `dataset.ts`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildDataset, type Dataset, type DatasetOptions } from './dataset.js';
import { countCommentedOut, parseSuite, type EqlSpec } from './suite.js';
import type { IndexSource } from './suites.js';

export interface LoadedSuite {
  specs: EqlSpec[];
  dataset: Dataset;
  /** `#[[queries]]` entries, not run by Elasticsearch either. */
  commentedOut: number;
}

export function loadSpecs(root: string, suiteFile: string): { specs: EqlSpec[]; commentedOut: number } {
  const text = readFileSync(path.resolve(root, suiteFile), 'utf8');
  return { specs: parseSuite(text, suiteFile), commentedOut: countCommentedOut(text) };
}

export function loadDataset(root: string, indices: readonly IndexSource[], options: DatasetOptions = {}): Dataset {
  const abs = (p: string): string => path.resolve(root, p);
  return buildDataset(
    indices.map((index) => ({
      dataFile: index.data,
      dataText: readFileSync(abs(index.data), 'utf8'),
      ...(index.mapping !== undefined ? { mappingFile: index.mapping, mappingText: readFileSync(abs(index.mapping), 'utf8') } : {}),
      ...(index.transform !== undefined ? { transform: index.transform } : {}),
      ...(index.typeOverrides !== undefined ? { typeOverrides: index.typeOverrides } : {}),
    })),
    options,
  );
}

/** Cache of datasets by their index sources, so the three endgame suites parse test_data.json once. */
export class DatasetCache {
  private readonly cache = new Map<string, Dataset>();
  constructor(
    private readonly root: string,
    private readonly options: DatasetOptions = {},
  ) {}

  load(suiteFile: string, indices: readonly IndexSource[]): LoadedSuite {
    const key = JSON.stringify(indices);
    const suite = loadSpecs(this.root, suiteFile);
    let dataset = this.cache.get(key);
    if (!dataset) {
      dataset = loadDataset(this.root, indices, this.options);
      this.cache.set(key, dataset);
    }
    return { ...suite, dataset };
  }
}
