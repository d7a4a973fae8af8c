/** A problem with one rule file, located precisely enough for an editor to jump to it. */
export class RuleError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly hint?: string,
    /** Source line shown under the message, with a caret at `column`. */
    readonly excerpt?: string,
  ) {
    super(message);
    this.name = 'RuleError';
  }

  format(): string {
    const parts = [`${this.file}:${this.line}:${this.column}: ${this.message}`];
    if (this.excerpt !== undefined) {
      parts.push(`  ${this.excerpt}`, `  ${' '.repeat(Math.max(0, this.column - 1))}^`);
    }
    if (this.hint) parts.push(`hint: ${this.hint}`);
    return parts.join('\n');
  }
}

/** 1-based line/column of a 0-based offset in `text`. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

export function lineAt(text: string, line: number): string {
  return text.split(/\r?\n/)[line - 1] ?? '';
}
