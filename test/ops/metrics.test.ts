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
  it('declares a TYPE for every sample and round-trips arbitrary label values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 8 }),
        async (names, increments) => {
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
          const e = parseExposition(await m.render());
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

  it('writes non-finite values as the format spells them (+Inf, -Inf, NaN)', async () => {
    const m = new Metrics();
    const g = m.gauge('eqlwatch_rule_lag_seconds', 'lag');
    g({ rule_id: 'a' }, Infinity);
    g({ rule_id: 'b' }, -Infinity);
    g({ rule_id: 'c' }, NaN);
    const e = parseExposition(await m.render());
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

  it('lists a metric (HELP and TYPE, no sample) as soon as it is defined, and its samples once recorded', async () => {
    const m = new Metrics();
    const errors = m.counter('eqlwatch_errors_total', 'Errors by kind');
    let e = parseExposition(await m.render());
    expect(e.types.get('eqlwatch_errors_total')).toBe('counter');
    expect(e.samples).toEqual([]);
    errors({ kind: 'gap' });
    errors({ kind: 'gap' }, 2);
    e = parseExposition(await m.render());
    expect(e.samples).toEqual([{ name: 'eqlwatch_errors_total', labels: { kind: 'gap' }, value: 3 }]);
    expect(m.value('eqlwatch_errors_total', { kind: 'gap' })).toBe(3);
    expect(m.value('eqlwatch_errors_total', { kind: 'notify' })).toBeUndefined();
  });

  it('histograms: cumulative buckets, +Inf, _sum and _count; value() is the observation count', async () => {
    const m = new Metrics();
    const latency = m.histogram('eqlwatch_detection_latency_seconds', 'Event time to alert written', [1, 10, 60]);
    for (const v of [0.5, 5, 5, 120]) latency({ rule_id: 'r' }, v);
    const e = parseExposition(await m.render());
    expect(e.types.get('eqlwatch_detection_latency_seconds')).toBe('histogram');
    const bucket = (le: string) => sampleValue(e, 'eqlwatch_detection_latency_seconds_bucket', { rule_id: 'r', le });
    expect([bucket('1'), bucket('10'), bucket('60'), bucket('+Inf')]).toEqual([1, 3, 3, 4]);
    expect(sampleValue(e, 'eqlwatch_detection_latency_seconds_sum', { rule_id: 'r' })).toBe(130.5);
    expect(sampleValue(e, 'eqlwatch_detection_latency_seconds_count', { rule_id: 'r' })).toBe(4);
    expect(m.value('eqlwatch_detection_latency_seconds', { rule_id: 'r' })).toBe(4);
  });

  it('a metric keeps the labels of its first use: other label names are refused loudly', () => {
    const m = new Metrics();
    const runs = m.counter('eqlwatch_rule_runs_total', 'Rule executions by outcome');
    runs({ rule_id: 'a', outcome: 'ok' });
    runs({ outcome: 'failed' }); // a subset is fine
    expect(() => runs({ rule_id: 'a', status: 'ok' })).toThrow(/eqlwatch_rule_runs_total: label\(s\) status not among rule_id, outcome/);
    expect(() => m.gauge('eqlwatch_rule_runs_total', 'x')).toThrow(/already defined as a counter/);
  });

  it('exports the default process metrics when asked (the worker does), and not otherwise', async () => {
    const plain = parseExposition(await new Metrics().render());
    expect(plain.types.size).toBe(0);
    const worker = parseExposition(await new Metrics({ processMetrics: true }).render());
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(worker.types.has(name), name).toBe(true);
    }
  });
});
