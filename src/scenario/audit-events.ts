/**
 * Kubernetes audit documents as the `kubernetes.audit_logs` integration stores them in
 * `logs-kubernetes.audit_logs-<namespace>`: the API server's audit event under `kubernetes.audit`
 * (annotation keys de-dotted, `user.extra` keys kept literally, e.g.
 * `authentication.kubernetes.io/pod-name` holding a one-element array), with `event.action`
 * copied from the verb, `user.*`, `user_agent.original`, `source.ip`/`client.ip` set by the
 * ingest pipeline. `@timestamp` is when Filebeat read the line, shortly after `stageTimestamp`.
 */
import type { ClusterNode } from './cluster.js';
import { deepFreeze } from './freeze.js';
import type { Prng } from './prng.js';
import { iso, type ScenarioDoc, type Timeline } from './timeline.js';

export const AUDIT_INDEX = 'logs-kubernetes.audit_logs-default';

const DATA_STREAM = deepFreeze({ type: 'logs', dataset: 'kubernetes.audit_logs', namespace: 'default' });
const ECS = deepFreeze({ version: '8.0.0' });
const INPUT = deepFreeze({ type: 'filestream' });

export type AuditStage = 'RequestReceived' | 'ResponseStarted' | 'ResponseComplete' | 'Panic';

export interface AuditRequest {
  verb: string;
  requestURI: string;
  objectRef?: Readonly<Record<string, string>>;
  /** Frozen `kubernetes.audit.user` object (username, uid, groups, extra). */
  user: Readonly<Record<string, unknown>>;
  sourceIp: string;
  userAgent?: string;
  code: number;
  /** RBAC decision annotation; `forbid` when the code is 403. */
  allowed: boolean;
  reason?: string;
}

/** Writes the audit documents of one request, one per logged stage. */
export class AuditEmitter {
  private offset = 0;
  private readonly agent: Readonly<Record<string, unknown>>;

  constructor(
    private readonly prng: Prng,
    private readonly timeline: Timeline,
    private readonly controlPlane: ClusterNode,
  ) {
    this.agent = deepFreeze({
      id: prng.uuid(),
      ephemeral_id: prng.uuid(),
      name: controlPlane.name,
      type: 'filebeat',
      version: '8.19.0',
    });
  }

  /**
   * Emits the stage documents for a request received at `receivedMs`, each stage `stageDelaysMs`
   * after the request was received; returns them in stage order.
   */
  request(req: AuditRequest, receivedMs: number, stages: ReadonlyArray<readonly [AuditStage, number]>): ScenarioDoc[] {
    const auditID = this.prng.uuid();
    const out: ScenarioDoc[] = [];
    for (const [stage, delay] of stages) {
      const stageMs = receivedMs + delay;
      const readMs = stageMs + this.prng.int(5, 300);
      out.push(this.doc(req, auditID, stage, receivedMs, stageMs, readMs));
    }
    return out;
  }

  private doc(req: AuditRequest, auditID: string, stage: AuditStage, receivedMs: number, stageMs: number, readMs: number): ScenarioDoc {
    const audit: Record<string, unknown> = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID,
      stage,
      requestURI: req.requestURI,
      verb: req.verb,
      user: req.user,
      sourceIPs: [req.sourceIp],
      requestReceivedTimestamp: iso(receivedMs).replace('Z', `${this.prng.int(100, 999)}Z`),
      stageTimestamp: iso(stageMs).replace('Z', `${this.prng.int(100, 999)}Z`),
    };
    if (req.userAgent !== undefined) audit['userAgent'] = req.userAgent;
    if (req.objectRef) audit['objectRef'] = req.objectRef;
    const decision = req.allowed ? 'allow' : 'forbid';
    if (stage !== 'RequestReceived') {
      audit['responseStatus'] = req.code >= 400
        ? { metadata: {}, code: req.code, status: 'Failure', reason: 'Forbidden' }
        : { metadata: {}, code: req.code };
      audit['annotations'] = {
        'authorization_k8s_io/decision': decision,
        'authorization_k8s_io/reason': req.reason ?? (req.allowed ? 'RBAC: allowed' : ''),
      };
    }
    const user = req.user as { username?: string; uid?: string };
    const event: Record<string, unknown> = {
      kind: 'event',
      action: req.verb,
      dataset: 'kubernetes.audit_logs',
      module: 'kubernetes',
      agent_id_status: 'verified',
      ingested: iso(readMs + this.prng.int(200, 2000)),
    };
    if (stage !== 'RequestReceived') event['outcome'] = req.allowed ? 'success' : 'failure';
    const doc: ScenarioDoc = {
      '@timestamp': iso(readMs),
      agent: this.agent,
      data_stream: DATA_STREAM,
      ecs: ECS,
      event,
      host: this.controlPlane.host,
      input: INPUT,
      log: { file: { path: '/var/log/kubernetes/kube-apiserver-audit.log' }, offset: (this.offset += this.prng.int(900, 2400)) },
      kubernetes: { audit },
      source: { ip: req.sourceIp },
      client: { ip: req.sourceIp },
      user: { name: user.username, id: user.uid },
    };
    if (req.userAgent !== undefined) doc['user_agent'] = { original: req.userAgent };
    return this.timeline.add(readMs, doc);
  }
}
