/**
 * A hand-written attack among benign noise, shaped like Defend for Containers process events and
 * Kubernetes audit logs (Filebeat/Elastic Agent), with the exact alerts the two seed rules must give.
 *
 * Attack: `kubectl exec -it web… -- bash` (interactive shell, entry leader of the container), then from that
 * pod an interactive `curl` to the API server whose audit event (ResponseComplete, user.extra pod-name = the
 * pod, stored as a LITERAL dotted key) follows 400 ms later; a second pod does the same with `busybox wget`.
 * Noise: a sub-shell, a non-interactive curl, `which curl` and `chmod … curl` (excluded by the rule), a
 * non-interactive entry leader, a curl whose audit event names another pod or has stage RequestReceived,
 * a curl whose audit event comes 2 s later, a shell on the host itself.
 */

export const EXEC_RULE_ID = '420e5bb4-93bf-40a3-8f4a-4cc1af90eca1';
export const API_RULE_ID = '9d312839-339a-4e10-af2e-a49b15b15d13';
export const EXEC_RULE_NAME = 'Interactive Exec Into Container Detected via Defend for Containers';
export const API_RULE_NAME = 'Direct Interactive Kubernetes API Request by Common Utilities';

export interface ScenarioEvent {
  index: 'process' | 'audit';
  id: string;
  source: Record<string, unknown>;
}

interface Pod {
  name: string;
  containerId: string;
  node: string;
}

const POD_A: Pod = { name: 'web-7d9f8-abcde', containerId: 'c0ffee01a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8', node: 'worker-1' };
const POD_C: Pod = { name: 'api-5c6d7-fghij', containerId: 'c0ffee02a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8', node: 'worker-2' };
const POD_D: Pod = { name: 'db-0', containerId: 'c0ffee03a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8', node: 'worker-1' };
const POD_F: Pod = { name: 'batch-x7k2p', containerId: 'c0ffee04a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8', node: 'worker-3' };

const iso = (ms: number): string => new Date(ms).toISOString();
const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IkZBS0UifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDp3ZWIifQ.c2lnbmF0dXJl';

interface ProcOpts {
  pod: Pod | null;
  name: string;
  args: string[];
  interactive: boolean;
  entryLeader?: boolean;
  parent?: string;
  pid: number;
}

function proc(id: string, ts: number, o: ProcOpts): ScenarioEvent {
  const executable = o.name === 'busybox' ? '/bin/busybox' : o.name === 'curl' ? '/usr/bin/curl' : `/bin/${o.name}`;
  const source: Record<string, unknown> = {
    '@timestamp': iso(ts),
    event: {
      ingested: iso(ts + 1_500),
      category: ['process'],
      type: ['start'],
      action: 'exec',
      kind: 'event',
      module: 'cloud_defend',
      dataset: 'cloud_defend.process',
      id,
    },
    data_stream: { dataset: 'cloud_defend.process', type: 'logs', namespace: 'default' },
    host: { name: o.pod?.node ?? 'worker-1', os: { type: 'linux' } },
    user: { id: '0', name: 'root' },
    process: {
      name: o.name,
      executable,
      args: o.args,
      args_count: o.args.length,
      command_line: o.args.join(' '),
      pid: o.pid,
      entity_id: `ent-${id}`,
      interactive: o.interactive,
      working_directory: '/',
      parent: { name: o.parent ?? 'bash', pid: o.pid - 1, interactive: o.interactive },
      entry_leader: {
        entry_meta: { type: o.pod ? 'container' : 'sshd' },
        same_as_process: o.entryLeader ?? false,
        interactive: o.interactive,
        name: o.entryLeader ? o.name : 'bash',
        pid: o.entryLeader ? o.pid : 1,
      },
    },
  };
  if (o.pod) {
    source.container = { id: o.pod.containerId, name: o.pod.name.split('-')[0] };
    source.orchestrator = { resource: { name: o.pod.name, type: 'pod' }, namespace: 'default', cluster: { name: 'prod-eu' } };
  }
  return { index: 'process', id, source };
}

function audit(id: string, ts: number, pod: string, stage: string): ScenarioEvent {
  return {
    index: 'audit',
    id,
    source: {
      '@timestamp': iso(ts),
      event: { ingested: iso(ts + 900), kind: 'event', module: 'kubernetes', dataset: 'kubernetes.audit_logs' },
      data_stream: { dataset: 'kubernetes.audit_logs', type: 'logs', namespace: 'default' },
      kubernetes: {
        audit: {
          kind: 'Event',
          level: 'Metadata',
          auditID: `audit-${id}`,
          stage,
          verb: 'list',
          requestURI: '/api/v1/namespaces/default/secrets',
          user: {
            username: 'system:serviceaccount:default:default',
            groups: ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated'],
            // The literal dotted key, as the API server writes it and Filebeat stores it.
            extra: {
              'authentication.kubernetes.io/pod-name': [pod],
              'authentication.kubernetes.io/pod-uid': [`uid-${pod}`],
            },
          },
          sourceIPs: ['10.244.1.17'],
          userAgent: 'curl/8.5.0',
          objectRef: { resource: 'secrets', namespace: 'default', apiVersion: 'v1' },
          responseStatus: { code: 200 },
        },
      },
    },
  };
}

export interface ExpectedAlerts {
  /** Event ids of the single-event alerts of the exec rule. */
  exec: string[];
  /** Event id pairs (in sequence order) of the API-request sequences. */
  api: string[][];
}

/** The scenario starting at `t0` (epoch ms); every event is ingested within t0 .. t0 + 95 s. */
export function attackScenario(t0: number): { events: ScenarioEvent[]; expected: ExpectedAlerts } {
  const s = (sec: number): number => t0 + Math.round(sec * 1000);
  const api = ['curl', '-sk', '-H', `Authorization: Bearer ${TOKEN}`, 'https://kubernetes.default.svc/api/v1/namespaces/default/secrets'];
  const events: ScenarioEvent[] = [
    // Pod A: the attack.
    proc('p-a1', s(0), { pod: POD_A, name: 'bash', args: ['bash'], interactive: true, entryLeader: true, parent: 'runc', pid: 100 }),
    proc('p-a2', s(5), { pod: POD_A, name: 'bash', args: ['bash'], interactive: true, pid: 110 }),
    proc('p-a3', s(10), { pod: POD_A, name: 'curl', args: api, interactive: true, pid: 120 }),
    audit('k-a1', s(10.4), POD_A.name, 'ResponseComplete'),
    // Pod A noise: a script's non-interactive curl, `which curl`, `chmod +x …/curl` (the rule's exclusions).
    proc('p-a4', s(30), { pod: POD_A, name: 'curl', args: api, interactive: false, parent: 'sh', pid: 130 }),
    audit('k-a2', s(30.3), POD_A.name, 'ResponseComplete'),
    proc('p-a5', s(50), { pod: POD_A, name: 'busybox', args: ['which', 'curl'], interactive: true, pid: 140 }),
    audit('k-a3', s(50.2), POD_A.name, 'ResponseComplete'),
    proc('p-a6', s(70), { pod: POD_A, name: 'busybox', args: ['chmod', '+x', '/usr/local/bin/curl'], interactive: true, pid: 150 }),
    audit('k-a4', s(70.5), POD_A.name, 'ResponseComplete'),
    // Pod C: the same attack with busybox wget (the utility appears as an argument of a shell).
    proc('p-c1', s(20), { pod: POD_C, name: 'sh', args: ['sh'], interactive: true, entryLeader: true, parent: 'runc', pid: 200 }),
    proc('p-c2', s(40), { pod: POD_C, name: 'busybox', args: ['busybox', 'wget', '-qO-', 'https://kubernetes.default.svc/api'], interactive: true, pid: 210 }),
    audit('k-c1', s(40.6), POD_C.name, 'ResponseStarted'),
    // Pod D: a non-interactive exec (entry leader, no tty); an interactive curl whose audit events are
    // another pod's and a RequestReceived stage.
    proc('p-d1', s(15), { pod: POD_D, name: 'bash', args: ['bash', '-c', 'pg_isready'], interactive: false, entryLeader: true, parent: 'runc', pid: 300 }),
    proc('p-d2', s(60), { pod: POD_D, name: 'curl', args: api, interactive: true, pid: 310 }),
    audit('k-e1', s(60.5), 'cache-1', 'ResponseComplete'),
    audit('k-d1', s(60.6), POD_D.name, 'RequestReceived'),
    // Pod F: interactive curl, but its audit event is 2 s later (beyond maxspan=1s).
    proc('p-f1', s(80), { pod: POD_F, name: 'curl', args: api, interactive: true, pid: 400 }),
    audit('k-f1', s(82), POD_F.name, 'ResponseComplete'),
    // The node itself: an interactive ssh shell, not a container.
    proc('p-h1', s(90), { pod: null, name: 'bash', args: ['bash'], interactive: true, entryLeader: true, parent: 'sshd', pid: 500 }),
  ];
  return { events, expected: { exec: ['p-a1', 'p-c1'], api: [['p-a3', 'k-a1'], ['p-c2', 'k-c1']] } };
}
