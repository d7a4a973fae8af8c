/**
 * Where a key of a parsed TOML document is written in its text. smol-toml returns values without positions,
 * so the text is scanned: table headers (`[rule]`, `[[rule.threat]]`) narrow the search to the right table
 * (and to the n-th entry of an array of tables), then the `key =` line is looked for there.
 */
import { positionOf } from './errors.js';

interface Header {
  name: string;
  array: boolean;
  /** Offset of the `[` and of the line after the header. */
  at: number;
  bodyStart: number;
}

const HEADER = /^[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_.\- \t"']+?)[ \t]*\]\]?[ \t]*(?:#.*)?$/gm;

function headers(text: string): Header[] {
  const out: Header[] = [];
  for (const m of text.matchAll(HEADER)) {
    const name = m[2]!.replace(/[ \t"']/g, '');
    const lineEnd = text.indexOf('\n', m.index);
    out.push({ name, array: m[1] === '[[', at: m.index + m[0].indexOf('['), bodyStart: lineEnd < 0 ? text.length : lineEnd + 1 });
  }
  return out;
}

/**
 * Position of `keyPath` (e.g. ["rule", "threat", "0", "tactic", "id"]); a value inside an array is shown
 * at its key, and a table without a `key =` line (a required key missing from [rule]) at its header.
 */
export function locateTomlKey(text: string, keyPath: readonly string[]): { line: number; column: number } {
  const path = [...keyPath];
  while (path.length > 0 && /^\d+$/.test(path.at(-1)!)) path.pop();
  const key = path.pop();
  if (key === undefined) return { line: 1, column: 1 };
  const all = headers(text);
  // Narrow [start, end) to the table holding `key`, following array-of-tables indexes.
  let start = 0;
  let end = text.length;
  let table = '';
  let holder: Header | undefined;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (/^\d+$/.test(part)) continue;
    const name = table ? `${table}.${part}` : part;
    const index = /^\d+$/.test(path[i + 1] ?? '') ? Number(path[i + 1]) : 0;
    const h = all.filter((o) => o.name === name && o.at >= start && o.at < end)[index];
    // No header: an inline table or dotted keys; search the table found so far.
    if (!h) break;
    table = name;
    holder = h;
    // This table (or entry of an array of tables) runs to the next header of the same name or outside it.
    const next = all.find((o) => o.at > h.at && (o.name === name || !o.name.startsWith(`${name}.`)));
    start = h.at;
    end = next ? next.at : end;
  }
  // The table's own keys come before its first sub-table header (or before the first header at all).
  const bodyStart = holder?.bodyStart ?? 0;
  const bodyEnd = all.find((h) => h.at >= bodyStart && h.at < end)?.at ?? end;
  const found = findKey(text, key, bodyStart, bodyEnd) ?? findKey(text, key, start, end);
  if (found !== undefined) return positionOf(text, found);
  const own = all.find((h) => h.name === (table ? `${table}.${key}` : key) && h.at >= start && h.at < end);
  if (own) return positionOf(text, own.at);
  const anywhere = findKey(text, key, 0, text.length);
  if (anywhere !== undefined) return positionOf(text, anywhere);
  return holder ? positionOf(text, holder.at) : { line: 1, column: 1 };
}

function findKey(text: string, key: string, from: number, to: number): number | undefined {
  const re = new RegExp(`^[ \\t]*(?:"${escapeRe(key)}"|'${escapeRe(key)}'|${escapeRe(key)})[ \\t]*=`, 'gm');
  re.lastIndex = from;
  const m = re.exec(text);
  if (!m || m.index >= to) return undefined;
  return m.index + m[0].length - m[0].trimStart().length;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
