/**
 * Lucene regular expressions (what Elasticsearch's `regexp` query runs for EQL `regex`/`regex~`,
 * with all optional syntax enabled: flags 255) ► a whole-value matcher.
 *
 * The parser is a faithful port of Lucene's `RegExp` recursive descent (`org.apache.lucene.util.
 * automaton.RegExp`), so the same strings are operators or literals as in Elasticsearch:
 * - always anchored (a regexp matches the whole value); `^` and `$` are ordinary characters;
 * - reserved: `. ? + * | { } [ ] ( ) " \ # @ & < > ~`; `"…"` is a literal string; `\c` escapes c;
 *   `\d \D \s \S \w \W` are the classes `[0-9]`, `[ \t\n\r]`, `[a-zA-Z_0-9]` and their negations;
 *   a backslash before another letter is an error (`\n` is invalid, as in Lucene);
 * - `#` empty language, `@` any string, `<n-m>` decimal interval (fixed width when n and m have
 *   the same number of digits, otherwise any number of leading zeros), `~e` complement,
 *   `a&b` intersection, `()` the empty string; `.` is any one code point.
 * - `regex~` (case_insensitive) folds ASCII letters of literal characters and strings; character
 *   ranges stay case-sensitive (Elasticsearch regexp-syntax documentation).
 *
 * Translation: every sub-expression without `~`/`&` becomes a JS RegExp (`u` + `s` flags, anchored);
 * `~` and `&` are supported where they combine whole-value matches (the top level, and under `|`),
 * which a JS RegExp cannot express inside a concatenation: there the pattern is rejected with an
 * EqlError of kind 'unsupported' rather than silently approximated.
 *
 * Cost: patterns come from rules (trusted) but values from events (untrusted), and a JS RegExp may
 * backtrack. Values longer than `MAX_REGEX_INPUT` UTF-16 code units are never tested (they do not
 * match) so that the cost per value stays bounded. This mirrors Elasticsearch in spirit: keyword
 * fields ignore values above `ignore_above` (1024 for most ECS keyword fields).
 */
import { EqlError } from './errors.js';

export const MAX_REGEX_INPUT = 16_384;

type Node =
  | { k: 'union'; a: Node; b: Node }
  | { k: 'concat'; a: Node; b: Node }
  | { k: 'inter'; a: Node; b: Node }
  | { k: 'opt'; e: Node }
  | { k: 'star'; e: Node }
  | { k: 'repeat'; e: Node; min: number; max: number } // max -1 = unbounded
  | { k: 'compl'; e: Node }
  | { k: 'char'; c: number }
  | { k: 'range'; from: number; to: number }
  | { k: 'any' }
  | { k: 'empty' }
  | { k: 'string'; s: string }
  | { k: 'anystring' }
  | { k: 'interval'; min: number; max: number; digits: number }
  | { k: 'pre'; c: string }
  /** A character class: union of items, possibly negated. */
  | { k: 'class'; items: Node[]; negate: boolean };

class RegexSyntaxError extends Error {}

/** Port of Lucene's RegExp parser (syntax flags ALL). Works on code points. */
class Parser {
  private pos = 0;
  constructor(private readonly s: string) {}

  parse(): Node {
    if (this.s.length === 0) return { k: 'string', s: '' };
    const e = this.union();
    if (this.pos < this.s.length) throw new RegexSyntaxError(`end-of-string expected at position ${this.pos}`);
    return e;
  }

  private more(): boolean {
    return this.pos < this.s.length;
  }
  private cur(): number {
    return this.s.codePointAt(this.pos) as number;
  }
  private peek(chars: string): boolean {
    return this.more() && chars.includes(String.fromCodePoint(this.cur()));
  }
  private match(c: string): boolean {
    if (!this.more()) return false;
    if (this.cur() === c.codePointAt(0)) {
      this.pos += c.length;
      return true;
    }
    return false;
  }
  private next(): number {
    if (!this.more()) throw new RegexSyntaxError('unexpected end-of-string');
    const c = this.cur();
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  private union(): Node {
    const e = this.inter();
    if (this.match('|')) return { k: 'union', a: e, b: this.union() };
    return e;
  }
  private inter(): Node {
    const e = this.concat();
    if (this.match('&')) return { k: 'inter', a: e, b: this.inter() };
    return e;
  }
  private concat(): Node {
    const e = this.repeat();
    if (this.more() && !this.peek(')|') && !this.peek('&')) return { k: 'concat', a: e, b: this.concat() };
    return e;
  }
  private repeat(): Node {
    let e = this.compl();
    while (this.peek('?*+{')) {
      if (this.match('?')) e = { k: 'opt', e };
      else if (this.match('*')) e = { k: 'star', e };
      else if (this.match('+')) e = { k: 'repeat', e, min: 1, max: -1 };
      else if (this.match('{')) {
        let start = this.pos;
        while (this.peek('0123456789')) this.next();
        if (start === this.pos) throw new RegexSyntaxError(`integer expected at position ${this.pos}`);
        const n = parseInt(this.s.slice(start, this.pos), 10);
        let m = -1;
        if (this.match(',')) {
          start = this.pos;
          while (this.peek('0123456789')) this.next();
          if (start !== this.pos) m = parseInt(this.s.slice(start, this.pos), 10);
        } else m = n;
        if (!this.match('}')) throw new RegexSyntaxError(`expected '}' at position ${this.pos}`);
        // Lucene builds the empty language for {n,m} with m < n rather than failing.
        e = m !== -1 && m < n ? { k: 'empty' } : { k: 'repeat', e, min: n, max: m };
      }
    }
    return e;
  }
  private compl(): Node {
    if (this.match('~')) return { k: 'compl', e: this.compl() };
    return this.charClassExp();
  }
  private charClassExp(): Node {
    if (this.match('[')) {
      const negate = this.match('^');
      const items: Node[] = [this.charClass()];
      while (this.more() && !this.peek(']')) items.push(this.charClass());
      if (!this.match(']')) throw new RegexSyntaxError(`expected ']' at position ${this.pos}`);
      return { k: 'class', items, negate };
    }
    return this.simple();
  }
  private charClass(): Node {
    const pre = this.predefined();
    if (pre !== null) return pre;
    const c = this.charExp();
    if (this.match('-')) {
      const to = this.charExp();
      if (c > to) throw new RegexSyntaxError(`invalid range: from (${c}) cannot be > to (${to})`);
      return { k: 'range', from: c, to };
    }
    return { k: 'char', c };
  }
  /** Lucene `matchPredefinedCharacterClass` (consumes a backslash even when it returns null). */
  private predefined(): Node | null {
    if (this.match('\\')) {
      if (this.peek('dDwWsS')) return { k: 'pre', c: String.fromCodePoint(this.next()) };
      if (this.peek('\\')) return { k: 'char', c: this.next() };
      if (this.peek('abcefghijklmnopqrtuvxyz') || this.peek('ABCEFGHIJKLMNOPQRTUVXYZ')) {
        throw new RegexSyntaxError(`invalid character class \\${String.fromCodePoint(this.next())}`);
      }
    }
    return null;
  }
  private simple(): Node {
    if (this.match('.')) return { k: 'any' };
    if (this.match('#')) return { k: 'empty' };
    if (this.match('@')) return { k: 'anystring' };
    if (this.match('"')) {
      const start = this.pos;
      while (this.more() && !this.peek('"')) this.next();
      if (!this.match('"')) throw new RegexSyntaxError(`expected '"' at position ${this.pos}`);
      return { k: 'string', s: this.s.slice(start, this.pos - 1) };
    }
    if (this.match('(')) {
      if (this.match(')')) return { k: 'string', s: '' };
      const e = this.union();
      if (!this.match(')')) throw new RegexSyntaxError(`expected ')' at position ${this.pos}`);
      return e;
    }
    if (this.match('<')) {
      const start = this.pos;
      while (this.more() && !this.peek('>')) this.next();
      if (!this.match('>')) throw new RegexSyntaxError(`expected '>' at position ${this.pos}`);
      const body = this.s.slice(start, this.pos - 1);
      const i = body.indexOf('-');
      if (i === -1) throw new RegexSyntaxError(`named automaton <${body}> is not available`);
      if (i === 0 || i === body.length - 1 || i !== body.lastIndexOf('-') || !/^\d+-\d+$/.test(body)) {
        throw new RegexSyntaxError(`interval syntax error at position ${this.pos - 1}`);
      }
      const smin = body.slice(0, i);
      const smax = body.slice(i + 1);
      let min = parseInt(smin, 10);
      let max = parseInt(smax, 10);
      if (min > 2147483647 || max > 2147483647) throw new RegexSyntaxError('interval bound too large');
      const digits = smin.length === smax.length ? smin.length : 0;
      if (min > max) [min, max] = [max, min];
      return { k: 'interval', min, max, digits };
    }
    const pre = this.predefined();
    if (pre !== null) return pre;
    return { k: 'char', c: this.charExp() };
  }
  private charExp(): number {
    this.match('\\');
    return this.next();
  }
}

// ---------------------------------------------------------------------------------------------
// Emission to JS RegExp source (u + s flags)

class Untranslatable extends Error {}

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const CLASS_SYNTAX = new Set('\\]-[^'.split(''));

function hexEscape(c: number): string {
  return `\\u{${c.toString(16)}}`;
}

function emitCodePoint(c: number, inClass: boolean): string {
  if (c < 0x20 || c === 0x7f || (c >= 0xd800 && c <= 0xdfff) || c === 0x2028 || c === 0x2029) return hexEscape(c);
  const ch = String.fromCodePoint(c);
  if ((inClass ? CLASS_SYNTAX : SYNTAX).has(ch)) return `\\${ch}`;
  return ch;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** One literal character, folded to `[aA]` for ASCII letters under case-insensitivity. */
function emitChar(c: number, ci: boolean): string {
  if (ci && isAsciiLetter(c)) {
    const lo = c | 0x20;
    return `[${String.fromCharCode(lo)}${String.fromCharCode(lo & ~0x20)}]`;
  }
  return emitCodePoint(c, false);
}

function emitString(s: string, ci: boolean): string {
  let out = '';
  for (const ch of s) out += emitChar(ch.codePointAt(0) as number, ci);
  return out.length === 0 ? '(?:)' : `(?:${out})`;
}

const PRE_POSITIVE: Record<string, string> = { d: '0-9', s: ' \\t\\n\\r', w: 'a-zA-Z_0-9' };

function emitPre(c: string): string {
  const body = PRE_POSITIVE[c.toLowerCase()] as string;
  return c === c.toLowerCase() ? `[${body}]` : `[^${body}]`;
}

/** Class item inside `[...]` (positive forms only). */
function classItem(n: Node, ci: boolean): string {
  switch (n.k) {
    case 'char':
      if (ci && isAsciiLetter(n.c)) {
        const lo = n.c | 0x20;
        return String.fromCharCode(lo) + String.fromCharCode(lo & ~0x20);
      }
      return emitCodePoint(n.c, true);
    case 'range':
      return `${emitCodePoint(n.from, true)}-${emitCodePoint(n.to, true)}`;
    case 'pre':
      if (n.c === n.c.toLowerCase()) return PRE_POSITIVE[n.c] as string;
      throw new Untranslatable('negated class inside a class');
    default:
      throw new Untranslatable(`unexpected class item ${n.k}`);
  }
}

function emitClass(n: Extract<Node, { k: 'class' }>, ci: boolean): string {
  const negatedPre = n.items.filter((i) => i.k === 'pre' && i.c !== i.c.toLowerCase());
  const simple = n.items.filter((i) => !(i.k === 'pre' && i.c !== i.c.toLowerCase()));
  if (n.negate) {
    if (negatedPre.length > 0) throw new Untranslatable('negated class containing \\D, \\S or \\W');
    return `[^${simple.map((i) => classItem(i, ci)).join('')}]`;
  }
  const alts: string[] = [];
  if (simple.length > 0) alts.push(`[${simple.map((i) => classItem(i, ci)).join('')}]`);
  for (const p of negatedPre) alts.push(emitPre((p as { c: string }).c));
  return alts.length === 1 ? (alts[0] as string) : `(?:${alts.join('|')})`;
}

/** Regex for zero-padded decimal strings of equal length in [lo, hi]. */
function fixedRange(lo: string, hi: string): string {
  if (lo.length === 0) return '';
  if (lo === hi) return lo;
  const a = lo.charCodeAt(0) - 48;
  const b = hi.charCodeAt(0) - 48;
  const rest = lo.length - 1;
  if (a === b) return `${a}${fixedRange(lo.slice(1), hi.slice(1))}`;
  const parts = [`${a}${fixedRange(lo.slice(1), '9'.repeat(rest))}`];
  if (b - a > 1) parts.push(`[${a + 1}-${b - 1}]${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  parts.push(`${b}${fixedRange('0'.repeat(rest), hi.slice(1))}`);
  return `(?:${parts.join('|')})`;
}

function emitInterval(min: number, max: number, digits: number): string {
  if (digits > 0) {
    return fixedRange(String(min).padStart(digits, '0'), String(max).padStart(digits, '0'));
  }
  const alts: string[] = [];
  const minLen = String(min).length;
  const maxLen = String(max).length;
  for (let len = minLen; len <= maxLen; len++) {
    const lo = Math.max(min, len === 1 ? 0 : 10 ** (len - 1));
    const hi = Math.min(max, 10 ** len - 1);
    if (lo > hi) continue;
    alts.push(fixedRange(String(lo), String(hi)));
  }
  return `0*(?:${alts.join('|')})`;
}

function emit(n: Node, ci: boolean): string {
  switch (n.k) {
    case 'union':
      return `(?:${emit(n.a, ci)}|${emit(n.b, ci)})`;
    case 'concat':
      return `${emit(n.a, ci)}${emit(n.b, ci)}`;
    case 'inter':
    case 'compl':
      throw new Untranslatable(n.k === 'inter' ? "intersection '&'" : "complement '~'");
    case 'opt':
      return `(?:${emit(n.e, ci)})?`;
    case 'star':
      return `(?:${emit(n.e, ci)})*`;
    case 'repeat':
      if (n.min > 1000 || n.max > 1000) throw new Untranslatable('repetition count above 1000');
      if (n.max === -1) return n.min === 1 ? `(?:${emit(n.e, ci)})+` : `(?:${emit(n.e, ci)}){${n.min},}`;
      return `(?:${emit(n.e, ci)}){${n.min},${n.max}}`;
    case 'char':
      return emitChar(n.c, ci);
    case 'range':
      return `[${emitCodePoint(n.from, true)}-${emitCodePoint(n.to, true)}]`;
    case 'any':
      return '.';
    case 'empty':
      return '[]';
    case 'string':
      return emitString(n.s, ci);
    case 'anystring':
      return '.*';
    case 'interval':
      return emitInterval(n.min, n.max, n.digits);
    case 'pre':
      return emitPre(n.c);
    case 'class':
      return emitClass(n, ci);
  }
}

type Matcher = (s: string) => boolean;

/** Whole-value matcher for a node: `&`, `~` and `|` combine sub-matchers; the rest is one RegExp. */
function build(n: Node, ci: boolean): Matcher {
  switch (n.k) {
    case 'inter': {
      const a = build(n.a, ci);
      const b = build(n.b, ci);
      return (s) => a(s) && b(s);
    }
    case 'compl': {
      const e = build(n.e, ci);
      return (s) => !e(s);
    }
    case 'union': {
      if (!containsSetOp(n)) break;
      const a = build(n.a, ci);
      const b = build(n.b, ci);
      return (s) => a(s) || b(s);
    }
    case 'anystring':
      return () => true;
    case 'empty':
      return () => false;
    default:
      break;
  }
  const re = new RegExp(`^(?:${emit(n, ci)})$`, 'su');
  return (s) => re.test(s);
}

function containsSetOp(n: Node): boolean {
  switch (n.k) {
    case 'inter':
    case 'compl':
      return true;
    case 'union':
    case 'concat':
      return containsSetOp(n.a) || containsSetOp(n.b);
    case 'opt':
    case 'star':
    case 'repeat':
      return containsSetOp(n.e);
    default:
      return false;
  }
}

export interface RegexPosition {
  line: number;
  column: number;
  offset: number;
}

const NO_POS: RegexPosition = { line: 1, column: 1, offset: 0 };

/** Literal text of a pattern without any operator (ES turns such a regex into a `term` query). */
export function regexLiteral(pattern: string): string | null {
  try {
    const n = new Parser(pattern).parse();
    return literalOf(n);
  } catch {
    return null;
  }
}

function literalOf(n: Node): string | null {
  if (n.k === 'char') return String.fromCodePoint(n.c);
  if (n.k === 'string') return n.s;
  if (n.k === 'concat') {
    const a = literalOf(n.a);
    const b = literalOf(n.b);
    return a === null || b === null ? null : a + b;
  }
  return null;
}

/**
 * Compiles a Lucene regexp to a whole-value matcher. `caseInsensitive` = `regex~`.
 * Throws EqlError ('syntax' for invalid Lucene syntax, 'unsupported' for what cannot be translated).
 */
export function compileRegex(pattern: string, caseInsensitive = false, pos: RegexPosition = NO_POS): (value: string) => boolean {
  let node: Node;
  try {
    node = new Parser(pattern).parse();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new EqlError({
      kind: 'syntax',
      message: `invalid regular expression ${JSON.stringify(pattern)}: ${msg}`,
      ...pos,
      hint: 'EQL regex uses Lucene syntax: it always matches the whole value; escape reserved characters . ? + * | { } [ ] ( ) " \\ # @ & < > ~ with a backslash',
    });
  }
  let m: Matcher;
  try {
    m = build(node, caseInsensitive);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new EqlError({
      kind: 'unsupported',
      message: `regular expression ${JSON.stringify(pattern)} cannot be evaluated locally: ${msg}`,
      ...pos,
      hint: "'~' and '&' are supported only at the top level or directly under '|'",
    });
  }
  return (value) => value.length <= MAX_REGEX_INPUT && m(value);
}
