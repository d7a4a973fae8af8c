/**
 * Benign activity: what a busy cluster produces all day. Several kinds are deliberate near misses
 * of the seed rules (non-interactive shells and curls, interactive sessions whose entry leader is
 * not a shell, `busybox which curl` hitting the rule's exclusion list, interactive curls on nodes
 * outside any container, audit traffic from pods whose processes are never interactive).
 * None of it may match either seed rule; the scenario tests check that with the engine.
 */
import type { Pod, ProgramSpec } from './cluster.js';
import { binary, type ActivityContext } from './context.js';
import { APP_USER, program, type Proc } from './process-events.js';
import type { AuditRequest, AuditStage } from './audit-events.js';

type RequestShape = Pick<AuditRequest, 'verb' | 'requestURI' | 'objectRef'>;
import type { ScenarioDoc } from './timeline.js';

export type BenignKind =
  | 'probe'
  | 'appWork'
  | 'maintenanceScript'
  | 'adminSession'
  | 'nodeSession'
  | 'hostDaemon'
  | 'auditKubelet'
  | 'auditController'
  | 'auditSystemPod'
  | 'auditHuman';

export type BenignMix = Record<BenignKind, number>;

export const DEFAULT_BENIGN_MIX: Readonly<BenignMix> = Object.freeze({
  probe: 30,
  appWork: 14,
  maintenanceScript: 2,
  adminSession: 1,
  nodeSession: 0.5,
  hostDaemon: 8,
  auditKubelet: 22,
  auditController: 12,
  auditSystemPod: 16,
  auditHuman: 4,
});

const KUBECTL_UA = 'kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819';
const K8S_VERSION = 'v1.29.2 (linux/amd64) kubernetes/4b8e819';

function cmd(ctx: ActivityContext, shell: ProgramSpec, args: readonly string[]): ProgramSpec {
  const name = args[0] as string;
  return program(binary(name, shell), args);
}

/** Fork/exec a child, let it run, end it; returns the end time. */
function run(ctx: ActivityContext, parent: Proc, prog: ProgramSpec, atMs: number, minMs: number, maxMs: number): number {
  const { proc, execMs } = ctx.proc.spawn(parent, prog, atMs);
  const endMs = execMs + ctx.prng.int(minMs, maxMs);
  ctx.proc.end(proc, endMs);
  return endMs;
}

function stages(ctx: ActivityContext, longRunning: boolean): Array<readonly [AuditStage, number]> {
  const done = ctx.prng.int(1, 40);
  return longRunning
    ? [['RequestReceived', 0], ['ResponseStarted', done]]
    : [['RequestReceived', 0], ['ResponseComplete', done]];
}

/** The `pods/exec` request `kubectl exec` makes (its ResponseComplete comes when the stream ends). */
export function execAudit(ctx: ActivityContext, pod: Pod, user: string, command: readonly string[], tty: boolean, fromMs: number, toMs: number, sourceIp: string): ScenarioDoc[] {
  const query = command.map((c) => `command=${encodeURIComponent(c)}`).join('&');
  return ctx.audit.request({
    verb: 'create',
    requestURI: `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/exec?${query}&container=${pod.containerName}&stdin=${tty}&stdout=true&tty=${tty}`,
    objectRef: { resource: 'pods', namespace: pod.namespace, name: pod.name, apiVersion: 'v1', subresource: 'exec' },
    user: ctx.humanUser(user),
    sourceIp,
    userAgent: KUBECTL_UA,
    code: 101,
    allowed: true,
    reason: `RBAC: allowed by ClusterRoleBinding "platform-admins" of ClusterRole "cluster-admin" to User "${user}"`,
  }, fromMs, [['RequestReceived', 0], ['ResponseStarted', ctx.prng.int(20, 60)], ['ResponseComplete', Math.max(100, toMs - fromMs)]]);
}

function probe(ctx: ActivityContext, t: number): void {
  const pods = [...ctx.cluster.appPods, ...ctx.cluster.systemPods].filter((p) => p.workload.probe);
  const pod = ctx.prng.pick(pods);
  const args = pod.workload.probe as readonly string[];
  const shell = pod.workload.shell;
  const user = pod.workload.apiClient ? undefined : APP_USER;
  const { proc: leader } = ctx.proc.startLeader(cmd(ctx, shell, args), { kind: 'container', pod }, t, { interactive: false, entryMetaType: 'container', user, workingDirectory: '/app' });
  let end = t + ctx.prng.int(1, 4);
  if (args[0] === 'sh' && args[1] === '-c') {
    const inner = (args[2] as string).split(' ');
    if (inner[0] !== 'test') end = run(ctx, leader, cmd(ctx, shell, inner), end, 3, 60);
  }
  ctx.proc.end(leader, end + ctx.prng.int(0, 2));
}

const APP_JOBS: Record<string, ReadonlyArray<readonly string[]>> = {
  storefront: [['nginx', '-s', 'reload'], ['sh', '-c', 'find /var/cache/nginx -mmin +60 -delete']],
  'catalog-api': [['python3', '-c', 'import catalog.tasks; catalog.tasks.refresh_index()'], ['sh', '-c', 'gzip -9 /var/log/catalog/access.log.1']],
  'payments-gateway': [['openssl', 'version'], ['node', '/app/dist/jobs/settle.js']],
  ledger: [['sh', '-c', 'gzip -9 /app/logs/ledger.log.1'], ['java', '-cp', '/app/ledger.jar', 'com.example.ledger.Reconcile']],
  redis: [['redis-check-rdb', '/data/dump.rdb']],
  postgres: [['pg_dump', '-Fc', '-f', '/backup/app.dump', 'app'], ['gzip', '-9', '/backup/app.dump']],
  'reports-worker': [['curl', '-fsS', '-o', '/tmp/rates.json', 'https://api.exchangerate.example.com/latest'], ['python3', '-m', 'reports.render', '--daily']],
  'elastic-agent': [['/usr/share/elastic-agent/data/elastic-agent-8.19.0/components/metricbeat', '-E', 'management.enabled=true'], ['curl', '-fsS', 'http://localhost:6791/processes']],
};

function appWork(ctx: ActivityContext, t: number): void {
  const pods = [...ctx.cluster.appPods, ...ctx.cluster.systemPods].filter((p) => APP_JOBS[p.workload.name]);
  const pod = ctx.prng.pick(pods);
  const job = ctx.prng.pick(APP_JOBS[pod.workload.name] as ReadonlyArray<readonly string[]>);
  const main = ctx.mainOf(pod);
  const prog = job[0]?.startsWith('/') ? program(job[0], job) : cmd(ctx, pod.workload.shell, job);
  if (job[0] === 'sh' && job[1] === '-c') {
    const { proc: shProc, execMs } = ctx.proc.spawn(main, prog, t);
    const end = run(ctx, shProc, cmd(ctx, pod.workload.shell, (job[2] as string).split(' ')), execMs + 1, 20, 900);
    ctx.proc.end(shProc, end + 1);
  } else {
    run(ctx, main, prog, t, 15, 3000);
  }
}

/** `kubectl exec pod -- sh -c '…'` from a CI job: a non-interactive shell that runs which/chmod/package managers. */
function maintenanceScript(ctx: ActivityContext, t: number): void {
  const pod = ctx.prng.pick(ctx.cluster.appPods);
  const shell = pod.workload.shell;
  const alpine = shell.name === 'sh';
  const steps: string[][] = [
    ['which', 'curl'],
    ['chmod', '+x', '/usr/local/bin/healthcheck'],
    alpine ? ['apk', 'add', '--no-cache', 'jq'] : ['apt-get', 'install', '-y', '-qq', 'jq'],
    ['curl', '-fsS', '-o', '/tmp/config.json', 'https://config.internal.example.com/app.json'],
  ];
  const script = steps.map((s) => s.join(' ')).join(' && ');
  const leaderArgs = [shell.name, '-c', script];
  const { proc: leader } = ctx.proc.startLeader(cmd(ctx, shell, leaderArgs), { kind: 'container', pod }, t + 80, { interactive: false, entryMetaType: 'container' });
  let at = t + 85;
  for (const step of steps) {
    at = run(ctx, leader, cmd(ctx, shell, step), at, 2, step[0] === 'apt-get' || step[0] === 'apk' ? 4000 : 200) + ctx.prng.int(1, 5);
    if (step[0] === 'apt-get') {
      // apt runs dpkg; still a plain, non-interactive child.
      at = run(ctx, leader, cmd(ctx, shell, ['dpkg', '--status-fd', '23', '--configure', '--pending']), at, 50, 800);
    }
  }
  ctx.proc.end(leader, at + 2);
  execAudit(ctx, pod, 'ci-deployer', leaderArgs, false, t, at + 30, '10.0.3.44');
}

const ADMIN_DEBIAN: ReadonlyArray<readonly string[]> = [
  ['which', 'curl'], ['man', 'curl'], ['chmod', '+x', './run.sh'], ['chown', 'app:app', '/app/data'],
  ['apt-get', 'install', '-y', 'vim'], ['ls', '-la'], ['ps', 'aux'], ['cat', '/etc/os-release'], ['env'],
  ['df', '-h'], ['curl', '--version'], ['top', '-b', '-n', '1'],
];
const ADMIN_ALPINE: ReadonlyArray<readonly string[]> = [
  ['busybox', 'which', 'curl'], ['busybox', 'chmod', '755', '/usr/local/bin/curl'], ['busybox', 'which', 'wget'],
  ['apk', 'add', 'curl'], ['ls', '-la'], ['ps'], ['cat', '/etc/os-release'], ['env'], ['df', '-h'], ['wget', '--help'],
];

/**
 * An operator runs `kubectl exec -it pod -- su - app`: interactive, but the entry leader is `su`,
 * and the interactive shell is its child. Interactive `curl --version` here has no API request
 * from the pod after it (application pods never call the API server).
 */
function adminSession(ctx: ActivityContext, t: number): void {
  const shell0 = ctx.prng.pick(ctx.cluster.appPods);
  let pod: Pod | undefined;
  const maxDuration = 110_000;
  for (let i = 0; i < 6 && !pod; i++) {
    const candidate = i === 0 ? shell0 : ctx.prng.pick(ctx.cluster.appPods);
    if (ctx.podFree(candidate, t - 3000, t + maxDuration + 3000)) pod = candidate;
  }
  if (!pod) return;
  const shell = pod.workload.shell;
  const alpine = shell.name === 'sh';
  const user = ctx.prng.pick(['alice@example.com', 'bob@example.com']);
  const place = { kind: 'container', pod } as const;
  const su = ctx.proc.startLeader(program('/bin/su', ['su', '-', 'app']), place, t + 120, { interactive: true, entryMetaType: 'container' }).proc;
  const login = ctx.proc.spawn(su, program(shell.executable, [`-${shell.name}`], shell.name), t + 140, { user: APP_USER });
  let at = login.execMs + ctx.prng.int(1500, 6000);
  const count = ctx.prng.int(3, 8);
  for (let i = 0; i < count; i++) {
    const args = ctx.prng.pick(alpine ? ADMIN_ALPINE : ADMIN_DEBIAN);
    const prog = args[0] === 'busybox' ? program('/bin/busybox', args, 'busybox') : cmd(ctx, shell, args);
    at = run(ctx, login.proc, prog, at, 5, 2000) + ctx.prng.int(1500, 8000);
  }
  ctx.proc.end(login.proc, at);
  ctx.proc.end(su, at + 2);
  execAudit(ctx, pod, user, ['su', '-', 'app'], true, t, at + 40, '198.51.100.23');
}

/** An SSH login on a node: interactive bash (entry meta `sshd`), including an interactive curl to the API server — outside any container. */
function nodeSession(ctx: ActivityContext, t: number): void {
  const node = ctx.prng.pick(ctx.cluster.workers);
  const bash = program('/bin/bash', ['-bash'], 'bash');
  const ubuntu = { id: '1000', name: 'ubuntu' };
  const { proc: leader } = ctx.proc.startLeader(bash, { kind: 'host', node }, t, { interactive: true, entryMetaType: 'sshd', user: ubuntu, workingDirectory: '/home/ubuntu' });
  const commands: ReadonlyArray<readonly string[]> = [
    ['/usr/bin/systemctl', 'status', 'kubelet'],
    ['/usr/bin/journalctl', '-u', 'kubelet', '-n', '50'],
    ['/usr/bin/curl', '-sk', `https://${ctx.cluster.apiServerIp}:443/healthz`],
    ['/usr/local/bin/crictl', 'ps'],
    ['/bin/df', '-h'],
  ];
  let at = t + ctx.prng.int(2000, 6000);
  for (let i = ctx.prng.int(2, 5); i > 0; i--) {
    const args = ctx.prng.pick(commands);
    const exe = args[0] as string;
    at = run(ctx, leader, program(exe, [exe.slice(exe.lastIndexOf('/') + 1), ...args.slice(1)]), at, 10, 1500) + ctx.prng.int(1500, 8000);
  }
  ctx.proc.end(leader, at);
}

function hostDaemon(ctx: ActivityContext, t: number): void {
  const node = ctx.prng.pick(ctx.cluster.workers);
  const { containerd, kubelet } = ctx.daemonsOf(node);
  const choice = ctx.prng.int(0, 3);
  if (choice === 0) {
    run(ctx, kubelet, program('/usr/sbin/iptables', ['iptables', '-w', '5', '-W', '100000', '-S', 'KUBE-KUBELET-CANARY', '-t', 'nat']), t, 2, 30);
  } else if (choice === 1) {
    run(ctx, kubelet, program('/usr/bin/du', ['du', '-s', `/var/lib/kubelet/pods/${ctx.prng.uuid()}/volumes`]), t, 5, 200);
  } else {
    const pod = ctx.prng.pick(ctx.cluster.appPods.filter((p) => p.node === node).concat(ctx.cluster.systemPods.filter((p) => p.node === node)));
    const shim = program('/usr/bin/containerd-shim-runc-v2', ['/usr/bin/containerd-shim-runc-v2', '-namespace', 'k8s.io', '-id', pod?.containerId ?? ctx.prng.hex(64)]);
    const { proc, execMs } = ctx.proc.spawn(containerd, shim, t);
    const runcEnd = run(ctx, proc, program('/usr/bin/runc', ['runc', '--root', '/run/containerd/runc/k8s.io', 'state', pod?.containerId ?? '']), execMs + 1, 2, 20);
    ctx.proc.end(proc, runcEnd + 1);
  }
}

function auditKubelet(ctx: ActivityContext, t: number): void {
  const node = ctx.prng.pick(ctx.cluster.workers);
  const user = { username: `system:node:${node.name}`, groups: ['system:nodes', 'system:authenticated'] };
  const pod = ctx.prng.pick(ctx.cluster.appPods.concat(ctx.cluster.systemPods));
  const reqs: RequestShape[] = [
    { verb: 'update', requestURI: `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node.name}?timeout=10s`, objectRef: { resource: 'leases', namespace: 'kube-node-lease', name: node.name, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' } },
    { verb: 'get', requestURI: `/api/v1/nodes/${node.name}?resourceVersion=0&timeout=10s`, objectRef: { resource: 'nodes', name: node.name, apiVersion: 'v1' } },
    { verb: 'patch', requestURI: `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/status`, objectRef: { resource: 'pods', namespace: pod.namespace, name: pod.name, apiVersion: 'v1', subresource: 'status' } },
  ];
  const r = ctx.prng.pick(reqs);
  ctx.audit.request({ ...r, user: frozenUser(ctx, user), sourceIp: node.ip, userAgent: `kubelet/${K8S_VERSION}`, code: 200, allowed: true, reason: '' }, t, stages(ctx, false));
}

const userCache = new WeakMap<ActivityContext, Map<string, Readonly<Record<string, unknown>>>>();
function frozenUser(ctx: ActivityContext, user: { username: string; groups: string[] }): Readonly<Record<string, unknown>> {
  let m = userCache.get(ctx);
  if (!m) userCache.set(ctx, (m = new Map()));
  let u = m.get(user.username);
  if (!u) m.set(user.username, (u = Object.freeze({ ...user, uid: ctx.prng.uuid(), groups: Object.freeze([...user.groups]) })));
  return u;
}

function auditController(ctx: ActivityContext, t: number): void {
  const controller = ctx.prng.pick(['replicaset-controller', 'endpointslice-controller', 'generic-garbage-collector', 'daemon-set-controller']);
  const cp = ctx.cluster.controlPlane;
  if (ctx.prng.chance(0.4)) {
    const who = ctx.prng.pick(['system:kube-controller-manager', 'system:kube-scheduler']);
    const name = who === 'system:kube-scheduler' ? 'kube-scheduler' : 'kube-controller-manager';
    ctx.audit.request({
      verb: 'update',
      requestURI: `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${name}?timeout=5s`,
      objectRef: { resource: 'leases', namespace: 'kube-system', name, apiGroup: 'coordination.k8s.io', apiVersion: 'v1' },
      user: frozenUser(ctx, { username: who, groups: ['system:authenticated'] }),
      sourceIp: cp.ip, userAgent: `${name}/${K8S_VERSION}/leader-election`, code: 200, allowed: true,
    }, t, stages(ctx, false));
    return;
  }
  const pod = ctx.prng.pick(ctx.cluster.appPods);
  const username = `system:serviceaccount:kube-system:${controller}`;
  ctx.audit.request({
    verb: ctx.prng.pick(['update', 'patch', 'get']),
    requestURI: `/apis/apps/v1/namespaces/${pod.namespace}/replicasets/${pod.workload.name}`,
    objectRef: { resource: 'replicasets', namespace: pod.namespace, name: pod.workload.name, apiGroup: 'apps', apiVersion: 'v1' },
    user: frozenUser(ctx, { username, groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] }),
    sourceIp: cp.ip, userAgent: `kube-controller-manager/${K8S_VERSION}/system:serviceaccount:kube-system:${controller}`,
    code: 200, allowed: true,
    reason: `RBAC: allowed by ClusterRoleBinding "system:controller:${controller}" of ClusterRole "system:controller:${controller}" to ServiceAccount "${controller}/kube-system"`,
  }, t, stages(ctx, false));
}

/** API calls with pod-bound tokens (these carry `authentication.kubernetes.io/pod-name`). */
function auditSystemPod(ctx: ActivityContext, t: number): void {
  const pod = ctx.prng.pick(ctx.cluster.systemPods);
  const watch = ctx.prng.chance(0.3);
  const resource = ctx.prng.pick(['endpointslices', 'services', 'pods', 'nodes', 'namespaces']);
  const group = resource === 'endpointslices' ? '/apis/discovery.k8s.io/v1' : '/api/v1';
  const objectRef: Record<string, string> = { resource, apiVersion: 'v1' };
  if (resource === 'endpointslices') objectRef['apiGroup'] = 'discovery.k8s.io';
  ctx.audit.request({
    verb: watch ? 'watch' : 'list',
    requestURI: `${group}/${resource}?${watch ? 'allowWatchBookmarks=true&watch=true&timeoutSeconds=400' : 'limit=500&resourceVersion=0'}`,
    objectRef,
    user: pod.auditUser,
    sourceIp: pod.workload.name === 'kube-proxy' ? pod.node.ip : pod.ip,
    userAgent: pod.workload.userAgent,
    code: 200,
    allowed: true,
    reason: `RBAC: allowed by ClusterRoleBinding "${pod.workload.serviceAccount}" of ClusterRole "${pod.workload.serviceAccount}" to ServiceAccount "${pod.workload.serviceAccount}/kube-system"`,
  }, t, stages(ctx, watch));
}

function auditHuman(ctx: ActivityContext, t: number): void {
  const user = ctx.prng.pick(ctx.cluster.humans);
  const pod = ctx.prng.pick(ctx.cluster.appPods);
  const reqs: RequestShape[] = [
    { verb: 'list', requestURI: `/api/v1/namespaces/${pod.namespace}/pods?limit=500`, objectRef: { resource: 'pods', namespace: pod.namespace, apiVersion: 'v1' } },
    { verb: 'get', requestURI: `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/log?container=${pod.containerName}&tailLines=100`, objectRef: { resource: 'pods', namespace: pod.namespace, name: pod.name, apiVersion: 'v1', subresource: 'log' } },
    { verb: 'get', requestURI: `/apis/apps/v1/namespaces/${pod.namespace}/deployments/${pod.workload.name}`, objectRef: { resource: 'deployments', namespace: pod.namespace, name: pod.workload.name, apiGroup: 'apps', apiVersion: 'v1' } },
  ];
  ctx.audit.request({ ...ctx.prng.pick(reqs), user: ctx.humanUser(user), sourceIp: '198.51.100.23', userAgent: KUBECTL_UA, code: 200, allowed: true }, t, stages(ctx, false));
}

export const BENIGN_ACTIVITIES: Readonly<Record<BenignKind, (ctx: ActivityContext, t: number) => void>> = {
  probe, appWork, maintenanceScript, adminSession, nodeSession, hostDaemon,
  auditKubelet, auditController, auditSystemPod, auditHuman,
};
