/**
 * Every real query we know of must go through the EQL front end: the 1,024 EQL rules Elastic ships
 * (detection-rules) and every query of Elasticsearch's own EQL QA suites.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { EqlError } from '../../src/eql/errors.js';
import { parseQuery } from '../../src/eql/parser.js';
import { compileQuery } from '../../src/eql/compile.js';
import { HAS_SHARED, noteSharedMissing, SHARED_DIR } from '../helpers/shared.js';

/** What every corpus query must survive, in order: parsing, then compiling to closures. */
const STAGES: ReadonlyArray<readonly [string, (query: string) => unknown]> = [
  ['parse', (q) => parseQuery(q)],
  ['compile', (q) => compileQuery(parseQuery(q))],
];

interface NamedQuery {
  name: string;
  query: string;
}

/** Runs all stages over the queries; returns one formatted message per failure. */
function failures(queries: readonly NamedQuery[]): string[] {
  const out: string[] = [];
  for (const { name, query } of queries) {
    for (const [stage, run] of STAGES) {
      try {
        run(query);
      } catch (e) {
        out.push(`[${stage}] ${e instanceof EqlError ? e.format(name) : `${name}: ${String(e)}`}`);
        break;
      }
    }
  }
  return out;
}

/**
 * ES's test_extra.toml has bare `null` inside arrays, which strict TOML rejects. Quote them, but
 * never touch the text of multi-line strings (the queries).
 */
function tolerantToml(text: string): Record<string, unknown> {
  try {
    return parseToml(text);
  } catch {
    const fixed = text.replace(/('''[\s\S]*?'''|"""[\s\S]*?""")|([[,]\s*)null(?=\s*[,\]])/g, (m, lit: string | undefined, pre: string | undefined) =>
      lit !== undefined ? lit : `${pre ?? ''}"__null__"`,
    );
    return parseToml(fixed);
  }
}

noteSharedMissing('eql corpus');

describe.skipIf(!HAS_SHARED)('detection-rules corpus', () => {
  it('parses all 1,024 EQL rules', () => {
    const file = path.join(SHARED_DIR, 'corpus', 'detection-rules-eql.json');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { rules: Array<{ path: string; query: string }> };
    const queries = doc.rules.map((r) => ({ name: r.path, query: r.query }));
    expect(queries).toHaveLength(1024);
    expect(failures(queries)).toEqual([]);
  });
});

describe.skipIf(!HAS_SHARED)('Elasticsearch EQL QA suites', () => {
  const dir = path.join(SHARED_DIR, 'conformance', 'es-eql');
  const files = HAS_SHARED ? readdirSync(dir).filter((f) => f.endsWith('.toml')) : [];

  it('finds the suites', () => {
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of files) {
    it(`parses every query of ${file}`, () => {
      const doc = tolerantToml(readFileSync(path.join(dir, file), 'utf8'));
      const raw = doc['queries'];
      expect(Array.isArray(raw)).toBe(true);
      const queries = (raw as Array<Record<string, unknown>>).map((q, i) => ({
        name: `${file}#${String(q['name'] ?? i)}`,
        query: String(q['query']),
      }));
      expect(queries.length).toBeGreaterThan(0);
      expect(failures(queries)).toEqual([]);
    });
  }
});

describe('tolerantToml', () => {
  it('quotes bare nulls in arrays but leaves query strings alone', () => {
    const doc = tolerantToml("[[queries]]\nquery = '''\nany where a in (1, null]\n'''\njoin_keys = [null, \"x\",\n null]\n");
    const q = (doc['queries'] as Array<Record<string, unknown>>)[0];
    expect(q?.['join_keys']).toEqual(['__null__', 'x', '__null__']);
    expect(q?.['query']).toBe('any where a in (1, null]\n');
  });
});
