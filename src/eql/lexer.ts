/**
 * Hand-written lexer for Elasticsearch EQL, mirroring the token rules of Elasticsearch's
 * `EqlBase.g4` (keywords are lowercase and case-sensitive, `@` may start an identifier, nested
 * block comments, `"""raw"""` strings, `` `quoted` `` identifiers). Single pass, no backtracking.
 * Everything it rejects raises an `EqlError` with the exact position.
 */
import type { Pos } from './ast.js';
import { EqlError, type EqlErrorKind } from './errors.js';

export type TokenKind =
  | 'ident' // IDENTIFIER
  | 'tildeIdent' // IDENTIFIER immediately followed by `~` (case-insensitive function name)
  | 'quotedIdent' // `backtick` identifier; value is unescaped
  | 'string' // "…" or """…"""; value is decoded
  | 'integer'
  | 'decimal'
  | 'keyword' // value is the keyword text, e.g. 'and', 'in~'
  | 'punct' // value is the operator text, e.g. '==', '![', '('
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Decoded value (identifier name, string contents, keyword/punctuation text, number text). */
  value: string;
  /** 0-based start offset and exclusive end offset in the query text. */
  offset: number;
  end: number;
  line: number;
  column: number;
}

export const KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'any',
  'by',
  'false',
  'in',
  'join',
  'like',
  'maxspan',
  'not',
  'null',
  'of',
  'or',
  'regex',
  'sample',
  'sequence',
  'true',
  'until',
  'where',
  'with',
]);

/** Keywords that take a `~` suffix as one token (`in~`, `like~`, `regex~`). */
const TILDE_KEYWORDS: ReadonlySet<string> = new Set(['in', 'like', 'regex']);

/** Maps offsets to 1-based line/column. Line breaks: `\n`, `\r\n`, lone `\r`. */
export class LineMap {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  pos(offset: number): Pos {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1, offset };
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isIdentStart(c: number): boolean {
  return isLetter(c) || c === 95 /* _ */ || c === 64 /* @ */;
}
function isIdentPart(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 95;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

const TWO_CHAR_PUNCT = new Set(['==', '!=', '<=', '>=', '![']);
const ONE_CHAR_PUNCT = new Set([':', '=', '<', '>', '+', '-', '*', '/', '%', '.', ',', '[', ']', '(', ')', '|', '?']);

/** Describes a character for messages without echoing control characters verbatim. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff) return hex;
  return `'${ch}' (${hex})`;
}

export class Lexer {
  private readonly text: string;
  readonly lines: LineMap;
  private i = 0;

  constructor(text: string) {
    this.text = text;
    this.lines = new LineMap(text);
  }

  /** All tokens, ending with one `eof` token. */
  tokenize(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const t = this.next();
      out.push(t);
      if (t.kind === 'eof') return out;
    }
  }

  private fail(kind: EqlErrorKind, offset: number, message: string, hint?: string): never {
    const p = this.lines.pos(offset);
    const init = { kind, message, line: p.line, column: p.column, offset, source: this.text };
    throw new EqlError(hint === undefined ? init : { ...init, hint });
  }

  private token(kind: TokenKind, value: string, start: number): Token {
    const p = this.lines.pos(start);
    return { kind, value, offset: start, end: this.i, line: p.line, column: p.column };
  }

  private skipTrivia(): void {
    const s = this.text;
    for (;;) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) {
        this.i++;
      } else if (c === 47 /* / */ && s.charCodeAt(this.i + 1) === 47) {
        this.i += 2;
        while (this.i < s.length && s.charCodeAt(this.i) !== 10 && s.charCodeAt(this.i) !== 13) this.i++;
      } else if (c === 47 && s.charCodeAt(this.i + 1) === 42 /* * */) {
        this.skipBlockComment();
      } else {
        return;
      }
    }
  }

  /** Block comments nest, as in ES's grammar (`'/*' (BRACKETED_COMMENT|.)*? '*\/'`). */
  private skipBlockComment(): void {
    const s = this.text;
    const start = this.i;
    let depth = 0;
    while (this.i < s.length) {
      if (s.charCodeAt(this.i) === 47 && s.charCodeAt(this.i + 1) === 42) {
        depth++;
        this.i += 2;
      } else if (s.charCodeAt(this.i) === 42 && s.charCodeAt(this.i + 1) === 47) {
        depth--;
        this.i += 2;
        if (depth === 0) return;
      } else {
        this.i++;
      }
    }
    this.fail('syntax', start, 'unterminated block comment', 'close the comment with */');
  }

  next(): Token {
    this.skipTrivia();
    const s = this.text;
    const start = this.i;
    if (start >= s.length) return this.token('eof', '', start);
    const c = s.charCodeAt(start);

    if (isIdentStart(c)) return this.identifier(start);
    if (isDigit(c) || (c === 46 /* . */ && isDigit(s.charCodeAt(start + 1)))) return this.number(start);
    if (c === 34 /* " */) return this.string(start);
    if (c === 96 /* ` */) return this.quotedIdentifier(start);
    if (c === 39 /* ' */) {
      this.fail(
        'syntax',
        start,
        `Use double quotes ["] to define string literals, not single quotes [']`,
        'write "text" (double quotes); a literal single quote needs no escaping inside double quotes',
      );
    }
    if (c === 63 /* ? */ && (s.charCodeAt(start + 1) === 34 || s.charCodeAt(start + 1) === 39)) {
      this.fail(
        'syntax',
        start,
        `Use triple double quotes ["""] to define unescaped string literals, not [?${s[start + 1]}]`,
        'Elasticsearch EQL raw strings are written """like this"""',
      );
    }

    const two = s.slice(start, start + 2);
    if (TWO_CHAR_PUNCT.has(two)) {
      this.i += 2;
      return this.token('punct', two, start);
    }
    const one = s[start] ?? '';
    if (ONE_CHAR_PUNCT.has(one)) {
      this.i += 1;
      return this.token('punct', one, start);
    }
    if (one === '!') {
      this.fail('syntax', start, `unexpected '!'`, 'use `not` to negate a condition, `!=` for inequality, or `![ … ]` for a missing-event stage');
    }
    if (one === '&') this.fail('syntax', start, `unexpected '&'`, 'use `and` to combine conditions');
    if (one === '~') {
      this.fail('syntax', start, `unexpected '~'`, 'the `~` suffix must directly follow `in`, `like`, `regex` or a function name, e.g. `like~` or `startsWith~(…)`');
    }
    const ch = String.fromCodePoint(s.codePointAt(start) ?? 0);
    const ws = /\s/u.test(ch);
    this.fail(
      'syntax',
      start,
      `unexpected character ${describeChar(ch)}`,
      ws
        ? 'only spaces, tabs and line breaks may separate tokens'
        : 'field names with special characters must be quoted with backticks, e.g. `my-field`',
    );
  }

  private identifier(start: number): Token {
    const s = this.text;
    let j = start + 1;
    while (j < s.length && isIdentPart(s.charCodeAt(j))) j++;
    const word = s.slice(start, j);
    if (s.charCodeAt(j) === 126 /* ~ */) {
      this.i = j + 1;
      if (TILDE_KEYWORDS.has(word)) return this.token('keyword', `${word}~`, start);
      return this.token('tildeIdent', word, start);
    }
    this.i = j;
    if (KEYWORDS.has(word)) return this.token('keyword', word, start);
    return this.token('ident', word, start);
  }

  /** INTEGER_VALUE / DECIMAL_VALUE with ANTLR longest-match behaviour (`1.` and `.5` are decimals). */
  private number(start: number): Token {
    const s = this.text;
    let j = start;
    let decimal = false;
    while (isDigit(s.charCodeAt(j))) j++;
    if (s.charCodeAt(j) === 46 /* . */) {
      decimal = true;
      j++;
      while (isDigit(s.charCodeAt(j))) j++;
    }
    const e = s.charCodeAt(j);
    if (e === 69 || e === 101) {
      const sign = s.charCodeAt(j + 1);
      const k = sign === 43 || sign === 45 ? j + 2 : j + 1;
      if (isDigit(s.charCodeAt(k))) {
        decimal = true;
        j = k;
        while (isDigit(s.charCodeAt(j))) j++;
      }
    }
    this.i = j;
    return this.token(decimal ? 'decimal' : 'integer', s.slice(start, j), start);
  }

  private quotedIdentifier(start: number): Token {
    const s = this.text;
    let j = start + 1;
    let value = '';
    for (;;) {
      if (j >= s.length) {
        this.fail('syntax', start, 'unterminated backtick-quoted field name', 'close the field name with a backtick; write `` for a literal backtick');
      }
      if (s.charCodeAt(j) === 96) {
        if (s.charCodeAt(j + 1) === 96) {
          value += '`';
          j += 2;
          continue;
        }
        j++;
        break;
      }
      value += s[j];
      j++;
    }
    this.i = j;
    return this.token('quotedIdent', value, start);
  }

  private string(start: number): Token {
    const s = this.text;
    if (s.startsWith('"""', start)) return this.rawString(start);
    let j = start + 1;
    let value = '';
    for (;;) {
      if (j >= s.length) {
        this.fail('syntax', start, 'unterminated string literal', 'close the string with a double quote (")');
      }
      const c = s.charCodeAt(j);
      if (c === 34) {
        j++;
        break;
      }
      if (c === 10 || c === 13) {
        this.fail('syntax', start, 'unterminated string literal (strings cannot span lines)', 'write \\n for a line break inside a string, and close it with " on the same line');
      }
      if (c !== 92 /* \ */) {
        value += s[j];
        j++;
        continue;
      }
      const esc = s[j + 1];
      switch (esc) {
        case 't':
          value += '\t';
          break;
        case 'b':
          value += '\b';
          break;
        case 'f':
          value += '\f';
          break;
        case 'n':
          value += '\n';
          break;
        case 'r':
          value += '\r';
          break;
        case '"':
          value += '"';
          break;
        case "'":
          value += "'";
          break;
        case '\\':
          value += '\\';
          break;
        case 'u': {
          const r = this.unicodeEscape(j);
          value += r.text;
          j = r.next;
          continue;
        }
        default:
          this.fail(
            'syntax',
            j,
            esc === undefined ? 'unterminated string literal' : `invalid escape sequence \\${esc === '\n' || esc === '\r' ? 'followed by a line break' : esc}`,
            'valid escapes are \\n \\r \\t \\b \\f \\" \\\' \\\\ and \\u{XXXX}; write \\\\ for a literal backslash, or use a raw string """…"""',
          );
      }
      j += 2;
    }
    this.i = j;
    return this.token('string', value, start);
  }

  /** `\u{X…}` with 2–8 hex digits (ES: "Unicode sequence should use [2-8] hex digits"). */
  private unicodeEscape(backslash: number): { text: string; next: number } {
    const s = this.text;
    const hint = 'write a Unicode escape as \\u{XXXX} with 2 to 8 hex digits, e.g. \\u{200F}';
    if (s[backslash + 2] !== '{') this.fail('syntax', backslash, 'invalid Unicode escape: expected { after \\u', hint);
    let k = backslash + 3;
    while (isHex(s.charCodeAt(k))) k++;
    if (s[k] !== '}') this.fail('syntax', backslash, 'invalid Unicode escape: expected hex digits and a closing }', hint);
    const hex = s.slice(backslash + 3, k);
    if (hex.length < 2 || hex.length > 8) {
      this.fail('syntax', backslash, `Unicode sequence should use [2-8] hex digits, [${s.slice(backslash, k + 1)}] has [${hex.length}]`, hint);
    }
    const code = parseInt(hex, 16);
    if (code >= 0xd800 && code <= 0xdfff) {
      this.fail('syntax', backslash, `Invalid unicode character code, [${hex}] is a surrogate code`, hint);
    }
    if (code > 0x10ffff) this.fail('syntax', backslash, `Invalid unicode character code [${hex}]`, hint);
    return { text: String.fromCodePoint(code), next: k + 1 };
  }

  /**
   * `"""…"""`: no escapes, may not span lines, ends at the first `"""`; up to two further quotes
   * directly after it belong to the value (ES: `'"""' (~[\r\n])*? '"""' '"'? '"'?`).
   */
  private rawString(start: number): Token {
    const s = this.text;
    let j = start + 3;
    for (;;) {
      if (j >= s.length) {
        this.fail('syntax', start, 'unterminated raw string literal', 'close the raw string with """ on the same line');
      }
      const c = s.charCodeAt(j);
      if (c === 10 || c === 13) {
        this.fail('syntax', start, 'unterminated raw string literal (raw strings cannot span lines)', 'close the raw string with """ on the same line');
      }
      if (c === 34 && s.charCodeAt(j + 1) === 34 && s.charCodeAt(j + 2) === 34) break;
      j++;
    }
    let end = j + 3;
    if (s.charCodeAt(end) === 34) end++;
    if (s.charCodeAt(end) === 34) end++;
    this.i = end;
    return this.token('string', s.slice(start + 3, end - 3), start);
  }
}

export function tokenize(text: string): Token[] {
  return new Lexer(text).tokenize();
}
