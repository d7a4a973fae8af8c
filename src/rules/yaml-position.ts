/**
 * Positions inside a parsed YAML document: where a key is written, and where the n-th character of a
 * string value comes from. The second matters for EQL errors in a block scalar (`query: |` or `>`): the
 * value has its indentation stripped (and, for `>`, its lines folded), so the error's offset in the query
 * must be mapped back through the block's lines to point at the right line and column of the file.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

/** Parses a path segment: array indexes become numbers, as yaml's getIn expects. */
const segment = (k: string): string | number => (/^\d+$/.test(k) ? Number(k) : k);

/** The node at `keyPath` in `doc`, if any. */
function nodeAt(doc: Document, keyPath: readonly string[]): Node | undefined {
  if (keyPath.length === 0) return (doc.contents ?? undefined) as Node | undefined;
  return doc.getIn(keyPath.map(segment), true) as Node | undefined;
}

/** Where the key at `keyPath` is written (its key scalar; an array item's own start); the nearest parent when absent. */
export function locateYamlKey(doc: Document, lineCounter: LineCounter, keyPath: readonly string[]): Position {
  for (let n = keyPath.length; n > 0; n--) {
    const parent = nodeAt(doc, keyPath.slice(0, n - 1));
    const last = keyPath[n - 1]!;
    let offset: number | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
      offset = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
    } else if (isSeq(parent) && /^\d+$/.test(last)) {
      offset = (parent.items[Number(last)] as Node | undefined)?.range?.[0];
    }
    if (offset !== undefined) {
      const p = lineCounter.linePos(offset);
      return { line: p.line, column: p.col };
    }
  }
  return { line: 1, column: 1 };
}

/**
 * Source offset of the character at `valueOffset` in the string value at `keyPath`, or undefined when the
 * value's text cannot be mapped exactly (escapes in a quoted string, a multi-line plain scalar).
 */
export function yamlValueOffset(doc: Document, text: string, keyPath: readonly string[], valueOffset: number): number | undefined {
  const node = nodeAt(doc, keyPath);
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return undefined;
  const map = node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED' ? blockScalarMap(text, node) : flowScalarMap(text, node);
  if (!map) return undefined;
  return map[Math.min(Math.max(valueOffset, 0), map.length - 1)];
}

/** Plain or quoted scalar: exact when its source (inside the quotes) is the value itself. */
function flowScalarMap(text: string, node: Scalar): number[] | undefined {
  const [start, end] = node.range!;
  const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
  const from = start + (quoted ? 1 : 0);
  const to = end - (quoted ? 1 : 0);
  const value = node.value as string;
  if (text.slice(from, to) !== value) return undefined;
  return Array.from({ length: value.length + 1 }, (_, i) => from + i);
}

/**
 * Rebuilds a block scalar's value from its source lines (YAML 1.2 §8.1: indentation stripped; for `>`,
 * a line break between two "normal" lines folds into a space and each empty line becomes a newline), with
 * the source offset of every character. Used only when the rebuilt text is the parser's value, so a
 * construct this does not follow falls back to the caller's approximation instead of a wrong position.
 */
function blockScalarMap(text: string, node: Scalar): number[] | undefined {
  const headerAt = node.range![0];
  const headerEnd = text.indexOf('\n', headerAt);
  if (headerEnd < 0) return undefined;
  const header = text.slice(headerAt, headerEnd).replace(/\s+#.*$/, '').trim();
  const bodyStart = headerEnd + 1;
  const bodyEnd = node.range![1];
  const lines: { start: number; text: string }[] = [];
  for (let at = bodyStart; at < bodyEnd; ) {
    const nl = text.indexOf('\n', at);
    const stop = nl < 0 || nl >= bodyEnd ? bodyEnd : nl;
    lines.push({ start: at, text: text.slice(at, stop).replace(/\r$/, '') });
    at = stop + 1;
  }
  const explicit = /[1-9]/.exec(header)?.[0];
  const firstContent = lines.find((l) => l.text.trim() !== '');
  if (!firstContent) return undefined;
  const indent = explicit !== undefined ? parentIndent(text, headerAt) + Number(explicit) : firstContent.text.length - firstContent.text.trimStart().length;
  const folded = node.type === 'BLOCK_FOLDED';
  let value = '';
  const map: number[] = [];
  const push = (s: string, offsets: number[]): void => {
    value += s;
    map.push(...offsets);
  };
  let prev: 'none' | 'normal' | 'more' = 'none';
  let blanks: number[] = [];
  for (const line of lines) {
    // A whitespace-only line is an empty line (the rare more-indented blank line fails the check below).
    if (line.text.trim() === '') {
      blanks.push(line.start);
      continue;
    }
    const content = line.text.slice(indent);
    const kind = /^[ \t]/.test(content) ? 'more' : 'normal';
    if (prev !== 'none') {
      const breakAt = line.start - 1;
      if (!folded) {
        push('\n', [breakAt]);
        for (const b of blanks) push('\n', [b]);
      } else if (prev === 'normal' && kind === 'normal') {
        if (blanks.length === 0) push(' ', [breakAt]);
        else for (const b of blanks) push('\n', [b]);
      } else {
        push('\n', [breakAt]);
        for (const b of blanks) push('\n', [b]);
      }
    } else {
      for (const b of blanks) push('\n', [b]);
    }
    blanks = [];
    push(content, Array.from({ length: content.length }, (_, i) => line.start + indent + i));
    prev = kind;
  }
  // Chomping only changes the trailing newlines: compare without them, and map the end to the last character.
  const parsed = (node.value as string).replace(/\n+$/, '');
  if (value.replace(/\n+$/, '') !== parsed) return undefined;
  const lastAt = map[parsed.length - 1] ?? bodyStart;
  map.length = parsed.length;
  map.push(lastAt + 1);
  return map;
}

/** Indentation of the line holding the block scalar's header (the indentation its explicit indicator adds to). */
function parentIndent(text: string, at: number): number {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const line = text.slice(lineStart, at);
  return line.length - line.trimStart().length;
}
