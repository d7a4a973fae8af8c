/**
 * Deterministic scenario: benign cluster activity with injected attacks, in `@timestamp` order,
 * with the ground truth (which documents each seed rule must alert on). Pure: same options,
 * same documents, byte for byte.
 */
import { ATTACK_MAX_MS, DEFAULT_ATTACK_MIX, injectAttack, type AttackKind, type AttackMix, type AttackRecord, type SeedRule } from './attacks.js';
import { BENIGN_ACTIVITIES, DEFAULT_BENIGN_MIX, type BenignKind, type BenignMix } from './benign.js';
import { buildCluster, type Pod } from './cluster.js';
import { createContext } from './context.js';
import { Prng } from './prng.js';
import { Timeline, type ScenarioDoc } from './timeline.js';

export interface ScenarioOptions {
  /** Total number of documents (process + audit). Default 10 000. */
  events?: number;
  /** Number of injected attacks. Default: round(events × attackRate). */
  attacks?: number;
  /** Attacks per document when `attacks` is not given. Default 0.001. */
  attackRate?: number;
  /** Relative weights of attack kinds. */
  attackMix?: Partial<AttackMix>;
  /** Relative weights of benign activity kinds (0 disables one). */
  benignMix?: Partial<BenignMix>;
  seed?: number;
  /** First event time (ISO string or epoch ms). Default 2026-01-20T10:00:00.000Z. */
  start?: string | number;
  /** Length of the period the events cover, in ms. Default one hour. */
  spanMs?: number;
  /** Worker nodes and replicas per application workload. */
  workers?: number;
  replicas?: number;
}

export interface ResolvedScenarioOptions {
  events: number;
  attacks: number;
  attackMix: AttackMix;
  benignMix: BenignMix;
  seed: number;
  startMs: number;
  spanMs: number;
  workers: number;
  replicas: number;
}

export interface InjectedAttack {
  id: number;
  kind: AttackKind;
  pod: string;
  namespace: string;
  containerId: string;
  startMs: number;
  endMs: number;
  /** Positions in `Scenario.events` of every document the attack wrote. */
  eventIndices: number[];
}

export interface ExpectedAlert {
  rule: SeedRule;
  attackId: number;
  /** Positions in `Scenario.events` of the matching documents, in sequence order. */
  eventIndices: number[];
}

export interface Scenario {
  options: ResolvedScenarioOptions;
  /** Documents in `@timestamp` order. Shared sub-objects are frozen: clone before mutating. */
  events: ScenarioDoc[];
  attacks: InjectedAttack[];
  /** Sorted by rule, then by the position of the first matching document. */
  expectedAlerts: ExpectedAlert[];
  stats: { processEvents: number; auditEvents: number; attackEvents: number; benignActivities: Record<BenignKind, number> };
}

const DEFAULT_START = Date.parse('2026-01-20T10:00:00.000Z');

function positiveInt(name: string, v: number, min = 0): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function resolveOptions(o: ScenarioOptions = {}): ResolvedScenarioOptions {
  const events = positiveInt('events', o.events ?? 10_000, 1);
  const rate = o.attackRate ?? 0.001;
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`attackRate must be within [0, 1], got ${rate}`);
  const attacks = positiveInt('attacks', o.attacks ?? Math.round(events * rate));
  const startMs = typeof o.start === 'string' ? Date.parse(o.start) : (o.start ?? DEFAULT_START);
  if (!Number.isFinite(startMs)) throw new RangeError(`start is not a valid date: ${String(o.start)}`);
  const spanMs = positiveInt('spanMs', o.spanMs ?? 3_600_000, 60_000);
  const attackMix = { ...DEFAULT_ATTACK_MIX, ...o.attackMix };
  const benignMix = { ...DEFAULT_BENIGN_MIX, ...o.benignMix };
  for (const [k, w] of [...Object.entries(attackMix), ...Object.entries(benignMix)]) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`mix weight ${k} must be a finite number >= 0, got ${w}`);
  }
  if (attacks > 0 && Object.values(attackMix).every((w) => w === 0)) throw new RangeError('attackMix has no positive weight');
  if (Object.values(benignMix).every((w) => w === 0)) throw new RangeError('benignMix has no positive weight');
  return {
    events,
    attacks,
    attackMix,
    benignMix,
    seed: positiveInt('seed', o.seed ?? 1),
    startMs,
    spanMs,
    workers: positiveInt('workers', o.workers ?? 3, 1),
    replicas: positiveInt('replicas', o.replicas ?? 3, 1),
  };
}

export function generateScenario(options: ScenarioOptions = {}): Scenario {
  const opts = resolveOptions(options);
  const prng = new Prng(opts.seed);
  const cluster = buildCluster(prng, { workers: opts.workers, replicas: opts.replicas });
  const timeline = new Timeline();
  const endMs = opts.startMs + opts.spanMs;
  const ctx = createContext(prng, cluster, timeline, opts.startMs, endMs);

  // Attacks first (never truncated). Each pod's attacks get disjoint time slots so that one
  // attack's API request cannot complete another's sequence.
  const kinds = Object.keys(opts.attackMix) as AttackKind[];
  const weights = kinds.map((k) => opts.attackMix[k]);
  const plan = new Map<Pod, AttackKind[]>();
  const order: Array<{ pod: Pod; kind: AttackKind }> = [];
  for (let i = 0; i < opts.attacks; i++) {
    const pod = prng.pick(cluster.appPods);
    const kind = kinds[prng.weighted(weights)] as AttackKind;
    const list = plan.get(pod) ?? [];
    list.push(kind);
    plan.set(pod, list);
    order.push({ pod, kind });
  }
  const records: AttackRecord[] = [];
  for (const [pod, list] of plan) {
    const slot = Math.floor(opts.spanMs / list.length);
    if (slot < ATTACK_MAX_MS + 10_000) {
      throw new RangeError(`span ${opts.spanMs} ms is too short for ${list.length} attacks on one pod (${opts.attacks} attacks over ${cluster.appPods.length} pods); lengthen spanMs or lower attacks`);
    }
    list.forEach((kind, i) => {
      const t = opts.startMs + i * slot + prng.int(2000, slot - ATTACK_MAX_MS - 5000);
      const rec = injectAttack(ctx, kind, pod, t);
      ctx.reserve(pod, rec.startMs, rec.endMs);
      records.push(rec);
    });
  }
  records.sort((a, b) => a.startMs - b.startMs);
  const attackEvents = timeline.size;
  if (attackEvents > opts.events) {
    throw new RangeError(`${opts.attacks} attacks need ${attackEvents} events, more than the ${opts.events} requested`);
  }

  // Benign activity until the budget is met; the last activity is cut to fit exactly.
  const benignKinds = Object.keys(opts.benignMix) as BenignKind[];
  const benignWeights = benignKinds.map((k) => opts.benignMix[k]);
  const benignActivities = Object.fromEntries(benignKinds.map((k) => [k, 0])) as Record<BenignKind, number>;
  const latestStart = Math.max(opts.startMs, endMs - 120_000);
  while (timeline.size < opts.events) {
    const kind = benignKinds[prng.weighted(benignWeights)] as BenignKind;
    const before = timeline.size;
    BENIGN_ACTIVITIES[kind](ctx, prng.int(opts.startMs, latestStart));
    if (timeline.size > before) benignActivities[kind]++;
  }
  timeline.truncate(opts.events);

  const events = timeline.sorted();
  const position = new Map<ScenarioDoc, number>();
  events.forEach((doc, i) => position.set(doc, i));
  const at = (doc: ScenarioDoc): number => position.get(doc) as number;

  const attacks: InjectedAttack[] = [];
  const expectedAlerts: ExpectedAlert[] = [];
  records.forEach((rec, id) => {
    attacks.push({
      id,
      kind: rec.kind,
      pod: rec.pod.name,
      namespace: rec.pod.namespace,
      containerId: rec.pod.containerId,
      startMs: rec.startMs,
      endMs: rec.endMs,
      eventIndices: rec.docs.map(at).sort((a, b) => a - b),
    });
    for (const e of rec.expected) expectedAlerts.push({ rule: e.rule, attackId: id, eventIndices: e.docs.map(at) });
  });
  expectedAlerts.sort((a, b) => (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : (a.eventIndices[0] as number) - (b.eventIndices[0] as number)));

  let processEvents = 0;
  for (const e of events) if ((e['data_stream'] as { dataset: string }).dataset === 'cloud_defend.process') processEvents++;
  return {
    options: opts,
    events,
    attacks,
    expectedAlerts,
    stats: { processEvents, auditEvents: events.length - processEvents, attackEvents, benignActivities },
  };
}

/** The data stream a document belongs to (`logs-cloud_defend.process-default`, `logs-kubernetes.audit_logs-default`). */
export function indexOfDoc(doc: ScenarioDoc): string {
  const ds = doc['data_stream'] as { type: string; dataset: string; namespace: string };
  return `${ds.type}-${ds.dataset}-${ds.namespace}`;
}
