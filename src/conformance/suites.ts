/**
 * How Elasticsearch's own runner sets up each QA suite (x-pack/plugin/eql/qa/common/src/main/java/
 * org/elasticsearch/test/eql/): `BaseEqlSpecTestCase` sends `event_category_field: event.category`,
 * `timestamp_field: @timestamp`, the subclass's `tiebreaker_field` (when non-null), `size` = the spec's
 * `size` or 50, a random `fetch_size` and a random `result_position` (so expected results hold for
 * both head and tail), and `max_samples_per_key` when the spec sets it. Event ids are read from
 * `_source[idField()]` (= the tiebreaker, or `id` for samples); a missing event (no `_source`) is -1.
 * `DataLoader` creates one index per name (sample suite: sample1, sample2, sample3, queried together)
 * with `<name>.mapping` and `<name>.data`; only the endgame index is transformed (FILETIME → @timestamp).
 */

/**
 * `filetime`: endgame index (`DataLoader.timestampToUnixMillis`).
 * `filetime-nanos`: endgame-140-nanos index (`DataLoader.timestampToUnixNanos`): the FILETIME digits
 * read as nanoseconds since 1970 — `@timestamp` = "<first 12 digits>[.<rest>]" (epoch millis with a
 * nanosecond fraction, fraction dropped when zero), `timestamp` = value / 1e6.
 */
import type { FieldType } from '../eql/compiled.js';

export type DataTransform = 'filetime' | 'filetime-nanos';

export interface IndexSource {
  /** Data file (relative to the suites root). */
  data: string;
  /** Mapping file (relative to the suites root), if any. */
  mapping?: string;
  transform?: DataTransform;
  /** Field types replacing the mapping file's (a variant index whose mapping differs only there). */
  typeOverrides?: Record<string, FieldType>;
}

export interface SuiteSettings {
  eventCategoryField: string;
  timestampField: string;
  tiebreakerField: string | null;
  /** `_source` field holding the event id compared with `expected_event_ids`. */
  idField: string;
  /** `size` when the spec sets none (ES runner: 50). */
  defaultSize: number;
}

export interface SuiteConfig {
  /** Suite file name (relative to the suites root). */
  file: string;
  /** The Elasticsearch test class that runs it, for reports. */
  esRunner: string;
  indices: IndexSource[];
  settings: SuiteSettings;
}

export const DEFAULT_SETTINGS: SuiteSettings = {
  eventCategoryField: 'event.category',
  timestampField: '@timestamp',
  tiebreakerField: null,
  idField: 'id',
  defaultSize: 50,
};

const endgame: IndexSource[] = [{ data: 'test_data.json', mapping: 'data/endgame-140.mapping', transform: 'filetime' }];
const endgameSettings: SuiteSettings = { ...DEFAULT_SETTINGS, tiebreakerField: 'serial_event_id', idField: 'serial_event_id' };
const sequenceSettings: SuiteSettings = { ...DEFAULT_SETTINGS, tiebreakerField: 'sequence', idField: 'sequence' };
const sampleSettings: SuiteSettings = { ...DEFAULT_SETTINGS, tiebreakerField: null, idField: 'id' };

/** The suites of `/work/shared/conformance/es-eql` (see its README). */
/**
 * `EqlDateNanosSpecTestCase` runs test_queries.toml (and test_queries_date_nanos.toml, not in the
 * shared copy) on `endgame-140-nanos`: the endgame data through `timestampToUnixNanos`, with
 * `endgame-140-nanos.mapping` = endgame-140.mapping except `timestamp`/`@timestamp` are `date_nanos`.
 * Opt-in (`--date-nanos`): it is a variant run, not one of the shared suite files.
 */
export const DATE_NANOS_SUITE: SuiteConfig = {
  file: 'test_queries.toml',
  esRunner: 'EqlDateNanosSpecTestCase',
  indices: [
    {
      data: 'test_data.json',
      mapping: 'data/endgame-140.mapping',
      transform: 'filetime-nanos',
      typeOverrides: { timestamp: 'date_nanos', '@timestamp': 'date_nanos' },
    },
  ],
  settings: endgameSettings,
};

export const BUILTIN_SUITES: readonly SuiteConfig[] = [
  { file: 'test_queries.toml', esRunner: 'EqlSpecTestCase', indices: endgame, settings: endgameSettings },
  { file: 'additional_test_queries.toml', esRunner: 'EqlSpecTestCase', indices: endgame, settings: endgameSettings },
  { file: 'test_queries_date.toml', esRunner: 'EqlSpecTestCase', indices: endgame, settings: endgameSettings },
  {
    file: 'test_extra.toml',
    esRunner: 'EqlExtraSpecTestCase',
    indices: [{ data: 'data/extra.data', mapping: 'data/extra.mapping' }],
    settings: sequenceSettings,
  },
  {
    file: 'test_missing_events.toml',
    esRunner: 'EqlMissingEventsSpecTestCase',
    indices: [{ data: 'data/missing-events.data', mapping: 'data/missing-events.mapping' }],
    settings: sequenceSettings,
  },
  {
    file: 'test_sample.toml',
    esRunner: 'EqlSampleTestCase',
    indices: [1, 2, 3].map((n) => ({ data: `data/sample${n}.data`, mapping: `data/sample${n}.mapping` })),
    settings: sampleSettings,
  },
  {
    file: 'test_sample_multi.toml',
    esRunner: 'EqlSampleMultipleEntriesTestCase',
    indices: [{ data: 'data/sample-multi.data', mapping: 'data/sample-multi.mapping' }],
    settings: sampleSettings,
  },
];
