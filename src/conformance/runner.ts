/**
 * Runs specs against the engine the way Elasticsearch's `BaseEqlSpecTestCase` checks them:
 * the flattened event ids of the response (events, or every event of every sequence/sample, a
 * missing event counting as -1) must equal the expected list, or one of the listed alternatives;
 * when the spec lists join keys, the flattened join keys (as strings, null → "null") must equal them.
 * A query the engine rejects or crashes on is a failure of that spec, never of the runner.
 */
import type { CompileOptions, EqlEvent } from '../eql/compiled.js';
import type { Dataset } from './dataset.js';
import type { Engine, EngineResult } from './engine.js';
import { getPath } from './mapping.js';
import type { EqlSpec } from './suite.js';
import type { SuiteSettings } from './suites.js';

export type FailureKind = 'rejected' | 'crashed' | 'wrong-ids' | 'wrong-keys';

export type Outcome =
  | { status: 'passed' }
  | { status: 'skipped'; reason: string }
  | {
      status: 'failed';
      kind: FailureKind;
      message: string;
      gotIds?: number[];
      gotKeys?: string[];
    };

export interface SpecResult {
  spec: EqlSpec;
  outcome: Outcome;
}

export interface SuiteResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  /** Entries commented out in the suite file (not run by Elasticsearch either). */
  commentedOut: number;
  results: SpecResult[];
}

/** What the engine under test supports beyond the basic `evaluate(compiled, events, {size})`. */
export interface EngineCapabilities {
  maxSamplesPerKey: boolean;
}

/** Id of a missing (`![…]`) event, as Elasticsearch's runner reports it (no `_source`). */
export const MISSING_EVENT_ID = -1;

/** Keys of newer/other ES spec files that need a real cluster (shard failures, partial results). */
const CLUSTER_ONLY_KEYS = ['expect_shard_failures', 'allow_partial_search_results', 'allow_partial_sequence_results'];

/** Why a spec cannot be run meaningfully here, or undefined. */
export function skipReason(spec: EqlSpec, caps: EngineCapabilities): string | undefined {
  if (spec.caseSensitive === false) {
    return 'written for the case-insensitive request mode (case_sensitive: false) that Elasticsearch removed; EQL is case-sensitive except for ~ operators';
  }
  const clusterOnly = spec.unknownKeys.filter((k) => CLUSTER_ONLY_KEYS.includes(k));
  if (clusterOnly.length > 0) return `needs a real cluster (${clusterOnly.join(', ')}: shard failures / partial results)`;
  if (spec.maxSamplesPerKey !== undefined && spec.maxSamplesPerKey !== 1 && !caps.maxSamplesPerKey) {
    return `needs max_samples_per_key=${spec.maxSamplesPerKey}, which the engine's evaluate() does not accept`;
  }
  return undefined;
}

export function compileOptions(settings: SuiteSettings, dataset: Dataset): CompileOptions {
  return {
    eventCategoryField: settings.eventCategoryField,
    timestampField: settings.timestampField,
    tiebreakerField: settings.tiebreakerField,
    schema: dataset.schema,
  };
}

function isEqlError(e: unknown): boolean {
  return e instanceof Error && e.name === 'EqlError';
}

function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message.split('\n')[0]}`;
  return String(e);
}

/** Event id as Elasticsearch's runner reads it: `((Number) _source[idField]).longValue()`. */
export function eventId(event: EqlEvent | null | undefined, idField: string): number {
  if (event === null || event === undefined) return MISSING_EVENT_ID;
  const v = getPath(event, idField);
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Math.trunc(Number(v));
  return Number.NaN;
}

/** Join key as the ES runner compares it: `key.toString()`, null → "null". */
export function keyString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Which compiled stages are `![…]` missing-event stages, when the compiled query says so
 * (`CompiledQuery.stages[i].missing`); undefined otherwise.
 */
export function missingStages(compiled: unknown): boolean[] | undefined {
  const stages = (compiled as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return undefined;
  return stages.map((s) => (s as { missing?: unknown } | null)?.missing === true);
}

/**
 * Ids of one sequence. Elasticsearch returns a placeholder (no `_source`, id -1) at each missing
 * stage's position; an engine may instead return only the positive stages' events, in which case
 * the placeholders are put back at the missing positions so both shapes compare alike.
 */
function groupIds(events: readonly (EqlEvent | null | undefined)[], idField: string, missing: boolean[] | undefined): number[] {
  const ids = events.map((e) => eventId(e, idField));
  if (!missing || !missing.includes(true)) return ids;
  const positives = missing.filter((m) => !m).length;
  if (events.length !== positives) return ids;
  const out: number[] = [];
  let next = 0;
  for (const m of missing) out.push(m ? MISSING_EVENT_ID : (ids[next++] as number));
  return out;
}

/** Flattened ids and join keys of a result. */
export function flatten(result: EngineResult, idField: string, missing?: boolean[]): { ids: number[]; keys: string[] } {
  if (result.kind === 'events') return { ids: result.events.map((e) => eventId(e, idField)), keys: [] };
  const groups = result.kind === 'sequences' ? result.sequences : result.samples;
  return {
    ids: groups.flatMap((g) => groupIds(g.events, idField, result.kind === 'sequences' ? missing : undefined)),
    keys: groups.flatMap((g) => (g.joinKeys ?? []).map(keyString)),
  };
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

export function runSpec(engine: Engine, dataset: Dataset, spec: EqlSpec, settings: SuiteSettings, caps: EngineCapabilities): SpecResult {
  const reason = skipReason(spec, caps);
  if (reason) return { spec, outcome: { status: 'skipped', reason } };

  let compiled: unknown;
  try {
    compiled = engine.compileQuery(spec.query, compileOptions(settings, dataset));
  } catch (e) {
    return {
      spec,
      outcome: { status: 'failed', kind: isEqlError(e) ? 'rejected' : 'crashed', message: `compile: ${errorText(e)}` },
    };
  }

  // Elasticsearch's runner sends a random result_position: the expectation must hold for both.
  for (const resultPosition of ['tail', 'head'] as const) {
    const failure = check(engine, compiled, dataset, spec, settings, resultPosition);
    if (failure) return { spec, outcome: failure };
  }
  return { spec, outcome: { status: 'passed' } };
}

function check(
  engine: Engine,
  compiled: unknown,
  dataset: Dataset,
  spec: EqlSpec,
  settings: SuiteSettings,
  resultPosition: 'head' | 'tail',
): Extract<Outcome, { status: 'failed' }> | undefined {
  const where = resultPosition === 'head' ? ' (result_position=head)' : '';
  let result: EngineResult;
  try {
    const request = {
      size: spec.size ?? settings.defaultSize,
      resultPosition,
      ...(spec.maxSamplesPerKey !== undefined ? { maxSamplesPerKey: spec.maxSamplesPerKey } : {}),
    };
    result = engine.evaluate(compiled, dataset.events, request);
  } catch (e) {
    return { status: 'failed', kind: 'crashed', message: `evaluate${where}: ${errorText(e)}` };
  }

  let flat: { ids: number[]; keys: string[] };
  try {
    flat = flatten(result, settings.idField, missingStages(compiled));
  } catch (e) {
    return { status: 'failed', kind: 'crashed', message: `malformed result${where}: ${errorText(e)}` };
  }

  if (!spec.expectedEventIds.some((expected) => sameList(expected, flat.ids))) {
    const want = spec.expectedEventIds.map((x) => `[${x.join(', ')}]`).join(' or ');
    return { status: 'failed', kind: 'wrong-ids', message: `expected ${want}, got [${flat.ids.join(', ')}]${where}`, gotIds: flat.ids, gotKeys: flat.keys };
  }
  if (spec.joinKeys.length > 0 && !sameList(spec.joinKeys, flat.keys)) {
    return {
      status: 'failed',
      kind: 'wrong-keys',
      message: `expected join keys [${spec.joinKeys.join(', ')}], got [${flat.keys.join(', ')}]${where}`,
      gotIds: flat.ids,
      gotKeys: flat.keys,
    };
  }
  return undefined;
}

export interface RunSuiteInput {
  file: string;
  specs: readonly EqlSpec[];
  dataset: Dataset;
  settings: SuiteSettings;
  /** Only specs whose name contains this substring (case-insensitive). */
  filter?: string;
  commentedOut?: number;
}

export function runSuite(engine: Engine, input: RunSuiteInput, caps: EngineCapabilities): SuiteResult {
  const needle = input.filter?.toLowerCase();
  const specs = needle ? input.specs.filter((s) => s.name.toLowerCase().includes(needle)) : input.specs;
  const results = specs.map((spec) => runSpec(engine, input.dataset, spec, input.settings, caps));
  const count = (s: Outcome['status']): number => results.filter((r) => r.outcome.status === s).length;
  return {
    file: input.file,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    commentedOut: input.commentedOut ?? 0,
    results,
  };
}
