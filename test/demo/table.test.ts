/** The demo's terminal table: event values are attacker-controlled and must not drive the terminal. */
import { describe, expect, it } from 'vitest';
import { alertRow, formatTable, terminalSafe, truncate } from '../../scripts/demo/table.js';
import { fileSlug } from '../../scripts/demo/mail-catcher.js';

describe('terminalSafe', () => {
  it('shows escapes for ANSI sequences, newlines and bidi overrides instead of passing them through', () => {
    const out = terminalSafe('a\u001b[2J\u001b]0;owned\u0007b\nc\u202etxt.exe\u009b');
    expect(out).toBe('a\\x1b[2J\\x1b]0;owned\\x07b\\nc\\u202etxt.exe\\x9b');
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/u);
  });

  it('leaves ordinary text, including non-ASCII letters, alone', () => {
    expect(terminalSafe('curl -sk https://kubernetes.default.svc/api — café')).toBe('curl -sk https://kubernetes.default.svc/api — café');
  });
});

describe('truncate', () => {
  it('cuts to the width with an ellipsis, counting code points', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    expect([...truncate('😀😀😀😀', 3)]).toHaveLength(3);
  });
});

describe('alertRow', () => {
  const shell = { 'kibana.alert.rule.name': 'Seq rule', 'kibana.alert.severity': 'medium', 'kibana.alert.original_time': '2026-01-20T10:11:12.000Z', 'kibana.alert.group.id': 'g' };
  const member = { process: { command_line: 'curl -sk https://10.0.0.1/api', user: { name: 'root' } }, orchestrator: { resource: { name: 'web-1' } }, user: { name: 'root' } };

  it('fills a sequence alert\'s empty cells from its building blocks', () => {
    expect(alertRow(shell, [member])).toEqual({ time: '10:11:12', rule: 'Seq rule', severity: 'medium', pod: 'web-1', user: 'root', commandLine: 'curl -sk https://10.0.0.1/api' });
  });

  it('leaves cells empty when no document has the field', () => {
    expect(alertRow(shell).pod).toBe('');
  });
});

describe('formatTable', () => {
  it('keeps every line within the width and hostile values on one line', () => {
    const row = { time: '10:11:12', rule: 'r', severity: 'low', pod: 'p', user: 'u', commandLine: `sh -c 'x\n\u001b[31mFAKE ALERT\u001b[0m ${'A'.repeat(400)}'` };
    const out = formatTable([row], 140);
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect([...l].length).toBeLessThanOrEqual(140);
    expect(out).not.toContain('\u001b');
    expect(lines[2]).toContain('\\x1b[31mFAKE');
  });
});

describe('fileSlug', () => {
  it('makes subjects safe as file names', () => {
    expect(fileSlug('[eqlwatch demo][low] ../../etc/passwd <x>')).toBe('eqlwatch-demo-low-etc-passwd-x');
    expect(fileSlug('///')).toBe('message');
  });
});
