/**
 * The two seed rules (their exact query text, read from the shared seeds) over hand-written,
 * realistic Defend for Containers process events and Kubernetes audit events: what must match,
 * and near misses with each condition flipped once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileQuery } from '../../src/eql/compile.js';
import type { EqlEvent } from '../../src/eql/compiled.js';
import { evaluate, type EvalResult } from '../../src/eql/evaluate.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const seedsDir = path.resolve(repoRoot, '../shared/seeds');
const haveSeeds = existsSync(seedsDir);
if (!haveSeeds) console.warn(`[seeds.test] ${seedsDir} not found: skipping seed rule tests`);

/** The query text after "text code block:" up to the blank line before "Install detection rules". */
function seedQuery(fileStart: string): string {
  const file = readdirSync(seedsDir).find((f) => f.startsWith(fileStart));
  if (file === undefined) throw new Error(`seed ${fileStart} not found`);
  const text = readFileSync(path.join(seedsDir, file), 'utf8');
  const start = text.indexOf('text code block:');
  const end = text.indexOf('Install detection rules', start);
  if (start < 0 || end < 0) throw new Error(`seed ${file}: query block not found`);
  return text.slice(start + 'text code block:'.length, end).trim();
}

type Json = Record<string, unknown>;

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** Set (or with `undefined`, delete) a nested property given as a list of keys. */
function put(obj: Json, keys: string[], value: unknown): Json {
  const out = clone(obj);
  let cur: Json = out;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Json;
  }
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return out;
}

const T0 = Date.parse('2026-01-27T10:15:30.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const POD = 'webapp-7d9f8c6b5-x2x4q';

function processEvent(overrides: { ms?: number } = {}): Json {
  return {
    '@timestamp': iso(overrides.ms ?? T0),
    agent: { type: 'cloud-defend', version: '8.19.0' },
    cloud_defend: { matched_selectors: ['allProcesses'], hook_point: ['tracepoint__sched_process_exec'] },
    container: {
      id: '3f1c9b2ad4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d',
      name: 'webapp',
      image: { name: 'registry.example.com/webapp', tag: '1.4.2' },
    },
    data_stream: { dataset: 'cloud_defend.process', namespace: 'default', type: 'logs' },
    event: {
      action: 'exec',
      category: ['process'],
      type: ['start'],
      kind: 'event',
      dataset: 'cloud_defend.process',
      module: 'cloud_defend',
    },
    host: { name: 'gke-prod-pool-1-abcd', os: { type: 'linux', kernel: '6.1.0-18-cloud-amd64' } },
    orchestrator: { cluster: { name: 'prod' }, namespace: 'default', resource: { name: POD, type: 'pod' } },
    process: {
      pid: 4242,
      name: 'curl',
      executable: '/usr/bin/curl',
      args: ['curl', '-sk', '-H', 'Authorization: Bearer <redacted>', 'https://kubernetes.default.svc/api/v1/namespaces/default/secrets'],
      args_count: 5,
      interactive: true,
      working_directory: '/app',
      entry_leader: { entry_meta: { type: 'container' }, same_as_process: false, name: 'bash', pid: 4100 },
      parent: { name: 'bash', pid: 4100 },
      user: { id: '0', name: 'root' },
    },
  };
}

type PodNameStyle = 'dotted-key-array' | 'nested' | 'dotted-key-string';

function auditEvent(overrides: { ms?: number; pod?: string; style?: PodNameStyle } = {}): Json {
  const pod = overrides.pod ?? POD;
  const style = overrides.style ?? 'dotted-key-array';
  const extra: Json =
    style === 'nested'
      ? { authentication: { kubernetes: { 'io/pod-name': [pod], 'io/pod-uid': ['9d0f3c1e-1111-2222-3333-444455556666'] } } }
      : {
          'authentication.kubernetes.io/pod-name': style === 'dotted-key-array' ? [pod] : pod,
          'authentication.kubernetes.io/pod-uid': ['9d0f3c1e-1111-2222-3333-444455556666'],
        };
  return {
    '@timestamp': iso(overrides.ms ?? T0 + 400),
    data_stream: { dataset: 'kubernetes.audit_logs', namespace: 'default', type: 'logs' },
    event: { dataset: 'kubernetes.audit_logs', module: 'kubernetes', kind: 'event', category: ['web'] },
    kubernetes: {
      audit: {
        apiVersion: 'audit.k8s.io/v1',
        kind: 'Event',
        level: 'Metadata',
        stage: 'ResponseComplete',
        verb: 'list',
        requestURI: '/api/v1/namespaces/default/secrets',
        sourceIPs: ['10.8.0.17'],
        userAgent: 'curl/8.5.0',
        objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
        responseStatus: { code: 200 },
        user: {
          username: 'system:serviceaccount:default:webapp',
          groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
          extra,
        },
      },
    },
  };
}

const sequenceCount = (r: EvalResult): number => (r.kind === 'sequences' ? r.sequences.length : -1);
const eventCount = (r: EvalResult): number => (r.kind === 'events' ? r.events.length : -1);

describe.skipIf(!haveSeeds)('seed 000: Direct Interactive Kubernetes API Request by Common Utilities', () => {
  const text = haveSeeds ? seedQuery('000_') : '';
  const compiled = haveSeeds ? compileQuery(text) : undefined;
  const run = (events: Json[]) => evaluate(compiled as NonNullable<typeof compiled>, events as EqlEvent[]);

  it('reads the sequence query from the seed file', () => {
    expect(text.startsWith('sequence with maxspan=1s')).toBe(true);
    expect(text).toContain('`kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name`');
  });

  it('matches curl in a pod followed by an audit request from that pod, joining on pod name', () => {
    const r = run([processEvent(), auditEvent()]);
    expect(sequenceCount(r)).toBe(1);
    if (r.kind !== 'sequences') return;
    expect(r.sequences[0]?.joinKeys).toEqual([POD]);
    expect(r.sequences[0]?.events.map((e) => (e['event'] as Json)['dataset'])).toEqual(['cloud_defend.process', 'kubernetes.audit_logs']);
  });

  it.each<PodNameStyle>(['dotted-key-array', 'nested', 'dotted-key-string'])('joins on the pod-name key stored as %s', (style) => {
    expect(sequenceCount(run([processEvent(), auditEvent({ style })]))).toBe(1);
  });

  it('matches every listed utility run directly', () => {
    for (const name of ['wget', 'curl', 'openssl', 'socat', 'ncat', 'kubectl']) {
      const p = put(processEvent(), ['process', 'name'], name);
      expect(sequenceCount(run([p, auditEvent()])), name).toBe(1);
    }
  });

  it('matches a shell whose arguments name a utility (bare or by path)', () => {
    for (const [shell, tool] of [
      ['bash', 'curl'],
      ['sh', '/usr/bin/wget'],
      ['busybox', 'ssl_client'],
      ['zsh', '/usr/local/bin/kubectl'],
    ] as const) {
      let p = put(processEvent(), ['process', 'name'], shell);
      p = put(p, ['process', 'args'], [shell, '-c', tool, 'https://10.96.0.1/api']);
      expect(sequenceCount(run([p, auditEvent()])), `${shell} ${tool}`).toBe(1);
    }
  });

  it('maxspan=1s is inclusive: 999 ms and 1000 ms match, 1001 ms does not', () => {
    expect(sequenceCount(run([processEvent(), auditEvent({ ms: T0 + 999 })]))).toBe(1);
    expect(sequenceCount(run([processEvent(), auditEvent({ ms: T0 + 1000 })]))).toBe(1);
    expect(sequenceCount(run([processEvent(), auditEvent({ ms: T0 + 1001 })]))).toBe(0);
  });

  it('the audit request must come after the process start', () => {
    expect(sequenceCount(run([processEvent({ ms: T0 }), auditEvent({ ms: T0 - 1 })]))).toBe(0);
  });

  it('input order does not matter: events are ordered by @timestamp', () => {
    expect(sequenceCount(run([auditEvent(), processEvent()]))).toBe(1);
  });

  const nearMisses: [string, () => Json[]][] = [
    ['host.os.type is not linux', () => [put(processEvent(), ['host', 'os', 'type'], 'windows'), auditEvent()]],
    ['event.type is not start', () => [put(processEvent(), ['event', 'type'], ['end']), auditEvent()]],
    ['event.action is not exec', () => [put(processEvent(), ['event', 'action'], 'fork'), auditEvent()]],
    ['process.name is not a listed utility nor a shell', () => [put(processEvent(), ['process', 'name'], 'python3'), auditEvent()]],
    [
      'a shell whose arguments name no utility',
      () => [put(put(processEvent(), ['process', 'name'], 'bash'), ['process', 'args'], ['bash', '-c', 'ls -la /var/run/secrets']), auditEvent()],
    ],
    [
      'a shell running `which curl` (excluded argument)',
      () => [put(put(processEvent(), ['process', 'name'], 'sh'), ['process', 'args'], ['sh', '-c', 'which', 'curl']), auditEvent()],
    ],
    [
      'a shell running `chmod +x /usr/bin/wget` (excluded argument)',
      () => [put(put(processEvent(), ['process', 'name'], 'bash'), ['process', 'args'], ['bash', '-c', '/bin/chmod', '+x', '/usr/bin/wget']), auditEvent()],
    ],
    ['process.interactive is false', () => [put(processEvent(), ['process', 'interactive'], false), auditEvent()]],
    ['process.interactive is missing', () => [put(processEvent(), ['process', 'interactive'], undefined), auditEvent()]],
    ['container.id is missing', () => [put(processEvent(), ['container', 'id'], undefined), auditEvent()]],
    ['the audit event comes from another pod', () => [processEvent(), auditEvent({ pod: 'other-pod-5c6d7-abcde' })]],
    ['the audit event has no pod-name', () => [processEvent(), put(auditEvent(), ['kubernetes', 'audit', 'user', 'extra'], {})]],
    ['the process event has no orchestrator.resource.name', () => [put(processEvent(), ['orchestrator', 'resource', 'name'], undefined), auditEvent()]],
    ['the second event is not a Kubernetes audit log', () => [processEvent(), put(auditEvent(), ['event', 'dataset'], 'kubernetes.container_logs')]],
    ['the audit stage is RequestReceived', () => [processEvent(), put(auditEvent(), ['kubernetes', 'audit', 'stage'], 'RequestReceived')]],
    ['pod-name differs only in case (keys are case-sensitive)', () => [processEvent(), auditEvent({ pod: POD.toUpperCase() })]],
  ];
  it.each(nearMisses)('near miss: %s', (_name, build) => {
    expect(sequenceCount(run(build()))).toBe(0);
  });

  it('the positive baseline of every near miss matches (each miss flips one condition)', () => {
    expect(sequenceCount(run([processEvent(), auditEvent()]))).toBe(1);
  });
});

describe.skipIf(!haveSeeds)('seed 004: Interactive Exec Into Container Detected via Defend for Containers', () => {
  const text = haveSeeds ? seedQuery('004_') : '';
  const compiled = haveSeeds ? compileQuery(text) : undefined;
  const run = (events: Json[]) => evaluate(compiled as NonNullable<typeof compiled>, events as EqlEvent[]);

  const execShell = (): Json => {
    let p = put(processEvent(), ['process', 'name'], 'bash');
    p = put(p, ['process', 'executable'], '/bin/bash');
    p = put(p, ['process', 'args'], ['bash']);
    p = put(p, ['process', 'entry_leader'], { entry_meta: { type: 'container' }, same_as_process: true, name: 'bash', pid: 4242 });
    return p;
  };

  it('reads the event query from the seed file', () => {
    expect(text.startsWith('process where host.os.type == "linux"')).toBe(true);
  });

  it('matches an interactive shell that is the container entry leader, for every listed shell', () => {
    for (const shell of ['bash', 'dash', 'sh', 'tcsh', 'csh', 'zsh', 'ksh', 'fish', 'busybox']) {
      expect(eventCount(run([put(execShell(), ['process', 'name'], shell)])), shell).toBe(1);
    }
  });

  const nearMisses: [string, () => Json][] = [
    ['host.os.type is not linux', () => put(execShell(), ['host', 'os', 'type'], 'macos')],
    ['event.type is not start', () => put(execShell(), ['event', 'type'], ['end'])],
    ['event.action is not exec', () => put(execShell(), ['event', 'action'], 'fork')],
    ['process.name is not a shell', () => put(execShell(), ['process', 'name'], 'curl')],
    ['entry leader is not a container', () => put(execShell(), ['process', 'entry_leader', 'entry_meta', 'type'], 'sshd')],
    ['process is not the entry leader', () => put(execShell(), ['process', 'entry_leader', 'same_as_process'], false)],
    ['process.interactive is false', () => put(execShell(), ['process', 'interactive'], false)],
    ['container.id is missing', () => put(execShell(), ['container', 'id'], undefined)],
    ['process.name differs in case (in is case-sensitive)', () => put(execShell(), ['process', 'name'], 'BASH')],
  ];
  it.each(nearMisses)('near miss: %s', (_name, build) => {
    expect(eventCount(run([build()]))).toBe(0);
  });

  it('returns several matching events in timestamp order', () => {
    const a = put(execShell(), ['@timestamp'], iso(T0 + 5));
    const b = put(put(execShell(), ['@timestamp'], iso(T0)), ['process', 'pid'], 1);
    const r = run([a, b]);
    expect(r.kind === 'events' ? r.events.map((e) => (e['process'] as Json)['pid']) : []).toEqual([1, 4242]);
  });
});
