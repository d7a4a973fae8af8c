/**
 * What the soak benchmark samples from outside the worker: its Prometheus metrics, and the documents it keeps in
 * Elasticsearch (state documents' sizes, the outbox by status, the alerts). Only the CLI's surfaces and the
 * indices' documents are read, never the worker's internals.
 */
import type { Client } from '@elastic/elasticsearch';

export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples by metric name (comments and malformed lines ignored). */
export function parseMetrics(text: string): Map<string, MetricSample[]> {
  const out = new Map<string, MetricSample[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line.trim());
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const list = out.get(m[1]!) ?? [];
    list.push({ labels, value: Number(m[3]) });
    out.set(m[1]!, list);
  }
  return out;
}

export async function scrapeMetrics(opsUrl: string): Promise<Map<string, MetricSample[]> | null> {
  try {
    const res = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(3_000) });
    return res.ok ? parseMetrics(await res.text()) : null;
  } catch {
    return null; // the worker is restarting
  }
}

/** Size in bytes of each document's `_source` JSON in the state index, by `_id`. */
export async function stateDocSizes(client: Client, index: string): Promise<Record<string, number>> {
  const res = await client.search({ index, size: 1000, query: { match_all: {} }, ignore_unavailable: true });
  return Object.fromEntries(res.hits.hits.map((h) => [h._id!, Buffer.byteLength(JSON.stringify(h._source))]));
}

export interface OutboxCounts {
  pending: number;
  sent: number;
  dead: number;
  total: number;
}

export async function outboxCounts(client: Client, index: string): Promise<OutboxCounts> {
  const count = async (status?: string) =>
    (await client.count({ index, ignore_unavailable: true, ...(status ? { query: { term: { status } } } : {}) })).count;
  const [pending, sent, dead, total] = await Promise.all([count('pending'), count('sent'), count('dead'), count()]);
  return { pending, sent, dead, total };
}

export async function docCount(client: Client, index: string): Promise<number> {
  return (await client.count({ index, ignore_unavailable: true })).count;
}
