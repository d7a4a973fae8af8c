import { describe, expect, it } from 'vitest';
import type { estypes } from '@elastic/elasticsearch';
import { ignoreAboveFromMappings, resolveFieldType, schemaFromFieldCaps } from '../../src/es/field-caps.js';
import { cloudDefendProcessMapping, kubernetesAuditMapping } from '../fixtures/mappings.js';

describe('resolveFieldType', () => {
  it('keeps a single type, merges keyword-like types, and marks real conflicts unknown', () => {
    expect(resolveFieldType(['keyword'])).toBe('keyword');
    expect(resolveFieldType(['keyword', 'unmapped'])).toBe('keyword');
    expect(resolveFieldType(['keyword', 'wildcard'])).toBe('keyword');
    expect(resolveFieldType(['keyword', 'long'])).toBe('unknown');
    expect(resolveFieldType(['some_plugin_type'])).toBe('unknown');
  });
});

describe('schemaFromFieldCaps', () => {
  it('maps paths to types and skips metadata fields', () => {
    const caps = {
      fields: {
        _ignored: { _ignored: { type: '_ignored' } },
        'process.args': { keyword: { type: 'keyword' } },
        'process.pid': { long: { type: 'long' }, keyword: { type: 'keyword' } },
      },
    } as unknown as estypes.FieldCapsResponse;
    const s = schemaFromFieldCaps(caps);
    expect(s.typeOf('process.args')).toBe('keyword');
    expect(s.typeOf('process.pid')).toBe('unknown');
    expect(s.typeOf('_ignored')).toBeUndefined();
    expect(s.typeOf('nope')).toBeUndefined();
  });
});

describe('ignoreAboveFromMappings', () => {
  const res = (mappings: estypes.MappingTypeMapping[]): estypes.IndicesGetMappingResponse =>
    Object.fromEntries(mappings.map((m, i) => [`idx${i}`, { mappings: m }]));

  it('reads explicit ignore_above of keyword fields, nested and multi-fields included', () => {
    const f = ignoreAboveFromMappings(res([cloudDefendProcessMapping()]));
    expect(f('process.args')).toBe(1024);
    expect(f('process.parent.name')).toBe(1024);
    expect(f('process.name.text')).toBeUndefined(); // text
    expect(f('process.interactive')).toBeUndefined(); // boolean
    expect(f('not.mapped')).toBeUndefined();
  });

  it('takes the smallest limit across indices, and none when one index has no explicit limit', () => {
    const small: estypes.MappingTypeMapping = { properties: { a: { type: 'keyword', ignore_above: 10 }, b: { type: 'keyword' } } };
    const big: estypes.MappingTypeMapping = { properties: { a: { type: 'keyword', ignore_above: 100 }, b: { type: 'keyword', ignore_above: 5 } } };
    const f = ignoreAboveFromMappings(res([small, big, kubernetesAuditMapping()]));
    expect(f('a')).toBe(10);
    expect(f('b')).toBeUndefined();
    expect(f('kubernetes.audit.stage')).toBe(1024);
  });
});
