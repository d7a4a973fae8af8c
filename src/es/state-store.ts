/**
 * Per-rule worker state in an Elasticsearch index (default `eqlwatch-state`), one document per rule:
 * the checkpoint (end of the last completed window, sort values of the last event), the pending
 * sequence state (opaque JSON, stored unindexed so it may be large and hold any keys), and a lease
 * that says which worker runs the rule.
 *
 * Every write is conditional on the version read (`if_seq_no` + `if_primary_term`): if anyone wrote
 * the document in between, the write fails with `ConflictError` instead of overwriting their work.
 * That is what keeps two workers from both advancing one checkpoint. Lease expiry uses this
 * process's clock (`now` option); workers sharing rules need roughly synchronised clocks.
 */
import type { Client } from '@elastic/elasticsearch';

export const DEFAULT_STATE_INDEX = 'eqlwatch-state';

export interface RuleCheckpoint {
  /** End of the last window whose alerts are durable (ISO-8601). */
  windowEnd: string;
  /** Sort values of the last processed event (for search_after), or null. */
  lastSort: unknown[] | null;
}

export interface Lease {
  owner: string;
  /** ISO-8601 instant after which another owner may take the lease. */
  expiresAt: string;
}

export interface RuleState {
  checkpoint: RuleCheckpoint | null;
  /** Pending sequence state: opaque JSON owned by the engine. */
  pending: unknown;
  lease: Lease | null;
}

/** Optimistic-concurrency token of a state document. */
export interface StateVersion {
  seqNo: number;
  primaryTerm: number;
}

export interface LoadedState {
  state: RuleState;
  /** null when the rule has no state document yet (save with null creates it). */
  version: StateVersion | null;
}

/** Someone else wrote the rule's state since it was read. Reload and decide again. */
export class ConflictError extends Error {
  override name = 'ConflictError';
  constructor(readonly ruleId: string) {
    super(`state of rule ${ruleId} was changed by another writer`);
  }
}

/** The lease is held by someone else (or was lost); the caller must stop working on the rule. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(
    readonly ruleId: string,
    readonly holder: Lease | null,
  ) {
    super(`lease on rule ${ruleId} is not held by this owner${holder ? ` (held by ${holder.owner})` : ''}`);
  }
}

export type AcquireResult =
  | { acquired: true; lease: Lease; state: RuleState; version: StateVersion }
  | { acquired: false; holder: Lease; state: RuleState; version: StateVersion | null };

export interface StateStoreOptions {
  index?: string;
  /** Refresh after writes (tests); reads are real-time GETs and never need it. */
  refresh?: boolean | 'wait_for';
  /** Clock for lease expiry (injectable for tests). */
  now?: () => Date;
}

interface StateDoc {
  rule_id: string;
  checkpoint: { window_end: string; last_sort: unknown[] | null } | null;
  pending: unknown;
  lease: { owner: string; expires_at: string } | null;
  updated_at: string;
}

export const emptyRuleState = (): RuleState => ({ checkpoint: null, pending: null, lease: null });

/** Mappings of the state index: strict, with the engine's pending state unparsed (`enabled: false`). */
export function stateIndexMappings(): Record<string, unknown> {
  return {
    dynamic: 'strict',
    properties: {
      rule_id: { type: 'keyword' },
      checkpoint: {
        properties: {
          window_end: { type: 'date' },
          last_sort: { type: 'object', enabled: false },
        },
      },
      pending: { type: 'object', enabled: false },
      lease: { properties: { owner: { type: 'keyword' }, expires_at: { type: 'date' } } },
      updated_at: { type: 'date' },
    },
  };
}

function statusOf(e: unknown): number | undefined {
  return (e as { meta?: { statusCode?: number } }).meta?.statusCode;
}

function errorType(e: unknown): string | undefined {
  return (e as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type;
}

/** Elasticsearch document ids are at most 512 bytes. */
function checkRuleId(ruleId: string): void {
  if (ruleId === '' || Buffer.byteLength(ruleId, 'utf8') > 512) {
    throw new RangeError('rule id must be 1..512 bytes to serve as a state document id');
  }
}

function toDoc(ruleId: string, state: RuleState, now: Date): StateDoc {
  return {
    rule_id: ruleId,
    checkpoint: state.checkpoint
      ? { window_end: state.checkpoint.windowEnd, last_sort: state.checkpoint.lastSort }
      : null,
    pending: state.pending ?? null,
    lease: state.lease ? { owner: state.lease.owner, expires_at: state.lease.expiresAt } : null,
    updated_at: now.toISOString(),
  };
}

function fromDoc(doc: Partial<StateDoc>): RuleState {
  return {
    checkpoint: doc.checkpoint
      ? { windowEnd: doc.checkpoint.window_end, lastSort: doc.checkpoint.last_sort ?? null }
      : null,
    pending: doc.pending ?? null,
    lease: doc.lease ? { owner: doc.lease.owner, expiresAt: doc.lease.expires_at } : null,
  };
}

/** Bounded re-reads when a lease write loses a race to an unrelated write. */
const LEASE_ATTEMPTS = 5;

export class EsStateStore {
  readonly index: string;
  private readonly refresh: boolean | 'wait_for' | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly client: Client,
    opts: StateStoreOptions = {},
  ) {
    this.index = opts.index ?? DEFAULT_STATE_INDEX;
    this.refresh = opts.refresh;
    this.now = opts.now ?? (() => new Date());
  }

  /** Creates the state index when missing (idempotent, safe under concurrency). */
  async ensureIndex(): Promise<void> {
    if (await this.client.indices.exists({ index: this.index })) return;
    try {
      await this.client.indices.create({
        index: this.index,
        settings: { 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' },
        mappings: stateIndexMappings(),
        wait_for_active_shards: 1,
      });
    } catch (e) {
      if (errorType(e) !== 'resource_already_exists_exception') throw e;
    }
  }

  /** The rule's state and its version (a real-time read: sees every acknowledged write). */
  async load(ruleId: string): Promise<LoadedState> {
    checkRuleId(ruleId);
    const res = await this.client.get<Partial<StateDoc>>({ index: this.index, id: ruleId }, { ignore: [404] });
    if (!res.found || res._source === undefined || res._seq_no === undefined || res._primary_term === undefined) {
      return { state: emptyRuleState(), version: null };
    }
    return { state: fromDoc(res._source), version: { seqNo: res._seq_no, primaryTerm: res._primary_term } };
  }

  /**
   * Writes the whole state if the document is still at `version` (null: only if it does not exist).
   * Returns the new version; throws ConflictError when another writer got there first.
   */
  async save(ruleId: string, state: RuleState, version: StateVersion | null): Promise<StateVersion> {
    checkRuleId(ruleId);
    const document = toDoc(ruleId, state, this.now());
    const params: Parameters<Client['index']>[0] = { index: this.index, id: ruleId, document };
    if (version === null) params.op_type = 'create';
    else {
      params.if_seq_no = version.seqNo;
      params.if_primary_term = version.primaryTerm;
    }
    if (this.refresh !== undefined) params.refresh = this.refresh;
    try {
      const res = await this.client.index(params);
      return { seqNo: res._seq_no as number, primaryTerm: res._primary_term as number };
    } catch (e) {
      if (statusOf(e) === 409) throw new ConflictError(ruleId);
      throw e;
    }
  }

  /** The states of several rules in one request (a real-time `mget`), with their versions. */
  async loadMany(ruleIds: readonly string[]): Promise<Map<string, LoadedState>> {
    for (const id of ruleIds) checkRuleId(id);
    const out = new Map<string, LoadedState>();
    if (ruleIds.length === 0) return out;
    const res = await this.client.mget<Partial<StateDoc>>({ index: this.index, ids: [...ruleIds] });
    res.docs.forEach((d, i) => {
      const id = ruleIds[i]!;
      const found = 'found' in d && d.found && d._source !== undefined && d._seq_no !== undefined && d._primary_term !== undefined;
      out.set(id, found ? { state: fromDoc(d._source!), version: { seqNo: d._seq_no!, primaryTerm: d._primary_term! } } : { state: emptyRuleState(), version: null });
    });
    return out;
  }

  /**
   * Writes several states in one bulk request, each conditional on its version as `save` is. Returns the new
   * versions; the rules whose write lost a race (409) are listed in `conflicts` (their state is unchanged);
   * any other failure throws.
   */
  async saveMany(items: readonly { ruleId: string; state: RuleState; version: StateVersion | null }[]): Promise<{ versions: Map<string, StateVersion>; conflicts: string[] }> {
    const versions = new Map<string, StateVersion>();
    const conflicts: string[] = [];
    if (items.length === 0) return { versions, conflicts };
    const now = this.now();
    const operations: unknown[] = [];
    for (const it of items) {
      checkRuleId(it.ruleId);
      const meta = it.version === null
        ? { create: { _index: this.index, _id: it.ruleId } }
        : { index: { _index: this.index, _id: it.ruleId, if_seq_no: it.version.seqNo, if_primary_term: it.version.primaryTerm } };
      operations.push(meta, toDoc(it.ruleId, it.state, now));
    }
    const res = await this.client.bulk({ operations, ...(this.refresh !== undefined ? { refresh: this.refresh } : {}) });
    res.items.forEach((item, i) => {
      const r = item.index ?? item.create;
      const id = items[i]!.ruleId;
      if (!r) throw new Error(`no bulk response item for the state of ${id}`);
      if (r.status === 409) conflicts.push(id);
      else if (r.status >= 300 || r.error) throw new Error(`saving the state of ${id} failed: ${r.status} ${JSON.stringify(r.error).slice(0, 300)}`);
      else versions.set(id, { seqNo: r._seq_no as number, primaryTerm: r._primary_term as number });
    });
    return { versions, conflicts };
  }

  /**
   * Takes the rule's lease for `ttlMs` if it is free, expired, or already ours (then it is extended).
   * Exactly one of several concurrent callers gets it. Returns the state with the version to save with.
   */
  async acquireLease(ruleId: string, owner: string, ttlMs: number): Promise<AcquireResult> {
    checkLease(owner, ttlMs);
    for (let attempt = 1; ; attempt++) {
      const { state, version } = await this.load(ruleId);
      const now = this.now();
      const held = state.lease;
      if (held && held.owner !== owner && Date.parse(held.expiresAt) > now.getTime()) {
        return { acquired: false, holder: held, state, version };
      }
      const lease: Lease = { owner, expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
      const next: RuleState = { ...state, lease };
      try {
        const v = await this.save(ruleId, next, version);
        return { acquired: true, lease, state: next, version: v };
      } catch (e) {
        // Someone wrote in between: re-read and decide again (they may have taken the lease).
        if (!(e instanceof ConflictError) || attempt >= LEASE_ATTEMPTS) throw e;
      }
    }
  }

  /**
   * Extends our lease, conditional on `version` like `save` (so a holder cannot renew over a state it
   * has not seen). Throws LeaseLostError if the stored lease is not ours, ConflictError on a race.
   */
  async renewLease(
    ruleId: string,
    owner: string,
    ttlMs: number,
    version: StateVersion,
  ): Promise<{ lease: Lease; state: RuleState; version: StateVersion }> {
    checkLease(owner, ttlMs);
    const loaded = await this.load(ruleId);
    if (loaded.version === null || loaded.state.lease?.owner !== owner) {
      throw new LeaseLostError(ruleId, loaded.state.lease);
    }
    if (loaded.version.seqNo !== version.seqNo || loaded.version.primaryTerm !== version.primaryTerm) {
      throw new ConflictError(ruleId);
    }
    const lease: Lease = { owner, expiresAt: new Date(this.now().getTime() + ttlMs).toISOString() };
    const next: RuleState = { ...loaded.state, lease };
    return { lease, state: next, version: await this.save(ruleId, next, version) };
  }

  /**
   * Gives the lease up if we hold it (keeping checkpoint and pending state). Returns false when it
   * was not ours (nothing to release). Retries only races that left the lease ours.
   */
  async releaseLease(ruleId: string, owner: string): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      const { state, version } = await this.load(ruleId);
      if (version === null || state.lease?.owner !== owner) return false;
      try {
        await this.save(ruleId, { ...state, lease: null }, version);
        return true;
      } catch (e) {
        if (!(e instanceof ConflictError) || attempt >= LEASE_ATTEMPTS) throw e;
      }
    }
  }
}

function checkLease(owner: string, ttlMs: number): void {
  if (owner === '') throw new RangeError('lease owner must be non-empty');
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError('lease ttl must be a positive number of ms');
}
