/**
 * The contract between the compiler (`compile.ts`: AST ► closures) and the matchers
 * (`sequence.ts`, `sample.ts`, `evaluate.ts`). Pure types; no Elasticsearch, no I/O.
 */
import type { Pipe, Query } from './ast.js';

/** An event as stored in Elasticsearch (`_source`): attacker-controlled JSON. */
export type EqlEvent = Record<string, unknown>;

/** Elasticsearch field types the evaluator cares about (from a mapping, when one is known). */
export const FIELD_TYPES = [
  'keyword',
  'constant_keyword',
  'wildcard',
  'text',
  'match_only_text',
  'long',
  'integer',
  'short',
  'byte',
  'unsigned_long',
  'double',
  'float',
  'half_float',
  'scaled_float',
  'date',
  'date_nanos',
  'boolean',
  'ip',
  'version',
  'object',
  'flattened',
  'nested',
] as const;

/** A mapped type, or `unknown` (unmapped, or conflicting across indices). */
export type FieldType = (typeof FIELD_TYPES)[number] | 'unknown';

/**
 * What is known of the indices' mappings. Optional: without it values keep their JSON types.
 * With it, values are coerced as Elasticsearch would index them (e.g. "123" in a long field is 123,
 * true/"true" in a boolean field is true) and `?field` knows whether a field is mapped.
 */
export interface FieldSchema {
  /** The mapped type of a full dotted path, or undefined when unmapped. */
  typeOf(path: string): FieldType | undefined;
  /**
   * Optional: the mapping `format`s of a `date`/`date_nanos` field, one entry per distinct format
   * across the queried indices (each possibly `a||b`: java.time patterns or built-in names such as
   * `epoch_millis`), in index order. Undefined or empty = the default
   * `strict_date_optional_time||epoch_millis`. A value parses if any entry parses it (the event's
   * own index is not known to the evaluator). Asked once per field at compile time.
   */
  formatsOf?(path: string): readonly string[] | undefined;
}

export interface CompileOptions {
  /** Field holding the event category used by `process where` (default `event.category`). */
  eventCategoryField?: string;
  /** Field ordering events and measured by `maxspan` (default `@timestamp`). */
  timestampField?: string;
  /** Optional tiebreaker field for events with equal timestamps. */
  tiebreakerField?: string | null;
  schema?: FieldSchema;
}

/** A join key tuple: one value per key field, positionally (null only for optional `?` keys). */
export type KeyTuple = readonly unknown[];

export interface CompiledStage {
  /** Category the stage filters on (null for `any`). */
  category: string | null;
  /** Category test AND the `where` condition. */
  predicate: (event: EqlEvent) => boolean;
  /**
   * Every key tuple the event joins on: the cartesian product of the values of each key field
   * (multi-valued keys), without nulls unless the key is optional. Empty array: event cannot join.
   * Key tuples compare by `keyId` (a canonical string), not by identity.
   */
  keys: (event: EqlEvent) => KeyTuple[];
  /** `![ … ]` stage. */
  missing: boolean;
}

export interface CompiledQuery {
  query: Query;
  kind: Query['kind'];
  /** For `event` queries: the one predicate. For sequences/samples: undefined. */
  predicate?: (event: EqlEvent) => boolean;
  /** Sequence/sample stages after `runs` expansion, in order (missing stages included). */
  stages: CompiledStage[];
  until: CompiledStage | null;
  maxspanMs: number | null;
  pipes: Pipe[];
  /** Ordering of events: timestamp in epoch ms (NaN when absent/unparseable) and optional tiebreaker. */
  timestampOf: (event: EqlEvent) => number;
  tiebreakerOf: (event: EqlEvent) => unknown;
  options: Required<Omit<CompileOptions, 'schema'>> & { schema?: FieldSchema };
}

/** Canonical, collision-free string for a key tuple (used for maps and state snapshots). */
export type KeyId = string;
