/**
 * Set-up for the operations tests: the seed rules narrowed to a test's indices and rescheduled every few
 * seconds, and a temp config with unique alerts/state/outbox names, the ops server on a free port, and
 * short windows and leases. Builds on test/worker/e2e-helpers.ts (indices, seed rules, expected ids).
 */
import type { EsTestContext } from '../helpers/es.js';
import { API_RULE_ID, attackScenario, EXEC_RULE_ID, type ScenarioEvent } from '../worker/attack-scenario.js';
import {
  API_RULE_FILE, EXEC_RULE_FILE, expectedSequenceIds, expectedSingleId, seedRuleFor, testEnv, type EventIndices, type WorkerEnv,
} from '../worker/e2e-helpers.js';
import type { LogRecord } from './worker-process.js';

export type OpsEnv = WorkerEnv;

/** Both seed rules, on this test's indices, every `interval` instead of 5m (queries untouched). */
export async function fastSeedRules(indices: EventIndices, interval = '2s'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of [EXEC_RULE_FILE, API_RULE_FILE]) {
    const text = await seedRuleFor(file, indices);
    const rescheduled = text.replace(/^interval = "5m"$/m, `interval = "${interval}"`);
    if (rescheduled === text) throw new Error(`no interval to rewrite in ${file}`);
    out[file] = rescheduled;
  }
  return out;
}

export interface OpsEnvOptions {
  rules: Record<string, string>;
  /** Keys of the `worker:` section (defaults: 30 s windows, 5 s lateness tolerance, 5 s leases). */
  worker?: Record<string, string | number>;
  /** YAML inserted verbatim inside the `notify:` section, indented by two spaces (channels, routes). */
  notifyChannels?: string;
  /** Share alerts/state/outbox with another environment (several workers on one cluster). */
  shareWith?: OpsEnv;
}

export function opsEnv(es: EsTestContext, o: OpsEnvOptions): Promise<OpsEnv> {
  const worker = { maxWindow: '30s', lateness: '5s', leaseTtl: '5s', ...o.worker };
  return testEnv(es, {
    rules: o.rules,
    writer: 'operations tests',
    http: true,
    ...(o.notifyChannels !== undefined ? { notifyYaml: o.notifyChannels } : {}),
    ...(o.shareWith ? { shareWith: o.shareWith } : {}),
    workerYaml: `${Object.entries(worker).map(([k, v]) => `  ${k}: ${typeof v === 'number' ? v : JSON.stringify(v)}`).join('\n')}\n`,
  });
}

/** The scenario's expected alert ids (by id → description), for events indexed under `indices`. */
export function expectedAlertIds(events: ScenarioEvent[], expected: ReturnType<typeof attackScenario>['expected'], indices: EventIndices): Map<string, string> {
  const where = (id: string) => ({ id, index: events.find((e) => e.id === id)!.index === 'process' ? indices.process : indices.audit });
  const ids = new Map<string, string>();
  for (const id of expected.exec) ids.set(expectedSingleId(indices.process, id, EXEC_RULE_ID), `exec ${id}`);
  for (const seq of expected.api) {
    const s = expectedSequenceIds(seq.map(where), API_RULE_ID);
    ids.set(s.shell, `shell ${seq.join('+')}`);
    s.blocks.forEach((b, i) => ids.set(b, `block ${i} of ${seq.join('+')}`));
  }
  return ids;
}

/**
 * The attack scenario with its ids prefixed (so several batches can share indices). `ingested`: every
 * `event.ingested` moved to one instant (a batch that arrives "now", after earlier windows were read), or set
 * to `@timestamp` + a constant lag (ingest order = event order, see ingest-order.int.test.ts for why).
 */
export function scenarioBatch(t0: number, prefix: string, ingested?: { at: number } | { lagMs: number }): ReturnType<typeof attackScenario> {
  const s = attackScenario(t0);
  const rename = (id: string) => `${prefix}${id}`;
  const events = s.events.map((e) => {
    const source = structuredClone(e.source);
    const ev = source.event as Record<string, unknown>;
    if (ingested && 'at' in ingested) ev.ingested = new Date(ingested.at).toISOString();
    if (ingested && 'lagMs' in ingested) ev.ingested = new Date(Date.parse(source['@timestamp'] as string) + ingested.lagMs).toISOString();
    return { ...e, id: rename(e.id), source };
  });
  return { events, expected: { exec: s.expected.exec.map(rename), api: s.expected.api.map((p) => p.map(rename)) } };
}

export interface LoggedWindow {
  rule: string;
  from: number;
  to: number;
  alerts: number;
  duplicates: number;
  worker: string;
}

/** The windows a worker's progress lines report (each one checkpointed). */
export function loggedWindows(logs: LogRecord[], worker: string): LoggedWindow[] {
  return logs
    .filter((r) => typeof r.window === 'object' && r.window !== null && typeof r['rule.id'] === 'string')
    .map((r) => {
      const w = r.window as { from: string; to: string };
      return {
        rule: r['rule.id'] as string,
        from: Date.parse(w.from),
        to: Date.parse(w.to),
        alerts: Number(r.alerts),
        duplicates: Number(r.duplicates ?? 0),
        worker,
      };
    });
}

/**
 * Per rule, the windows sorted by start must chain exactly (`to` of one = `from` of the next): no time read
 * twice, none skipped. Returns the problems found (empty when every rule's windows chain).
 */
export function chainProblems(windows: LoggedWindow[]): string[] {
  const problems: string[] = [];
  const byRule = new Map<string, LoggedWindow[]>();
  for (const w of windows) byRule.set(w.rule, [...(byRule.get(w.rule) ?? []), w]);
  for (const [rule, ws] of byRule) {
    ws.sort((a, b) => a.from - b.from);
    for (let i = 1; i < ws.length; i++) {
      const prev = ws[i - 1]!;
      const cur = ws[i]!;
      if (cur.from !== prev.to) {
        problems.push(`${rule}: window ${iso(prev.from)}→${iso(prev.to)} (${prev.worker}) then ${iso(cur.from)}→${iso(cur.to)} (${cur.worker})`);
      }
    }
  }
  return problems;
}

const iso = (ms: number): string => new Date(ms).toISOString();
