import { describe, expect, it } from 'vitest';
import type { FunctionName } from '../../src/eql/ast.js';
import { compileFunction, substringSlice, type StaticType } from '../../src/eql/functions.js';
import { compareCodePoints, javaDoubleToString, normalizeIp, parseIsoDate, toEpochMillis } from '../../src/eql/values.js';

/** A double-typed literal (e.g. `4.0`), which JS numbers cannot tell apart from `4`. */
class D {
  constructor(readonly v: number) {}
}

function typeOf(v: unknown): StaticType {
  if (v instanceof D) return 'double';
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  return 'null';
}

/** Evaluates `name(args…)` like a query with literal arguments would. */
function call(name: FunctionName, ...args: unknown[]): unknown {
  return callCi(name, false, ...args);
}
function callCi(name: FunctionName, ci: boolean, ...args: unknown[]): unknown {
  const f = compileFunction(name, ci, args.map(typeOf));
  return f.fn(args.map((a) => (a instanceof D ? a.v : a)));
}

describe('arithmetic (EQL function reference examples)', () => {
  it('add', () => {
    expect(call('add', 4, 5)).toBe(9);
    expect(call('add', 4, 0.5)).toBe(4.5);
    expect(call('add', 0.5, 0.25)).toBe(0.75);
    expect(call('add', 4, -2)).toBe(2);
    expect(call('add', -2, -2)).toBe(-4);
    expect(call('add', null, 4)).toBeNull();
    expect(call('add', 4, null)).toBeNull();
  });

  it('divide truncates when both operands are integers', () => {
    expect(call('divide', 4, 2)).toBe(2);
    expect(call('divide', 4, 3)).toBe(1);
    expect(call('divide', 4, new D(3))).toBeCloseTo(1.3333333, 6);
    expect(call('divide', 4, 0.5)).toBe(8);
    expect(call('divide', 0.5, 4)).toBe(0.125);
    expect(call('divide', 0.5, 0.25)).toBe(2);
    expect(call('divide', 4, -2)).toBe(-2);
    expect(call('divide', -4, -2)).toBe(2);
    expect(call('divide', -7, 2)).toBe(-3); // toward zero, like Java
    expect(call('divide', new D(4), 3)).toBeCloseTo(1.3333333, 6);
    expect(call('divide', null, 4)).toBeNull();
    expect(call('divide', 4, 0)).toBeNull(); // Elasticsearch: ArithmeticException
  });

  it('modulo keeps the sign of the dividend', () => {
    expect(call('modulo', 10, 6)).toBe(4);
    expect(call('modulo', 10, 5)).toBe(0);
    expect(call('modulo', 10, 0.5)).toBe(0);
    expect(call('modulo', 10, -6)).toBe(4);
    expect(call('modulo', -10, -6)).toBe(-4);
    expect(call('modulo', -10, 6)).toBe(-4);
    expect(call('modulo', null, 5)).toBeNull();
    expect(call('modulo', 7, 0)).toBeNull();
  });

  it('multiply and subtract', () => {
    expect(call('multiply', 2, 2)).toBe(4);
    expect(call('multiply', 0.5, 2)).toBe(1);
    expect(call('multiply', 0.25, 2)).toBe(0.5);
    expect(call('multiply', -2, -2)).toBe(4);
    expect(call('multiply', null, 2)).toBeNull();
    expect(call('subtract', 10, 2)).toBe(8);
    expect(call('subtract', 10.5, 0.5)).toBe(10);
    expect(call('subtract', 1, 0.2)).toBeCloseTo(0.8, 10);
    expect(call('subtract', -2, 4)).toBe(-6);
    expect(call('subtract', -2, -4)).toBe(2);
    expect(call('subtract', 2, null)).toBeNull();
  });

  it('integer overflow beyond exact range is null (an error in Elasticsearch)', () => {
    expect(call('multiply', 2 ** 52, 4)).toBeNull();
    expect(call('add', Number.MAX_SAFE_INTEGER, 1)).toBeNull();
  });

  it('numeric strings (a numeric field stored as text) are numbers', () => {
    expect(call('add', '4', 5)).toBe(9);
    expect(call('add', 'four', 5)).toBeNull();
  });
});

describe('string functions (EQL function reference examples)', () => {
  const path = 'C:\\Windows\\System32\\cmd.exe';

  it('between', () => {
    expect(call('between', path, 'System32\\', '.exe')).toBe('cmd');
    expect(call('between', path, 'system32\\', '.exe')).toBe('');
    expect(call('between', path, 'workspace\\', '.exe')).toBe('');
    expect(callCi('between', true, path, 'system32\\', '.exe')).toBe('cmd');
    expect(call('between', path, '\\', '\\', false)).toBe('Windows');
    expect(call('between', path, '\\', '\\', true)).toBe('Windows\\System32');
    expect(call('between', '', 'System32\\', '.exe')).toBe('');
    expect(call('between', '', '', '')).toBe('');
    expect(call('between', null, 'System32\\', '.exe')).toBeNull();
    expect(call('between', 'abc', '', 'c')).toBe('abc'); // empty bound returns the source
  });

  it('cidrMatch on IPv4 and IPv6', () => {
    expect(call('cidrMatch', '192.168.152.12', '192.168.0.0/16')).toBe(true);
    expect(call('cidrMatch', '192.168.152.12', '192.168.0.0/16', '10.0.0.0/8')).toBe(true);
    expect(call('cidrMatch', '192.168.152.12', '10.0.0.0/8')).toBe(false);
    expect(call('cidrMatch', '192.168.152.12', '10.0.0.0/8', '10.128.0.0/9')).toBe(false);
    expect(call('cidrMatch', null, '10.0.0.0/8')).toBeNull();
    expect(call('cidrMatch', '192.168.152.12', null)).toBeNull();
    expect(call('cidrMatch', '10.6.48.157', '10.6.48.157/8')).toBe(true);
    expect(call('cidrMatch', '1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(call('cidrMatch', '2001:db8::1', '2001:db8::/32')).toBe(true);
    expect(call('cidrMatch', '2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(call('cidrMatch', '::ffff:10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(call('cidrMatch', 'not-an-ip', '10.0.0.0/8')).toBeNull();
  });

  it('concat', () => {
    expect(call('concat', 'process is ', 'regsvr32.exe')).toBe('process is regsvr32.exe');
    expect(call('concat', 'regsvr32.exe', ' ', 42)).toBe('regsvr32.exe 42');
    expect(call('concat', 'regsvr32.exe', ' ', 42.5)).toBe('regsvr32.exe 42.5');
    expect(call('concat', 'regsvr32.exe', ' ', true)).toBe('regsvr32.exe true');
    expect(call('concat', 'regsvr32.exe')).toBe('regsvr32.exe');
    expect(call('concat', 5, ':', 'wininit.exe', 3)).toBe('5:wininit.exe3');
    expect(call('concat', 'x', new D(4))).toBe('x4.0');
    expect(call('concat', null, 'regsvr32.exe')).toBeNull();
    expect(call('concat', 'regsvr32.exe', null)).toBeNull();
    expect(call('concat', null)).toBeNull();
  });

  it('endsWith / startsWith', () => {
    expect(call('endsWith', 'regsvr32.exe', '.exe')).toBe(true);
    expect(call('endsWith', 'regsvr32.exe', '.EXE')).toBe(false);
    expect(call('endsWith', 'regsvr32.exe', '.dll')).toBe(false);
    expect(call('endsWith', '', '')).toBe(true);
    expect(callCi('endsWith', true, 'regsvr32.exe', '.EXE')).toBe(true);
    expect(call('endsWith', 'regsvr32.exe', null)).toBeNull();
    expect(call('endsWith', null, '.exe')).toBeNull();
    expect(call('startsWith', 'regsvr32.exe', 'regsvr32')).toBe(true);
    expect(call('startsWith', 'regsvr32.exe', 'Regsvr32')).toBe(false);
    expect(call('startsWith', '', '')).toBe(true);
    expect(callCi('startsWith', true, 'regsvr32.exe', 'Regsvr32')).toBe(true);
    expect(call('startsWith', null, null)).toBeNull();
  });

  it('indexOf', () => {
    const d = 'subdomain.example.com';
    expect(call('indexOf', d, 'd')).toBe(3);
    expect(call('indexOf', d, 'D')).toBeNull();
    expect(call('indexOf', d, '.')).toBe(9);
    expect(call('indexOf', d, '.', 9)).toBe(9);
    expect(call('indexOf', d, '.', 10)).toBe(17);
    expect(call('indexOf', d, '.', -6)).toBe(9);
    expect(callCi('indexOf', true, d, 'D')).toBe(3);
    expect(call('indexOf', '', '')).toBe(0);
    expect(call('indexOf', d, '')).toBe(0);
    expect(call('indexOf', d, '', 9)).toBe(9);
    expect(call('indexOf', d, '', 10)).toBe(10);
    expect(call('indexOf', d, '', -6)).toBe(0);
    expect(call('indexOf', d, 'z')).toBeNull();
    expect(call('indexOf', d, 'z', 9)).toBeNull();
    expect(call('indexOf', d, '.', 30)).toBeNull();
    expect(call('indexOf', null, '.', 9)).toBeNull();
    expect(call('indexOf', d, null, 9)).toBeNull();
    // The processor treats a null start as 0 (IndexOfFunctionProcessorTests); the docs say null.
    expect(call('indexOf', d, '.', null)).toBe(9);
  });

  it('length counts UTF-16 code units like Java', () => {
    expect(call('length', 'explorer.exe')).toBe(12);
    expect(call('length', 'start explorer.exe')).toBe(18);
    expect(call('length', '')).toBe(0);
    expect(call('length', null)).toBeNull();
    expect(call('length', '😀')).toBe(2);
  });

  it('number', () => {
    expect(call('number', '1337')).toBe(1337);
    expect(call('number', '42.5')).toBe(42.5);
    expect(call('number', 'deadbeef', 16)).toBe(3735928559);
    expect(call('number', '0xdeadbeef')).toBe(3735928559);
    expect(call('number', '0xdeadbeef', 16)).toBe(3735928559);
    expect(call('number', '+1337')).toBe(1337);
    expect(call('number', '-1337')).toBe(-1337);
    expect(call('number', '  1337  ')).toBe(1337);
    expect(call('number', null)).toBeNull();
    expect(call('number', null, 16)).toBeNull();
    expect(call('number', '0xdeadbeef', null)).toBe(3735928559);
    expect(call('number', '1337', null)).toBe(1337);
    expect(call('number', '0x32', 16)).toBe(50);
    expect(call('number', '32', 16)).toBe(50);
    expect(call('number', '101', 2)).toBe(5);
    expect(call('number', '')).toBeNull();
    expect(call('number', 'abc')).toBeNull();
    expect(call('number', '12', 2)).toBeNull();
  });

  it('string formats like Java toString', () => {
    expect(call('string', 42)).toBe('42');
    expect(call('string', 42.5)).toBe('42.5');
    expect(call('string', new D(4))).toBe('4.0');
    expect(call('string', 'regsvr32.exe')).toBe('regsvr32.exe');
    expect(call('string', true)).toBe('true');
    expect(call('string', null)).toBeNull();
  });

  it('stringContains', () => {
    const cl = 'start regsvr32.exe';
    expect(call('stringContains', cl, 'regsvr32')).toBe(true);
    expect(call('stringContains', cl, 'Regsvr32')).toBe(false);
    expect(call('stringContains', cl, 'start ')).toBe(true);
    expect(call('stringContains', cl, 'explorer')).toBe(false);
    expect(callCi('stringContains', true, cl, 'Regsvr32')).toBe(true);
    expect(call('stringContains', '', '')).toBe(false);
    expect(call('stringContains', cl, '')).toBe(false);
    expect(call('stringContains', null, 'regsvr32')).toBeNull();
    expect(call('stringContains', cl, null)).toBeNull();
  });

  it('substring uses Python slice semantics', () => {
    const s = 'start regsvr32.exe';
    expect(call('substring', s, 6)).toBe('regsvr32.exe');
    expect(call('substring', s, 0, 5)).toBe('start');
    expect(call('substring', s, 6, 14)).toBe('regsvr32');
    expect(call('substring', s, -4)).toBe('.exe');
    expect(call('substring', s, -4, -1)).toBe('.ex');
    expect(call('substring', s, 30)).toBe('');
    expect(call('substring', s, 10, 5)).toBe('');
    expect(call('substring', s, -100, 5)).toBe('start');
    expect(call('substring', null, 1)).toBeNull();
    expect(substringSlice('', 1, 2)).toBe('');
  });

  it('case-insensitive variants fold with Unicode lower-casing (Java toLowerCase(ROOT))', () => {
    expect(callCi('startsWith', true, 'ÉCOLE', 'éc')).toBe(true);
    expect(callCi('startsWith', false, 'ÉCOLE', 'éc')).toBe(false);
  });
});

describe('value helpers', () => {
  it('javaDoubleToString', () => {
    expect(javaDoubleToString(4)).toBe('4.0');
    expect(javaDoubleToString(42.5)).toBe('42.5');
    expect(javaDoubleToString(1e7)).toBe('1.0E7');
    expect(javaDoubleToString(1.5e-5)).toBe('1.5E-5');
    expect(javaDoubleToString(0.001)).toBe('0.001');
    expect(javaDoubleToString(NaN)).toBe('NaN');
  });

  it('compareCodePoints orders astral characters after U+FFFF', () => {
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0);
    expect('\uffff' < '😀').toBe(false); // JS code-unit order differs
    expect(compareCodePoints('a', 'b')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('B', 'a')).toBeLessThan(0);
  });

  it('normalizeIp', () => {
    expect(normalizeIp('10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeIp('256.0.0.1')).toBeNull();
    expect(normalizeIp('1:2:3')).toBeNull();
  });

  it('dates parse to epoch ms (nanoseconds optional)', () => {
    expect(parseIsoDate('2020-01-01T00:00:00Z')).toBe(Date.UTC(2020, 0, 1));
    expect(parseIsoDate('2020-01-01T00:00:00.123456789Z')).toBeCloseTo(Date.UTC(2020, 0, 1) + 123.456789, 3);
    expect(parseIsoDate('2020-01-01T01:00:00+01:00')).toBe(Date.UTC(2020, 0, 1));
    expect(parseIsoDate('2020-01-01')).toBe(Date.UTC(2020, 0, 1));
    expect(parseIsoDate('2020-02-30')).toBeNaN();
    expect(parseIsoDate('yesterday')).toBeNaN();
    expect(toEpochMillis('2020-01-01T00:00:00.999999Z')).toBe(Date.UTC(2020, 0, 1) + 999);
    expect(toEpochMillis(1700000000000)).toBe(1700000000000);
    expect(toEpochMillis('1700000000000')).toBe(1700000000000);
    expect(toEpochMillis(true)).toBeNaN();
  });
});
