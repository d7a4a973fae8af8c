/**
 * Reads an Elasticsearch EQL QA suite (`[[queries]]` TOML, the format of
 * `x-pack/plugin/eql/qa/common/src/main/resources/*.toml`) into specs, with the same
 * validation as Elasticsearch's `EqlSpecLoader`: name, query and expected_event_ids are
 * mandatory, names are unique, name/query are trimmed, `expected_event_ids` is either one
 * list of ids or a list of alternative lists (for non-deterministic results).
 */
import { parse as parseToml, TomlError } from 'smol-toml';

export interface EqlSpec {
  name: string;
  query: string;
  /** Accepted results (each a flattened list of event ids); more than one when ES is non-deterministic. */
  expectedEventIds: number[][];
  /** Flattened join keys as strings (`null` spelled "null"); empty = not checked, as in ES. */
  joinKeys: string[];
  /** Request `size` (ES runner default 50 when absent). */
  size?: number;
  maxSamplesPerKey?: number;
  /** Legacy flags of the pre-7.12 runner: true = case-sensitive mode only, false = case-insensitive only. */
  caseSensitive?: boolean;
  note?: string;
  description?: string;
  tags: string[];
  /** Keys the ES runner does not know (kept so the runner can skip what it cannot honour). */
  unknownKeys: string[];
}

export class SuiteFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'SuiteFormatError';
  }
}

const KNOWN_KEYS = new Set([
  'name',
  'query',
  'expected_event_ids',
  'join_keys',
  'size',
  'max_samples_per_key',
  'case_sensitive',
  'case_insensitive',
  'note',
  'notes',
  'description',
  'tags',
]);

/**
 * `test_extra.toml` writes bare `null` in arrays (`join_keys = [null]`), which TOML forbids; the
 * Java runner's TOML library accepts it and the ES runner compares keys as strings ("null" for a
 * null key). Rewrite a bare `null` value (after `[`, `,` or `=`, outside strings and comments)
 * into the string "null"; everything else is left byte for byte.
 */
export function preprocessToml(text: string): string {
  let out = '';
  let i = 0;
  let prev = ''; // previous significant character outside strings/comments
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += text.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      const end = stringEnd(text, i, c, triple);
      out += text.slice(i, end);
      i = end;
      prev = c;
      continue;
    }
    if (
      c === 'n' &&
      text.startsWith('null', i) &&
      !isBareKeyChar(text[i + 4]) &&
      !isBareKeyChar(text[i - 1]) &&
      (prev === '[' || prev === ',' || prev === '=')
    ) {
      out += '"null"';
      i += 4;
      prev = '"';
      continue;
    }
    if (!/\s/.test(c)) prev = c;
    out += c;
    i++;
  }
  return out;
}

function isBareKeyChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_-]/.test(c);
}

/** Index just past the string starting at `start` (unterminated: end of text; TOML parse reports it). */
function stringEnd(text: string, start: number, quote: string, triple: boolean): number {
  const basic = quote === '"';
  let i = start + (triple ? 3 : 1);
  while (i < text.length) {
    const c = text[i];
    if (basic && c === '\\') {
      i += 2;
      continue;
    }
    if (triple) {
      if (text.startsWith(quote.repeat(3), i)) {
        // A closing delimiter may be followed by up to two more quotes that belong to the content.
        let j = i + 3;
        while (j < text.length && text[j] === quote && j < i + 5) j++;
        return j;
      }
    } else if (c === quote || c === '\n') {
      return i + 1;
    }
    i++;
  }
  return text.length;
}

/**
 * Entries commented out (`#[[queries]]`): Elasticsearch does not run them either — mostly features
 * ES EQL dropped from the Python EQL original (`| unique`, `| filter`, `| sort`, `descendant of`,
 * field-to-field comparison) and known issues.
 */
export function countCommentedOut(text: string): number {
  return text.split(/\r?\n/).filter((line) => /^\s*#\s*\[\[queries\]\]/.test(line)).length;
}

/** Parse a suite file's text; `file` names it in errors. */
export function parseSuite(text: string, file: string): EqlSpec[] {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(preprocessToml(text)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) throw new SuiteFormatError(file, `TOML: ${e.message.split('\n')[0]} (line ${e.line})`);
    throw e;
  }
  const queries = doc['queries'];
  if (queries === undefined) return [];
  if (!Array.isArray(queries)) throw new SuiteFormatError(file, '`queries` must be an array of tables ([[queries]])');
  const names = new Set<string>();
  return queries.map((table, index) => {
    const spec = toSpec(table, file, index);
    if (names.has(spec.name)) throw new SuiteFormatError(file, `duplicate test name "${spec.name}"`);
    names.add(spec.name);
    return spec;
  });
}

function toSpec(table: unknown, file: string, index: number): EqlSpec {
  const where = `[[queries]] #${index + 1}`;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new SuiteFormatError(file, `${where} is not a table`);
  }
  const t = table as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new SuiteFormatError(file, `${where}: ${key} must be a string`);
    return v.trim();
  };
  const int = (key: string): number | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new SuiteFormatError(file, `${where}: ${key} must be an integer`);
    return v;
  };
  const bool = (key: string): boolean | undefined => {
    const v = t[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new SuiteFormatError(file, `${where}: ${key} must be a boolean`);
    return v;
  };

  const name = str('name');
  if (!name) throw new SuiteFormatError(file, `${where}: a test without a name value`);
  const query = str('query');
  if (!query) throw new SuiteFormatError(file, `${where} (${name}): a test without a query value`);
  const expectedEventIds = readExpected(t['expected_event_ids'], file, name);

  const rawKeys = t['join_keys'];
  let joinKeys: string[] = [];
  if (rawKeys !== undefined) {
    if (!Array.isArray(rawKeys)) throw new SuiteFormatError(file, `${name}: join_keys must be an array`);
    joinKeys = rawKeys.map((k) => (k === null ? 'null' : String(k)));
  }

  const cs = bool('case_sensitive');
  const ci = bool('case_insensitive');
  if (cs === true && ci === true) throw new SuiteFormatError(file, `${name}: both case_sensitive and case_insensitive`);
  const caseSensitive = cs ?? (ci === undefined ? undefined : !ci);

  const rawTags = t['tags'];
  const tags = Array.isArray(rawTags) ? rawTags.map(String) : [];

  const spec: EqlSpec = {
    name,
    query,
    expectedEventIds,
    joinKeys,
    tags,
    unknownKeys: Object.keys(t).filter((k) => !KNOWN_KEYS.has(k)),
  };
  const size = int('size');
  if (size !== undefined) spec.size = size;
  const maxSamplesPerKey = int('max_samples_per_key');
  if (maxSamplesPerKey !== undefined) spec.maxSamplesPerKey = maxSamplesPerKey;
  if (caseSensitive !== undefined) spec.caseSensitive = caseSensitive;
  const note = str('note') ?? str('notes');
  if (note !== undefined) spec.note = note;
  const description = str('description');
  if (description !== undefined) spec.description = description;
  return spec;
}

function readExpected(v: unknown, file: string, name: string): number[][] {
  if (v === undefined) throw new SuiteFormatError(file, `${name}: a test without a expected_event_ids value`);
  if (!Array.isArray(v)) throw new SuiteFormatError(file, `${name}: expected_event_ids must be an array`);
  if (v.length === 0) return [[]];
  const isId = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x);
  if (v.every(isId)) return [v];
  if (v.every((x) => Array.isArray(x) && x.every(isId))) return v as number[][];
  throw new SuiteFormatError(file, `${name}: invalid expected_event_ids (ids, or lists of ids)`);
}
