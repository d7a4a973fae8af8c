/** Per-rule state with optimistic concurrency and leases, against the real node. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  EsStateStore,
  LeaseLostError,
  type RuleState,
  type StateVersion,
} from '../../src/es/state-store.js';
import { useEs } from '../helpers/es.js';

const es = useEs();
const index = es.name('state');

/** A clock the test moves by hand, so lease expiry needs no sleeping. */
function manualClock(start = Date.parse('2026-03-01T00:00:00Z')): { now: () => Date; advance: (ms: number) => void } {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

beforeAll(async () => {
  await new EsStateStore(es.client, { index }).ensureIndex();
});

describe('EsStateStore load/save', () => {
  it('returns empty state and no version for an unknown rule', async () => {
    const store = new EsStateStore(es.client, { index });
    const loaded = await store.load('never-seen');
    expect(loaded).toEqual({ state: { checkpoint: null, pending: null, lease: null }, version: null });
  });

  it('round-trips checkpoint and large, arbitrary pending state', async () => {
    const store = new EsStateStore(es.client, { index });
    const pending = {
      partials: Array.from({ length: 2000 }, (_, i) => ({
        key: [`host-${i}`, i],
        'dotted.key.name': { 'a.b': [1, 'x', null] },
        stage: i % 3,
      })),
    };
    const state: RuleState = {
      checkpoint: { windowEnd: '2026-03-01T00:05:00.000Z', lastSort: [1772323500000, 'doc-9'] },
      pending,
      lease: null,
    };
    const v = await store.save('roundtrip', state, null);
    const loaded = await store.load('roundtrip');
    expect(loaded.state).toEqual(state);
    expect(loaded.version).toEqual(v);
  });

  it('save with a stale version throws ConflictError and leaves the newer state', async () => {
    const store = new EsStateStore(es.client, { index });
    const v1 = await store.save('stale', { checkpoint: null, pending: { n: 1 }, lease: null }, null);
    await store.save('stale', { checkpoint: null, pending: { n: 2 }, lease: null }, v1);
    await expect(store.save('stale', { checkpoint: null, pending: { n: 3 }, lease: null }, v1)).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(store.save('stale', { checkpoint: null, pending: { n: 4 }, lease: null }, null)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await store.load('stale')).state.pending).toEqual({ n: 2 });
  });

  it('two writers racing to advance one checkpoint: exactly one wins each round (20 rounds)', async () => {
    const a = new EsStateStore(es.client, { index });
    const b = new EsStateStore(es.client, { index });
    const rule = 'race';
    await a.save(rule, { checkpoint: { windowEnd: new Date(0).toISOString(), lastSort: null }, pending: null, lease: null }, null);

    const winners: string[] = [];
    for (let round = 1; round <= 20; round++) {
      // Both read the same version, then both try to advance from it.
      const [la, lb] = await Promise.all([a.load(rule), b.load(rule)]);
      expect(la.version).toEqual(lb.version);
      const advance = (who: string, version: StateVersion | null) =>
        (who === 'a' ? a : b)
          .save(rule, { checkpoint: { windowEnd: new Date(round * 60_000).toISOString(), lastSort: [who] }, pending: null, lease: null }, version)
          .then(
            () => who,
            (e: unknown) => {
              if (e instanceof ConflictError) return null;
              throw e;
            },
          );
      const outcome = await Promise.all([advance('a', la.version), advance('b', lb.version)]);
      const won = outcome.filter((w): w is string => w !== null);
      expect(won).toHaveLength(1);
      winners.push(won[0]!);
      const after = await a.load(rule);
      expect(after.state.checkpoint).toEqual({ windowEnd: new Date(round * 60_000).toISOString(), lastSort: [won[0]] });
    }
    expect(winners).toHaveLength(20);
  });
});

describe('EsStateStore leases', () => {
  it('is exclusive: of concurrent acquirers exactly one gets the lease', async () => {
    const clock = manualClock();
    const stores = ['w1', 'w2', 'w3', 'w4'].map(() => new EsStateStore(es.client, { index, now: clock.now }));
    const results = await Promise.all(stores.map((s, i) => s.acquireLease('lease-race', `w${i + 1}`, 30_000)));
    const acquired = results.filter((r) => r.acquired);
    expect(acquired).toHaveLength(1);
    const owner = acquired[0]!.acquired ? acquired[0]!.lease.owner : '';
    for (const r of results.filter((x) => !x.acquired)) {
      expect(r.acquired ? '' : r.holder.owner).toBe(owner);
    }
    expect((await stores[0]!.load('lease-race')).state.lease?.owner).toBe(owner);
  });

  it('a held lease refuses others until it expires, then another owner takes it', async () => {
    const clock = manualClock();
    const store = new EsStateStore(es.client, { index, now: clock.now });
    const first = await store.acquireLease('lease-expiry', 'alpha', 10_000);
    expect(first.acquired).toBe(true);

    clock.advance(9_999);
    const refused = await store.acquireLease('lease-expiry', 'beta', 10_000);
    expect(refused.acquired).toBe(false);
    expect(refused.acquired ? null : refused.holder.owner).toBe('alpha');

    clock.advance(2);
    const taken = await store.acquireLease('lease-expiry', 'beta', 10_000);
    expect(taken.acquired).toBe(true);
    expect((await store.load('lease-expiry')).state.lease?.owner).toBe('beta');
  });

  it('acquiring keeps the checkpoint and pending state; the holder saves with the returned version', async () => {
    const clock = manualClock();
    const store = new EsStateStore(es.client, { index, now: clock.now });
    const v0 = await store.save(
      'lease-keep',
      { checkpoint: { windowEnd: '2026-03-01T00:00:00.000Z', lastSort: null }, pending: { p: true }, lease: null },
      null,
    );
    const got = await store.acquireLease('lease-keep', 'alpha', 10_000);
    if (!got.acquired) throw new Error('expected the lease');
    expect(got.version).not.toEqual(v0);
    expect(got.state.checkpoint?.windowEnd).toBe('2026-03-01T00:00:00.000Z');
    expect(got.state.pending).toEqual({ p: true });

    const next: RuleState = { ...got.state, checkpoint: { windowEnd: '2026-03-01T00:05:00.000Z', lastSort: null } };
    await store.save('lease-keep', next, got.version);
    expect((await store.load('lease-keep')).state).toEqual(next);
  });

  it('renew extends our lease; renew by a non-holder or with a stale version fails', async () => {
    const clock = manualClock();
    const store = new EsStateStore(es.client, { index, now: clock.now });
    const got = await store.acquireLease('lease-renew', 'alpha', 10_000);
    if (!got.acquired) throw new Error('expected the lease');

    clock.advance(8_000);
    const renewed = await store.renewLease('lease-renew', 'alpha', 10_000, got.version);
    expect(renewed.lease.expiresAt).toBe(new Date(clock.now().getTime() + 10_000).toISOString());

    clock.advance(8_000); // 16 s after the first acquire: only alive thanks to the renewal
    expect((await store.acquireLease('lease-renew', 'beta', 10_000)).acquired).toBe(false);
    await expect(store.renewLease('lease-renew', 'beta', 10_000, renewed.version)).rejects.toBeInstanceOf(LeaseLostError);
    await expect(store.renewLease('lease-renew', 'alpha', 10_000, got.version)).rejects.toBeInstanceOf(ConflictError);
  });

  it('release frees the lease for others at once and keeps the checkpoint; only the holder can release', async () => {
    const clock = manualClock();
    const store = new EsStateStore(es.client, { index, now: clock.now });
    const got = await store.acquireLease('lease-release', 'alpha', 60_000);
    if (!got.acquired) throw new Error('expected the lease');
    await store.save(
      'lease-release',
      { ...got.state, checkpoint: { windowEnd: '2026-03-01T01:00:00.000Z', lastSort: null } },
      got.version,
    );

    expect(await store.releaseLease('lease-release', 'beta')).toBe(false);
    expect(await store.releaseLease('lease-release', 'alpha')).toBe(true);
    const after = await store.load('lease-release');
    expect(after.state.lease).toBeNull();
    expect(after.state.checkpoint?.windowEnd).toBe('2026-03-01T01:00:00.000Z');
    expect((await store.acquireLease('lease-release', 'beta', 60_000)).acquired).toBe(true);
  });

  it('a holder whose lease expired and was taken cannot save over the new holder', async () => {
    const clock = manualClock();
    const store = new EsStateStore(es.client, { index, now: clock.now });
    const alpha = await store.acquireLease('lease-stolen', 'alpha', 1_000);
    if (!alpha.acquired) throw new Error('expected the lease');
    clock.advance(5_000);
    expect((await store.acquireLease('lease-stolen', 'beta', 1_000)).acquired).toBe(true);
    await expect(store.save('lease-stolen', alpha.state, alpha.version)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.load('lease-stolen')).state.lease?.owner).toBe('beta');
  });
});
