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

// C0 (incl. TAB/LF/CR), DEL, C1, line/paragraph separators, bidi embedding/override/isolate controls.
// Bidi controls are included because they can visually reorder an alert ("Trojan Source" style).
const CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g;

function visibleEscape(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const c = ch.charCodeAt(0);
      return c <= 0xff ? `\\x${c.toString(16).toUpperCase().padStart(2, '0')}` : `\\u${c.toString(16).toUpperCase().padStart(4, '0')}`;
    }
  }
}

/**
 * Plain-text context (email text body, log-like lines): a value always renders on ONE line, with
 * control characters shown as visible escapes (`\n`, `\x1B`, `\u202E`), so an event value can
 * neither forge extra lines ("Severity: low") nor emit terminal escapes.
 */
export function plainText(s: string): string {
  return toWellFormed(s).replace(CONTROL, visibleEscape);
}

/** Default cap for header values (characters, before RFC 2047 encoding by nodemailer). */
export const DEFAULT_HEADER_MAX_CHARS = 200;

/**
 * Email header context (Subject and other unstructured headers): every control character (CR, LF,
 * TAB, NUL, …) becomes a space, whitespace runs collapse, the result is capped. Nodemailer then
 * applies RFC 2047 encoded-words for non-ASCII and folds long lines, so no header can be injected.
 */
export function headerText(s: string, maxChars = DEFAULT_HEADER_MAX_CHARS): string {
  const flat = toWellFormed(s).replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
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
