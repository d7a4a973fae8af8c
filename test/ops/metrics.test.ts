/**
 * The worker's Prometheus registry renders valid text exposition whatever the label values hold: rule names
 * come from rule files (and a hostile or careless author), so quotes, backslashes, newlines and odd Unicode
 * must be escaped and must read back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/ops/metrics.js';
import { parseExposition, sampleValue } from './prometheus.js';

describe('Metrics text exposition', () => {
  it('declares a TYPE for every sample and round-trips arbitrary label values', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 8 }),
        (names, increments) => {
          const m = new Metrics();
          const runs = m.counter('eqlwatch_rule_runs_total', 'Rule executions by outcome');
          const lag = m.gauge('eqlwatch_rule_lag_seconds', 'How far the rule checkpoint is behind now');
          const expected = new Map<string, number>();
          names.forEach((name, i) => {
            const by = increments[i % increments.length]!;
            runs({ rule_id: `id-${i}`, rule_name: name, outcome: 'ok' }, by);
            runs({ rule_id: `id-${i}`, rule_name: name, outcome: 'ok' }, 1);
            lag({ rule_id: `id-${i}`, rule_name: name }, i / 4);
            expected.set(name, by + 1);
          });
          const e = parseExposition(m.render());
          expect(e.types.get('eqlwatch_rule_runs_total')).toBe('counter');
          expect(e.types.get('eqlwatch_rule_lag_seconds')).toBe('gauge');
          names.forEach((name, i) => {
            // Lone surrogates cannot survive UTF-8 on the wire, but inside the process the text is exact.
            expect(sampleValue(e, 'eqlwatch_rule_runs_total', { rule_name: name, rule_id: `id-${i}` })).toBe(expected.get(name));
            expect(sampleValue(e, 'eqlwatch_rule_lag_seconds', { rule_name: name })).toBe(i / 4);
          });
          expect(e.samples).toHaveLength(names.length * 2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes non-finite values as the format spells them (+Inf, -Inf, NaN)', () => {
    const m = new Metrics();
    const g = m.gauge('eqlwatch_rule_lag_seconds', 'lag');
    g({ rule_id: 'a' }, Infinity);
    g({ rule_id: 'b' }, -Infinity);
    g({ rule_id: 'c' }, NaN);
    const e = parseExposition(m.render());
    expect(sampleValue(e, 'eqlwatch_rule_lag_seconds', { rule_id: 'a' })).toBe(Infinity);
    expect(sampleValue(e, 'eqlwatch_rule_lag_seconds', { rule_id: 'b' })).toBe(-Infinity);
    expect(sampleValue(e, 'eqlwatch_rule_lag_seconds', { rule_id: 'c' })).toBeNaN();
  });

  it('the reader rejects what a scraper would reject (so the property above can fail)', () => {
    expect(() => parseExposition('x_total 1\n')).toThrow(/undeclared/);
    expect(() => parseExposition('# TYPE x counter\nx{a="b\\q"} 1\n')).toThrow(/escape/);
    expect(() => parseExposition('# TYPE x counter\nx{a="b"c"} 1\n')).toThrow();
    expect(() => parseExposition('# TYPE x counter\nx{a="b"} 1')).toThrow(/newline/);
  });
});
