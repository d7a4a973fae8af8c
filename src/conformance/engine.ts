/**
 * The slice of the EQL core (`src/eql/index.ts`) the conformance runner drives. Declared here
 * structurally so the runner is testable with any engine, and loaded lazily so the runner still
 * reports (rather than fails to build) while the core is absent.
 */
import type { CompileOptions, EqlEvent } from '../eql/compiled.js';

/** A sequence or sample: its join key values and its events (null/undefined = a missing `![…]` event). */
export interface EngineGroup {
  joinKeys?: readonly unknown[];
  events: readonly (EqlEvent | null | undefined)[];
}

export type EngineResult =
  | { kind: 'events'; events: readonly EqlEvent[] }
  | { kind: 'sequences'; sequences: readonly EngineGroup[] }
  | { kind: 'samples'; samples: readonly EngineGroup[] };

export interface EvaluateRequest {
  size: number;
  /** ES `result_position`; Elasticsearch's runner picks one at random, so expectations hold for both. */
  resultPosition: 'head' | 'tail';
  maxSamplesPerKey?: number;
}

/** Method syntax on purpose: parameters are checked bivariantly, so the real `evaluate(CompiledQuery, …)` fits. */
export interface Engine {
  compileQuery(query: string, options: CompileOptions): unknown;
  evaluate(compiled: unknown, events: readonly EqlEvent[], options: EvaluateRequest): EngineResult;
}

/** Why the engine could not be loaded, or the engine. */
export type EngineLoad = { ok: true; engine: Engine } | { ok: false; reason: string };

/** Import `src/eql/index.js` (the engine's public entry) if it exists and exports what is needed. */
export async function loadEngine(): Promise<EngineLoad> {
  // A computed specifier: the entry may not exist yet while the core is being written.
  const specifier = new URL('../eql/index.js', import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    return { ok: false, reason: `cannot import src/eql/index: ${(e as Error).message.split('\n')[0]}` };
  }
  const missing = ['compileQuery', 'evaluate'].filter((k) => typeof mod[k] !== 'function');
  if (missing.length > 0) return { ok: false, reason: `src/eql/index does not export ${missing.join(', ')}` };
  return { ok: true, engine: mod as unknown as Engine };
}
