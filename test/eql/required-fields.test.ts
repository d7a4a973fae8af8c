/** The fields a query cannot do without (what the start check looks for in the cluster's mappings). */
import { describe, expect, it } from 'vitest';
import { requiredFields } from '../../src/eql/required-fields.js';
import { unmappedFields } from '../../src/worker/preflight.js';

describe('requiredFields', () => {
  it('every non-optional field of every operator and function, the category field, the timestamp', () => {
    const q = 'process where process.name : "sh*" and not ?process.parent.name == "x" and length(process.args) > 1 and ' +
      'process.pid + user.id > 2 and host.ip in ("1.2.3.4") and cidrMatch(source.ip, "10.0.0.0/8") and -event.code < 0 and stringContains(destination.domain, "x")';
    expect(requiredFields(q, { timestampField: '@timestamp' })).toEqual([
      '@timestamp', 'destination.domain', 'event.category', 'event.code', 'host.ip', 'process.args', 'process.name', 'process.pid', 'source.ip', 'user.id',
    ]);
  });

  it('sequences: join keys, every stage and until; `any` needs no category field', () => {
    const q = 'sequence by host.id with maxspan=1m [any where process.name == "a"] by process.entity_id [network where true] by ?process.parent.entity_id until [process where event.type == "end"] by process.entity_id';
    expect(requiredFields(q, { eventCategoryField: 'event.kind' })).toEqual(['event.kind', 'event.type', 'host.id', 'process.entity_id', 'process.name']);
    expect(requiredFields('any where true')).toEqual([]);
  });
});

describe('unmappedFields', () => {
  it('a field is mapped when field caps lists it with a type, or when a parent is flattened', () => {
    const caps = { 'process.name': { keyword: {} }, labels: { flattened: {} }, 'odd.one': { unmapped: {} } };
    expect(unmappedFields(['process.name', 'labels.team.name', 'user.name', 'odd.one'], caps)).toEqual(['user.name', 'odd.one']);
  });
});
