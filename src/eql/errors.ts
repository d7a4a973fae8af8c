/**
 * The one error type the EQL front end throws. Carries a precise location so rule loaders can
 * report `file:line:column` with a caret and a fix hint (bad rules must fail readably).
 */

export type EqlErrorKind = 'syntax' | 'semantic' | 'unsupported';

export interface EqlErrorInit {
  kind: EqlErrorKind;
  message: string;
  /** 1-based line of the offending text. */
  line: number;
  /** 1-based column (UTF-16 code units) of the offending text. */
  column: number;
  /** 0-based offset into the query text. */
  offset: number;
  /** Token descriptions the parser would have accepted here (syntax errors). */
  expected?: string[];
  hint?: string;
  /** The full query text, kept so `format()` can show the offending line. */
  source?: string;
}

export class EqlError extends Error {
  readonly kind: EqlErrorKind;
  readonly line: number;
  readonly column: number;
  readonly offset: number;
  readonly expected?: string[];
  readonly hint?: string;
  readonly source?: string;

  constructor(init: EqlErrorInit) {
    super(init.message);
    this.name = 'EqlError';
    this.kind = init.kind;
    this.line = init.line;
    this.column = init.column;
    this.offset = init.offset;
    if (init.expected !== undefined) this.expected = init.expected;
    if (init.hint !== undefined) this.hint = init.hint;
    if (init.source !== undefined) this.source = init.source;
  }

  /**
   * Multi-line, human-oriented rendering:
   * ```
   * rule.toml:3:17: message
   * <the source line>
   *                 ^
   * hint: …
   * ```
   * Control characters of the source line are shown as spaces so the caret stays aligned and
   * nothing from the query can inject terminal escapes.
   */
  format(sourceName = '<query>'): string {
    const out = [`${sourceName}:${this.line}:${this.column}: ${this.message}`];
    const text = this.source === undefined ? undefined : sourceLine(this.source, this.line);
    if (text !== undefined) {
      const shown = text.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
      out.push(shown);
      // Keep tabs in the caret prefix so it lines up under the same column in any terminal.
      const prefix = shown.slice(0, Math.max(0, this.column - 1)).replace(/[^\t]/g, ' ');
      out.push(`${prefix}^`);
    }
    if (this.hint !== undefined) out.push(`hint: ${this.hint}`);
    return out.join('\n');
  }

  /**
   * The same error positioned inside an enclosing document: `base` is where the query text starts
   * in that document (e.g. the first character of a TOML string), `document` its full text.
   */
  relocate(base: { line: number; column: number; offset: number }, document?: string): EqlError {
    const line = base.line + this.line - 1;
    const column = this.line === 1 ? base.column + this.column - 1 : this.column;
    const init: EqlErrorInit = {
      kind: this.kind,
      message: this.message,
      line,
      column,
      offset: base.offset + this.offset,
    };
    if (this.expected !== undefined) init.expected = this.expected;
    if (this.hint !== undefined) init.hint = this.hint;
    // Without the enclosing document the old source text no longer matches the new line numbers.
    if (document !== undefined) init.source = document;
    return new EqlError(init);
  }
}

/** The text of 1-based line `line` (without its terminator), or undefined when out of range. */
function sourceLine(text: string, line: number): string | undefined {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = nextLineBreak(text, start);
    if (nl < 0) return undefined;
    start = nl + (text[nl] === '\r' && text[nl + 1] === '\n' ? 2 : 1);
  }
  const end = nextLineBreak(text, start);
  return text.slice(start, end < 0 ? text.length : end);
}

function nextLineBreak(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}
