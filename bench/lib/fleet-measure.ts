/**
 * What the fleet benchmark measures from outside the worker process: its Elasticsearch requests and the
 * documents and bytes they fetched (through the counting proxy, test/helpers/es-proxy.ts), its CPU time and
 * peak RSS (/proc), the detection latency of every alert (the alert documents and their source events), the
 * latency histogram of its /metrics, and the union of the rules' candidate documents over what was ingested.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync, brotliDecompressSync, inflateSync } from 'node:zlib';
import type { Client } from '@elastic/elasticsearch';
import { fetchIndexSchema } from '../../src/es/mappings.js';
import type { Rule } from '../../src/rules/schema.js';
import { prepareForIndices, prepareRule } from '../../src/worker/prepared-rule.js';
import { ruleFilters } from '../../src/worker/rule-reads.js';
import type { Exchange } from '../../test/helpers/es-proxy.js';
import { requestKind } from './fleet-window.js';
import type { MetricSample } from './soak-sample.js';
import { allHits } from './soak-verify.js';

export interface Request {
  t: number;
  kind: string;
  bytes: number;
  /** Documents returned (hits of a search, docs of an mget). */
  docs: number;
  /** Time from the request reaching the proxy to its response's end. */
  ms: number;
}

/** The proxy's exchanges as requests, with the documents of searches and mgets counted from their bodies. */
export class RequestLog {
  readonly requests: Request[] = [];
  /** Distinct documents (index/id) the searches and mgets returned. */
  readonly distinct = new Set<string>();

  static captures(_method: string, path: string): boolean {
    return /\/(_search|_mget)\b/.test(path);
  }

  add(e: Exchange): void {
    let docs = 0;
    let kind = requestKind(e.method, e.path);
    if (e.body && e.status === 200) {
      try {
        const raw = decode(e.body, e.contentEncoding);
        type Ref = { _index: string; _id: string; found?: boolean };
        const parsed = JSON.parse(raw.toString('utf8')) as { hits?: { hits?: Ref[] }; docs?: Ref[]; aggregations?: unknown };
        // The late-arrival audit's counts: a search with aggregations and no hits.
        if (parsed.aggregations !== undefined) kind += ' (counts)';
        const refs = parsed.hits?.hits ?? parsed.docs?.filter((d) => d.found !== false) ?? [];
        docs = refs.length;
        for (const r of refs) this.distinct.add(`${r._index}/${r._id}`);
      } catch {
        docs = 0;
      }
    }
    this.requests.push({ t: e.startedAt, kind, bytes: e.responseBytes, docs, ms: e.ms });
  }

  between(from: number, to: number): Request[] {
    return this.requests.filter((r) => r.t >= from && r.t < to);
  }
}

function decode(b: Buffer, enc: string | undefined): Buffer {
  if (enc === 'gzip') return gunzipSync(b);
  if (enc === 'br') return brotliDecompressSync(b);
  if (enc === 'deflate') return inflateSync(b);
  return b;
}

/** CPU seconds (user + system) of a process so far, from /proc/<pid>/stat (clock ticks of 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Peak resident set size of a process (VmHWM), in bytes. */
export function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

export interface AlertLatency {
  /** When the alert was written (its `@timestamp`, set as the alert is built, just before the bulk write). */
  at: number;
  latencyS: number;
  kind: 'single' | 'sequence';
  rule: string;
}

/**
 * Each alert's detection latency: from its latest source event's arrival (`event.ingested`, set by the feed
 * when it sent the event) to the alert's `@timestamp`. Building blocks are left out (a sequence counts once,
 * by its shell alert).
 */
export async function alertLatencies(client: Client, alertsIndex: string): Promise<AlertLatency[]> {
  const alerts: { at: number; kind: AlertLatency['kind']; rule: string; events: { _index: string; _id: string }[] }[] = [];
  for await (const h of allHits(client, [alertsIndex])) {
    const s = h._source as Record<string, unknown>;
    if (s['kibana.alert.building_block_type'] !== undefined) continue;
    const ancestors = ((s['kibana.alert.ancestors'] as { id: string; index: string; type: string }[] | undefined) ?? []).filter((a) => a.type === 'event');
    alerts.push({
      at: Date.parse(String(s['@timestamp'])),
      kind: s['kibana.alert.group.id'] !== undefined ? 'sequence' : 'single',
      rule: String(s['kibana.alert.rule.rule_id']),
      events: ancestors.map((a) => ({ _index: a.index, _id: a.id })),
    });
  }
  const arrival = new Map<string, number>();
  const refs = [...new Map(alerts.flatMap((a) => a.events).map((e) => [`${e._index}/${e._id}`, e])).values()];
  for (let i = 0; i < refs.length; i += 1000) {
    const res = await client.mget<Record<string, unknown>>({ docs: refs.slice(i, i + 1000).map((r) => ({ ...r, _source: ['event.ingested'] })) });
    for (const d of res.docs) {
      const src = 'found' in d && d.found ? (d._source as { event?: { ingested?: string } }) : undefined;
      if (src?.event?.ingested) arrival.set(`${d._index}/${d._id}`, Date.parse(src.event.ingested));
    }
  }
  return alerts
    .map((a) => {
      const arrived = Math.max(...a.events.map((e) => arrival.get(`${e._index}/${e._id}`) ?? NaN));
      return { at: a.at, latencyS: (a.at - arrived) / 1000, kind: a.kind, rule: a.rule };
    })
    .filter((a) => Number.isFinite(a.latencyS))
    .sort((x, y) => x.at - y.at);
}

export interface Quantiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function quantiles(xs: number[]): Quantiles {
  if (xs.length === 0) return { n: 0, p50: NaN, p99: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!;
  return { n: s.length, p50: q(0.5), p99: q(0.99), max: s[s.length - 1]! };
}

/** p50 / p99 of a Prometheus histogram (`<name>_bucket` samples with label `stage`), as the bucket bounds holding them. */
export function histogramQuantiles(metrics: Map<string, MetricSample[]> | null, name: string, stage: string): { count: number; p50: number; p99: number } | null {
  const buckets = (metrics?.get(`${name}_bucket`) ?? []).filter((m) => m.labels.stage === stage).map((m) => ({ le: m.labels.le === '+Inf' ? Infinity : Number(m.labels.le), n: m.value })).sort((a, b) => a.le - b.le);
  const count = buckets.at(-1)?.n ?? 0;
  if (count === 0) return null;
  const at = (p: number) => buckets.find((b) => b.n >= p * count)!.le;
  return { count, p50: at(0.5), p99: at(0.99) };
}

/**
 * The union of the rules' candidate documents over everything their indices hold: each rule's pushed-down
 * filter (the worker's, compiled against the same mappings), without any window, documents by index and id.
 */
export async function candidateUnion(client: Client, rules: Rule[]): Promise<{ union: number; perRule: Record<string, number> }> {
  const all = new Set<string>();
  const perRule: Record<string, number> = {};
  for (const rule of rules) {
    const schema = await fetchIndexSchema(client, rule.index);
    const p = prepareForIndices(prepareRule(rule), schema);
    const filter = ruleFilters(p, schema).all;
    let n = 0;
    const pit = await client.openPointInTime({ index: rule.index, keep_alive: '1m' });
    try {
      let after: unknown[] | undefined;
      for (;;) {
        const res = await client.search({ pit: { id: pit.id, keep_alive: '1m' }, size: 10_000, _source: false, query: filter as never, sort: ['_shard_doc'], ...(after ? { search_after: after as never } : {}) });
        for (const h of res.hits.hits) all.add(`${h._index}/${h._id}`);
        n += res.hits.hits.length;
        if (res.hits.hits.length < 10_000) break;
        after = res.hits.hits.at(-1)!.sort;
      }
    } finally {
      await client.closePointInTime({ id: pit.id }).catch(() => undefined);
    }
    perRule[rule.id] = n;
  }
  return { union: all.size, perRule };
}
