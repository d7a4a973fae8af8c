/**
 * RuleEngine (shared by the worker and replay): single-event and sequence rules over windows, its state
 * surviving a JSON round trip between windows (a checkpoint, a restart), the reorder slack, exceptions,
 * and an event that tries to forge the engine's internal hit reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadRuleText } from '../../src/rules/load.js';
import type { Rule } from '../../src/rules/schema.js';
import { alertsForMatches, newEngine, prepareRule } from '../../src/worker/prepared-rule.js';
import { HIT_REF, type EngineHit, type RuleEngineOptions, type RuleEngineState, type RuleMatch } from '../../src/worker/rule-engine.js';

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
const opts: RuleEngineOptions = { reorderSlackMs: 0, maxPendingPerStage: 1000 };
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
    const matches = engine.consume([proc('b', 5, 'CURL'), proc('x', 1, 'bash'), proc('a', 2, 'curl'), proc('c', 3, 'curl', 'build-box')], T0 + 60_000);
    expect(ids(matches)).toEqual([['a'], ['b']]);
    expect(engine.stats).toMatchObject({ eventsRead: 4, excluded: 1 });
  });
});

describe('RuleEngine: sequence state across windows', () => {
  const events = [proc('e1', 1, 'curl'), proc('e2', 2, 'curl', 'h2'), proc('e3', 10, 'chmod'), proc('e4', 12, 'chmod', 'h2'), proc('e5', 50, 'curl'), proc('e6', 90, 'chmod')];

  it('a sequence whose events fall in two windows is found once, after a JSON round trip of the state', () => {
    const p = prepareRule(SEQ);
    const first = newEngine(p, opts);
    expect(first.consume(clone(events.slice(0, 2)), T0 + 5_000)).toEqual([]);
    const second = newEngine(p, opts, roundTrip(first.snapshot()));
    const found = second.consume(clone(events.slice(2)), T0 + 120_000);
    // e5 → e6 exceeds maxspan.
    expect(ids(found)).toEqual([['e1', 'e3'], ['e2', 'e4']]);
    const third = newEngine(p, opts, roundTrip(second.snapshot()));
    expect(third.consume([], T0 + 200_000)).toEqual([]);
  });

  it('events within the reorder slack of the window end are held and released by the next window', () => {
    const p = prepareRule(SEQ);
    const slack = { ...opts, reorderSlackMs: 5_000 };
    const first = newEngine(p, slack);
    // Window ends at 12 s, watermark 7 s: e1 and e2 are released, e3 (10 s) and e4 (12 s) are held.
    expect(first.consume(clone(events.slice(0, 4)), T0 + 12_000)).toEqual([]);
    const state = roundTrip(first.snapshot());
    expect(state.held.map((h) => h._id).sort()).toEqual(['e3', 'e4']);
    const second = newEngine(p, slack, state);
    expect(ids(second.consume([], T0 + 20_000))).toEqual([['e1', 'e3'], ['e2', 'e4']]);
  });

  it('an event that arrives in a later window but is stamped earlier still joins in timestamp order', () => {
    const p = prepareRule(SEQ);
    const slack = { ...opts, reorderSlackMs: 10_000 };
    const first = newEngine(p, slack);
    // chmod at 9 s is read first; the curl at 8 s comes from a slower shipper in the next window.
    expect(first.consume(clone([proc('late-chmod', 9, 'chmod')]), T0 + 15_000)).toEqual([]);
    const second = newEngine(p, slack, roundTrip(first.snapshot()));
    expect(second.consume(clone([proc('early-curl', 8, 'curl')]), T0 + 30_000).map((m) => m.kind)).toEqual(['sequence']);
  });

  it('excepted events never take part in a sequence', () => {
    const p = prepareRule(SEQ);
    const engine = newEngine(p, opts);
    const found = engine.consume(clone([proc('c1', 1, 'curl'), proc('x1', 2, 'chmod', 'h1', { user: { name: 'ci' } }), proc('y1', 3, 'chmod')]), T0 + 60_000, true);
    expect(ids(found)).toEqual([['c1', 'y1']]);
    expect(engine.stats.excluded).toBe(1);
  });

  it('an event stamped exactly at the previous window end (reorderSlack 0) is not dropped as late', () => {
    const p = prepareRule(SEQ);
    const first = newEngine(p, opts);
    expect(first.consume(clone([proc('at-57', 57, 'curl')]), T0 + 87_000)).toEqual([]);
    const second = newEngine(p, opts, roundTrip(first.snapshot()));
    // 87 s is the end of window 1 (half-open), so the chmod belongs to window 2; 30 s apart = maxspan.
    expect(ids(second.consume(clone([proc('at-87', 87, 'chmod')]), T0 + 200_000))).toEqual([['at-57', 'at-87']]);
  });

  it('property: any split into windows, with the state through JSON between them, gives the matches of one pass', () => {
    const p = prepareRule(SEQ);
    const arb = fc.record({
      evs: fc.array(fc.record({ sec: fc.integer({ min: 0, max: 300 }), name: fc.constantFrom('curl', 'chmod', 'ls'), host: fc.constantFrom('h1', 'h2', 'h3') }), { maxLength: 40 }),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(arb, ({ evs, cuts }) => {
        const all = evs.map((e, i) => proc(`ev${i}`, e.sec, e.name, e.host));
        const whole = ids(newEngine(p, opts).consume(clone(all), Infinity, true));
        const bounds = [...cuts.sort((a, b) => a - b).map((c) => T0 + c * 1000), Infinity];
        let state: RuleEngineState | null = null;
        let from = -Infinity;
        const split: string[][] = [];
        bounds.forEach((to, i) => {
          const engine = newEngine(p, opts, state);
          const mine = all.filter((h) => {
            const ts = Date.parse(h._source['@timestamp'] as string);
            return ts >= from && ts < to;
          });
          split.push(...ids(engine.consume(clone(mine), to, i === bounds.length - 1)));
          state = roundTrip(engine.snapshot());
          from = to;
        });
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
    const matches = newEngine(p, opts).consume([c, m], Infinity, true);
    expect(ids(matches)).toEqual([['real-curl', 'real-chmod']]);
    const { alerts } = alertsForMatches(p, matches, { now: new Date(T0), spaceId: 'default', executionId: 'x', kibanaUrl: null });
    expect(alerts).toHaveLength(3);
    for (const a of alerts) {
      expect(JSON.stringify(a.doc)).not.toContain('victim');
      expect(Object.keys(a.doc).some((k) => k.startsWith('\u0000'))).toBe(false);
    }
  });
});
