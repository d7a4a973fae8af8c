/**
 * Injected attacks, each recording the documents the seed rules must alert on:
 * - every kind starts with `kubectl exec -it <pod> -- <shell>`: an interactive shell that is the
 *   container's entry leader ("Interactive Exec Into Container", seed 004);
 * - `exec-api`: from that shell an interactive API client (curl, wget, busybox wget, openssl,
 *   kubectl) reaches the API server with the pod's service-account token, and the audit event of
 *   the request (stage ResponseComplete, user.extra pod-name = the pod) is read < 1 s after the
 *   client started ("Direct Interactive Kubernetes API Request by Common Utilities", seed 000);
 * - `exec-api-slow`: the same, but the audit event lands > 1 s after the client started
 *   (outside the rule's maxspan): seed 000 must stay silent;
 * - `exec-only`: discovery commands only.
 */
import type { Pod } from './cluster.js';
import { binary, type ActivityContext } from './context.js';
import { execAudit } from './benign.js';
import { program, type Proc } from './process-events.js';
import type { ProgramSpec } from './cluster.js';
import type { ScenarioDoc } from './timeline.js';

export type AttackKind = 'exec-api' | 'exec-api-slow' | 'exec-only';
export type AttackMix = Record<AttackKind, number>;
export const DEFAULT_ATTACK_MIX: Readonly<AttackMix> = Object.freeze({ 'exec-api': 3, 'exec-api-slow': 1, 'exec-only': 1 });

/** The two seed rules, by the file name of their definition in /work/shared/seeds. */
export type SeedRule = 'interactive_exec' | 'api_request';
export const SEED_RULES: Readonly<Record<SeedRule, { name: string; seedFile: string }>> = Object.freeze({
  interactive_exec: { name: 'Interactive Exec Into Container Detected via Defend for Containers', seedFile: '004_ea0a7b3e1b19da3b.txt' },
  api_request: { name: 'Direct Interactive Kubernetes API Request by Common Utilities', seedFile: '000_e5629a0eea7e32f8.txt' },
});

export interface AttackRecord {
  kind: AttackKind;
  pod: Pod;
  startMs: number;
  endMs: number;
  /** Every document the attack wrote (process and audit). */
  docs: ScenarioDoc[];
  /** Expected alerts: rule and the matching documents in sequence order. */
  expected: Array<{ rule: SeedRule; docs: ScenarioDoc[] }>;
}

/** Longest an attack can take (keeps per-pod scheduling simple). */
export const ATTACK_MAX_MS = 75_000;

const DISCOVERY: ReadonlyArray<readonly string[]> = [
  ['id'], ['whoami'], ['uname', '-a'], ['cat', '/etc/os-release'], ['env'], ['ps', 'aux'], ['mount'],
  ['ls', '-la', '/var/run/secrets/kubernetes.io/serviceaccount'],
  ['cat', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
];

function fakeJwt(ctx: ActivityContext): string {
  const b64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let body = '';
  for (let i = 0; i < 560; i++) body += b64[ctx.prng.int(0, 63)];
  return `eyJhbGciOiJSUzI1NiIsImtpZCI6Ik${body.slice(0, 40)}.${body.slice(40, 420)}.${body.slice(420)}`;
}

interface ApiTool {
  prog: ProgramSpec;
  userAgent?: string;
  /** Requests the tool makes, in order; the first one completes the sequence. */
  requests: Array<{ verb: string; uri: string; resource?: string }>;
}

function apiTool(ctx: ActivityContext, pod: Pod): ApiTool {
  const ns = pod.namespace;
  const host = ctx.prng.chance(0.5) ? `https://${ctx.cluster.apiServerIp}:443` : 'https://kubernetes.default.svc';
  const resource = ctx.prng.pick(['secrets', 'pods', 'configmaps', 'serviceaccounts']);
  const uri = `/api/v1/namespaces/${ns}/${resource}`;
  const auth = `Authorization: Bearer ${fakeJwt(ctx)}`;
  const alpine = pod.workload.shell.name === 'sh';
  const choice = ctx.prng.int(0, alpine ? 2 : 3);
  if (alpine) {
    if (choice === 0) {
      // busybox applet called through busybox itself: matched by the shell-name + args branch.
      return { prog: program('/bin/busybox', ['busybox', 'wget', '-qO-', '--header', auth, `${host}${uri}`], 'busybox'), userAgent: 'Wget', requests: [{ verb: 'list', uri, resource }] };
    }
    if (choice === 1) {
      return { prog: program('/bin/wget', ['wget', '-qO-', '--no-check-certificate', '--header', auth, `${host}${uri}`]), userAgent: 'Wget', requests: [{ verb: 'list', uri, resource }] };
    }
    return { prog: program('/usr/bin/curl', ['curl', '-sk', '-H', auth, `${host}${uri}`]), userAgent: 'curl/8.5.0', requests: [{ verb: 'list', uri, resource }] };
  }
  switch (choice) {
    case 0:
      return { prog: program(binary('curl', pod.workload.shell), ['curl', '-sk', '-H', auth, `${host}${uri}`]), userAgent: 'curl/7.88.1', requests: [{ verb: 'list', uri, resource }] };
    case 1:
      return { prog: program(binary('wget', pod.workload.shell), ['wget', '-qO-', '--no-check-certificate', `--header=${auth}`, `${host}${uri}`]), userAgent: 'Wget/1.21.3', requests: [{ verb: 'list', uri, resource }] };
    case 2:
      return { prog: program('/usr/bin/openssl', ['openssl', 's_client', '-quiet', '-connect', `${ctx.cluster.apiServerIp}:443`]), requests: [{ verb: 'get', uri: `/api/v1/namespaces/${ns}/secrets/db-credentials`, resource: 'secrets' }] };
    default:
      return {
        prog: program('/tmp/kubectl', ['/tmp/kubectl', 'get', resource, '-n', ns], 'kubectl'),
        userAgent: 'kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819',
        requests: [{ verb: 'get', uri: '/api' }, { verb: 'get', uri: '/apis' }, { verb: 'list', uri: `${uri}?limit=500`, resource }],
      };
  }
}

const tsOf = (doc: ScenarioDoc): number => Date.parse(doc['@timestamp'] as string);

function runCmd(ctx: ActivityContext, shellProc: Proc, args: readonly string[], at: number, docs: ScenarioDoc[]): number {
  const { proc, fork, exec, execMs } = ctx.proc.spawn(shellProc, program(binary(args[0] as string, shellProc.program), args), at);
  const endMs = execMs + ctx.prng.int(3, 400);
  docs.push(fork, exec, ctx.proc.end(proc, endMs));
  return endMs;
}

export function injectAttack(ctx: ActivityContext, kind: AttackKind, pod: Pod, t: number): AttackRecord {
  const docs: ScenarioDoc[] = [];
  const expected: AttackRecord['expected'] = [];
  const shell = pod.workload.shell;
  const place = { kind: 'container', pod } as const;
  const shellStart = t + ctx.prng.int(60, 200);
  const { proc: shellProc, exec: shellExec } = ctx.proc.startLeader(shell, place, shellStart, { interactive: true, entryMetaType: 'container' });
  docs.push(shellExec);
  expected.push({ rule: 'interactive_exec', docs: [shellExec] });

  let at = shellStart + ctx.prng.int(1500, 8000);
  for (let i = ctx.prng.int(2, 4); i > 0; i--) at = runCmd(ctx, shellProc, ctx.prng.pick(DISCOVERY), at, docs) + ctx.prng.int(1500, 8000);

  if (kind !== 'exec-only') {
    const tool = apiTool(ctx, pod);
    const { proc, fork, exec, execMs } = ctx.proc.spawn(shellProc, tool.prog, at);
    docs.push(fork, exec);
    // exec-api: read by Filebeat at most ~0.5 s after the client started; slow: always > 1 s.
    let received = execMs + (kind === 'exec-api' ? ctx.prng.int(15, 150) : ctx.prng.int(1100, 2500));
    let firstComplete: ScenarioDoc | undefined;
    for (const r of tool.requests) {
      const objectRef: Record<string, string> | undefined = r.resource ? { resource: r.resource, namespace: pod.namespace, apiVersion: 'v1' } : undefined;
      const forbidden = r.resource === 'secrets';
      const [requestReceived, complete] = ctx.audit.request({
        verb: r.verb,
        requestURI: r.uri,
        objectRef,
        user: pod.auditUser,
        sourceIp: pod.ip,
        userAgent: tool.userAgent,
        code: forbidden ? 403 : 200,
        allowed: !forbidden,
        reason: forbidden ? '' : 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"',
      }, received, [['RequestReceived', 0], ['ResponseComplete', ctx.prng.int(1, 25)]]);
      docs.push(requestReceived as ScenarioDoc, complete as ScenarioDoc);
      // Filebeat's read lag can reorder stages of close requests: the first ResponseComplete in
      // @timestamp order (ties: written first) is the one that completes the sequence.
      if (!firstComplete || tsOf(complete as ScenarioDoc) < tsOf(firstComplete)) firstComplete = complete;
      received += ctx.prng.int(20, 120);
    }
    const toolEnd = received + ctx.prng.int(5, 60);
    docs.push(ctx.proc.end(proc, toolEnd));
    if (kind === 'exec-api') expected.push({ rule: 'api_request', docs: [exec, firstComplete as ScenarioDoc] });
    at = toolEnd + ctx.prng.int(2000, 8000);
    at = runCmd(ctx, shellProc, ['cat', '/etc/hostname'], at, docs) + ctx.prng.int(1500, 5000);
  }
  docs.push(ctx.proc.end(shellProc, at));
  const endMs = at + ctx.prng.int(20, 80);
  // The `pods/exec` request of `kubectl exec -it` itself, made with a stolen human credential.
  docs.push(...execAudit(ctx, pod, ctx.prng.pick(ctx.cluster.humans), [shell.executable], true, t, endMs, '203.0.113.77'));
  if (endMs - t > ATTACK_MAX_MS) throw new Error(`internal: attack lasted ${endMs - t} ms`);
  return { kind, pod, startMs: t, endMs, docs, expected };
}
