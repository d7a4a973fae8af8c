/**
 * How rules are grouped for shared scans (pure): same index patterns, read field and interval together;
 * single-event and sample rules (arrival) apart from sequences (@timestamp); the clause budget splits
 * groups; rule by rule when shared scans are off; the worker-wide interval.
 */
import { describe, expect, it } from 'vitest';
import { clauseCount, formGroups } from '../../src/worker/groups.js';
import { prepareRule } from '../../src/worker/prepared-rule.js';
import { ruleFrom } from '../helpers/worker-harness.js';

const rule = (id: string, query: string, extra = '') => prepareRule(ruleFrom(`${id}.yaml`, `id: ${id}\nname: ${id}\nindex: [logs-a-*]\n${extra}query: |\n  ${query}\n`));

describe('formGroups', () => {
  const e1 = rule('e1', 'process where process.name == "a"', 'timestamp_override: event.ingested\n');
  const e2 = rule('e2', 'process where process.name == "b"', 'timestamp_override: event.ingested\n');
  const e3 = rule('e3', 'process where process.name == "c"');
  const s1 = rule('s1', 'sequence by host.id [process where true] [process where true]', 'timestamp_override: event.ingested\n');
  const other = prepareRule(ruleFrom('o.yaml', 'id: o\nname: o\nindex: [logs-b-*]\nquery: process where true\n'));
  const slow = rule('slow', 'process where process.name == "d"', 'timestamp_override: event.ingested\ninterval: 10m\n');

  it('groups rules that read the same indices on the same field at the same interval', () => {
    const groups = formGroups([e1, e2, e3, s1, other, slow], { shared: true });
    expect(groups.map((g) => g.rules.map((p) => p.rule.id).sort()).sort()).toEqual([['e1', 'e2'], ['e3'], ['o'], ['s1'], ['slow']]);
    const pair = groups.find((g) => g.rules.length === 2)!;
    expect(pair.intervalMs).toBe(5 * 60_000);
  });

  it('a worker-wide interval puts every rule on it (and lets rules of different intervals share)', () => {
    const groups = formGroups([e1, e2, slow], { shared: true, intervalMs: 5_000 });
    expect(groups).toHaveLength(1);
    expect(groups[0]!.intervalMs).toBe(5_000);
  });

  it('rule by rule when shared scans are off', () => {
    expect(formGroups([e1, e2], { shared: false }).map((g) => g.rules.length)).toEqual([1, 1]);
  });

  it('splits a group whose shared query would exceed the clause budget, never splitting one rule', () => {
    const wide = Array.from({ length: 5 }, (_, i) => rule(`w${i}`, `process where process.name : (${Array.from({ length: 30 }, (_, k) => `"x${k}*"`).join(', ')})`, 'timestamp_override: event.ingested\n'));
    const groups = formGroups(wide, { shared: true, clauseBudget: 70 });
    expect(groups.map((g) => g.rules.length)).toEqual([2, 2, 1]);
    expect(formGroups(wide, { shared: true, clauseBudget: 10 }).map((g) => g.rules.length)).toEqual([1, 1, 1, 1, 1]);
  });

  it('counts leaf queries', () => {
    expect(clauseCount({ bool: { filter: [{ term: { a: 1 } }, { bool: { should: [{ term: { b: 1 } }, { wildcard: { c: 'x*' } }] } }] } })).toBe(3);
  });
});
