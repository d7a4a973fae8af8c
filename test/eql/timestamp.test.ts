import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCanonicalTimestamp } from '../../src/eql/timestamp.js';
import { parseIsoDate } from '../../src/eql/values.js';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Canonical-looking timestamps, including out-of-range fields and day overflow. */
const canonical = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 24 }),
    minute: fc.integer({ min: 0, max: 60 }),
    second: fc.integer({ min: 0, max: 60 }),
    sep: fc.constantFrom('T', 't', ' '),
    fraction: fc.option(fc.tuple(fc.constantFrom('.', ','), fc.stringMatching(/^\d{1,10}$/)), { nil: undefined }),
    zone: fc.constantFrom('', 'Z', 'z', '+00:00', '-00:00', '+05:30', '-11:45', '+0230', '-02', '+14:00', '+5', 'Q'),
  })
  .map(
    (r) =>
      `${pad(r.year, 4)}-${pad(r.month, 2)}-${pad(r.day, 2)}${r.sep}${pad(r.hour, 2)}:${pad(r.minute, 2)}:${pad(r.second, 2)}` +
      `${r.fraction === undefined ? '' : r.fraction[0] + r.fraction[1]}${r.zone}`,
  );

/** The fast path either declines (NaN) or agrees exactly with the general parser. */
function agrees(s: string): void {
  const fast = parseCanonicalTimestamp(s);
  if (!Number.isNaN(fast)) expect(Object.is(fast, parseIsoDate(s))).toBe(true);
}

describe('parseCanonicalTimestamp', () => {
  it('parses the common canonical forms exactly as parseIsoDate does', () => {
    for (const s of [
      '2026-01-20T10:02:44.179Z',
      '2026-01-20T10:02:44Z',
      '2026-01-20T10:02:44.1Z',
      '2026-01-20T10:02:44.12+01:00',
      '2026-01-20T10:02:44.123456789-05:30',
      '2024-02-29T23:59:59.999Z',
      '2000-02-29 00:00:00',
      '1970-01-01T00:00:00.007Z',
    ]) {
      const fast = parseCanonicalTimestamp(s);
      expect(Number.isNaN(fast)).toBe(false);
      expect(fast).toBe(parseIsoDate(s));
    }
  });

  it('declines what it does not handle, leaving the decision to parseIsoDate', () => {
    for (const s of ['2026-01-20', '2026-01-20T10:02Z', '0099-01-01T00:00:00Z', '2023-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-20T10:02:44.Z', '2026-01-20T10:02:44.1234567890Z', '2026-01-20T10:02:44Zx', '+2026-01-20T10:02:44Z', 'not a date']) {
      expect(parseCanonicalTimestamp(s)).toBeNaN();
    }
  });

  it('agrees with parseIsoDate on random canonical-looking strings', () => {
    fc.assert(fc.property(canonical, (s) => agrees(s)), { numRuns: 5000 });
  });

  it('agrees with parseIsoDate on every millisecond fraction of one second', () => {
    for (let k = 0; k < 1000; k++) {
      for (const digits of [pad(k, 3), String(k).slice(0, 1), pad(k % 100, 2)]) agrees(`2026-01-20T10:02:44.${digits}Z`);
    }
  });

  it('agrees with parseIsoDate on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => agrees(s)), { numRuns: 2000 });
  });
});
