/**
 * The window that makes Kibana's EQL sequence rules time out (kibana#174795, detection-rules#2978: ~40k events
 * and ~15k join keys in one run's look-back of 9 minutes), loaded into indices of the bench's own and evaluated
 * by one worker run (`executeRule`, in-process, against the real node): how long it takes, in wall time and in
 * the worker's CPU time, with which requests, and whether its alerts are exactly replay's.
 *
 * The rule is the seed sequence rule (an interactive API client in a container, then the API server's audit
 * event of that pod's token within 1 s, joined on the pod name). Half the events are first-stage process
 * events, half audit events, on 15k pods; `matches` pairs are within maxspan (alerts), the others 1.5–5 s
 * apart (candidates that join but expire).
 */
import type { Client } from '@elastic/elasticsearch';
import { ensureAlertsIndex } from '../../src/es/alerts-template.js';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import { EsStateStore } from '../../src/es/state-store.js';
import { createLogger } from '../../src/ops/logger.js';
import type { Rule } from '../../src/rules/schema.js';
import { generateScenario, Prng, type ScenarioDoc } from '../../src/scenario/index.js';
import { cloudDefendProcessMappings, kubernetesAuditMappings } from '../../src/scenario/mappings.js';
import { executeRule } from '../../src/worker/execute.js';
import { prepareRule } from '../../src/worker/prepared-rule.js';
import { replayRule } from '../../src/worker/replay-rule.js';
import { allHits } from './soak-verify.js';
import { setPath } from './doc-paths.js';
import { BENCH_MANAGED_BY } from './es.js';

export interface WindowOptions {
  events: number;
  keys: number;
  spanMs: number;
  matches: number;
  seed: number;
}

export interface WindowResult {
  events: number;
  joinKeys: number;
  spanMinutes: number;
  loadSeconds: number;
  runs: { wallMs: number; cpuMs: number; requests: Record<string, number>; eventsRead: number; alerts: number }[];
  alertsExpected: number;
  alertsWritten: number;
  equal: boolean;
}

export async function kibanaWindow(client: Client, rule: Rule, o: WindowOptions, log: (s: string) => void): Promise<WindowResult> {
  const tag = `fleetwin${Date.now().toString(36)}`;
  const indices = { process: `logs-cloud_defend.process-${tag}`, audit: `logs-kubernetes.audit_logs-${tag}` };
  const names = { alerts: `eqlwatch-${tag}-alerts`, state: `eqlwatch-${tag}-state` };
  const prng = new Prng(o.seed);
  // Realistic documents to clone: an interactive curl in a container, and an audit event of a pod's token.
  const s = generateScenario({ events: 5_000, attacks: 3, attackMix: { 'exec-api': 1, 'exec-api-slow': 0, 'exec-only': 0 }, seed: o.seed });
  const api = s.expectedAlerts.find((e) => e.rule === 'api_request');
  if (!api) throw new Error('the scenario holds no API-request attack to clone');
  const [procBase, auditBase] = api.eventIndices.map((i) => s.events[i]!) as [ScenarioDoc, ScenarioDoc];
  const end = Date.now() - 5_000;
  const start = end - o.spanMs;
  const pairs = Math.floor(o.events / 2);
  const operations: unknown[] = [];
  for (let j = 0; j < pairs; j++) {
    const pod = `app-${(j % o.keys).toString(36)}-${(j % o.keys) * 7919 % 100_000}`;
    const tp = start + prng.int(0, o.spanMs - 6_000);
    const ta = tp + (j < o.matches ? prng.int(50, 900) : prng.int(1_500, 5_000));
    const p = structuredClone(procBase) as Record<string, unknown>;
    setPath(p, '@timestamp', new Date(tp).toISOString());
    setPath(p, 'event.ingested', new Date(tp + 500).toISOString());
    setPath(p, 'event.id', prng.hex(20));
    setPath(p, 'process.entity_id', prng.hex(24));
    setPath(p, 'orchestrator.resource.name', pod);
    const a = structuredClone(auditBase) as Record<string, unknown>;
    setPath(a, '@timestamp', new Date(ta).toISOString());
    setPath(a, 'event.ingested', new Date(ta + 500).toISOString());
    setPath(a, 'kubernetes.audit.auditID', prng.uuid());
    setPath(a, 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name', [pod]);
    operations.push({ create: { _index: indices.process, _id: `p${j}` } }, p, { create: { _index: indices.audit, _id: `a${j}` } }, a);
  }
  const t0 = performance.now();
  try {
    for (const [index, mappings] of [[indices.process, cloudDefendProcessMappings()], [indices.audit, kubernetesAuditMappings()]] as const) {
      await client.indices.create({ index, settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1', 'mapping.total_fields.limit': 2000 }, mappings: { ...mappings, _meta: { managed_by: BENCH_MANAGED_BY } } });
    }
    for (let i = 0; i < operations.length; i += 10_000) {
      const res = await client.bulk({ operations: operations.slice(i, i + 10_000) });
      if (res.errors) throw new Error(`window load: rejected documents, e.g. ${JSON.stringify(res.items.find((x) => x.create?.error)?.create?.error)}`);
    }
    await client.indices.refresh({ index: [indices.process, indices.audit] });
    const loadSeconds = (performance.now() - t0) / 1000;
    log(`Kibana's timing-out window: ${pairs * 2} events, ${o.keys} join keys over ${o.spanMs / 60_000} min loaded in ${loadSeconds.toFixed(1)} s`);

    // The rule on these indices only, its look-back covering the window, evaluated as one first run.
    const windowRule: Rule = { ...rule, id: `${rule.id}-window`, index: [indices.process, indices.audit], lookbackMs: o.spanMs + 60_000 };
    const p = prepareRule(windowRule);
    const store = new EsStateStore(client, { index: names.state });
    const runs: WindowResult['runs'] = [];
    for (let it = 0; it < 3; it++) {
      // Each iteration a first run: no state, no alerts (this node has no delete-by-query: the indices are made anew).
      await client.indices.delete({ index: [names.state, `${names.alerts}*`], ignore_unavailable: true, allow_no_indices: true });
      await store.ensureIndex();
      await ensureAlertsIndex(client, { alias: names.alerts });
      const requests: Record<string, number> = {};
      const onResponse = (_e: unknown, ev: { meta?: { request?: { params?: { path?: string; method?: string } } } } | null) => {
        const path = ev?.meta?.request?.params?.path ?? '?';
        const k = requestKind(ev?.meta?.request?.params?.method ?? '?', path);
        requests[k] = (requests[k] ?? 0) + 1;
      };
      client.diagnostic.on('response', onResponse);
      const cpu0 = process.cpuUsage();
      const w0 = performance.now();
      let result;
      try {
        result = await executeRule(
          {
            client, store, logger: createLogger({ level: 'error' }), workerId: 'fleet-window', alertsIndex: names.alerts, spaceId: 'default', kibanaUrl: null, now: () => end,
            settings: { ingestDelayMs: 0, latenessMs: 0, auditHorizonMs: 24 * 3_600_000, maxWindowMs: 3_600_000, maxCatchupMs: 24 * 3_600_000, leaseTtlMs: 120_000, pageSize: 1000, maxPendingSequences: 10_000 },
          },
          p,
        );
      } finally {
        client.diagnostic.removeListener('response', onResponse);
      }
      const wallMs = performance.now() - w0;
      const cpu = process.cpuUsage(cpu0);
      if (result.status !== 'ok') throw new Error(`window run: ${JSON.stringify(result)}`);
      runs.push({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, requests, eventsRead: result.windows.reduce((n, w) => n + w.eventsRead, 0), alerts: result.windows.reduce((n, w) => n + w.alertsCreated, 0) });
    }
    // Replay over the same documents with their mappings: the alerts must be the same.
    const input = [];
    for await (const h of allHits(client, [indices.process, indices.audit])) input.push({ hit: { _index: h._index, _id: h._id, _source: h._source as Record<string, unknown> }, bare: false });
    const schema = await fetchIndexSchema(client, windowRule.index);
    const replayed = replayRule(windowRule, input, { schema: schema.fieldSchema, maxPendingSequences: 10_000, ctx: { now: new Date(), spaceId: 'default', executionId: 'replay', kibanaUrl: null } });
    await client.indices.refresh({ index: names.alerts });
    const written = new Set<string>();
    for await (const h of allHits(client, [names.alerts])) written.add(h._id);
    const expected = new Set(replayed.alerts.map((a) => a.id));
    return {
      events: pairs * 2,
      joinKeys: o.keys,
      spanMinutes: o.spanMs / 60_000,
      loadSeconds,
      runs,
      alertsExpected: expected.size,
      alertsWritten: written.size,
      equal: expected.size === written.size && [...expected].every((id) => written.has(id)),
    };
  } finally {
    await client.indices.delete({ index: [indices.process, indices.audit, `${names.alerts}*`, names.state], ignore_unavailable: true }).catch(() => undefined);
    await client.indices.deleteIndexTemplate({ name: `${names.alerts}*` }).catch(() => undefined);
  }
}

/** A request's kind by its path: `_search`, `_bulk`, `_mget`, `_pit`, `_mapping`, `_resolve`, `_doc`, … */
export function requestKind(method: string, path: string): string {
  const p = path.split('?')[0]!;
  const m = /\/(_search|_bulk|_mget|_pit|_mapping|_count|_msearch|_refresh|_update|_doc|_create|_field_caps|_resolve|_delete_by_query|_update_by_query)\b/.exec(p);
  if (m) return `${method} ${m[1]}`;
  return `${method} ${p.replace(/\/[^/]+/g, '/x').slice(0, 20)}`;
}
