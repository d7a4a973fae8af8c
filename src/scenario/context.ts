/**
 * State shared by the benign and attack activity generators: the cluster, the two document
 * emitters, long-running processes (container inits, node daemons) and the time windows in which
 * each pod is busy with an injected attack (benign interactive sessions keep out of them so an
 * attack's ground truth stays exact).
 */
import type { Cluster, ClusterNode, Pod, ProgramSpec } from './cluster.js';
import { AuditEmitter } from './audit-events.js';
import { deepFreeze } from './freeze.js';
import { APP_USER, ProcessEmitter, program, ROOT, type Proc } from './process-events.js';
import type { Prng } from './prng.js';
import type { Timeline } from './timeline.js';

export interface ActivityContext {
  prng: Prng;
  cluster: Cluster;
  proc: ProcessEmitter;
  audit: AuditEmitter;
  startMs: number;
  endMs: number;
  /** The container's main process (entry leader of type `container`), created on first use. */
  mainOf(pod: Pod): Proc;
  /** containerd and kubelet on a node (entry leaders of type `init`). */
  daemonsOf(node: ClusterNode): { containerd: Proc; kubelet: Proc };
  /** True when no injected attack uses `pod` between `fromMs` and `toMs`. */
  podFree(pod: Pod, fromMs: number, toMs: number): boolean;
  reserve(pod: Pod, fromMs: number, toMs: number): void;
  /** Frozen `kubernetes.audit.user` for a person using kubectl. */
  humanUser(name: string): Readonly<Record<string, unknown>>;
}

export function createContext(prng: Prng, cluster: Cluster, timeline: Timeline, startMs: number, endMs: number): ActivityContext {
  const cloudDefend = deepFreeze({
    package_policy_id: prng.uuid(),
    package_policy_revision: 3,
    matched_selectors: ['allProcesses'],
    hook_point: ['tracepoint__sched_process_exec'],
  });
  const proc = new ProcessEmitter(prng, timeline, cloudDefend);
  const audit = new AuditEmitter(prng, timeline, cluster.controlPlane);
  const mains = new Map<Pod, Proc>();
  const daemons = new Map<ClusterNode, { containerd: Proc; kubelet: Proc }>();
  const reservations = new Map<Pod, Array<readonly [number, number]>>();
  const humans = new Map<string, Readonly<Record<string, unknown>>>();
  return {
    prng,
    cluster,
    proc,
    audit,
    startMs,
    endMs,
    mainOf(pod) {
      let main = mains.get(pod);
      if (!main) {
        const user = pod.workload.apiClient ? ROOT : APP_USER;
        main = proc.existingLeader(pod.workload.main, { kind: 'container', pod }, startMs - prng.int(3_600_000, 20 * 86_400_000), 'container', user);
        mains.set(pod, main);
      }
      return main;
    },
    daemonsOf(node) {
      let d = daemons.get(node);
      if (!d) {
        const since = startMs - prng.int(86_400_000, 30 * 86_400_000);
        const place = { kind: 'host', node } as const;
        d = {
          containerd: proc.existingLeader(program('/usr/bin/containerd', ['/usr/bin/containerd']), place, since, 'init'),
          kubelet: proc.existingLeader(
            program('/usr/bin/kubelet', ['/usr/bin/kubelet', '--config=/var/lib/kubelet/config.yaml', '--container-runtime-endpoint=unix:///run/containerd/containerd.sock']),
            place, since + 5_000, 'init'),
        };
        daemons.set(node, d);
      }
      return d;
    },
    podFree(pod, fromMs, toMs) {
      for (const [a, b] of reservations.get(pod) ?? []) if (fromMs <= b && a <= toMs) return false;
      return true;
    },
    reserve(pod, fromMs, toMs) {
      const list = reservations.get(pod) ?? [];
      list.push([fromMs, toMs]);
      reservations.set(pod, list);
    },
    humanUser(name) {
      let u = humans.get(name);
      if (!u) {
        u = deepFreeze({
          username: name,
          groups: name === 'kubernetes-admin' ? ['system:masters', 'system:authenticated'] : ['oidc:platform-team', 'system:authenticated'],
        });
        humans.set(name, u);
      }
      return u;
    },
  };
}

/** Resolves a bare command name to the executable path typical images use. */
export function binary(name: string, shellImage: ProgramSpec): string {
  const paths: Record<string, string> = {
    sh: '/bin/sh', bash: '/bin/bash', su: '/bin/su', busybox: '/bin/busybox',
    curl: '/usr/bin/curl', wget: '/usr/bin/wget', openssl: '/usr/bin/openssl',
    which: '/usr/bin/which', chmod: '/bin/chmod', chown: '/bin/chown', man: '/usr/bin/man',
    'apt-get': '/usr/bin/apt-get', apk: '/sbin/apk', dpkg: '/usr/bin/dpkg',
    id: '/usr/bin/id', whoami: '/usr/bin/whoami', uname: '/bin/uname', cat: '/bin/cat', ls: '/bin/ls',
    env: '/usr/bin/env', ps: '/bin/ps', mount: '/bin/mount', df: '/bin/df', top: '/usr/bin/top',
    gzip: '/bin/gzip', test: '/usr/bin/test', 'redis-cli': '/usr/local/bin/redis-cli',
    pg_isready: '/usr/lib/postgresql/16/bin/pg_isready', python3: '/usr/local/bin/python3',
  };
  // busybox images ship most tools as applets under /bin.
  if (shellImage.name === 'sh' && ['ls', 'cat', 'ps', 'id', 'env', 'mount', 'df', 'wget', 'whoami', 'uname', 'chmod', 'which'].includes(name)) {
    return `/bin/${name}`;
  }
  return paths[name] ?? `/usr/bin/${name}`;
}
