import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  headerText,
  html,
  plainText,
  slackCode,
  slackFit,
  slackText,
  toWellFormed,
  truncateBytes,
  utf8Length,
} from '../../src/notify/render/escape.js';
import { getString, getStrings, getValues } from '../../src/notify/types.js';

// Strings mixing full unicode, lone surrogates and the characters each context must neutralise.
const hostileChar = fc.constantFrom('\r', '\n', '\t', '\u0000', '\u001b', '\u0085', '\u2028', '\u202e', '<', '>', '&', '"', "'", '`', '*', '_', '~', '!', '@', '\uD800', '\uDC00', 'é', '😀');
const hostile = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(hostileChar, fc.string({ unit: 'grapheme', maxLength: 1 })) , maxLength: 200 }),
);
const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

describe('escaping properties (fast-check)', () => {
  it('headerText never contains CR, LF or any control character, and respects its cap', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 20, max: 300 }), (s, cap) => {
        const h = headerText(s, cap);
        expect(h).not.toMatch(/[\r\n]/);
        expect(h).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]/);
        expect(Array.from(h).length).toBeLessThanOrEqual(cap);
        expect(isWellFormed(h)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('html output has no unescaped < > " \' ` and no raw control characters', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const h = html(s);
        expect(h).not.toMatch(/[<>"'`]/);
        // every & starts one of our entities
        expect(h.replace(/&(amp|lt|gt|quot|#39|#96);/g, '')).not.toContain('&');
        expect(h).not.toMatch(/[\u0000-\u001F\u007F-\u009F]/);
        expect(isWellFormed(h)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('slack text never contains <! (nor any raw < or >), and every & is an entity', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        for (const t of [slackText(s), slackCode(s)]) {
          expect(t).not.toContain('<!');
          expect(t).not.toMatch(/[<>]/);
          expect(t.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
          expect(t).not.toContain('\n');
        }
        expect(slackCode(s)).not.toContain('`');
      }),
      { numRuns: 2000 },
    );
  });

  it('plainText renders on one line and is reversible enough to show every control as an escape', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const p = plainText(s);
        expect(p).not.toMatch(/[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/);
        expect(isWellFormed(p)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('truncateBytes keeps at most the cap (plus marker), cuts on code points and reports the exact dropped byte count', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 0, max: 64 }), (s, cap) => {
        const w = toWellFormed(s);
        const t = truncateBytes(s, cap);
        expect(isWellFormed(t)).toBe(true);
        if (utf8Length(w) <= cap) {
          expect(t).toBe(w);
          return;
        }
        const m = /… \[truncated, (\d+) more bytes\]$/.exec(t);
        expect(m).not.toBeNull();
        const kept = t.slice(0, t.length - (m as RegExpExecArray)[0].length);
        expect(utf8Length(kept)).toBeLessThanOrEqual(cap);
        expect(w.startsWith(kept)).toBe(true);
        expect(utf8Length(kept) + Number((m as RegExpExecArray)[1])).toBe(utf8Length(w));
      }),
      { numRuns: 2000 },
    );
  });

  it('slackFit never cuts an entity in half and stays within the limit', () => {
    fc.assert(
      fc.property(hostile, fc.integer({ min: 20, max: 120 }), (s, max) => {
        const f = slackFit(slackText(s), max);
        expect(f.length).toBeLessThanOrEqual(max);
        expect(f.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
        expect(isWellFormed(f)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('escaping examples', () => {
  it('header injection payload becomes one line', () => {
    expect(headerText('a\r\nBcc: x@evil\r\n\r\nbody')).toBe('a Bcc: x@evil body');
  });
  it('plain text shows controls as visible escapes', () => {
    expect(plainText('a\r\nb\tc\u001b[0m\u202Ed')).toBe('a\\r\\nb\\tc\\x1B[0m\\u202Ed');
  });
  it('html entity-escapes all six characters', () => {
    expect(html(`<script>"'\`&`)).toBe('&lt;script&gt;&quot;&#39;&#96;&amp;');
  });
  it('slack escapes only & < > (Slack decodes only those) and replaces backticks in code', () => {
    expect(slackText('<!channel> *b* & "q"')).toBe('&lt;!channel&gt; *b* &amp; "q"');
    expect(slackCode('```x```')).toBe('ˋˋˋxˋˋˋ');
  });
  it('lone surrogates become U+FFFD, valid pairs survive', () => {
    expect(toWellFormed('a\uD800b\uDC00c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
  it('64 KB value is truncated with a visible marker and exact byte count', () => {
    const t = truncateBytes('é'.repeat(1000), 1001);
    expect(t).toBe(`${'é'.repeat(500)}… [truncated, 1000 more bytes]`);
  });
});

describe('AlertDoc accessor', () => {
  const doc = {
    'kibana.alert.rule.name': 'dotted',
    kibana: { alert: { severity: 'high', rule: { tags: ['a', 'b'] } } },
    orchestrator: { 'resource.name': 'pod-x' },
    process: { args: [['sh'], '-c', null] },
    'kubernetes.audit': { user: [{ username: 'u1' }, { username: 'u2' }] },
  };
  it('reads dotted keys, nested objects, mixed forms and arrays', () => {
    expect(getString(doc, 'kibana.alert.rule.name')).toBe('dotted');
    expect(getString(doc, 'kibana.alert.severity')).toBe('high');
    expect(getStrings(doc, 'kibana.alert.rule.tags')).toEqual(['a', 'b']);
    expect(getString(doc, 'orchestrator.resource.name')).toBe('pod-x');
    expect(getValues(doc, 'process.args')).toEqual(['sh', '-c']);
    expect(getString(doc, 'kubernetes.audit.user.username')).toBe('u1, u2');
    expect(getString(doc, 'host.name')).toBeUndefined();
  });
});
