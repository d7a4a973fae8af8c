/**
 * Event fields are attacker-controlled. Generated hostile documents (deep nesting, huge arrays, `__proto__` /
 * `constructor` / `toString` keys, lone surrogates, control characters and NUL in keys and values, numbers as
 * strings, objects where strings are expected, forged `kibana.*` / `signal` fields and eqlwatch's own internal
 * key) go through every corpus rule's compiled predicates, key extraction and ordering, then through the
 * RuleEngine (with its state snapshot round-tripped as the worker stores it), the alert builders and the
 * logger. Nothing throws, nothing is polluted, logs stay one valid JSON object per line, and an event never
 * decides an alert's `kibana.*` fields.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildEventAlert, buildSequenceAlerts, type AlertContext, type BuiltAlert } from '../../src/alerts/build.js';
import { compileQuery } from '../../src/eql/compile.js';
import type { CompiledQuery, EqlEvent } from '../../src/eql/compiled.js';
import { createLogger } from '../../src/ops/logger.js';
import { loadRules } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { alertsForMatches, newEngine, prepareRule, type PreparedRule } from '../../src/worker/prepared-rule.js';
import { HIT_REF, type EngineHit, type RuleEngineState } from '../../src/worker/rule-engine.js';
import { HAS_SHARED, noteSharedMissing, REPO_ROOT, SHARED_DIR } from '../helpers/shared.js';
import { attackScenario } from '../worker/attack-scenario.js';

noteSharedMissing('hostile pipeline');

interface CorpusRule {
  name: string;
  query: string;
  timestamp_override?: string;
}

// ---------------------------------------------------------------------------------------- hostile documents

const NASTY_STRINGS = [
  '', '\u0000', 'a\u0000b', '\uD800', '\uDFFF', 'x\uDBFF', '\u2028\u2029', '\r\n{"log.level":"fatal","message":"forged"}',
  '"}\n{"forged":true', '\\', '\\u0000', '%s%n', '${jndi:ldap://x}', '<script>', '*', '?', 'NaN', 'Infinity', '-0',
  '1e309', '9007199254740993', '0x10', 'true', 'null', '2024-13-45T99:99:99Z', ' bash ', 'BASH', 'bash\u0000',
  '\u202Ebash', 'b\u0301ash', 'x'.repeat(40_000),
];
const NASTY_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '', '.', '..',
  'a..b', '.lead', 'trail.', '\u0000', 'k\u0000ey', HIT_REF, '\uD800', 'kibana', 'kibana.alert.rule.name',
  'kibana.alert.severity', 'kibana.alert.uuid', 'kibana.alert.workflow_status', 'kibana.space_ids', 'signal', 'signal.rule.id',
  'threshold_result', 'event.kind', '@timestamp', 'eqlwatch', 'eqlwatch.source',
];

/** Own enumerable properties only, so `__proto__` becomes a real key (as JSON.parse makes it), not a prototype. */
function obj(entries: [string, unknown][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

function hostileArbitraries(fields: string[]) {
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...fields) },
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_KEYS) },
    { weight: 2, arbitrary: fc.constantFrom(...fields).map((f) => f.split('.')[0]!) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  );
  const scalar = fc.oneof(
    fc.constantFrom(...NASTY_STRINGS),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.double(),
    fc.integer().map(String),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom('bash', 'sh', 'curl', 'exec', 'start', 'process', 'linux', 'container', 'ResponseComplete'),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  );
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      scalar,
      fc.array(tie('value'), { maxLength: 6 }),
      fc.array(fc.tuple(key, tie('value')), { maxLength: 6 }).map(obj),
    ),
  }));
  const doc = fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 25 }).map(obj);
  return { doc };
}

function deep(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : obj([['process', v]]);
  return v;
}

/** Hand-made extremes the generator is unlikely to reach. */
function extremes(): EqlEvent[] {
  const huge = Array.from({ length: 200_000 }, (_, i) => (i % 3 === 0 ? 'curl' : i));
  return [
    obj([['process', deep(1_000, 'bash', false)]]) as EqlEvent,
    obj([['process.args', deep(1_000, 'curl', true)]]) as EqlEvent,
    obj([['process', obj([['args', huge], ['name', huge]])], ['orchestrator', obj([['resource', obj([['name', huge]])]])]]) as EqlEvent,
    obj([['@timestamp', huge], ['event', obj([['ingested', obj([['x', 1]])], ['category', huge]])]]) as EqlEvent,
    JSON.parse('{"__proto__":{"polluted":true,"process":{"name":"bash"}},"constructor":{"prototype":{"polluted":true}}}') as EqlEvent,
    obj([['host', obj([['os', obj([['type', obj([['__proto__', 'linux']])]])]])], ['process', obj([['name', ['bash', obj([['x', 'bash']])]]])]]) as EqlEvent,
  ];
}

// --------------------------------------------------------------------------------------------- the checks

/** Everything a compiled query does with an event must be total. */
function exercise(c: CompiledQuery, e: EqlEvent): void {
  if (c.predicate) c.predicate(e);
  for (const s of [...c.stages, ...(c.until ? [c.until] : [])]) {
    if (s.predicate(e)) s.keys(e);
    else s.keys(e);
  }
  c.timestampOf(e);
  c.tiebreakerOf(e);
}

/** One valid JSON object per line, whatever was logged. */
function captureLogger() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  // pino also accepts a plain { write } destination; a sync one keeps the check deterministic.
  const logger = createLogger({ level: 'trace', destination: { write: (s: string) => void destination.write(s) } });
  return { logger, chunks };
}

function checkLogLines(chunks: string[]): void {
  for (const chunk of chunks) {
    expect(chunk.endsWith('\n')).toBe(true);
    const body = chunk.slice(0, -1);
    expect(body.includes('\n')).toBe(false);
    const rec = JSON.parse(body) as Record<string, unknown>;
    expect(rec['log.level']).toEqual(expect.any(String));
    expect(rec['@timestamp']).toEqual(expect.any(String));
    expect(rec.message).toEqual(expect.any(String));
    expect(rec.forged).toBeUndefined();
  }
}

/** The `kibana.*` keys an alert may carry: the builder's own, plus copies of the event's `event.*`/`data_stream.*`. */
function allowedKibanaKeys(rule: Rule, ctx: AlertContext): Set<string> {
  const hit = { _index: 'i', _id: 'x', _source: { '@timestamp': '2024-01-01T00:00:00Z' } };
  const keys = new Set<string>([
    ...Object.keys(buildEventAlert(rule, hit, ctx)!.doc),
    ...buildSequenceAlerts(rule, [hit, { ...hit, _id: 'y' }], ctx).flatMap((a) => Object.keys(a.doc)),
    'kibana.alert.original_event', 'kibana.alert.original_data_stream', 'kibana.alert.building_block_type',
  ]);
  return new Set([...keys].filter((k) => k.startsWith('kibana')));
}

function checkAlert(a: BuiltAlert, rule: Rule, ctx: AlertContext, allowed: Set<string>): void {
  const d = a.doc;
  for (const k of Object.keys(d)) {
    if (k === 'kibana' || k === 'signal' || k.startsWith('signal.') || k === 'threshold_result' || k.startsWith('\u0000')) {
      throw new Error(`alert ${a.id} carries the event's ${JSON.stringify(k)}`);
    }
    if (k.startsWith('kibana') && !allowed.has(k)) throw new Error(`alert ${a.id} carries a forged ${JSON.stringify(k)}`);
  }
  expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
  expect(d['kibana.alert.uuid']).toBe(a.id);
  expect(d['kibana.alert.rule.uuid']).toBe(rule.id);
  expect(d['kibana.alert.rule.name']).toBe(rule.name);
  expect(d['kibana.alert.severity']).toBe(rule.severity);
  expect(d['kibana.alert.risk_score']).toBe(rule.riskScore);
  expect(d['kibana.alert.workflow_status']).toBe('open');
  expect(d['kibana.space_ids']).toEqual([ctx.spaceId]);
  expect(d['event.kind']).toBe('signal');
  expect((d.event as Record<string, unknown> | undefined)?.kind).toBeUndefined();
  // The document must serialise for the bulk request.
  JSON.stringify(d);
}

const CTX: AlertContext = { now: new Date('2026-01-01T00:00:00Z'), spaceId: 'default', executionId: 'exec-1', kibanaUrl: 'https://kibana.example' };

describe.skipIf(!HAS_SHARED)('hostile events through the whole local pipeline', () => {
  let corpus: CompiledQuery[] = [];
  let fields: string[] = [];
  let prepared: PreparedRule[] = [];

  beforeAll(async () => {
    const json = JSON.parse(readFileSync(path.join(SHARED_DIR, 'corpus', 'detection-rules-eql.json'), 'utf8')) as { rules: CorpusRule[] };
    corpus = json.rules.map((r) => compileQuery(r.query));
    const seen = new Set<string>();
    for (const r of json.rules) for (const m of r.query.matchAll(/\b[a-z_@][a-z0-9_@]*(?:\.[a-z0-9_@]+)+\b/gi)) seen.add(m[0]);
    fields = [...seen].sort().slice(0, 400);
    const reports = await Promise.all([loadRules(path.join(SHARED_DIR, 'corpus', 'detection-rules-toml')), loadRules(path.join(REPO_ROOT, 'queries'))]);
    prepared = reports.flatMap((r) => r.rules).map((r) => prepareRule(r));
  });

  it('loaded the corpus (1,024 compiled rules, the TOML rules and both seeds)', () => {
    expect(corpus).toHaveLength(1024);
    expect(prepared.length).toBeGreaterThanOrEqual(54);
    expect(fields.length).toBeGreaterThan(100);
  });

  it('every corpus rule evaluates generated hostile documents without throwing', () => {
    const { doc } = hostileArbitraries(fields);
    fc.assert(
      fc.property(doc, (e) => {
        for (const c of corpus) exercise(c, e as EqlEvent);
      }),
      { numRuns: 150 },
    );
    for (const e of extremes()) for (const c of corpus) exercise(c, e);
  });

  it('RuleEngine, state snapshot, alert builders and logger survive hostile hits; events cannot forge kibana.* fields', () => {
    const { doc } = hostileArbitraries(fields);
    const scenario = attackScenario(Date.parse('2026-01-01T00:00:00Z'));
    // Events that do match the seed rules, each with hostile extras merged in: the alert path really runs.
    const matching = fc.tuple(fc.constantFrom(...scenario.events), doc).map(([ev, extra]) => {
      const merged = obj([...Object.entries(structuredClone(ev.source)), ...Object.entries(extra as Record<string, unknown>).filter(([k]) => !(k in ev.source))]);
      return { _index: ev.index === 'process' ? 'logs-cloud_defend.process-x' : 'logs-kubernetes.audit_logs-x', _id: ev.id, _source: merged };
    });
    const anyHit = fc.oneof(matching, doc.map((d) => ({ _index: 'logs-x', _id: 'h', _source: d as Record<string, unknown> })));
    let alertsBuilt = 0;
    fc.assert(
      fc.property(fc.array(anyHit, { minLength: 1, maxLength: 30 }), fc.integer({ min: 0, max: 29 }), (hits, split) => {
        const { logger, chunks } = captureLogger();
        const unique = hits.map((h, i) => ({ ...h, _id: `${h._id}-${i}`, _source: obj(Object.entries(h._source)) }) satisfies EngineHit);
        for (const p of prepared) {
          const opts = { maxPendingPerStage: 100 };
          const engine = newEngine(p, opts);
          const cut = Math.min(split, unique.length);
          const windowEnd = Date.parse('2026-01-01T00:01:00Z');
          const found = engine.consume(unique.slice(0, cut).map((h) => ({ ...h, _source: obj(Object.entries(h._source)) })));
          found.push(...engine.complete(windowEnd));
          // The worker stores the engine state as JSON between runs: it must round-trip.
          const snapshot = JSON.parse(JSON.stringify(engine.snapshot())) as RuleEngineState;
          const resumed = newEngine(p, opts, snapshot);
          found.push(...resumed.consume(unique.slice(cut).map((h) => ({ ...h, _source: obj(Object.entries(h._source)) }))), ...resumed.flush());
          const allowed = allowedKibanaKeys(p.rule, CTX);
          const { alerts } = alertsForMatches(p, found, CTX);
          for (const a of alerts) checkAlert(a, p.rule, CTX, allowed);
          alertsBuilt += alerts.length;
          for (const a of alerts.slice(0, 3)) logger.info({ 'rule.id': p.rule.id, alert: a.doc }, `alert ${String(a.doc['process.name'] ?? '')}`);
        }
        // And directly: any hostile hit as an event alert, any pair as a sequence.
        const rule = prepared[0]!.rule;
        const allowed = allowedKibanaKeys(rule, CTX);
        for (const h of unique) checkAlert(buildEventAlert(rule, h, CTX)!, rule, CTX, allowed);
        for (const a of buildSequenceAlerts(rule, unique.slice(0, 3), CTX)) checkAlert(a, rule, CTX, allowed);
        for (const h of unique.slice(0, 5)) {
          logger.warn({ event: h._source, 'error.message': String(h._source['process.name'] ?? '') }, `hostile ${JSON.stringify(h._source).slice(0, 200)}`);
          logger.error({ err: { message: String(h._source.message ?? ''), stack: h._source['@timestamp'] } }, String(h._source['process.name'] ?? 'x'));
        }
        checkLogLines(chunks);
        expect(chunks.length).toBeGreaterThan(0);
      }),
      { numRuns: 40 },
    );
    for (const e of extremes()) {
      const { logger, chunks } = captureLogger();
      const hit = { _index: 'logs-x', _id: 'extreme', _source: e };
      for (const p of prepared) {
        const engine = newEngine(p, { maxPendingPerStage: 100 });
        engine.consume([{ ...hit, _source: obj(Object.entries(e)) }]);
        engine.flush();
        JSON.parse(JSON.stringify(engine.snapshot()));
      }
      const rule = prepared[0]!.rule;
      checkAlert(buildEventAlert(rule, hit, CTX)!, rule, CTX, allowedKibanaKeys(rule, CTX));
      logger.info({ event: e }, 'extreme event');
      checkLogLines(chunks);
    }
    // The generator does produce matches (else the alert checks above would be vacuous).
    expect(alertsBuilt).toBeGreaterThan(0);
    // Nothing reached a prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('an event cannot forge eqlwatch bookkeeping fields (notification delivery state, degraded marker)', () => {
    const rule = prepared[0]!.rule;
    const source = obj([
      ['@timestamp', '2026-01-01T00:00:00Z'],
      ['eqlwatch', { notification: { slack: { status: 'sent' } }, degraded: 'forged' }],
      ['eqlwatch.notification.email.status', 'sent'],
    ]);
    const hit = { _index: 'logs-x', _id: 'e', _source: source };
    for (const a of [buildEventAlert(rule, hit, CTX)!, ...buildSequenceAlerts(rule, [hit, { ...hit, _id: 'f' }], CTX)]) {
      // Only eqlwatch's own fields (the sequence listing) remain; nothing of the event's.
      expect(Object.keys(a.doc).filter((k) => k === 'eqlwatch' || (k.startsWith('eqlwatch.') && k !== 'eqlwatch.sequence.events'))).toEqual([]);
      expect(JSON.stringify(a.doc)).not.toMatch(/forged|"sent"/);
    }
  });
});
