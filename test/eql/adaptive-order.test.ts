import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileExpression, compileQuery } from '../../src/eql/compile.js';
import type { EqlEvent } from '../../src/eql/compiled.js';

// `and` operands are reordered at run time by observed selectivity (every 1024 calls). A freshly
// compiled predicate used once has never reordered: it is the oracle for a long-lived one.

const event = fc.record(
  {
    a: fc.oneof(fc.constantFrom(1, 2, '1', 'x', null), fc.array(fc.constantFrom(1, 2, 'x'), { maxLength: 3 })),
    b: fc.constantFrom('p', 'q', 'P', 7, true),
    c: fc.record({ d: fc.constantFrom('curl', 'sh', 'bash', 'wget'), e: fc.constantFrom(true, false, 'true') }, { requiredKeys: [] }),
    'event.category': fc.constantFrom('process', 'network', ['process', 'file']),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<EqlEvent>;

const CONDITIONS = [
  'a == 1 and b == "p" and c.d in ("curl", "wget") and c.e == true',
  'not (a == 2 and b != "q") and (c.d like "*a*" or a == null) and b : "p"',
  'a in (1, 2) and (b == "p" or c.e == true) and not c.d in ("sh") and startsWith(c.d, "c")',
];

describe('adaptive `and` ordering', () => {
  for (const cond of CONDITIONS) {
    it(`gives the fresh predicate's answer on every event, across reorderings: ${cond}`, () => {
      const longLived = compileExpression(cond);
      fc.assert(
        fc.property(fc.array(event, { minLength: 1500, maxLength: 3000 }), (events) => {
          // Longer than the reorder period: the long-lived predicate reorders mid-stream.
          for (const e of events) expect(longLived(e)).toBe(compileExpression(cond)(e));
        }),
        { numRuns: 8 },
      );
    });
  }

  it('keeps the category test exact after reordering (event query)', () => {
    const q = compileQuery('process where b == "p" and c.d == "curl"');
    const p = q.predicate as (e: EqlEvent) => boolean;
    const matching: EqlEvent = { 'event.category': 'process', b: 'p', c: { d: 'curl' } };
    const wrongCategory: EqlEvent = { 'event.category': 'network', b: 'p', c: { d: 'curl' } };
    const wrongName: EqlEvent = { 'event.category': 'process', b: 'p', c: { d: 'sh' } };
    // Train: a stream where only c.d rejects, then one where only the category does.
    for (let i = 0; i < 5000; i++) expect(p(wrongName)).toBe(false);
    expect(p(matching)).toBe(true);
    for (let i = 0; i < 5000; i++) expect(p(wrongCategory)).toBe(false);
    expect(p(matching)).toBe(true);
    expect(p(wrongName)).toBe(false);
  });
});
