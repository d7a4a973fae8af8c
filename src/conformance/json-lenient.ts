/**
 * A small JSON reader for Elasticsearch's QA resources, which are not strict JSON:
 * - `.data` files carry `//` comment lines (Elasticsearch parses them with Jackson, comments allowed);
 * - mapping files start with `#` comment lines (dropped by Elasticsearch's `DataLoader.readMapping`);
 * - the endgame `timestamp` is a Windows FILETIME (~1.3e17) beyond 2^53: `JSON.parse` would round it
 *   and the derived `@timestamp` could be off by a millisecond, so unsafe integers come back as BigInt.
 * Comments are only recognised outside strings, so a `//` inside a value is kept.
 */

export type LenientJson = null | boolean | number | bigint | string | LenientJson[] | { [key: string]: LenientJson };

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} at line ${line}, column ${column}`);
    this.name = 'JsonSyntaxError';
  }
}

const INTEGER = /^-?(0|[1-9]\d*)$/;

/** Parse one JSON value (with comments) from `text`; the whole text must be consumed. */
export function parseLenientJson(text: string): LenientJson {
  const reader = new Reader(text);
  const value = reader.value();
  reader.skipTrivia();
  if (!reader.atEnd()) reader.fail('unexpected content after the JSON value');
  return value;
}

/** Parse a stream of JSON values separated by whitespace/comments (NDJSON or concatenated). */
export function parseLenientJsonStream(text: string): LenientJson[] {
  const reader = new Reader(text);
  const values: LenientJson[] = [];
  reader.skipTrivia();
  while (!reader.atEnd()) {
    values.push(reader.value());
    reader.skipTrivia();
  }
  return values;
}

class Reader {
  private i = 0;
  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  fail(message: string): never {
    const before = this.s.slice(0, this.i);
    const line = before.split('\n').length;
    const column = this.i - before.lastIndexOf('\n');
    throw new JsonSyntaxError(message, line, column);
  }

  /** Whitespace, `//…` and `#…` line comments, `/* … *\/` block comments. */
  skipTrivia(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF') {
        this.i++;
      } else if (c === '#' || (c === '/' && s[this.i + 1] === '/')) {
        const end = s.indexOf('\n', this.i);
        this.i = end < 0 ? s.length : end + 1;
      } else if (c === '/' && s[this.i + 1] === '*') {
        const end = s.indexOf('*/', this.i + 2);
        if (end < 0) this.fail('unterminated block comment');
        this.i = end + 2;
      } else {
        return;
      }
    }
  }

  value(): LenientJson {
    this.skipTrivia();
    const c = this.s[this.i];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return this.string();
      case 't':
        return this.keyword('true', true);
      case 'f':
        return this.keyword('false', false);
      case 'n':
        return this.keyword('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail(c === undefined ? 'unexpected end of input' : `unexpected character ${JSON.stringify(c)}`);
    }
  }

  private keyword<T extends LenientJson>(word: string, value: T): T {
    if (this.s.startsWith(word, this.i)) {
      this.i += word.length;
      return value;
    }
    return this.fail(`invalid literal, expected ${word}`);
  }

  private number(): number | bigint {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (!m) return this.fail('invalid number');
    const raw = m[0];
    this.i += raw.length;
    if (INTEGER.test(raw)) {
      const n = Number(raw);
      return Number.isSafeInteger(n) ? n : BigInt(raw);
    }
    return Number(raw);
  }

  private string(): string {
    const s = this.s;
    const start = this.i;
    this.i++; // opening quote
    for (;;) {
      const c = s[this.i];
      if (c === undefined) this.fail('unterminated string');
      if (c === '\\') {
        this.i += 2;
        continue;
      }
      this.i++;
      if (c === '"') break;
      if (c === '\n') this.fail('newline inside string');
    }
    // JSON.parse does the unescaping of one well-delimited string literal.
    try {
      return JSON.parse(s.slice(start, this.i)) as string;
    } catch {
      this.i = start;
      return this.fail('invalid string escape');
    }
  }

  private array(): LenientJson[] {
    this.i++;
    const out: LenientJson[] = [];
    this.skipTrivia();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipTrivia();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.skipTrivia();
        // Tolerate a trailing comma, as Jackson does with ALLOW_TRAILING_COMMA.
        if (this.s[this.i] === ']') {
          this.i++;
          return out;
        }
        continue;
      }
      if (c === ']') {
        this.i++;
        return out;
      }
      this.fail('expected , or ] in array');
    }
  }

  private object(): { [key: string]: LenientJson } {
    this.i++;
    const out: { [key: string]: LenientJson } = {};
    this.skipTrivia();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.skipTrivia();
      if (this.s[this.i] !== '"') this.fail('expected a string key');
      const key = this.string();
      this.skipTrivia();
      if (this.s[this.i] !== ':') this.fail('expected : after key');
      this.i++;
      // defineProperty, as JSON.parse does: a "__proto__" key stays an own data property.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipTrivia();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        this.skipTrivia();
        if (this.s[this.i] === '}') {
          this.i++;
          return out;
        }
        continue;
      }
      if (c === '}') {
        this.i++;
        return out;
      }
      this.fail('expected , or } in object');
    }
  }
}
