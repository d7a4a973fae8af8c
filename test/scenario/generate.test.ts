import { describe, expect, it } from 'vitest';
import { AUDIT_INDEX, generateScenario, indexOfDoc, PROCESS_INDEX, Prng, type ScenarioDoc } from '../../src/scenario/index.js';
import { groundTruth } from '../../src/scenario/truth.js';
import { apiRequestSequences, interactiveExec, values } from './oracle.js';

const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
const get = (doc: ScenarioDoc, path: string): unknown =>
  path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
const isIso = (v: unknown): boolean => typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3,6}Z$/.test(v) && Number.isFinite(Date.parse(v));

describe('Prng', () => {
  it('repeats its sequence for a seed and differs across seeds', () => {
    const draw = (seed: number) => { const p = new Prng(seed); return Array.from({ length: 50 }, () => p.nextUint32()); };
    expect(draw(11)).toEqual(draw(11));
    expect(draw(11)).not.toEqual(draw(12));
  });

  it('int stays within its inclusive bounds and reaches both ends', () => {
    const p = new Prng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = p.int(3, 7);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(7);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
  });
});

describe('generateScenario determinism', () => {
  it('produces byte-identical documents and ground truth for the same options', () => {
    const a = generateScenario({ events: 4000, attacks: 6, seed: 99 });
    const b = generateScenario({ events: 4000, attacks: 6, seed: 99 });
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(JSON.stringify(groundTruth(a))).toBe(JSON.stringify(groundTruth(b)));
  });

  it('produces different documents for a different seed', () => {
    const a = generateScenario({ events: 2000, attacks: 3, seed: 1 });
    const b = generateScenario({ events: 2000, attacks: 3, seed: 2 });
    expect(JSON.stringify(a.events)).not.toBe(JSON.stringify(b.events));
  });
});

describe('generated documents', () => {
  const s = generateScenario({ events: 6000, attacks: 8, seed: 7 });
  const processDocs = s.events.filter((d) => indexOfDoc(d) === PROCESS_INDEX);
  const auditDocs = s.events.filter((d) => indexOfDoc(d) === AUDIT_INDEX);

  it('has exactly the requested number of events, in @timestamp order, in the two data streams', () => {
    expect(s.events).toHaveLength(6000);
    expect(processDocs.length + auditDocs.length).toBe(6000);
    expect(processDocs.length).toBeGreaterThan(1000);
    expect(auditDocs.length).toBeGreaterThan(1000);
    const ts = s.events.map((d) => Date.parse(d['@timestamp'] as string));
    for (let i = 1; i < ts.length; i++) expect(ts[i]).toBeGreaterThanOrEqual(ts[i - 1] as number);
    expect(ts[0]).toBeGreaterThanOrEqual(s.options.startMs);
  });

  it('shapes process events as Defend for Containers does', () => {
    for (const d of processDocs) {
      expect(isIso(d['@timestamp'])).toBe(true);
      expect(isIso(get(d, 'event.ingested'))).toBe(true);
      expect(Date.parse(get(d, 'event.ingested') as string)).toBeGreaterThan(Date.parse(d['@timestamp'] as string));
      expect(get(d, 'event.dataset')).toBe('cloud_defend.process');
      expect(get(d, 'data_stream')).toEqual({ type: 'logs', dataset: 'cloud_defend.process', namespace: 'default' });
      expect(get(d, 'event.category')).toEqual(['process']);
      const type = get(d, 'event.type');
      expect(Array.isArray(type)).toBe(true);
      expect(['fork', 'exec', 'end']).toContain(get(d, 'event.action'));
      expect(type).toEqual(get(d, 'event.action') === 'end' ? ['end'] : ['start']);
      expect(get(d, 'host.os.type')).toBe('linux');
      const args = get(d, 'process.args') as unknown[];
      expect(Array.isArray(args) && args.length > 0 && args.every((a) => typeof a === 'string')).toBe(true);
      expect(get(d, 'process.command_line')).toBe(args.join(' '));
      expect(typeof get(d, 'process.name')).toBe('string');
      expect(typeof get(d, 'process.interactive')).toBe('boolean');
      expect(['container', 'sshd', 'init']).toContain(get(d, 'process.entry_leader.entry_meta.type'));
      expect(typeof get(d, 'process.entry_leader.same_as_process')).toBe('boolean');
      const containerId = get(d, 'container.id');
      if (containerId === undefined) {
        expect(get(d, 'orchestrator')).toBeUndefined();
      } else {
        expect(containerId).toMatch(/^[0-9a-f]{64}$/);
        expect(typeof get(d, 'container.name')).toBe('string');
        expect(typeof get(d, 'orchestrator.resource.name')).toBe('string');
        expect(get(d, 'orchestrator.resource.type')).toBe('pod');
        expect(typeof get(d, 'orchestrator.namespace')).toBe('string');
        expect(get(d, 'process.entry_leader.entry_meta.type')).toBe('container');
      }
    }
    // Both kinds of places and both interactivity values occur.
    expect(processDocs.some((d) => get(d, 'container.id') === undefined)).toBe(true);
    expect(processDocs.some((d) => get(d, 'process.interactive') === true)).toBe(true);
    expect(processDocs.some((d) => get(d, 'process.interactive') === false)).toBe(true);
  });

  it('shapes audit events as the Kubernetes audit_logs integration does', () => {
    let withPodName = 0;
    for (const d of auditDocs) {
      expect(isIso(d['@timestamp'])).toBe(true);
      expect(isIso(get(d, 'event.ingested'))).toBe(true);
      expect(get(d, 'event.dataset')).toBe('kubernetes.audit_logs');
      expect(get(d, 'data_stream')).toEqual({ type: 'logs', dataset: 'kubernetes.audit_logs', namespace: 'default' });
      expect(typeof get(d, 'kubernetes.audit.verb')).toBe('string');
      expect(get(d, 'event.action')).toBe(get(d, 'kubernetes.audit.verb'));
      expect(['RequestReceived', 'ResponseStarted', 'ResponseComplete']).toContain(get(d, 'kubernetes.audit.stage'));
      expect(typeof get(d, 'kubernetes.audit.user.username')).toBe('string');
      expect(get(d, 'user.name')).toBe(get(d, 'kubernetes.audit.user.username'));
      expect(isIso(get(d, 'kubernetes.audit.requestReceivedTimestamp'))).toBe(true);
      // Filebeat reads the line after the API server wrote the stage.
      expect(Date.parse(d['@timestamp'] as string)).toBeGreaterThanOrEqual(Date.parse(get(d, 'kubernetes.audit.stageTimestamp') as string) - 1);
      const extra = get(d, 'kubernetes.audit.user.extra') as Record<string, unknown> | undefined;
      if (extra) {
        // The key is stored literally, dots and all — never expanded into objects.
        expect(Object.hasOwn(extra, 'authentication')).toBe(false);
        const podName = extra[POD_NAME_KEY];
        expect(Array.isArray(podName) && podName.length === 1 && typeof podName[0] === 'string').toBe(true);
        expect(get(d, 'kubernetes.audit.user.username')).toMatch(/^system:serviceaccount:/);
        withPodName++;
      }
      const annotations = get(d, 'kubernetes.audit.annotations') as Record<string, unknown> | undefined;
      if (annotations) for (const k of Object.keys(annotations)) expect(k).not.toContain('.');
    }
    expect(withPodName).toBeGreaterThan(100);
    expect(auditDocs.some((d) => get(d, 'kubernetes.audit.user.extra') === undefined)).toBe(true);
  });

  it('keeps shared sub-objects frozen so a mutation cannot leak into other documents', () => {
    const d = processDocs.find((x) => get(x, 'container.id') !== undefined) as ScenarioDoc;
    expect(() => { (d['container'] as Record<string, unknown>)['id'] = 'x'; }).toThrow(TypeError);
  });
});

describe('ground truth', () => {
  const s = generateScenario({ events: 30_000, attacks: 25, seed: 2024 });
  const byKind = (k: string) => s.attacks.filter((a) => a.kind === k).length;

  it('records every injected attack and the alerts each kind must raise', () => {
    expect(s.attacks).toHaveLength(25);
    expect(byKind('exec-api') + byKind('exec-api-slow') + byKind('exec-only')).toBe(25);
    expect(byKind('exec-api')).toBeGreaterThan(0);
    expect(byKind('exec-api-slow') + byKind('exec-only')).toBeGreaterThan(0);
    const exec = s.expectedAlerts.filter((a) => a.rule === 'interactive_exec');
    const api = s.expectedAlerts.filter((a) => a.rule === 'api_request');
    expect(exec).toHaveLength(25);
    expect(api).toHaveLength(byKind('exec-api'));
    for (const a of exec) expect(a.eventIndices).toHaveLength(1);
    for (const a of api) {
      expect(a.eventIndices).toHaveLength(2);
      const [first, second] = a.eventIndices.map((i) => s.events[i] as ScenarioDoc);
      const gap = Date.parse(second?.['@timestamp'] as string) - Date.parse(first?.['@timestamp'] as string);
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeLessThan(1000);
      const attack = s.attacks[a.attackId];
      expect(values(second, `kubernetes.audit.user.extra.${POD_NAME_KEY}`)).toEqual([attack?.pod]);
      expect(get(first as ScenarioDoc, 'orchestrator.resource.name')).toBe(attack?.pod);
    }
    for (const a of s.expectedAlerts) {
      const attack = s.attacks[a.attackId];
      for (const i of a.eventIndices) expect(attack?.eventIndices).toContain(i);
    }
  });

  it('matches an independent reading of seed 004 exactly: benign traffic never triggers it', () => {
    const found = s.events.flatMap((d, i) => (interactiveExec(d) ? [i] : []));
    const expected = s.expectedAlerts.filter((a) => a.rule === 'interactive_exec').map((a) => a.eventIndices[0]);
    expect(found).toEqual(expected);
  });

  it('matches an independent reading of seed 000 exactly: near misses (slow audit, non-interactive, excluded args) stay silent', () => {
    const found = apiRequestSequences(s.events).map((p) => p.join(','));
    const expected = s.expectedAlerts.filter((a) => a.rule === 'api_request').map((a) => a.eventIndices.join(','));
    expect(found.sort()).toEqual(expected.sort());
  });

  it('names as second event the first audit event of the pod after the client started, in @timestamp order', () => {
    // Many attacks so that multi-request clients (kubectl) whose audit lines Filebeat reads out of
    // request order are certain to occur.
    const many = generateScenario({ events: 60_000, attacks: 150, seed: 31 });
    const api = many.expectedAlerts.filter((a) => a.rule === 'api_request');
    expect(api.length).toBeGreaterThan(50);
    for (const a of api) {
      const [first, second] = a.eventIndices as [number, number];
      const pod = many.attacks[a.attackId]?.pod;
      const earlier = many.events.slice(first + 1, second).filter((d) =>
        ['ResponseComplete', 'ResponseStarted'].includes(get(d, 'kubernetes.audit.stage') as string) &&
        values(d, `kubernetes.audit.user.extra.${POD_NAME_KEY}`).includes(pod));
      expect(earlier).toEqual([]);
    }
  });

  it('contains the near misses the rules must reject', () => {
    const stage0Like = s.events.filter((d) => get(d, 'event.action') === 'exec' && ['curl', 'wget', 'openssl'].includes(get(d, 'process.name') as string));
    expect(stage0Like.some((d) => get(d, 'process.interactive') === false)).toBe(true);
    expect(stage0Like.some((d) => get(d, 'process.interactive') === true && get(d, 'container.id') === undefined)).toBe(true);
    const shellLeaders = s.events.filter((d) => get(d, 'event.action') === 'exec' && get(d, 'process.entry_leader.same_as_process') === true && ['sh', 'bash'].includes(get(d, 'process.name') as string));
    expect(shellLeaders.some((d) => get(d, 'process.interactive') === false)).toBe(true);
    const excluded = s.events.filter((d) => get(d, 'process.name') === 'busybox' && (get(d, 'process.args') as string[]).some((a) => a === 'which' || a === 'chmod'));
    expect(excluded.length).toBeGreaterThan(0);
  });
});

describe('options', () => {
  it('derives the attack count from attackRate', () => {
    expect(generateScenario({ events: 5000, attackRate: 0.002, seed: 3 }).attacks).toHaveLength(10);
  });

  it('keeps events inside the requested time span (sessions may run past its end by under two minutes)', () => {
    const s = generateScenario({ events: 3000, attacks: 2, seed: 4, start: '2025-06-01T00:00:00Z', spanMs: 600_000 });
    const start = Date.parse('2025-06-01T00:00:00Z');
    for (const d of s.events) {
      const t = Date.parse(d['@timestamp'] as string);
      expect(t).toBeGreaterThanOrEqual(start);
      expect(t).toBeLessThan(start + 600_000 + 120_000);
    }
  });

  it('rejects impossible requests with a clear error', () => {
    expect(() => generateScenario({ events: 10, attacks: 3 })).toThrow(/more than the 10 requested/);
    expect(() => generateScenario({ events: 100_000, attacks: 2000, spanMs: 600_000 })).toThrow(/too short/);
    expect(() => generateScenario({ events: 0 })).toThrow(RangeError);
    expect(() => generateScenario({ start: 'yesterday' })).toThrow(/start/);
  });
});
