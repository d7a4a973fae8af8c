/**
 * The pushed-down Query DSL against a real node, judged by the real compiled predicate:
 *  - for every EQL rule of the container corpus and both seeds, events derived from the rule's AST are
 *    indexed with the integrations' mappings; every stage filter must return EVERY event the local
 *    predicate matches (no false negatives), and for the seeds nothing else except documents
 *    Elasticsearch could not fully index (`_ignored`);
 *  - the ignore_above blind spot: a token longer than `ignore_above` is invisible to a plain query but
 *    found by the pushdown and confirmed by the evaluator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventFilter, Query } from '../../src/eql/ast.js';
import { compileQuery } from '../../src/eql/compile.js';
import type { CompiledQuery, EqlEvent, FieldSchema } from '../../src/eql/compiled.js';
import { parseQuery } from '../../src/eql/parser.js';
import { narrowByKeys, pushdownQuery, type PushdownOptions, type QueryDsl } from '../../src/eql/pushdown.js';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import type { IndexSchema } from '../../src/mappings/index-mappings.js';
import { readWindow } from '../../src/es/source.js';
import { generateEvents, rng, type Doc } from '../fixtures/event-gen.js';
import { cloudDefendFileMapping, cloudDefendProcessMapping, kubernetesAuditMapping } from '../fixtures/mappings.js';
import { loadSeeds, loadTomlRules, sharedAvailable, type RuleCase } from '../fixtures/rules.js';
import { useEs } from '../helpers/es.js';
import { noteSharedMissing } from '../helpers/shared.js';

const es = useEs();
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const FROM = new Date(T0);
const TO = new Date(T0 + 3_600_000);

interface Prepared {
  rule: RuleCase;
  query: Query;
  compiled: CompiledQuery;
  filters: EventFilter[];
  /** Ids of the events generated for each stage of this rule. */
  generated: string[][];
}

/** One predicate per pushed-down stage (compiled stages are aligned with `pushdownQuery`). */
function stagePredicates(c: CompiledQuery): ((e: EqlEvent) => boolean)[] {
  if (c.kind === 'event') return [c.predicate!];
  return c.stages.map((s) => s.predicate);
}

async function searchIds(index: string[], filter: QueryDsl): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for await (const page of readWindow(es.client, { index, from: FROM, to: TO, filter, sourceFields: ['@timestamp'] })) {
    for (const h of page) out.set(h._id, h._ignored ?? []);
  }
  return out;
}

noteSharedMissing('pushdown corpus');

describe.skipIf(!sharedAvailable)('pushdown over the container rule corpus (real node, real evaluator)', () => {
  const base = es.name('pd');
  const indices = { process: `${base}-process`, file: `${base}-file`, audit: `${base}-audit` };
  const allIndices = Object.values(indices);
  const rules = sharedAvailable ? [...loadTomlRules(), ...loadSeeds()] : [];
  const eqlRules = rules.filter((r) => r.language === 'eql');
  const skipped = rules.filter((r) => r.language !== 'eql');
  const prepared: Prepared[] = [];
  const docs = new Map<string, Doc>();
  const rejected = new Map<string, string>();
  let schema: FieldSchema;
  let indexSchema: IndexSchema;
  const report: string[] = [];

  beforeAll(async () => {
    for (const r of skipped) console.info(`[pushdown corpus] skipping ${r.name}: language "${r.language}" is not EQL`);
    await Promise.all([
      es.client.indices.create({ index: indices.process, mappings: cloudDefendProcessMapping() }),
      es.client.indices.create({ index: indices.file, mappings: cloudDefendFileMapping() }),
      es.client.indices.create({ index: indices.audit, mappings: kubernetesAuditMapping() }),
    ]);

    let n = 0;
    const operations: unknown[] = [];
    eqlRules.forEach((rule, ri) => {
      const query = parseQuery(rule.query);
      const filters =
        query.kind === 'event' ? [query.filter] : query.kind === 'sequence' ? query.stages.flatMap((s) => Array(s.runs).fill(s.filter) as EventFilter[]) : query.stages.map((s) => s.filter);
      const generated = filters.map((filter, si) => {
        const target = filter.category === 'process' ? indices.process : filter.category === 'file' ? indices.file : indices.audit;
        const events = generateEvents(
          filter,
          () => {
            const ts = T0 + (n++ % 3_000_000);
            return { '@timestamp': new Date(ts).toISOString(), event: { ingested: new Date(ts + 500).toISOString() } };
          },
          { seed: ri * 31 + si + 1 },
        );
        return events.map((ev, k) => {
          const id = `r${ri}-s${si}-e${k}`;
          docs.set(id, ev.doc);
          operations.push({ index: { _index: target, _id: id } }, ev.doc);
          return id;
        });
      });
      // The compiled predicate is filled in below, after the schema is known.
      prepared.push({ rule, query, compiled: undefined as unknown as CompiledQuery, filters, generated });
    });

    for (let i = 0; i < operations.length; i += 4000) {
      const res = await es.client.bulk({ operations: operations.slice(i, i + 4000) });
      for (const item of res.items) {
        const r = item.index!;
        if (r.error) rejected.set(r._id!, r.error.reason ?? r.error.type);
      }
    }
    await es.client.indices.refresh({ index: allIndices });
    // A document Elasticsearch refused is not an event anyone can read.
    for (const id of rejected.keys()) docs.delete(id);

    indexSchema = await fetchIndexSchema(es.client, allIndices);
    schema = indexSchema.fieldSchema;
    for (const p of prepared) p.compiled = compileQuery(p.query, { schema });
  });

  afterAll(() => {
    report.unshift(`${docs.size} events indexed (${rejected.size} rejected by the mappings and left out)`);
    if (report.length > 1) console.info(`[pushdown corpus]\n${report.join('\n')}`);
  });

  it('covers every EQL rule of the corpus plus the seeds', () => {
    expect(eqlRules.length).toBe(rules.length - skipped.length);
    expect(prepared.length).toBe(eqlRules.length);
    expect(eqlRules.filter((r) => r.source === 'seed')).toHaveLength(2);
    expect(rejected.size).toBeLessThan(docs.size / 100);
  });

  for (const rule of eqlRules) {
    it(`${rule.source === 'seed' ? 'seed ' : ''}${rule.name}: the pushdown returns every event the evaluator matches`, async () => {
      const p = prepared.find((x) => x.rule === rule)!;
      const opts: PushdownOptions = {
        ignoredAware: true,
        fieldTypes: (path) => indexSchema.queryTypeOf(path),
        ignoreAboveOf: (path) => indexSchema.ignoreAboveOf(path),
        hiddenIndicesOf: (path) => indexSchema.hiddenIndicesOf(path),
      };
      const plan = pushdownQuery(p.query, opts);
      const predicates = stagePredicates(p.compiled);
      expect(plan.stages).toHaveLength(predicates.length);
      const line: string[] = [];
      for (let si = 0; si < plan.stages.length; si++) {
        const predicate = predicates[si]!;
        const expected = [...docs].filter(([, d]) => predicate(d)).map(([id]) => id);
        const got = await searchIds(allIndices, plan.stages[si]!);
        const missing = expected.filter((id) => !got.has(id));
        expect(missing.map((id) => ({ id, doc: docs.get(id) })), `stage ${si} false negatives`).toEqual([]);
        // The generator must have produced at least one matching event of its own for this stage.
        const own = p.generated[si]!.filter((id) => docs.has(id) && predicate(docs.get(id)!));
        expect(own.length, `stage ${si}: no generated event matches`).toBeGreaterThan(0);
        const extra = [...got.keys()].filter((id) => !predicate(docs.get(id)!));
        // Extra events not explained by a value Elasticsearch could not index: translation widening.
        const unexplained = extra.filter((id) => got.get(id)!.length === 0);
        if (rule.source === 'seed') {
          // Exact, except for documents with a value Elasticsearch could not index.
          expect(unexplained.map((id) => ({ id, doc: docs.get(id) })), `stage ${si} false positives`).toEqual([]);
        }
        line.push(
          `stage ${si}: generated ${p.generated[si]!.length}, matching ${expected.length} (own ${own.length}), ` +
            `returned ${got.size} (${unexplained.length} beyond _ignored)`,
        );
      }
      report.push(`${rule.name}: ${line.join('; ')}`);
    });
  }
});

describe('ignore_above: values Elasticsearch does not index', () => {
  const index = es.name('pd-ignored');
  const token = 'eyJ' + 'A'.repeat(1500);
  const longArg = `Authorization: Bearer ${token}`;
  const event = {
    '@timestamp': new Date(T0 + 1000).toISOString(),
    event: { category: 'process', type: 'start', action: 'exec' },
    host: { os: { type: 'linux' } },
    process: { name: 'curl', args: ['curl', '-k', '-H', longArg, 'https://kubernetes.default.svc/api'], interactive: true },
    container: { id: 'c0ffee' },
  };
  const text = 'process where process.args : "*Authorization: Bearer*"';

  beforeAll(async () => {
    await es.client.indices.create({ index, mappings: cloudDefendProcessMapping() });
    await es.client.index({ index, id: 'long', document: event, refresh: true });
  });

  it('a plain query misses the event, the pushdown finds it, and the evaluator confirms it', async () => {
    const ignoredHits = await es.client.search({ index, query: { term: { _ignored: 'process.args' } } });
    expect(ignoredHits.hits.hits.map((h) => [h._id, h._ignored])).toEqual([['long', ['process.args']]]);

    const plain = await es.client.search({
      index,
      query: { wildcard: { 'process.args': { value: '*Authorization: Bearer*', case_insensitive: true } } },
    });
    expect(plain.hits.hits).toHaveLength(0);

    const query = parseQuery(text);
    const s = await fetchIndexSchema(es.client, [index]);
    const schema = s.fieldSchema;
    const plan = pushdownQuery(query, { ignoredAware: true, fieldTypes: (p) => s.queryTypeOf(p), ignoreAboveOf: (p) => s.ignoreAboveOf(p) });
    const got = await es.client.search({ index, query: plan.stages[0]! });
    expect(got.hits.hits.map((h) => h._id)).toEqual(['long']);

    const compiled = compileQuery(query, { schema });
    expect(compiled.predicate!(got.hits.hits[0]!._source as EqlEvent)).toBe(true);
  });

  it('a negated condition on the ignored field still returns the event; the evaluator rejects it', async () => {
    const query = parseQuery('process where not process.args : "*Bearer*"');
    const plan = pushdownQuery(query, { ignoredAware: true });
    const got = await es.client.search({ index, query: plan.stages[0]! });
    expect(got.hits.hits.map((h) => h._id)).toEqual(['long']);
    expect(compileQuery(query, {}).predicate!(event)).toBe(false);
  });

  it.skipIf(!sharedAvailable)('the real rule with an expanded token: the plain query misses it, the pushdown keeps it', async () => {
    const rule = loadTomlRules().find((r) => r.name === 'execution_direct_interactive_kubernetes_api_request.toml')!;
    const query = parseQuery(rule.query);
    expect(compileQuery(query, {}).predicate!(event)).toBe(true);
    const plan = pushdownQuery(query, { ignoredAware: true });
    const got = await es.client.search({ index, query: plan.stages[0]! });
    expect(got.hits.hits.map((h) => h._id)).toEqual(['long']);
    // The same query without its `_ignored` branches is what a plain translation would send.
    const plain = JSON.parse(JSON.stringify(plan.stages[0]!).replaceAll('"_ignored"', '"no_such_field"')) as QueryDsl;
    expect((await es.client.search({ index, query: plain })).hits.hits).toHaveLength(0);
  });
});

describe('narrowByKeys on the real node: join keys stored in every shape', () => {
  const index = es.name('pd-narrow');
  const pod = 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name';
  const longPod = 'pod-' + 'x'.repeat(1100);
  const audit = (extra: Doc): Doc => ({
    '@timestamp': new Date(T0).toISOString(),
    data_stream: { dataset: 'kubernetes.audit_logs' },
    kubernetes: { audit: { stage: 'ResponseComplete', user: { extra } } },
  });
  const docs: Record<string, Doc> = {
    dotted: audit({ 'authentication.kubernetes.io/pod-name': ['web-1'] }),
    nested: audit({ authentication: { kubernetes: { 'io/pod-name': 'web-2' } } }),
    array: audit({ 'authentication.kubernetes.io/pod-name': ['other', 'web-3'] }),
    unrelated: audit({ 'authentication.kubernetes.io/pod-name': ['db-1'] }),
    missing: audit({}),
    long: audit({ 'authentication.kubernetes.io/pod-name': [longPod] }),
  };

  beforeAll(async () => {
    await es.client.indices.create({ index, mappings: kubernetesAuditMapping() });
    await es.client.bulk({
      refresh: true,
      operations: Object.entries(docs).flatMap(([id, d]) => [{ index: { _index: index, _id: id } }, d]),
    });
  });

  it('returns the events whose key was seen, and those whose key was too long to index', async () => {
    const query = parseQuery(
      'sequence [process where true] by orchestrator.resource.name [any where kubernetes.audit.stage == "ResponseComplete"] by `' + pod + '`',
    );
    const plan = pushdownQuery(query, { ignoredAware: true });
    const narrowed = narrowByKeys(plan.stages[1]!, [pod], [['web-1'], ['web-2'], ['web-3']]);
    const res = await es.client.search({ index, query: narrowed, size: 100 });
    expect(res.hits.hits.map((h) => h._id).sort()).toEqual(['array', 'dotted', 'long', 'nested']);
    // The evaluator then decides; the key of the long one was not seen.
    const keys = compileQuery(query, {}).stages[1]!.keys;
    expect(keys(docs.long!)).toEqual([[longPod]]);
    expect(keys(docs.nested!)).toEqual([['web-2']]);
  });
});

/**
 * Random conditions over random documents (arrays, nulls, case variants, backslashes, literal `*`,
 * non-ASCII, values over a small `ignore_above`): the pushdown must never drop an event the
 * evaluator matches.
 */
describe('random conditions: the pushdown is a superset of the evaluator', () => {
  const index = es.name('pd-fuzz');
  const LIMIT = 16;
  const rand = rng(20260101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const strings = ['x', 'X', 'xy', 'foo', 'Foo', 'FOO', 'foo bar', 'a\\b', 'a*b', 'a?b', '', 'é', 'É', 'fo', 'oof'];
  const longs = ['foo'.repeat(7), 'Foo' + 'o'.repeat(20), 'x'.repeat(LIMIT + 1)];
  const patterns = ['fo*', '*o', '*O*', 'f?o', '*', '?*', 'a\\*', '*foo*', 'a*b', 'É*', 'x', 'FOO'];
  const quote = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

  const randomValue = (): unknown => {
    const r = rand();
    if (r < 0.1) return null;
    if (r < 0.25) return pick(longs);
    return pick(strings);
  };
  const randomDoc = (i: number): Doc => {
    const d: Doc = { '@timestamp': new Date(T0 + i).toISOString() };
    for (const f of ['a', 'b']) {
      const r = rand();
      if (r < 0.15) continue;
      if (r < 0.55) d[f] = randomValue();
      else d[f] = Array.from({ length: 1 + Math.floor(rand() * 3) }, randomValue);
    }
    const r = rand();
    if (r < 0.7) d.n = r < 0.5 ? Math.floor(rand() * 6) : [Math.floor(rand() * 6), Math.floor(rand() * 6)];
    if (rand() < 0.7) d.t = rand() < 0.5;
    return d;
  };
  const randomAtom = (): string => {
    const f = pick(['a', 'b']);
    const s = () => quote(pick([...strings, ...longs]));
    const p = () => quote(pick(patterns));
    return pick([
      () => `${f} == ${s()}`,
      () => `${f} != ${s()}`,
      () => `${f} in (${s()}, ${s()})`,
      () => `${f} not in (${s()}, ${s()})`,
      () => `${f} in~ (${s()}, ${s()})`,
      () => `${f} : ${p()}`,
      () => `${f} : (${p()}, ${p()})`,
      () => `${f} like ${p()}`,
      () => `${f} like~ (${p()}, ${s()})`,
      () => `${f} regex "fo.*"`,
      () => `${f} regex~ "[a-f]o+"`,
      () => `startsWith(${f}, "fo")`,
      () => `startsWith~(${f}, "FO")`,
      () => `endsWith(${f}, "o")`,
      () => `stringContains~(${f}, "OO")`,
      () => `${f} == null`,
      () => `${f} != null`,
      () => `length(${f}) > 2`,
      () => `n > 2`,
      () => `n == 3`,
      () => `n != 3`,
      () => `t == true`,
      () => `t`,
      () => `not t`,
    ])();
  };
  const randomExpr = (depth: number): string => {
    const r = rand();
    if (depth === 0 || r < 0.35) return randomAtom();
    if (r < 0.5) return `not (${randomExpr(depth - 1)})`;
    const op = r < 0.75 ? 'and' : 'or';
    return `(${randomExpr(depth - 1)} ${op} ${randomExpr(depth - 1)})`;
  };

  const docs = new Map<string, Doc>();

  beforeAll(async () => {
    await es.client.indices.create({
      index,
      mappings: {
        properties: {
          '@timestamp': { type: 'date' },
          a: { type: 'keyword', ignore_above: LIMIT },
          b: { type: 'keyword', ignore_above: LIMIT },
          n: { type: 'long' },
          t: { type: 'boolean' },
        },
      },
    });
    for (let i = 0; i < 400; i++) docs.set(`d${i}`, randomDoc(i));
    const res = await es.client.bulk({
      refresh: true,
      operations: [...docs].flatMap(([id, d]) => [{ index: { _index: index, _id: id } }, d]),
    });
    expect(res.errors).toBe(false);
  });

  it('400 random conditions over 400 random documents: no false negatives', async () => {
    const s = await fetchIndexSchema(es.client, [index]);
    const schema = s.fieldSchema;
    const ignoreAboveOf = (p: string) => s.ignoreAboveOf(p);
    expect(ignoreAboveOf('a')).toBe(LIMIT);
    let checked = 0;
    let matchedTotal = 0;
    let returnedTotal = 0;
    for (let q = 0; q < 400; q++) {
      const text = `any where ${randomExpr(3)}`;
      const query = parseQuery(text);
      const predicate = compileQuery(query, { schema }).predicate!;
      const expected = [...docs].filter(([, d]) => predicate(d)).map(([id]) => id);
      const plan = pushdownQuery(query, { ignoredAware: true, fieldTypes: (p) => s.queryTypeOf(p), ignoreAboveOf });
      const res = await es.client.search({ index, query: plan.stages[0]!, size: 1000, _source: false });
      const got = new Set(res.hits.hits.map((h) => h._id));
      const missing = expected.filter((id) => !got.has(id));
      expect(missing.map((id) => docs.get(id)), `${text}\n${JSON.stringify(plan.stages[0])}`).toEqual([]);
      checked++;
      matchedTotal += expected.length;
      returnedTotal += got.size;
    }
    expect(checked).toBe(400);
    // The random conditions are not trivially empty.
    expect(matchedTotal).toBeGreaterThan(400);
    console.info(`[pushdown fuzz] ${checked} queries: ${matchedTotal} evaluator matches, ${returnedTotal} returned by Elasticsearch`);
  });
});
