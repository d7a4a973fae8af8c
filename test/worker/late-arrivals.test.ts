/** Late arrivals: pending sequence repairs merge and stay bounded; the run's summary warns only beyond the tolerance. */
import { describe, expect, it } from 'vitest';
import { addRepair, describeLate, MAX_REPAIRS } from '../../src/worker/late-arrivals.js';
import type { LateReport, Repair } from '../../src/worker/run-types.js';
import type { Rule } from '../../src/rules/schema.js';

const late = (over: Partial<LateReport>): LateReport => ({
  events: 0, beyondTolerance: 0, olderThanHorizon: 0, eventsRead: 0, alertsCreated: 0, repairsPending: 0, incomplete: false, ...over,
});
const rule = { id: 'r1', name: 'Rule <one>' } as Rule;

describe('addRepair', () => {
  it('merges overlapping stretches, summing what was added and keeping the later due time', () => {
    const merged = addRepair([{ from: 0, to: 10, added: 1, due: 20 }], { from: 5, to: 15, added: 2, due: 25 });
    expect(merged).toEqual([{ from: 0, to: 15, added: 3, due: 25 }]);
  });

  it('keeps disjoint stretches apart and in order', () => {
    const merged = addRepair([{ from: 50, to: 60, added: 1, due: 70 }], { from: 0, to: 10, added: 1, due: 20 });
    expect(merged.map((r) => r.from)).toEqual([0, 50]);
  });

  it(`never holds more than ${MAX_REPAIRS} stretches: the nearest merge, nothing added is dropped`, () => {
    let repairs: Repair[] = [];
    for (let i = 0; i < MAX_REPAIRS * 3; i++) repairs = addRepair(repairs, { from: i * 100 + (i % 7) * 10, to: i * 100 + (i % 7) * 10 + 5, added: 1, due: i * 100 + 50 });
    expect(repairs.length).toBe(MAX_REPAIRS);
    expect(repairs.reduce((n, r) => n + r.added, 0)).toBe(MAX_REPAIRS * 3);
    expect(repairs[0]!.from).toBe(0);
    for (let i = 1; i < repairs.length; i++) expect(repairs[i]!.from).toBeGreaterThanOrEqual(repairs[i - 1]!.to);
  });
});

describe('describeLate', () => {
  it('is debug within the tolerance (the ordinary refresh lag)', () => {
    const d = describeLate(rule, 'event', late({ events: 3, alertsCreated: 1 }), [], 60_000);
    expect(d.level).toBe('debug');
    expect(d.message).toContain('3 within the tolerance were evaluated as if on time');
  });

  it('warns beyond the tolerance and names the setting and the stretches', () => {
    const d = describeLate(rule, 'sequence', late({ events: 2, beyondTolerance: 2, repairsPending: 1 }), [{ from: 0, to: 1000, count: 4, added: 2 }], 60_000);
    expect(d.level).toBe('warn');
    expect(d.message).toContain('later than worker.lateness=1m');
    expect(d.message).toContain('1 stretch(es) once maxspan has passed');
    expect(d.fields.stretches).toEqual([{ from: '1970-01-01T00:00:00.000Z', to: '1970-01-01T00:00:01.000Z', added: 2 }]);
  });

  it('warns when a re-evaluation read was truncated, even within the tolerance', () => {
    expect(describeLate(rule, 'sequence', late({ events: 1, incomplete: true }), [], 60_000).level).toBe('warn');
  });
});
