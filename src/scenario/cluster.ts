/**
 * A small, plausible Kubernetes cluster (nodes, workloads, pods, service accounts, people) drawn
 * from the seeded generator. Everything the event builders need to stay consistent across
 * documents (pod ↔ container ↔ node ↔ service account) lives here.
 */
import { deepFreeze } from './freeze.js';
import type { Prng } from './prng.js';

export interface ClusterNode {
  name: string;
  hostId: string;
  ip: string;
  /** Shared, frozen ECS `host` object for documents produced on this node. */
  host: Readonly<Record<string, unknown>>;
  /** Shared, frozen ECS `agent` object of the Elastic Agent running on this node. */
  agent: Readonly<Record<string, unknown>>;
}

export interface ProgramSpec {
  name: string;
  executable: string;
  args: readonly string[];
}

export interface Workload {
  namespace: string;
  /** Deployment / DaemonSet name; pods are `<name>-<hash>-<suffix>`. */
  name: string;
  image: string;
  tag: string;
  serviceAccount: string;
  /** Login shell available in the image (`bash` or busybox `sh`). */
  shell: ProgramSpec;
  /** The container's main process (its init, entry leader of type `container`). */
  main: ProgramSpec;
  /** Exec probe run by the kubelet; null when the workload uses HTTP probes only. */
  probe: readonly string[] | null;
  /** System pods talk to the API server with a pod-bound service-account token. */
  apiClient: boolean;
  userAgent: string;
}

export interface Pod {
  name: string;
  uid: string;
  namespace: string;
  node: ClusterNode;
  ip: string;
  workload: Workload;
  containerId: string;
  containerName: string;
  /** Shared frozen ECS `container` and `orchestrator` objects for this pod's process events. */
  container: Readonly<Record<string, unknown>>;
  orchestrator: Readonly<Record<string, unknown>>;
  /** Shared frozen `kubernetes.audit.user` object for requests made with this pod's token. */
  auditUser: Readonly<Record<string, unknown>>;
}

export interface Cluster {
  name: string;
  id: string;
  apiServerIp: string;
  controlPlane: ClusterNode;
  workers: ClusterNode[];
  appPods: Pod[];
  systemPods: Pod[];
  /** People who use kubectl (audit user names). */
  humans: readonly string[];
}

const sh = (name: string, executable: string): ProgramSpec => ({ name, executable, args: [executable] });

const APP_WORKLOADS: ReadonlyArray<Omit<Workload, 'serviceAccount' | 'apiClient' | 'userAgent'>> = [
  {
    namespace: 'shop', name: 'storefront', image: 'nginx', tag: '1.25.4',
    shell: sh('bash', '/bin/bash'),
    main: { name: 'nginx', executable: '/usr/sbin/nginx', args: ['nginx', '-g', 'daemon off;'] },
    probe: null,
  },
  {
    namespace: 'shop', name: 'catalog-api', image: 'python', tag: '3.12-slim',
    shell: sh('bash', '/bin/bash'),
    main: { name: 'gunicorn', executable: '/usr/local/bin/gunicorn', args: ['/usr/local/bin/python', '/usr/local/bin/gunicorn', '-w', '4', 'catalog.wsgi:app'] },
    probe: ['sh', '-c', 'curl -fsS http://127.0.0.1:8000/healthz'],
  },
  {
    namespace: 'payments', name: 'payments-gateway', image: 'node', tag: '20-alpine',
    shell: sh('sh', '/bin/sh'),
    main: { name: 'node', executable: '/usr/local/bin/node', args: ['node', 'dist/server.js'] },
    probe: ['wget', '-q', '-O', '-', 'http://127.0.0.1:3000/ready'],
  },
  {
    namespace: 'payments', name: 'ledger', image: 'eclipse-temurin', tag: '21-jre',
    shell: sh('bash', '/bin/bash'),
    main: { name: 'java', executable: '/opt/java/openjdk/bin/java', args: ['java', '-Xmx512m', '-jar', '/app/ledger.jar'] },
    probe: ['sh', '-c', 'curl -fsS http://localhost:8080/actuator/health'],
  },
  {
    namespace: 'data', name: 'redis', image: 'redis', tag: '7.2-alpine',
    shell: sh('sh', '/bin/sh'),
    main: { name: 'redis-server', executable: '/usr/local/bin/redis-server', args: ['redis-server', '*:6379'] },
    probe: ['redis-cli', 'ping'],
  },
  {
    namespace: 'data', name: 'postgres', image: 'postgres', tag: '16.2',
    shell: sh('bash', '/bin/bash'),
    main: { name: 'postgres', executable: '/usr/lib/postgresql/16/bin/postgres', args: ['postgres'] },
    probe: ['pg_isready', '-U', 'postgres'],
  },
  {
    namespace: 'default', name: 'reports-worker', image: 'python', tag: '3.11',
    shell: sh('bash', '/bin/bash'),
    main: { name: 'python3', executable: '/usr/local/bin/python3', args: ['python3', '-m', 'reports.worker'] },
    probe: ['sh', '-c', 'test -f /tmp/alive'],
  },
];

const SYSTEM_WORKLOADS: ReadonlyArray<Omit<Workload, 'apiClient' | 'namespace'> & { daemonSet: boolean }> = [
  {
    name: 'coredns', image: 'registry.k8s.io/coredns/coredns', tag: 'v1.11.1', serviceAccount: 'coredns', daemonSet: false,
    shell: sh('sh', '/bin/sh'),
    main: { name: 'coredns', executable: '/coredns', args: ['/coredns', '-conf', '/etc/coredns/Corefile'] },
    probe: null, userAgent: 'coredns/v0.0.0 (linux/amd64) kubernetes/$Format',
  },
  {
    name: 'kube-proxy', image: 'registry.k8s.io/kube-proxy', tag: 'v1.29.2', serviceAccount: 'kube-proxy', daemonSet: true,
    shell: sh('sh', '/bin/sh'),
    main: { name: 'kube-proxy', executable: '/usr/local/bin/kube-proxy', args: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf'] },
    probe: null, userAgent: 'kube-proxy/v1.29.2 (linux/amd64) kubernetes/4b8e819',
  },
  {
    name: 'elastic-agent', image: 'docker.elastic.co/beats/elastic-agent', tag: '8.19.0', serviceAccount: 'elastic-agent', daemonSet: true,
    shell: sh('bash', '/bin/bash'),
    main: { name: 'elastic-agent', executable: '/usr/share/elastic-agent/elastic-agent', args: ['elastic-agent', 'container'] },
    probe: ['sh', '-c', 'curl -fsS http://localhost:6792/liveness'],
    userAgent: 'elastic-agent/8.19.0 (linux/amd64) kubernetes/$Format',
  },
  {
    name: 'metrics-server', image: 'registry.k8s.io/metrics-server/metrics-server', tag: 'v0.7.0', serviceAccount: 'metrics-server', daemonSet: false,
    shell: sh('sh', '/bin/sh'),
    main: { name: 'metrics-server', executable: '/metrics-server', args: ['/metrics-server', '--secure-port=10250'] },
    probe: null, userAgent: 'metrics-server/v0.7.0 (linux/amd64) kubernetes/$Format',
  },
];

const HUMANS = ['alice@example.com', 'bob@example.com', 'kubernetes-admin', 'ci-deployer'];

function makeNode(prng: Prng, clusterName: string, name: string, ip: string): ClusterNode {
  const hostId = prng.hex(32);
  return {
    name,
    hostId,
    ip,
    host: deepFreeze({
      name,
      hostname: name,
      id: hostId,
      architecture: 'x86_64',
      boot: { id: prng.uuid() },
      ip: [ip],
      mac: [`02-42-${prng.hex(2)}-${prng.hex(2)}-${prng.hex(2)}-${prng.hex(2)}`.toUpperCase()],
      os: {
        type: 'linux',
        family: 'ubuntu',
        name: 'Ubuntu',
        platform: 'ubuntu',
        version: '22.04.4 LTS (Jammy Jellyfish)',
        kernel: '6.5.0-1016-aws',
        full: 'Ubuntu 22.04.4 LTS (Jammy Jellyfish)',
      },
      containerized: false,
    }),
    agent: deepFreeze({
      id: prng.uuid(),
      ephemeral_id: prng.uuid(),
      name: `${clusterName}-${name}`,
      type: 'cloud-defend',
      version: '8.19.0',
    }),
  };
}

function makePod(prng: Prng, cluster: { name: string; id: string }, workload: Workload, node: ClusterNode, name: string, podCidr: number): Pod {
  const uid = prng.uuid();
  const ip = `10.244.${podCidr}.${prng.int(2, 250)}`;
  const containerId = prng.hex(64);
  const containerName = workload.name;
  const image = workload.image.includes('/') ? workload.image : `docker.io/library/${workload.image}`;
  const extra: Record<string, string[]> = {
    'authentication.kubernetes.io/credential-id': [`JTI=${prng.uuid()}`],
    'authentication.kubernetes.io/node-name': [node.name],
    'authentication.kubernetes.io/node-uid': [prng.uuid()],
    // The key contains dots: the integration stores it as one literal key under `extra`.
    'authentication.kubernetes.io/pod-name': [name],
    'authentication.kubernetes.io/pod-uid': [uid],
  };
  return {
    name,
    uid,
    namespace: workload.namespace,
    node,
    ip,
    workload,
    containerId,
    containerName,
    container: deepFreeze({
      id: containerId,
      name: containerName,
      image: { name: image, tag: workload.tag, hash: { all: [`sha256:${prng.hex(64)}`] } },
      runtime: 'containerd',
    }),
    orchestrator: deepFreeze({
      type: 'kubernetes',
      cluster: { name: cluster.name, id: cluster.id },
      namespace: workload.namespace,
      resource: {
        type: 'pod',
        name,
        ip: [ip],
        parent: { type: 'replicaset' },
        // ECS: a list of "key:value" keywords.
        label: [`app:${workload.name}`],
      },
    }),
    auditUser: deepFreeze({
      username: `system:serviceaccount:${workload.namespace}:${workload.serviceAccount}`,
      uid: prng.uuid(),
      groups: ['system:serviceaccounts', `system:serviceaccounts:${workload.namespace}`, 'system:authenticated'],
      extra,
    }),
  };
}

export function buildCluster(prng: Prng, opts: { workers?: number; replicas?: number } = {}): Cluster {
  const workerCount = opts.workers ?? 3;
  const replicas = opts.replicas ?? 3;
  const name = `prod-${prng.alnum(4)}`;
  const id = prng.uuid();
  const controlPlane = makeNode(prng, name, 'ip-10-0-1-10', '10.0.1.10');
  const workers: ClusterNode[] = [];
  for (let i = 0; i < workerCount; i++) {
    workers.push(makeNode(prng, name, `ip-10-0-2-${21 + i}`, `10.0.2.${21 + i}`));
  }
  const meta = { name, id };
  const appPods: Pod[] = [];
  const usedNames = new Set<string>();
  const podName = (base: string, daemon: boolean): string => {
    for (;;) {
      const candidate = daemon ? `${base}-${prng.alnum(5)}` : `${base}-${prng.hex(10)}-${prng.alnum(5)}`;
      if (!usedNames.has(candidate)) {
        usedNames.add(candidate);
        return candidate;
      }
    }
  };
  for (const base of APP_WORKLOADS) {
    const workload: Workload = deepFreeze({
      ...base,
      serviceAccount: 'default',
      apiClient: false,
      userAgent: 'curl/8.5.0',
    });
    for (let r = 0; r < replicas; r++) {
      const node = workers[(appPods.length + r) % workers.length] as ClusterNode;
      appPods.push(makePod(prng, meta, workload, node, podName(workload.name, false), workers.indexOf(node) + 1));
    }
  }
  const systemPods: Pod[] = [];
  for (const { daemonSet, ...base } of SYSTEM_WORKLOADS) {
    const workload: Workload = deepFreeze({ ...base, namespace: 'kube-system', apiClient: true });
    const nodes = daemonSet ? workers : [workers[systemPods.length % workers.length] as ClusterNode];
    for (const node of nodes) {
      systemPods.push(makePod(prng, meta, workload, node, podName(workload.name, daemonSet), workers.indexOf(node) + 1));
    }
  }
  return { name, id, apiServerIp: '10.96.0.1', controlPlane, workers, appPods, systemPods, humans: HUMANS };
}
