/**
 * The fleet benchmark's feed, built before the clock starts so that both modes ingest the same documents:
 *  - benign noise and the seed rules' attacks from the scenario generator (process events and Kubernetes audit
 *    logs), `minutes` of them at `rate` documents per second;
 *  - Defend for Containers file events derived from a share of the containers' process events (the scenario
 *    writes none; several container rules read `logs-cloud_defend.file*`);
 *  - for every rule, `attacksPerRule` attacks generated from its EQL (attack-gen.ts) on the documents of a real
 *    pod, each verified alone with the real engine (`replayRule`): the rules it cannot satisfy are reported;
 *  - benign documents that some rule alerts on removed (the scenario was written for the seed rules: its benign
 *    noise holds thousands of false positives of the container rules, e.g. CI scripts downloading with
 *    `curl -o`, which would push rules past `max_signals` and make the alert count meaningless). Near misses
 *    (candidates of the pushed-down filters that the engine rejects) stay.
 * Times are relative (`rel` ms from the start); each mode stamps them from its own start.
 */
import { generateScenario, indexOfDoc, PROCESS_INDEX, AUDIT_INDEX, Prng, type ScenarioDoc } from '../../src/scenario/index.js';
import type { Rule } from '../../src/rules/schema.js';
import { indexMatches, prepareRule, type PreparedRule } from '../../src/worker/prepared-rule.js';
import { replayRule, type ReplayInput } from '../../src/worker/replay-rule.js';
import { generateAttack, type DocKind } from './attack-gen.js';
import { values } from './doc-paths.js';

export interface FeedDoc {
  rel: number;
  kind: DocKind;
  id: string;
  doc: ScenarioDoc;
}

export interface FeedOptions {
  rules: Rule[];
  minutes: number;
  rate: number;
  attacksPerRule: number;
  seed: number;
  /** Index per kind (the names the attacks are verified against; each mode uses its own, same patterns). */
  indices: Record<DocKind, string>;
}

export interface Feed {
  docs: FeedDoc[];
  /** Generated attacks per rule id (verified), and the rules none could be generated for, with why. */
  attacks: Map<string, { rel: number; ids: string[] }[]>;
  unsatisfied: { rule: string; name: string; reason: string }[];
  removedFalsePositives: number;
  fileEvents: number;
  buildSeconds: number;
}

const FILE_SHARE = 0.25;
const FILE_PATHS = ['/etc/ld.so.cache', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/etc/nsswitch.conf', '/etc/resolv.conf', '/app/config/settings.json', '/var/log/app/app.log', '/tmp/cache-01.tmp', '/proc/self/status'];

export function buildFeed(o: FeedOptions): Feed {
  const started = performance.now();
  const prng = new Prng(o.seed + 7);
  const spanMs = (o.minutes + 2) * 60_000;
  // Activities start until two minutes before the scenario's end: its first `minutes` hold (nearly) all its events.
  const scenario = generateScenario({ events: Math.round(o.rate * o.minutes * 60), attacks: Math.max(1, Math.round(o.minutes)), start: 0, spanMs, seed: o.seed });
  const endRel = o.minutes * 60_000;
  const kindOf: Record<string, DocKind> = { [PROCESS_INDEX]: 'process', [AUDIT_INDEX]: 'audit' };
  const docs: FeedDoc[] = [];
  const attackDocs = new Set<string>();
  for (const a of scenario.attacks) for (const i of a.eventIndices) attackDocs.add(`s${i}`);
  let fileEvents = 0;
  scenario.events.forEach((doc, i) => {
    const rel = Date.parse(doc['@timestamp'] as string);
    if (rel >= endRel) return;
    docs.push({ rel, kind: kindOf[indexOfDoc(doc)]!, id: `s${i}`, doc });
    if (doc.container && (doc.event as { action?: string }).action === 'exec' && prng.chance(FILE_SHARE)) {
      docs.push({ rel: rel + prng.int(1, 40), kind: 'file', id: `f${i}`, doc: fileEventOf(doc, prng) });
      fileEvents++;
    }
  });

  // Attacks, on the documents of real pods at random times.
  const prepared = o.rules.map((r) => prepareRule(r));
  const processExecs = docs.filter((d) => d.kind === 'process' && d.doc.container && (d.doc.event as { action?: string }).action === 'exec');
  const podAudits = docs.filter((d) => d.kind === 'audit' && values(d.doc, 'kubernetes.audit.user.extra.authentication.kubernetes.io/pod-name').length > 0);
  const attacks = new Map<string, { rel: number; ids: string[] }[]>();
  const unsatisfied: Feed['unsatisfied'] = [];
  let n = 0;
  for (const p of prepared) {
    const kinds = (['process', 'file', 'audit'] as DocKind[]).filter((k) => indexMatches(p.rule.index, o.indices[k]));
    const list: { rel: number; ids: string[] }[] = [];
    let reason = '';
    for (let k = 0; k < o.attacksPerRule; k++) {
      const rel = Math.round(((k + 0.5) / o.attacksPerRule) * (endRel - 40_000)) + prng.int(5_000, 20_000);
      const proc = nearest(processExecs, rel, prng);
      const base = { process: proc.doc, file: fileEventOf(proc.doc, prng), audit: nearest(podAudits, rel, prng).doc };
      let made: ReturnType<typeof generateAttack> = { error: 'not tried' };
      for (let attempt = 0; attempt < 5; attempt++) {
        made = generateAttack({ compiled: p.compiled, categoryField: p.rule.eventCategoryField, kinds, base, prng, at: rel });
        if (Array.isArray(made) && verified(p, made, o.indices)) break;
        made = Array.isArray(made) ? { error: 'generated documents the real engine does not match as one attack' } : made;
      }
      if (!Array.isArray(made)) {
        reason = made.error;
        break;
      }
      const ids = made.map((_, j) => `a${n}-${j}`);
      made.forEach((d, j) => {
        const id = ids[j]!;
        docs.push({ rel: Date.parse(d.doc['@timestamp'] as string), kind: d.kind, id, doc: d.doc as ScenarioDoc });
        attackDocs.add(id);
      });
      n++;
      list.push({ rel, ids });
    }
    if (reason) unsatisfied.push({ rule: p.rule.id, name: p.rule.name, reason });
    else attacks.set(p.rule.id, list);
  }
  docs.sort((a, b) => a.rel - b.rel);
  const removedFalsePositives = removeFalsePositives(docs, prepared, o.indices, attackDocs);
  return { docs, attacks, unsatisfied, removedFalsePositives, fileEvents, buildSeconds: (performance.now() - started) / 1000 };
}

function nearest(list: FeedDoc[], rel: number, prng: Prng): FeedDoc {
  let lo = 0;
  let hi = list.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.rel < rel) lo = mid + 1;
    else hi = mid;
  }
  return list[Math.min(list.length - 1, lo + prng.int(0, 20))]!;
}

/** A file event of the process of `doc` (same process, container, host), on a path such a process opens. */
function fileEventOf(doc: ScenarioDoc, prng: Prng): ScenarioDoc {
  const path = prng.pick(FILE_PATHS);
  const action = prng.pick(['open', 'open', 'open', 'creation', 'deletion']);
  const ev = doc.event as Record<string, unknown>;
  return {
    ...doc,
    data_stream: { type: 'logs', dataset: 'cloud_defend.file', namespace: 'default' },
    event: { ...ev, id: prng.hex(20), category: ['file'], type: [action === 'open' ? 'change' : action], action, dataset: 'cloud_defend.file' },
    file: { path, name: path.slice(path.lastIndexOf('/') + 1), directory: path.slice(0, path.lastIndexOf('/')), ...(path.includes('.') ? { extension: path.slice(path.lastIndexOf('.') + 1) } : {}) },
  };
}

const ctx = { now: new Date(0), spaceId: 'default', executionId: 'feed', kibanaUrl: null };

function hitsOf(docs: { kind: DocKind; id: string; doc: Record<string, unknown> }[], indices: Record<DocKind, string>): ReplayInput[] {
  return docs.map((d) => ({ hit: { _index: indices[d.kind], _id: d.id, _source: d.doc }, bare: false }));
}

/** The attack alone gives the rule a match holding every one of its documents. */
function verified(p: PreparedRule, made: { kind: DocKind; doc: Record<string, unknown> }[], indices: Record<DocKind, string>): boolean {
  const input = hitsOf(made.map((d, i) => ({ ...d, id: `v${i}` })), indices);
  const r = replayRule(p.rule, input, { maxPendingSequences: 10_000, ctx });
  const ancestors = new Set(r.alerts.flatMap((a) => ((a.doc['kibana.alert.ancestors'] as { id: string; type: string }[] | undefined) ?? []).filter((x) => x.type === 'event').map((x) => x.id)));
  return r.matches >= 1 && made.every((_, i) => ancestors.has(`v${i}`));
}

/**
 * Drops benign documents some rule alerts on (over the whole feed, as replay will see it), until none is left:
 * single-event rules by their predicate, sequences by replaying their stage candidates.
 */
function removeFalsePositives(docs: FeedDoc[], rules: PreparedRule[], indices: Record<DocKind, string>, attack: Set<string>): number {
  let removed: number;
  const drop = new Set<string>();
  for (const p of rules) {
    const kinds = new Set((['process', 'file', 'audit'] as DocKind[]).filter((k) => indexMatches(p.rule.index, indices[k])));
    if (p.compiled.kind !== 'event') continue;
    for (const d of docs) if (kinds.has(d.kind) && !attack.has(d.id) && p.compiled.predicate!(d.doc)) drop.add(d.id);
  }
  for (let round = 0; round < 5; round++) {
    let found = 0;
    for (const p of rules) {
      if (p.compiled.kind === 'event') continue;
      const kinds = new Set((['process', 'file', 'audit'] as DocKind[]).filter((k) => indexMatches(p.rule.index, indices[k])));
      const cands = docs.filter((d) => kinds.has(d.kind) && !drop.has(d.id) && p.compiled.stages.some((s) => s.predicate(d.doc)));
      const r = replayRule(p.rule, hitsOf(cands, indices), { maxPendingSequences: 10_000, ctx });
      for (const a of r.alerts) {
        for (const x of (a.doc['kibana.alert.ancestors'] as { id: string; type: string }[] | undefined) ?? []) {
          if (x.type === 'event' && !attack.has(x.id) && !drop.has(x.id)) {
            drop.add(x.id);
            found++;
          }
        }
      }
    }
    if (found === 0) break;
  }
  let w = 0;
  for (const d of docs) if (!drop.has(d.id)) docs[w++] = d;
  removed = docs.length - w;
  docs.length = w;
  return removed;
}
