/**
 * The demo's alert table for a terminal. Every value comes from events (attacker-controlled), so each
 * cell is made terminal-safe (control characters, ANSI escapes and bidi overrides shown as escapes,
 * never interpreted) and cut to its column width.
 */
import { getString, type AlertDoc } from '../../src/notify/types.js';

export interface AlertRow {
  time: string;
  rule: string;
  severity: string;
  pod: string;
  user: string;
  commandLine: string;
}

// C0 controls, DEL, C1 controls, and Unicode bidi/format controls that can reorder or hide text.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/gu;

/** Replaces characters a terminal would interpret with visible escapes (`\n`, `\x1b`, `\u202e`). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    const code = c.codePointAt(0)!;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** At most `width` code points, ending in "…" when cut. */
export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return width <= 1 ? '…'.slice(0, width) : `${chars.slice(0, width - 1).join('')}…`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/**
 * One row per alert. Sequence alerts (the "shell" alert) hold only the fields their events share, so
 * empty cells are filled from their building-block alerts, in sequence order.
 */
export function alertRow(doc: AlertDoc, members: AlertDoc[] = []): AlertRow {
  const pick = (...paths: string[]): string => {
    for (const d of [doc, ...members]) {
      for (const p of paths) {
        const v = getString(d, p);
        if (v !== undefined) return v;
      }
    }
    return '';
  };
  const when = pick('kibana.alert.original_time', '@timestamp');
  return {
    time: /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)/.exec(when)?.[1] ?? when,
    rule: pick('kibana.alert.rule.name'),
    severity: pick('kibana.alert.severity', 'kibana.alert.rule.severity'),
    pod: pick('orchestrator.resource.name', 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name'),
    user: pick('user.name', 'process.user.name'),
    commandLine: pick('process.command_line'),
  };
}

const COLUMNS: Array<{ key: keyof AlertRow; title: string; width: number }> = [
  { key: 'time', title: 'TIME (UTC)', width: 10 },
  { key: 'rule', title: 'RULE', width: 34 },
  { key: 'severity', title: 'SEVERITY', width: 8 },
  { key: 'pod', title: 'POD', width: 28 },
  { key: 'user', title: 'USER', width: 10 },
  { key: 'commandLine', title: 'COMMAND LINE', width: 0 },
];

/** A fixed-width table no wider than `width` columns (the command line takes what is left, at least 16). */
export function formatTable(rows: AlertRow[], width = 160): string {
  const fixed = COLUMNS.filter((c) => c.width > 0).reduce((n, c) => n + c.width + 2, 0);
  const last = Math.max(16, width - fixed);
  const widthOf = (c: (typeof COLUMNS)[number]) => (c.width > 0 ? c.width : last);
  const line = (cells: string[]) => cells.map((cell, i) => pad(cell, widthOf(COLUMNS[i]!))).join('  ').trimEnd();
  const out = [line(COLUMNS.map((c) => c.title)), line(COLUMNS.map((c) => '─'.repeat(widthOf(c))))];
  for (const r of rows) out.push(line(COLUMNS.map((c) => truncate(terminalSafe(r[c.key]), widthOf(c)))));
  return out.join('\n');
}
