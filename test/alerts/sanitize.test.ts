/**
 * Event values fitted to the ECS mapping before an alert is written (Kibana's traverse_and_mutate_doc): what
 * does not fit is dropped and reported, everything that fits is kept, the input is left untouched.
 */
import { describe, expect, it } from 'vitest';
import { ECS_FIELDS, ECS_NESTED_FIELDS } from '../../src/alerts/ecs-fields.js';
import { fitToEcs, MAX_DEPTH, pickEcs } from '../../src/alerts/sanitize.js';

describe('the ECS field table', () => {
  it('comes from @elastic/ecs with portable types and bounded keywords', () => {
    expect(ECS_FIELDS.size).toBeGreaterThan(2000);
    expect(ECS_FIELDS.get('host.name')).toEqual({ type: 'keyword', ignore_above: 1024 });
    expect(ECS_FIELDS.get('orchestrator.resource.name')).toEqual({ type: 'keyword', ignore_above: 1024 });
    // wildcard → keyword (long limit), match_only_text → text: no x-pack or mapper-extras type.
    expect(ECS_FIELDS.get('process.command_line')).toEqual({ type: 'keyword', ignore_above: 8191, fields: { text: { type: 'text' } } });
    expect(ECS_FIELDS.get('message')).toEqual({ type: 'text' });
    const types = new Set([...ECS_FIELDS.values()].map((m) => m.type));
    for (const t of ['wildcard', 'match_only_text', 'constant_keyword', 'scaled_float', 'nested']) expect(types.has(t)).toBe(false);
    for (const m of ECS_FIELDS.values()) if (m.type === 'keyword') expect(m.ignore_above).toBeGreaterThan(0);
    expect(ECS_NESTED_FIELDS.has('threat.enrichments')).toBe(true);
    expect(ECS_FIELDS.has('threat.enrichments.indicator.ip')).toBe(false);
  });
});

describe('fitToEcs', () => {
  it('drops an object where ECS has a keyword, keeps its siblings', () => {
    const input = { host: { name: { first: 'attacker' }, hostname: 'h1' }, user: { name: 'root' } };
    const copy = structuredClone(input);
    const out = fitToEcs(input);
    expect(out.doc).toEqual({ host: { hostname: 'h1' }, user: { name: 'root' } });
    expect(out.removed).toEqual(['host.name']);
    expect(input).toEqual(copy);
  });

  it('keeps numbers and booleans in keyword fields (Elasticsearch indexes them as strings)', () => {
    expect(fitToEcs({ orchestrator: { resource: { name: 12345 } }, 'container.name': true }).removed).toEqual([]);
  });

  it('drops keys below an ECS leaf, scalars where ECS has an object, and scalars in nested fields', () => {
    const out = fitToEcs({ 'host.name.first': 'x', host: { name: 'ok', 'os.name': 'linux' }, process: 'bash', threat: { enrichments: ['x', { indicator: { ip: '1.2.3.4' } }] } });
    expect(out.doc).toEqual({ host: { name: 'ok', 'os.name': 'linux' }, threat: { enrichments: [{ indicator: { ip: '1.2.3.4' } }] } });
    expect(out.removed.sort()).toEqual(['host.name.first', 'process', 'threat.enrichments']);
  });

  it('checks typed fields as Kibana does: long, float, ip, date, boolean', () => {
    const out = fitToEcs({
      process: { pid: 'not a number', parent: { pid: '42' } },
      host: { cpu: { usage: 0.5 }, ip: ['10.0.0.1', 'not-an-ip', '::1'] },
      event: { created: 'yesterday-ish', ingested: '2026-01-01T00:00:00Z', start: 1700000000000 },
      container: { security_context: { privileged: 'yes', readonly: false } },
      dns: { header_flags: ['AA'] },
    });
    expect(out.doc).toEqual({
      process: { parent: { pid: '42' } },
      host: { cpu: { usage: 0.5 }, ip: ['10.0.0.1', '::1'] },
      event: { ingested: '2026-01-01T00:00:00Z', start: 1700000000000 },
      container: { security_context: { readonly: false } },
      dns: { header_flags: ['AA'] },
    });
    expect(out.removed.sort()).toEqual(['container.security_context.privileged', 'event.created', 'host.ip', 'process.pid']);
  });

  it('keeps fields outside ECS as they are (the index maps nothing outside ECS)', () => {
    const custom = { kubernetes: { audit: { user: { extra: { 'authentication.kubernetes.io/pod-name': ['p'] } } } }, 'weird key $': { any: [1, { x: 2 }] } };
    expect(fitToEcs(custom)).toEqual({ doc: custom, removed: [] });
  });

  it('keeps flat labels (keywords in the index), drops objects below them', () => {
    const out = fitToEcs({ labels: { team: 'payments', tier: 3, deep: { x: 1 } }, container: { labels: { app: 'api', 'a.b': 'dotted' } } });
    expect(out.doc).toEqual({ labels: { team: 'payments', tier: 3 }, container: { labels: { app: 'api' } } });
    expect(out.removed.sort()).toEqual(['container.labels.a.b', 'labels.deep']);
  });

  it('keeps 100k-element arrays of fitting values', () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `h${i}`);
    const out = fitToEcs({ host: { name: names } });
    expect((out.doc.host as { name: string[] }).name).toHaveLength(100_000);
  });

  it(`drops subtrees nested deeper than ${MAX_DEPTH} levels (Elasticsearch refuses more than 1000)`, () => {
    let deep: Record<string, unknown> = { leaf: 'x' };
    for (let i = 0; i < 500; i++) deep = { d: deep };
    const out = fitToEcs({ custom: deep, host: { name: 'h' } });
    expect(out.doc.host).toEqual({ name: 'h' });
    expect(out.removed).toHaveLength(1);
    expect(out.removed[0]!.split('.')).toHaveLength(MAX_DEPTH);
    expect(JSON.stringify(out.doc).length).toBeLessThan(1000);
  });
});

describe('pickEcs', () => {
  it('keeps only ECS fields (and what lies below ECS object fields)', () => {
    expect(pickEcs({ host: { name: 'h', custom: 1 }, labels: { team: 'a' }, kubernetes: { pod: 'x' }, 'user.name': 'u', 'kibana.alert.uuid': 'k' }))
      .toEqual({ host: { name: 'h' }, labels: { team: 'a' }, 'user.name': 'u' });
  });
});
