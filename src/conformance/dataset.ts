/**
 * A dataset = the documents of one or more indices queried together, after the transformations an
 * Elasticsearch index would apply (FILETIME conversion by the test loader, null_value and aliases by
 * the mapping), plus the schema the engine is compiled with. Pure: callers pass file contents.
 */
import type { EqlEvent, FieldType } from '../eql/compiled.js';
import { filetimeNanosTransform, filetimeTimestampTransform, finaliseEvent, parseEvents } from './data.js';
import { MappingSchema, materialiseMappingFeatures, parseMapping, type ParsedMapping } from './mapping.js';
import type { DataTransform } from './suites.js';

export interface IndexText {
  dataFile: string;
  dataText: string;
  mappingFile?: string;
  mappingText?: string;
  transform?: DataTransform;
  typeOverrides?: Record<string, FieldType>;
}

export interface Dataset {
  /** All documents, index by index in file order (the order Elasticsearch's bulk load used). */
  events: readonly EqlEvent[];
  schema: MappingSchema;
  mappings: ParsedMapping[];
}

export interface DatasetOptions {
  /** Type substituted for `[runtime_random_keyword_type]` (ES picks keyword or wildcard at random). */
  keywordType?: 'keyword' | 'wildcard';
  /** Deep-freeze documents so an engine that mutates its input fails loudly (default true). */
  freeze?: boolean;
}

export function buildDataset(indices: readonly IndexText[], options: DatasetOptions = {}): Dataset {
  const perIndex: { mapping?: ParsedMapping; events: EqlEvent[] }[] = [];
  for (const index of indices) {
    const mapping =
      index.mappingText === undefined ? undefined : parseMapping(index.mappingText, index.mappingFile ?? 'mapping', options.keywordType);
    if (mapping && index.typeOverrides) {
      for (const f of mapping.fields) {
        const t = index.typeOverrides[f.path];
        if (t !== undefined) f.type = t;
      }
    }
    const raw = parseEvents(index.dataText, index.dataFile);
    const events = raw.map((r) => {
      if (index.transform === 'filetime') filetimeTimestampTransform(r, index.dataFile);
      else if (index.transform === 'filetime-nanos') filetimeNanosTransform(r, index.dataFile);
      const event = finaliseEvent(r);
      if (mapping) materialiseMappingFeatures(event, mapping);
      return event;
    });
    perIndex.push(mapping ? { mapping, events } : { events });
  }
  const events = perIndex.flatMap((i) => i.events);
  if (options.freeze !== false) for (const e of events) deepFreeze(e);
  return {
    events,
    schema: new MappingSchema(perIndex),
    mappings: perIndex.flatMap((i) => (i.mapping ? [i.mapping] : [])),
  };
}

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}
