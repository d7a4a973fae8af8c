/**
 * EQL wildcard patterns (`:`, `like`, `like~`): `*` = any run of characters (possibly empty),
 * `?` = exactly one character, every other character literal — including backslash: Elasticsearch
 * converts the pattern with `StringUtils.toLikePattern` and then to a Lucene wildcard with `\`
 * escaped, so there is no way to escape `*`/`?` and `\` is an ordinary character.
 *
 * Lucene runs wildcards as automata over Unicode code points, so `?` consumes one code point (a
 * surrogate pair counts once). Case-insensitive matching (`case_insensitive` on term/wildcard
 * queries) folds ASCII letters only; `unicode` folding mirrors script-side evaluation
 * (Java `toLowerCase`), used when the left side is not a plain field.
 *
 * Matching is segment based and never backtracks exponentially: the pattern is split on `*`; the
 * first segment must match at the start, the last at the end, and each middle segment is matched at
 * its leftmost position (which is optimal for globs). Worst case O(|text| · |pattern|).
 */

export type CaseFold = 'none' | 'ascii' | 'unicode';

export type StringMatcher = (text: string) => boolean;

const ASCII_UPPER = /[A-Z]+/g;
const HAS_ASCII_UPPER = /[A-Z]/;

/** Lower-cases ASCII letters only (Elasticsearch `case_insensitive` semantics). */
export function asciiLower(s: string): string {
  return HAS_ASCII_UPPER.test(s) ? s.replace(ASCII_UPPER, (m) => m.toLowerCase()) : s;
}

/** Applies the chosen case folding to a string. */
export function foldCase(s: string, fold: CaseFold): string {
  if (fold === 'none') return s;
  if (fold === 'ascii') return asciiLower(s);
  return s.toLowerCase();
}

/** True when the pattern contains wildcard characters. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** One token of a segment: a literal run, or `?` (represented by null). */
type Token = string | null;

interface Segment {
  tokens: Token[];
  /** Number of `?` in the segment. */
  anys: number;
}

function parseSegment(text: string): Segment {
  const tokens: Token[] = [];
  let lit = '';
  let anys = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '?') {
      if (lit) tokens.push(lit);
      lit = '';
      tokens.push(null);
      anys++;
    } else {
      lit += ch;
    }
  }
  if (lit) tokens.push(lit);
  return { tokens, anys };
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Index after the code point starting at `pos` (pos < text.length). */
function nextCodePoint(text: string, pos: number): number {
  const c = text.charCodeAt(pos);
  if (isHigh(c) && pos + 1 < text.length && isLow(text.charCodeAt(pos + 1))) return pos + 2;
  return pos + 1;
}

/** Index of the start of the code point ending at `end` (end > 0). */
function prevCodePoint(text: string, end: number): number {
  const c = text.charCodeAt(end - 1);
  if (isLow(c) && end - 2 >= 0 && isHigh(text.charCodeAt(end - 2))) return end - 2;
  return end - 1;
}

/** Matches `seg` starting at `pos`; returns the end index or -1. Never reads past `limit`. */
function matchForward(text: string, pos: number, seg: Segment, limit: number): number {
  const tokens = seg.tokens;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t];
    if (tok === null || tok === undefined) {
      if (pos >= limit) return -1;
      pos = nextCodePoint(text, pos);
      if (pos > limit) return -1;
    } else {
      if (pos + tok.length > limit || !text.startsWith(tok, pos)) return -1;
      pos += tok.length;
    }
  }
  return pos;
}

/** Matches `seg` ending exactly at `end`; returns its start index or -1. Never reads before `floor`. */
function matchBackward(text: string, end: number, seg: Segment, floor: number): number {
  const tokens = seg.tokens;
  for (let t = tokens.length - 1; t >= 0; t--) {
    const tok = tokens[t];
    if (tok === null || tok === undefined) {
      if (end <= floor) return -1;
      end = prevCodePoint(text, end);
      if (end < floor) return -1;
    } else {
      const start = end - tok.length;
      if (start < floor || !text.startsWith(tok, start)) return -1;
      end = start;
    }
  }
  return end;
}

/** Leftmost match of `seg` in [from, limit): returns the end index or -1. */
function findForward(text: string, from: number, seg: Segment, limit: number): number {
  const firstTok = seg.tokens[0];
  if (seg.anys === 0 && typeof firstTok === 'string') {
    // Pure literal: native search.
    const idx = text.indexOf(firstTok, from);
    if (idx < 0 || idx + firstTok.length > limit) return -1;
    return idx + firstTok.length;
  }
  let pos = from;
  while (pos <= limit) {
    if (typeof firstTok === 'string') {
      const idx = text.indexOf(firstTok, pos);
      if (idx < 0 || idx > limit) return -1;
      pos = idx;
    }
    const end = matchForward(text, pos, seg, limit);
    if (end >= 0) return end;
    if (pos >= limit) return -1;
    pos = nextCodePoint(text, pos);
  }
  return -1;
}

/** Compiles a pattern whose wildcard characters are significant. */
function compileGlob(pattern: string): (text: string) => boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) {
    const seg = parseSegment(pattern);
    return (text) => matchForward(text, 0, seg, text.length) === text.length;
  }
  const head = parseSegment(parts[0] as string);
  const tail = parseSegment(parts[parts.length - 1] as string);
  const middle = parts.slice(1, -1).filter((p) => p.length > 0).map(parseSegment);
  const headEmpty = head.tokens.length === 0;
  const tailEmpty = tail.tokens.length === 0;
  // `*` alone, `**`…: anything matches.
  if (headEmpty && tailEmpty && middle.length === 0) return () => true;
  return (text) => {
    let start = 0;
    if (!headEmpty) {
      start = matchForward(text, 0, head, text.length);
      if (start < 0) return false;
    }
    let limit = text.length;
    if (!tailEmpty) {
      limit = matchBackward(text, text.length, tail, start);
      if (limit < 0) return false;
    }
    for (let m = 0; m < middle.length; m++) {
      start = findForward(text, start, middle[m] as Segment, limit);
      if (start < 0) return false;
    }
    return true;
  };
}

/**
 * Compiles an EQL wildcard pattern into a whole-value matcher. Patterns without `*`/`?` become an
 * equality test (after folding).
 */
export function compileWildcard(pattern: string, fold: CaseFold = 'none'): StringMatcher {
  const p = foldCase(pattern, fold);
  if (!hasWildcard(p)) {
    if (fold === 'none') return (text) => text === p;
    if (fold === 'ascii') return (text) => text.length === p.length && asciiLower(text) === p;
    return (text) => text.toLowerCase() === p;
  }
  const glob = compileGlob(p);
  if (fold === 'none') return glob;
  if (fold === 'ascii') return (text) => glob(asciiLower(text));
  return (text) => glob(text.toLowerCase());
}

/** Equality of two strings under the folding (ASCII folding preserves length). */
export function equalsFolded(a: string, b: string, fold: CaseFold): boolean {
  if (fold === 'none') return a === b;
  if (fold === 'ascii') return a.length === b.length && asciiLower(a) === asciiLower(b);
  return a.toLowerCase() === b.toLowerCase();
}
