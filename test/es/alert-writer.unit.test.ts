/**
 * Retry and reporting logic of writeAlerts with a scripted bulk endpoint (transient statuses cannot be
 * provoked on demand on a real node; the real-node behaviour is in alerts-index.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { describeItemError, writeAlerts, type AlertToWrite, type BulkClient } from '../../src/es/alert-writer.js';

type Item = { status: number; error?: { type: string; reason: string } };

/** A bulk endpoint answering each request with the next scripted outcome per document id. */
function scriptedBulk(script: (id: string, call: number) => Item | 'throw429' | 'throw400') {
  const requests: string[][] = [];
  const client = {
    bulk: async (params: { operations?: unknown[] }) => {
      const ops = params.operations ?? [];
      const ids: string[] = [];
      for (let i = 0; i < ops.length; i += 2) ids.push((ops[i] as { create: { _id: string } }).create._id);
      requests.push(ids);
      const call = requests.length;
      const outcomes = ids.map((id) => script(id, call));
      if (outcomes.includes('throw429')) throw Object.assign(new Error('too many requests'), { meta: { statusCode: 429 } });
      if (outcomes.includes('throw400')) throw Object.assign(new Error('bad request'), { meta: { statusCode: 400 } });
      return { errors: true, took: 1, items: outcomes.map((o) => ({ create: { _index: 'x', _id: '', ...(o as Item) } })) };
    },
  } as unknown as BulkClient;
  return { client, requests };
}

const docs = (...ids: string[]): AlertToWrite[] => ids.map((id) => ({ id, doc: { id } }));
const noSleep = async (): Promise<void> => {};

describe('writeAlerts retries and reporting', () => {
  it('retries only the items that got 429/503 and reports permanent failures with their reason', async () => {
    const { client, requests } = scriptedBulk((id, call) => {
      if (id === 'busy' && call === 1) return { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } };
      if (id === 'down' && call < 3) return { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary not active' } };
      if (id === 'bad') return { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [x]' } };
      if (id === 'dup') return { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } };
      return { status: 201 };
    });
    const sleeps: number[] = [];
    const res = await writeAlerts(client, 'alerts', docs('ok', 'busy', 'down', 'bad', 'dup'), {
      sleep: async (ms) => void sleeps.push(ms),
    });
    expect(res).toEqual({
      created: 3,
      createdIds: ["ok", "busy", "down"],
      duplicates: 1,
      failed: [{ id: 'bad', status: 400, type: 'document_parsing_exception', reason: 'document_parsing_exception: failed to parse field [x]' }],
    });
    expect(requests).toEqual([['ok', 'busy', 'down', 'bad', 'dup'], ['busy', 'down'], ['down']]);
    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((ms) => ms > 0)).toBe(true);
  });

  it('gives up on a transient failure after maxAttempts and reports it instead of dropping it', async () => {
    const { client, requests } = scriptedBulk((id) =>
      id === 'stuck' ? { status: 503, error: { type: 'unavailable_shards_exception', reason: 'no primary' } } : { status: 201 },
    );
    const res = await writeAlerts(client, 'alerts', docs('a', 'stuck'), { maxAttempts: 3, sleep: noSleep });
    expect(res.created).toBe(1);
    expect(res.failed).toEqual([{ id: 'stuck', status: 503, type: 'unavailable_shards_exception', reason: 'unavailable_shards_exception: no primary' }]);
    expect(requests).toHaveLength(3);
  });

  it('resends the whole batch when the request itself is rejected with 429', async () => {
    const { client, requests } = scriptedBulk((_id, call) => (call === 1 ? 'throw429' : { status: 201 }));
    const res = await writeAlerts(client, 'alerts', docs('a', 'b'), { sleep: noSleep });
    expect(res).toEqual({ created: 2, duplicates: 0, failed: [], createdIds: ['a', 'b'] });
    expect(requests).toEqual([['a', 'b'], ['a', 'b']]);
  });

  it('throws when the request fails permanently, so the caller cannot advance its checkpoint', async () => {
    const { client } = scriptedBulk(() => 'throw400');
    await expect(writeAlerts(client, 'alerts', docs('a'), { sleep: noSleep })).rejects.toThrow('bad request');
  });

  it('batches by batchSize and sends nothing for an empty input', async () => {
    const { client, requests } = scriptedBulk(() => ({ status: 201 }));
    expect(await writeAlerts(client, 'alerts', [], {})).toEqual({ created: 0, duplicates: 0, failed: [], createdIds: [] });
    expect(requests).toHaveLength(0);
    const res = await writeAlerts(client, 'alerts', docs('a', 'b', 'c', 'd', 'e'), { batchSize: 2 });
    expect(res.created).toBe(5);
    expect(requests).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('rejects an input holding the same id twice or an empty id', async () => {
    const { client } = scriptedBulk(() => ({ status: 201 }));
    await expect(writeAlerts(client, 'alerts', docs('a', 'a'))).rejects.toThrow(/twice/);
    await expect(writeAlerts(client, 'alerts', docs(''))).rejects.toThrow(/non-empty id/);
  });
});

describe('describeItemError', () => {
  it('joins type, reason and the cause chain', () => {
    expect(
      describeItemError({
        type: 'document_parsing_exception',
        reason: 'failed to parse field [d]',
        caused_by: { type: 'illegal_argument_exception', reason: 'bad date' },
      }),
    ).toBe('document_parsing_exception: failed to parse field [d] (caused by: illegal_argument_exception: bad date)');
    expect(describeItemError(undefined)).toBe('unknown error');
  });
});
