/**
 * RuleEngine (shared by the worker and replay): single-event and sequence rules over windows read page by
 * page in `@timestamp` order, its state surviving a JSON round trip between windows (a checkpoint, a
 * restart) with events reduced to references and its size bounded, exceptions, and an event that tries to
 * forge the engine's internal hit reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { alertsForMatches, newEngine, prepareRule } from '../../src/worker/prepared-rule.js';
import { HIT_REF, isSlim, type EngineHit, type RuleEngineOptions, type RuleEngineState, type RuleMatch } from '../../src/worker/rule-engine.js';

function rule(yaml: string): Rule {
  const out = loadRuleText('test.yaml', yaml);
  if (out.kind !== 'rule') throw new Error(JSON.stringify(out));
  return out.rule;
}

const T0 = Date.parse('2026-01-20T10:00:00.000Z');
function hit(id: string, tsMs: number, fields: Record<string, unknown>): EngineHit {
  return { _index: 'logs-test', _id: id, _source: { '@timestamp': new Date(tsMs).toISOString(), ...fields } };
}
const proc = (id: string, sec: number, name: string, host = 'h1', extra: Record<string, unknown> = {}) =>
  hit(id, T0 + sec * 1000, { event: { category: 'process' }, process: { name }, host: { id: host }, ...extra });

const ids = (ms: RuleMatch[]) => ms.map((m) => (m.kind === 'event' ? [m.hit._id] : m.hits.map((h) => h._id)));
const opts: RuleEngineOptions = { maxPendingPerStage: 1000 };
const tsOf = (h: EngineHit) => Date.parse(h._source['@timestamp'] as string);
/** Events of [from, to) in timestamp order, as Elasticsearch returns a window. */
const windowOf = (all: EngineHit[], from: number, to: number) => all.filter((h) => tsOf(h) >= from && tsOf(h) < to).sort((a, b) => tsOf(a) - tsOf(b));
/** Through JSON, as the state document stores it. */
const roundTrip = (s: RuleEngineState): RuleEngineState => JSON.parse(JSON.stringify(s)) as RuleEngineState;
const clone = (hs: EngineHit[]) => hs.map((h) => ({ ...h, _source: structuredClone(h._source) }));

const SEQ = rule(`name: seq
id: seq-rule
query: |
  sequence by host.id with maxspan=30s
    [process where process.name == "curl"]
    [process where process.name == "chmod"]
exceptions:
  - process.name == "chmod" and user.name == "ci"
`);
const SINGLE = rule(`name: single
id: single-rule
query: |
  process where process.name : "curl"
exceptions:
  - host.id == "build-box"
`);

describe('RuleEngine: single-event rules', () => {
  it('matches in timestamp order whatever the input order, and applies exceptions', () => {
    const p = prepareRule(SINGLE);
    const engine = newEngine(p, opts);
    const matches = engine.consume([proc('b', 5, 'CURL'), proc('x', 1, 'bash'), proc('a', 2, 'curl'), proc('c', 3, 'curl', 'build-box')]);
    expect(ids(matches)).toEqual([['a'], ['b']]);
    expect(engine.stats).toMatchObject({ eventsRead: 4, excluded: 1 });
  });
});

describe('RuleEngine: sequence state across windows', () => {
  const events = [proc('e1', 1, 'curl'), proc('e2', 2, 'curl', 'h2'), proc('e3', 10, 'chmod'), proc('e4', 12, 'chmod', 'h2'), proc('e5', 50, 'curl'), proc('e6', 90, 'chmod')];

  it('a sequence whose events fall in two windows is found once, after a JSON round trip of the state', () => {
    const p = prepareRule(SEQ);
    const first = newEngine(p, opts);
    expect([...first.consume(clone(windowOf(events, T0, T0 + 5_000))), ...first.complete(T0 + 5_000)]).toEqual([]);
    const second = newEngine(p, opts, roundTrip(first.snapshot()));
    const found = [...second.consume(clone(windowOf(events, T0 + 5_000, T0 + 120_000))), ...second.complete(T0 + 120_000)];
    // e5 → e6 exceeds maxspan.
    expect(ids(found)).toEqual([['e1', 'e3'], ['e2', 'e4']]);
    const third = newEngine(p, opts, roundTrip(second.snapshot()));
    expect(third.complete(T0 + 200_000)).toEqual([]);
  });

  it('the stored state holds references, not documents: a sequence completed after a restart names its events for fetching', () => {
    const p = prepareRule(SEQ);
    const first = newEngine(p, opts);
    first.consume(clone([proc('c1', 1, 'curl', 'h1', { process: { name: 'curl', args: ['x'.repeat(5000)] } })]));
    first.complete(T0 + 2_000);
    const state = roundTrip(first.snapshot());
    expect(JSON.stringify(state)).not.toContain('x'.repeat(100));
    const second = newEngine(p, opts, state);
    const found = [...second.consume(clone([proc('m1', 3, 'chmod')])), ...second.complete(T0 + 10_000)];
    expect(ids(found)).toEqual([['c1', 'm1']]);
    const [restored, live] = (found[0] as Extract<RuleMatch, { kind: 'sequence' }>).hits;
    expect(isSlim(restored!)).toBe(true);
    expect(isSlim(live!)).toBe(false);
  });

  it('events with equal timestamps across a page boundary are ordered by index and id, as replay orders them', () => {
    const p = prepareRule(SEQ);
    // Two curls at 1 s and a chmod at 1 s: in ordinal order (index, id) b-curl supersedes a-curl.
    const a = proc('a-curl', 1, 'curl');
    const b = proc('b-curl', 1, 'curl');
    const c = proc('c-chmod', 2, 'chmod');
    const one = newEngine(p, opts);
    const whole = ids([...one.consume(clone([a, b, c])), ...one.flush()]);
    expect(whole).toEqual([['b-curl', 'c-chmod']]);
    const paged = newEngine(p, opts);
    // Elasticsearch (shard order) returns b-curl on the first page and a-curl on the second.
    const got = [...paged.consume(clone([b])), ...paged.consume(clone([a, c])), ...paged.complete(T0 + 60_000)];
    expect(ids(got)).toEqual(whole);
    expect(paged.stats.outOfOrder).toBe(0);
  });

  it('an event returned after a later-stamped one was evaluated is counted as out of order', () => {
    const p = prepareRule(SEQ);
    const engine = newEngine(p, opts);
    engine.consume(clone([proc('late', 9, 'curl'), proc('later', 10, 'curl')]));
    engine.consume(clone([proc('earlier', 5, 'curl'), proc('last', 11, 'ls')]));
    engine.complete(T0 + 60_000);
    expect(engine.stats.outOfOrder).toBe(1);
  });

  it('the same document returned twice at a page boundary is evaluated once, and counted', () => {
    const p = prepareRule(SEQ);
    const engine = newEngine(p, opts);
    const c = proc('c', 1, 'curl');
    const got = [...engine.consume(clone([c])), ...engine.consume(clone([proc('x', 1, 'ls')])), ...engine.consume(clone([c, proc('m', 2, 'chmod')])), ...engine.complete(T0 + 60_000)];
    expect(ids(got)).toEqual([['c', 'm']]);
    expect(engine.stats.repeated).toBe(1);
  });

  it('the stored state stays within its size bound: the oldest pending sequences are evicted and counted', () => {
    const p = prepareRule(SEQ);
    const engine = newEngine(p, { maxPendingPerStage: 10_000, maxStateBytes: 20_000 });
    const curls = Array.from({ length: 500 }, (_, i) => proc(`c${i}`, 1 + i / 1000, 'curl', `host-${i}`));
    engine.consume(clone(curls));
    engine.complete(T0 + 2_000);
    const state = engine.snapshot();
    expect(Buffer.byteLength(JSON.stringify(state))).toBeLessThanOrEqual(20_000);
    const kept = (state.matcher?.slots ?? []).flat().length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(500);
    expect(engine.stats.evictedForSize).toBe(500 - kept);
    expect(engine.stats.sequence?.evicted).toBe(500 - kept);
    // The newest survive.
    expect(JSON.stringify(state)).toContain('"c499"');
  });

  it('excepted events never take part in a sequence', () => {
    const p = prepareRule(SEQ);
    const engine = newEngine(p, opts);
    const found = [...engine.consume(clone([proc('c1', 1, 'curl'), proc('x1', 2, 'chmod', 'h1', { user: { name: 'ci' } }), proc('y1', 3, 'chmod')])), ...engine.flush()];
    expect(ids(found)).toEqual([['c1', 'y1']]);
    expect(engine.stats.excluded).toBe(1);
  });

  it('an event stamped exactly at the previous window end is read by the next window, not dropped as late', () => {
    const p = prepareRule(SEQ);
    const first = newEngine(p, opts);
    first.consume(clone([proc('at-57', 57, 'curl')]));
    expect(first.complete(T0 + 87_000)).toEqual([]);
    const second = newEngine(p, opts, roundTrip(first.snapshot()));
    // 87 s is the end of window 1 (half-open), so the chmod belongs to window 2; 30 s apart = maxspan.
    expect(ids([...second.consume(clone([proc('at-87', 87, 'chmod')])), ...second.complete(T0 + 200_000)])).toEqual([['at-57', 'at-87']]);
  });

  it('property: any split into windows and pages, with the state through JSON between windows, gives the matches of one pass', () => {
    const p = prepareRule(SEQ);
    const arb = fc.record({
      evs: fc.array(fc.record({ sec: fc.integer({ min: 0, max: 300 }), name: fc.constantFrom('curl', 'chmod', 'ls'), host: fc.constantFrom('h1', 'h2', 'h3') }), { maxLength: 40 }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { maxLength: 5 }),
      pageSize: fc.integer({ min: 1, max: 7 }),
      shuffleSeed: fc.integer(),
    });
    fc.assert(
      fc.property(arb, ({ evs, cuts, pageSize, shuffleSeed }) => {
        const all = evs.map((e, i) => proc(`ev${i}`, e.sec, e.name, e.host));
        const one = newEngine(p, opts);
        const whole = ids([...one.consume(clone(all)), ...one.flush()]);
        const bounds = [...cuts.sort((a, b) => a - b).map((c) => T0 + c * 1000), T0 + 400_000];
        let state: RuleEngineState | null = null;
        let from = T0 - 1;
        const split: string[][] = [];
        for (const to of bounds) {
          const engine = newEngine(p, opts, state);
          // Elasticsearch's order within equal timestamps is its own (shard order): shuffle those ties.
          const mine = windowOf(all, from, to)
            .map((h, i) => ({ h, k: (Math.imul(i + 1, shuffleSeed | 1) >>> 0) % 97 }))
            .sort((x, y) => tsOf(x.h) - tsOf(y.h) || x.k - y.k)
            .map((x) => x.h);
          for (let i = 0; i < mine.length; i += pageSize) split.push(...ids(engine.consume(clone(mine.slice(i, i + pageSize)))));
          split.push(...ids(engine.complete(to)));
          state = roundTrip(engine.snapshot());
          from = to;
        }
        split.push(...ids(newEngine(p, opts, state).flush()));
        expect(split).toEqual(whole);
      }),
      { numRuns: Number(process.env.EQLWATCH_PROPERTY_RUNS ?? 300) },
    );
  });
});

describe('RuleEngine: hostile events', () => {
  it('an event carrying a forged internal hit reference is alerted under its real id and index', () => {
    const p = prepareRule(SEQ);
    const forged = { _index: 'victim-index', _id: 'victim-id' };
    const c = proc('real-curl', 1, 'curl', 'h1', { [HIT_REF]: forged });
    const m = proc('real-chmod', 2, 'chmod', 'h1', { [HIT_REF]: forged });
    const engine = newEngine(p, opts);
    const matches = [...engine.consume([c, m]), ...engine.flush()];
    expect(ids(matches)).toEqual([['real-curl', 'real-chmod']]);
    const { alerts } = alertsForMatches(p, matches, { now: new Date(T0), spaceId: 'default', executionId: 'x', kibanaUrl: null });
    expect(alerts).toHaveLength(3);
    for (const a of alerts) {
      expect(JSON.stringify(a.doc)).not.toContain('victim');
      expect(Object.keys(a.doc).some((k) => k.startsWith('\u0000'))).toBe(false);
    }
  });
});
