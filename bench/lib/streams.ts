/**
 * Lazily generated synthetic event streams for the memory benchmark: never materialised, one fresh
 * object per event (the engine stamps its hit reference into `_source`).
 *
 * Shape (worst case for the sequence seed rule): most events are first-stage hits (interactive `curl`
 * exec in a container) on a pod name never seen before, so they open a pending sequence that never
 * completes; some are benign process events; some are Kubernetes audit events, of which every
 * `completeEvery`-th names the pod of the previous first-stage hit (it completes a sequence within the
 * 1 s maxspan) and the rest name unknown pods.
 */
import type { EngineHit } from '../../src/worker/rule-engine.js';

export interface StreamOptions {
  events: number;
  /** Events per millisecond of event time (density: how many pending sequences one maxspan holds). */
  perMs: number;
  startMs: number;
  /** Every n-th audit event completes the latest open sequence. */
  completeEvery: number;
}

export interface StreamTally {
  firstStage: number;
  benign: number;
  audit: number;
  /** Audit events planned to complete a sequence (the expected number of matches). */
  completing: number;
}

const PROCESS = 'logs-cloud_defend.process-synthetic';
const AUDIT = 'logs-kubernetes.audit_logs-synthetic';

/** Yields pages of `pageSize` hits in timestamp order; `tally` is filled as it goes. */
export function* syntheticPages(o: StreamOptions, pageSize: number, tally: StreamTally): Generator<EngineHit[]> {
  let page: EngineHit[] = [];
  let lastPod: string | null = null;
  let audits = 0;
  for (let i = 0; i < o.events; i++) {
    const ts = new Date(o.startMs + Math.floor(i / o.perMs)).toISOString();
    const r = i % 10;
    let hit: EngineHit;
    if (r < 6) {
      lastPod = `pod-${i.toString(36)}`;
      tally.firstStage++;
      hit = { _index: PROCESS, _id: `p${i}`, _source: processEvent(ts, lastPod, 'curl', true) };
    } else if (r < 8) {
      tally.benign++;
      hit = { _index: PROCESS, _id: `p${i}`, _source: processEvent(ts, `web-${i % 97}`, 'python3', false) };
    } else {
      audits++;
      tally.audit++;
      const completes = lastPod !== null && audits % o.completeEvery === 0;
      if (completes) tally.completing++;
      const pod = completes ? lastPod! : `unknown-${i.toString(36)}`;
      if (completes) lastPod = null; // a key completes once
      hit = { _index: AUDIT, _id: `a${i}`, _source: auditEvent(ts, pod) };
    }
    page.push(hit);
    if (page.length === pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

function processEvent(ts: string, pod: string, name: string, interactive: boolean): Record<string, unknown> {
  return {
    '@timestamp': ts,
    event: { category: ['process'], type: ['start'], action: 'exec', dataset: 'cloud_defend.process', ingested: ts },
    host: { os: { type: 'linux' }, name: 'worker-1' },
    process: { name, executable: `/usr/bin/${name}`, args: [name, '-s', 'https://kubernetes.default.svc/api'], interactive, pid: 4242 },
    container: { id: `c-${pod}` },
    orchestrator: { resource: { name: pod, type: 'pod' }, namespace: 'default' },
  };
}

function auditEvent(ts: string, pod: string): Record<string, unknown> {
  return {
    '@timestamp': ts,
    event: { dataset: 'kubernetes.audit_logs', ingested: ts },
    kubernetes: {
      audit: {
        stage: 'ResponseComplete',
        verb: 'list',
        requestURI: '/api/v1/namespaces/default/secrets',
        user: { username: 'system:serviceaccount:default:app', extra: { 'authentication.kubernetes.io/pod-name': [pod] } },
      },
    },
  };
}
