/** kibana.alert.reason in Kibana's wording (research/kibana-eql.md §4, snapshots of reason_formatter.test.ts). */
import { describe, expect, it } from 'vitest';
import { buildReason } from '../../src/alerts/reason.js';

describe('buildReason', () => {
  it('every piece, nested fields', () => {
    const doc = {
      event: { category: 'test' },
      process: { name: 'doingThings.exe', parent: { name: 'didThings.exe' } },
      file: { name: 'sample' },
      source: { ip: '1.11.11.1', port: 1234 },
      destination: { ip: '9.99.99.9', port: 6789 },
      user: { name: 'test-user' },
      host: { name: 'host' },
    };
    expect(buildReason(doc, 'my-rule', 'medium')).toBe(
      'test event with process doingThings.exe, parent process didThings.exe, file sample, source 1.11.11.1:1234, destination 9.99.99.9:6789, by test-user on host created medium alert my-rule.',
    );
  });

  it('dotted keys, as in the integration test', () => {
    const doc = { 'event.category': 'anomoly', 'process.name': 'bro', 'user.name': 'root', 'host.name': 'zeek-sensor-amsterdam' };
    expect(buildReason(doc, 'Alert Testing Query', 'high')).toBe('anomoly event with process bro, by root on zeek-sensor-amsterdam created high alert Alert Testing Query.');
  });

  it('no fields of interest: no "with"', () => {
    expect(buildReason({ event: { category: 'test' }, user: { name: 'test-user' } }, 'my-rule', 'medium')).toBe('test event by test-user created medium alert my-rule.');
    expect(buildReason({}, 'my-rule', 'low')).toBe('event created low alert my-rule.');
  });

  it('multi-valued fields are joined with ", "', () => {
    expect(buildReason({ event: { category: ['item one', 'item two'] }, process: { name: 'x' } }, 'r', 'low')).toBe('item one, item two event with process x, created low alert r.');
  });

  it('quirk kept: a missing port drops the trailing comma', () => {
    const doc = { event: { category: 'test' }, source: { ip: '1.11.11.1' }, destination: { ip: '9.99.99.9', port: 6789 } };
    expect(buildReason(doc, 'r', 'low')).toBe('test event with source 1.11.11.1 destination 9.99.99.9:6789, created low alert r.');
  });

  it('empty values and "-" are omitted', () => {
    expect(buildReason({ event: { category: 'test' }, user: { name: '-' }, host: { name: '' } }, 'r', 'low')).toBe('test event created low alert r.');
  });
});
