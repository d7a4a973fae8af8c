/** The recent scenario the demo and the compose loader use: inside the seed rules' look-back, both rules expected. */
import { describe, expect, it } from 'vitest';
import { inNamespace, RECENT_END_GAP_MS, recentScenario } from '../../src/scenario/load.js';
import { checkNamespace } from '../../src/scenario/mappings.js';

const SIX_MINUTES = 6 * 60_000;

describe('recentScenario', () => {
  const now = Date.parse('2026-03-01T12:00:00.000Z');
  const s = recentScenario({ events: 3000, attacks: 2, now });

  it('expects both seed rules to fire', () => {
    expect(new Set(s.expectedAlerts.map((a) => a.rule))).toEqual(new Set(['interactive_exec', 'api_request']));
  });

  it('puts @timestamp and event.ingested inside the rules\' 6-minute look-back, before now', () => {
    for (const e of s.events) {
      const ts = Date.parse(e['@timestamp'] as string);
      const ingested = Date.parse((e.event as { ingested: string }).ingested);
      expect(ts).toBeGreaterThan(now - SIX_MINUTES);
      expect(ingested).toBeGreaterThanOrEqual(ts);
      expect(ingested).toBeLessThan(now);
    }
    expect(Date.parse(s.events.at(-1)!['@timestamp'] as string)).toBeLessThanOrEqual(now - RECENT_END_GAP_MS);
  });

  it('is deterministic for a given now', () => {
    const again = recentScenario({ events: 3000, attacks: 2, now });
    expect(again.options.seed).toBe(s.options.seed);
    expect(JSON.stringify(again.events.slice(0, 50))).toBe(JSON.stringify(s.events.slice(0, 50)));
  });
});

describe('inNamespace', () => {
  it('moves a document to another namespace without touching the (frozen) original', () => {
    const ds = Object.freeze({ type: 'logs', dataset: 'cloud_defend.process', namespace: 'default' });
    const doc = Object.freeze({ '@timestamp': 'x', data_stream: ds });
    const moved = inNamespace(doc, 'demo');
    expect(moved.data_stream).toEqual({ type: 'logs', dataset: 'cloud_defend.process', namespace: 'demo' });
    expect(doc.data_stream.namespace).toBe('default');
    expect(inNamespace(doc, 'default')).toBe(doc);
  });

  it('rejects names Elasticsearch or Fleet would refuse', () => {
    for (const bad of ['Demo', 'a-b', 'a b', '', '_x', 'a*']) expect(() => checkNamespace(bad)).toThrow(RangeError);
    expect(checkNamespace('team_a.prod')).toBe('team_a.prod');
  });
});
