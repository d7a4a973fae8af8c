/**
 * Alert writes before the checkpoint (worker/alert-sink.ts), with a scripted bulk endpoint (a 429 that outlives
 * the retries, or a mapping rejection of one document, cannot be provoked on demand on a real node; what the
 * real node does with hostile documents is in test/hostile/alerts-mapping.int.test.ts):
 *  - a transient failure (429/5xx after every retry) fails the run and never rewrites the alert;
 *  - only a mapping rejection gives the degraded form, and the run goes on;
 *  - promotion documents follow the alerts, for shells and single alerts only, and their failure fails the run.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BuiltAlert } from '../../src/alerts/build.js';
import { createLogger } from '../../src/ops/logger.js';
import { AlertWriteError, writeAlertBatch, type AlertSinkDeps } from '../../src/worker/alert-sink.js';

type Item = { status: number; error?: { type: string; reason: string } };
interface Sent {
  index: string;
  id: string;
  doc: Record<string, unknown>;
}

function scriptedBulk(outcome: (s: Sent, call: number) => Item) {
  const sent: Sent[][] = [];
  const client = {
    bulk: async (params: { operations?: unknown[] }) => {
      const ops = params.operations ?? [];
      const batch: Sent[] = [];
      for (let i = 0; i < ops.length; i += 2) {
        const head = (ops[i] as { create: { _index: string; _id: string } }).create;
        batch.push({ index: head._index, id: head._id, doc: ops[i + 1] as Record<string, unknown> });
      }
      sent.push(batch);
      return { errors: true, took: 1, items: batch.map((s) => ({ create: { _index: s.index, _id: s.id, ...outcome(s, sent.length) } })) };
    },
  } as unknown as AlertSinkDeps['client'];
  return { client, sent };
}

function logs() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c)) as Record<string, unknown>), cb()) });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

const alert = (id: string, extra: Record<string, unknown> = {}, buildingBlock = false): BuiltAlert => ({
  id,
  buildingBlock,
  doc: {
    '@timestamp': '2026-01-20T10:05:00.000Z',
    'event.kind': 'signal',
    'kibana.alert.uuid': id,
    'kibana.alert.rule.name': 'R',
    'kibana.alert.rule.rule_id': 'r',
    'kibana.alert.severity': 'high',
    'kibana.alert.risk_score': 73,
    'kibana.alert.original_time': '2026-01-20T10:00:00.000Z',
    host: { name: 'h1' },
    ...extra,
  },
});
const fast = { maxAttempts: 3, sleep: async () => {} };
const promotion = { target: { index: 'logs-eqlwatch.alerts-default', kind: 'data_stream' as const }, namespace: 'default' };

describe('writeAlertBatch', () => {
  it('a 429 that outlives the retries fails the run; the alert is never rewritten in a degraded form', async () => {
    const { client, sent } = scriptedBulk((s) => (s.id === 'busy' ? { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } : { status: 201 }));
    const { logger } = logs();
    const run = writeAlertBatch({ client, logger, alertsIndex: 'alerts', promotion, writeOptions: fast }, [alert('ok'), alert('busy')]);
    await expect(run).rejects.toBeInstanceOf(AlertWriteError);
    await expect(run).rejects.toThrow(/busy \(429 es_rejected_execution_exception: queue full\)/);
    // Three attempts of the busy alert, always the whole document; nothing degraded, nothing promoted yet.
    expect(sent.map((b) => b.map((s) => s.id))).toEqual([['ok', 'busy'], ['busy'], ['busy']]);
    for (const b of sent) for (const s of b) expect(s.doc['eqlwatch.source']).toBeUndefined();
    expect(sent.flat().some((s) => s.index !== 'alerts')).toBe(false);
  });

  it('a 503 of a promotion document fails the run too (the window is read again, alerts come back as duplicates)', async () => {
    const { client } = scriptedBulk((s) => (s.index.startsWith('logs-') ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'no primary' } } : { status: 201 }));
    const { logger } = logs();
    await expect(writeAlertBatch({ client, logger, alertsIndex: 'alerts', promotion, writeOptions: fast }, [alert('a')])).rejects.toThrow(/promotion document/);
  });

  it('only a mapping rejection is rewritten (event unindexed under eqlwatch.source), and the run goes on', async () => {
    const { client, sent } = scriptedBulk((s, call) =>
      s.id === 'odd' && call === 1 ? { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [x]' } } : { status: 201 },
    );
    const { logger, lines } = logs();
    const res = await writeAlertBatch({ client, logger, alertsIndex: 'alerts', writeOptions: fast }, [alert('ok'), alert('odd', { x: { y: 1 } })]);
    expect(res).toMatchObject({ created: 2, duplicates: 0, failed: [], promoted: 0 });
    const retried = sent[1]![0]!;
    expect(retried.id).toBe('odd');
    expect(retried.doc['eqlwatch.source']).toEqual({ host: { name: 'h1' }, x: { y: 1 } });
    expect(retried.doc['eqlwatch.degraded']).toMatch(/document_parsing_exception/);
    expect(retried.doc['kibana.alert.rule.name']).toBe('R');
    expect(lines.some((l) => l['log.level'] === 'warn' && /mapping conflicts/.test(String(l.message)))).toBe(true);
  });

  it('a 400 that is not a mapping rejection (e.g. a closed index) fails the run', async () => {
    const { client } = scriptedBulk(() => ({ status: 400, error: { type: 'index_closed_exception', reason: 'closed' } }));
    const { logger } = logs();
    await expect(writeAlertBatch({ client, logger, alertsIndex: 'alerts', writeOptions: fast }, [alert('a')])).rejects.toBeInstanceOf(AlertWriteError);
  });

  it('promotes single alerts and shells (not building blocks), also those already present (409)', async () => {
    const { client, sent } = scriptedBulk((s) => (s.id === 'dup' && s.index === 'alerts' ? { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } : { status: 201 }));
    const { logger } = logs();
    const res = await writeAlertBatch({ client, logger, alertsIndex: 'alerts', promotion, writeOptions: fast, now: () => Date.parse('2026-01-20T10:05:01Z') }, [
      alert('single'),
      alert('dup'),
      alert('bb', {}, true),
      // An alert of a building-block rule: hidden from Security's Alerts table by Kibana, so not promoted either.
      alert('bbrule', { 'kibana.alert.building_block_type': 'default' }),
    ]);
    expect(res).toMatchObject({ created: 3, duplicates: 1, promoted: 2 });
    const promoted = sent.flat().filter((s) => s.index === 'logs-eqlwatch.alerts-default');
    expect(promoted.map((s) => s.id)).toEqual(['single', 'dup']);
    expect(promoted[0]!.doc).toMatchObject({ message: 'R', event: { kind: 'alert', module: 'eqlwatch', id: 'single', severity: 73, risk_score: 73, ingested: '2026-01-20T10:05:01.000Z' } });
  });

  it('says which alerts left out event values that do not fit the mapping', async () => {
    const { client } = scriptedBulk(() => ({ status: 201 }));
    const { logger, lines } = logs();
    await writeAlertBatch({ client, logger, alertsIndex: 'alerts' }, [alert('a', { 'eqlwatch.ignored_fields': ['host.name'] })]);
    const warn = lines.find((l) => l['log.level'] === 'warn' && /do not fit the ECS mapping/.test(String(l.message)));
    expect(warn).toMatchObject({ count: 1, fields: ['host.name'] });
  });
});
