/**
 * Escaping primitives, one per output context. Every event-derived string passes through exactly one
 * of these on its way into a message; templates never concatenate raw values.
 *
 * Order matters and is always: well-formed UTF-16 -> truncate (source bytes) -> context escape.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Replace lone UTF-16 surrogates (which cannot be encoded as UTF-8) with U+FFFD. */
export function toWellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\uFFFD');
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export function truncationMarker(moreBytes: number): string {
  return `… [truncated, ${moreBytes} more bytes]`;
}

/**
 * Cap `s` at `maxBytes` UTF-8 bytes (cut on a code point boundary) and append a visible marker saying
 * how many bytes were dropped. Lone surrogates are replaced first so byte counts are exact.
 */
export function truncateBytes(s: string, maxBytes: number): string {
  const w = toWellFormed(s);
  const total = utf8Length(w);
  if (total <= maxBytes) return w;
  let kept = 0;
  let end = 0;
  for (const ch of w) {
    const n = utf8Length(ch);
    if (kept + n > maxBytes) break;
    kept += n;
    end += ch.length;
  }
  return w.slice(0, end) + truncationMarker(total - kept);
}

// Line-breaking and terminal controls: C0 (incl. TAB/LF/CR), DEL, C1, line/paragraph separators.
const BREAKING = /[\p{Cc}\p{Zl}\p{Zp}]/gu;
// Characters a reader cannot see but that change what they read: Unicode's format characters (Cf: bidi
// embeddings, overrides, isolates and marks such as LRM/RLM/ALM, zero-width space and joiners, U+2060 word
// joiner, soft hyphen, BOM, tag characters U+E0000–E007F) and every other Default_Ignorable_Code_Point
// (variation selectors, Hangul fillers, U+034F, …). Bidi controls can visually reorder an alert ("Trojan
// Source"); tag characters make "root" + hidden text render as "root".
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
// Both classes: what plain-text contexts show as escapes.
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;

/** `\n`, `\x1B`, `\u202E`, `\u{E0041}`: the code point spelled out, so it is seen and cannot act. */
function visibleEscape(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const c = ch.codePointAt(0)!;
      const hex = c.toString(16).toUpperCase();
      return c <= 0xff ? `\\x${hex.padStart(2, '0')}` : c <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
    }
  }
}

/**
 * Plain-text context (email text body, log-like lines): a value always renders on ONE line, with
 * control and invisible characters shown as visible escapes (`\n`, `\x1B`, `\u202E`, `\u200B`,
 * `\u{E0072}`), so an event value can neither forge extra lines ("Severity: low"), emit terminal
 * escapes, reorder the text around it, nor hide text from the reader.
 */
export function plainText(s: string): string {
  return toWellFormed(s).replace(CONTROL, visibleEscape);
}

/** Default cap for header values (characters, before RFC 2047 encoding by nodemailer). */
export const DEFAULT_HEADER_MAX_CHARS = 200;

/**
 * Email header context (Subject and other unstructured headers): every line-breaking control character
 * (CR, LF, TAB, NUL, …) becomes a space, whitespace runs collapse, invisible characters are shown as
 * escapes (as in plain text), the result is capped. Nodemailer then applies RFC 2047 encoded-words for
 * non-ASCII and folds long lines, so no header can be injected.
 */
export function headerText(s: string, maxChars = DEFAULT_HEADER_MAX_CHARS): string {
  const flat = toWellFormed(s).replace(BREAKING, ' ').replace(INVISIBLE, visibleEscape).replace(/\s+/g, ' ').trim();
  const cps = Array.from(flat);
  if (cps.length <= maxChars) return flat;
  return `${cps.slice(0, Math.max(0, maxChars - 1)).join('')}…`;
}

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** HTML text or attribute-value context: plain-text rules, then entity-escape & < > " ' `. */
export function html(s: string): string {
  return plainText(s).replace(/[&<>"'`]/g, (c) => HTML_ENTITIES[c] as string);
}

/**
 * Slack text-object context (plain_text and mrkdwn). Slack's documented escaping: & < > become
 * &amp; &lt; &gt; — with no raw `<` left, `<!channel>`, `<@U123>`, `<#C1>` and `<http://x|y>` cannot be
 * formed. Control characters are shown as visible escapes (no forged lines).
 *
 * Formatting characters (* _ ~ `) are NOT touched here: eqlwatch only puts event values into
 * `plain_text` objects (never formatted) or into code (see `slackCode`).
 */
export function slackText(s: string): string {
  return plainText(s).replace(/[&<>]/g, (c) => HTML_ENTITIES[c] as string);
}

/**
 * Slack code context (inside ``` blocks or `inline` spans of a mrkdwn object): `slackText`, and every
 * backtick becomes U+02CB (ˋ) so a value can never close the code span and start formatting.
 * Inside code, * _ ~ are literal and Slack does not format them.
 */
export function slackCode(s: string): string {
  return slackText(s).replace(/`/g, '\u02CB');
}

/**
 * JSON context (webhook and Slack bodies): `JSON.stringify`, which escapes C0 controls, and then the same
 * for every other control or invisible character (`\u200b`, `\u202e`, tag characters as surrogate-pair
 * escapes). The parsed value is unchanged; the bytes on the wire, and any log or viewer showing them,
 * carry no character that hides or reorders text.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(CONTROL, (ch) => Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
}

/**
 * Cap an already Slack-escaped string at `maxChars` UTF-16 units (Slack's text limits are in
 * characters) without cutting an `&lt;`-style entity or a surrogate pair in half.
 */
export function slackFit(escaped: string, maxChars: number): string {
  if (escaped.length <= maxChars) return escaped;
  const marker = '… [truncated]';
  let end = Math.max(0, maxChars - marker.length);
  const amp = escaped.lastIndexOf('&', end);
  if (amp >= 0 && amp > end - 5 && escaped.indexOf(';', amp) >= end) end = amp;
  const c = escaped.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  return escaped.slice(0, end) + marker;
}
