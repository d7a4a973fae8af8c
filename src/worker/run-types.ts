/** What a rule run needs and reports (shared by a lone rule's run and a group's, see group-run.ts). */
import type { Client } from '@elastic/elasticsearch';
import type { BuiltAlert } from '../alerts/build.js';
import type { EsStateStore } from '../es/state-store.js';
import type { Logger } from '../ops/logger.js';
import type { AlertSinkDeps } from './alert-sink.js';
import type { Coverage } from './coverage.js';
import type { RuleEngineState } from './rule-engine.js';
import type { ReadMode } from './rule-reads.js';
import type { SchemaCache } from './rule-view.js';
import type { Window } from './windows.js';

export interface ExecuteSettings {
  ingestDelayMs: number;
  /** Lateness tolerance: how long after its time an event may become searchable and still count as on time. */
  latenessMs: number;
  /** How far back the late-arrival audit looks. */
  auditHorizonMs: number;
  maxWindowMs: number;
  maxCatchupMs: number;
  leaseTtlMs: number;
  pageSize: number;
  maxPendingSequences: number;
  /** Largest stored sequence state (oldest pending sequences are evicted beyond it). */
  maxStateBytes?: number;
  /**
   * Read only the `_source` fields the rules read, and fetch whole only the documents that become alerts
   * (default true); false reads whole documents.
   */
  readNeededFields?: boolean;
}

export interface ExecuteDeps {
  client: Client;
  store: EsStateStore;
  logger: Logger;
  workerId: string;
  alertsIndex: string;
  spaceId: string;
  kibanaUrl: string | null;
  /** Promotion documents for Kibana's Security app (alert-sink.ts); null when off. Also makes alert links point there. */
  promotion?: AlertSinkDeps['promotion'];
  settings: ExecuteSettings;
  /** Durable hand-off of alerts to notifications; must finish before the checkpoint advances. */
  onAlerts?: (alerts: BuiltAlert[]) => Promise<void>;
  /** Mappings cached across runs (the worker's); without it every run fetches them. */
  schemaCache?: SchemaCache;
  /**
   * Called with every alert created by a run and when its (latest) event arrived (`event.ingested`, else
   * `@timestamp`): the worker's detection-latency metric.
   */
  onCreated?: (created: { alertId: string; arrivedAt: number }[], writtenAt: number) => void;
  /** Test-only fault injection: called after alerts are written, before the checkpoint is saved. */
  afterAlertsWritten?: () => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface WindowReport {
  from: string;
  to: string;
  eventsRead: number;
  matches: number;
  alertsCreated: number;
  alertsDuplicate: number;
  truncated: number;
  durationMs: number;
}

/** Documents that became searchable after the stretch holding them had been read. */
export interface LateReport {
  /** Late documents found by the audit (count increases). */
  events: number;
  /** Of those, how many were later than the lateness tolerance (sequence rules: all of them). */
  beyondTolerance: number;
  /** Documents that arrived older than the audit horizon: reported, not evaluated. */
  olderThanHorizon: number;
  /** Events read to evaluate late documents (read again, or repair reads). */
  eventsRead: number;
  /** Alerts written because of late documents. */
  alertsCreated: number;
  /** Sequence repairs still waiting for the matcher to pass their partners' time. */
  repairsPending: number;
  /** A repair read stopped at its size bound: some late events may have missed their sequences. */
  incomplete: boolean;
}

export interface RunHealth {
  /** Pending partial sequences evicted by `maxPendingSequences` or the state size bound. */
  evicted: number;
  /** Reads that used a broader query because the cluster rejected one. */
  fallbacks: number;
  /** Events Elasticsearch returned out of `@timestamp` order (see RuleEngineStats.outOfOrder). */
  outOfOrder: number;
  /** Sequence events whose stored documents no longer exist (alerted from their reference). */
  missingDocuments: number;
}

export type RunResult = { status: 'ok' | 'aborted'; windows: WindowReport[]; late: LateReport; health: RunHealth; gap: Window | null; lagMs: number };
export type ExecuteResult = { status: 'skipped'; reason: string } | RunResult;

/** A stretch of a sequence rule with late events, evaluated afresh once the matcher has passed `due`. */
export interface Repair {
  from: number;
  to: number;
  added: number;
  due: number;
}

/** What the state document's `pending` holds (opaque to the state store). */
export interface Progress {
  version: 2;
  mode: ReadMode;
  /** End of the last window read (exclusive), on the read field; null before the first run. */
  frontier: number | null;
  coverage: Coverage | null;
  engine: RuleEngineState | null;
  repairs: Repair[];
}
