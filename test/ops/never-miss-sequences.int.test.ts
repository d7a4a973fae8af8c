/**
 * Sequence rules against the real node: `until` joined on its own key fields, join keys coerced as
 * Elasticsearch indexes them (in the worker and in `replay` given the mappings), events stamped in the
 * future (nothing held in the state), and evictions (logged and exported, and the same in `replay`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayRule } from '../../src/worker/replay-rule.js';
import { ensureBuilt, runCli } from '../cli/run-cli.js';
import { useEs } from '../helpers/es.js';
import { DEFAULT_TEST_SETTINGS, exportDocs, ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const T0 = Date.parse('2026-03-02T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

async function index(prefix: string, properties: Record<string, unknown>): Promise<string> {
  const name = es.name(prefix);
  await es.client.indices.create({
    index: name,
    mappings: {
      properties: {
        '@timestamp': { type: 'date' },
        event: { properties: { category: { type: 'keyword' }, action: { type: 'keyword' } } },
        process: { properties: { name: { type: 'keyword' } } },
        ...properties,
      },
    },
  });
  return name;
}

async function bulk(indexName: string, docs: [string, Record<string, unknown>][]): Promise<void> {
  const res = await es.client.bulk({ refresh: true, operations: docs.flatMap(([id, d]) => [{ create: { _index: indexName, _id: id } }, d]) });
  if (res.errors) throw new Error(JSON.stringify(res.items.find((i) => i.create?.error)));
}

const ev = (name: string, ts: number, extra: Record<string, unknown>) => ({ '@timestamp': iso(ts), event: { category: 'process' }, process: { name }, ...extra });

describe('until is read on its own key fields', () => {
  it('an until event keyed by another field name cancels the sequence, as replay says', async () => {
    const idx = await index('nm-until', { host: { properties: { id: { type: 'keyword' }, hostname: { type: 'keyword' } } } });
    const rule = ruleFrom('u.yaml', `id: nm-until\nname: until other field\nindex: [${idx}]\nquery: |
  sequence with maxspan=1m
    [process where process.name == "curl"] by host.id
    [process where process.name == "chmod"] by host.id
  until [process where process.name == "logout"] by host.hostname
`);
    const t = T0 - 5 * 60_000;
    await bulk(idx, [
      ['c1', ev('curl', t, { host: { id: 'h1' } })],
      ['u1', ev('logout', t + 1_000, { host: { hostname: 'h1' } })],
      ['m1', ev('chmod', t + 2_000, { host: { id: 'h1' } })],
      // Another host, no logout in between: one sequence.
      ['c2', ev('curl', t, { host: { id: 'h2' } })],
      ['m2', ev('chmod', t + 2_000, { host: { id: 'h2' } })],
    ]);
    const h = new WorkerHarness(es, [rule]);
    await h.run(T0);
    const ids = await h.alertIds();
    expect(ids).toEqual(await h.replayIds([idx]));
    // Shell + 2 building blocks for h2 only; h1 was cancelled by the logout.
    expect(ids).toHaveLength(3);
  });
});

describe('join keys compare as Elasticsearch indexes them', () => {
  it('4242 joins "4242" on a long field and 0 joins "0" on a keyword field, in the worker and in replay with the mappings', async () => {
    const idx = await index('nm-coerce', { process: { properties: { name: { type: 'keyword' }, pid: { type: 'long' } } }, host: { properties: { id: { type: 'keyword' } } } });
    const byPid = ruleFrom('p.yaml', `id: nm-by-pid\nname: by pid\nindex: [${idx}]\nquery: |\n  sequence by process.pid with maxspan=1m\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);
    const byHost = ruleFrom('h.yaml', `id: nm-by-host\nname: by host\nindex: [${idx}]\nquery: |\n  sequence by host.id with maxspan=1m\n    [process where process.name == "wget"]\n    [process where process.name == "sh"]\n`);
    const t = T0 - 5 * 60_000;
    await bulk(idx, [
      ['c1', ev('curl', t, { process: { name: 'curl', pid: 4242 } })],
      ['m1', ev('chmod', t + 1_000, { process: { name: 'chmod', pid: '4242' } })],
      ['w1', ev('wget', t, { host: { id: 0 } })],
      ['s1', ev('sh', t + 1_000, { host: { id: '0' } })],
    ]);
    const h = new WorkerHarness(es, [byPid, byHost]);
    await h.run(T0);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(6);
    expect(ids).toEqual(await h.replayIds([idx]));
    // Without the mappings the values keep their JSON types and nothing joins: the mappings are what matters.
    const docs = await exportDocs(es.client, [idx]);
    const ctx = { now: new Date(T0), spaceId: 'default', executionId: 'x', kibanaUrl: null, alertsIndex: 'a' };
    expect(replayRule(byPid, docs, { maxPendingSequences: 10_000, ctx }).alerts).toHaveLength(0);
    expect(replayRule(byHost, docs, { maxPendingSequences: 10_000, ctx }).alerts).toHaveLength(0);

    // `eqlwatch replay --mapping` (the CLI a user runs) gives the worker's alert ids.
    ensureBuilt();
    const dir = await mkdtemp(path.join(tmpdir(), 'eqlwatch-replay-'));
    es.onCleanup(() => rm(dir, { recursive: true, force: true }));
    const exportFile = path.join(dir, `${idx}.ndjson`);
    const mappingFile = path.join(dir, `${idx}.mapping.json`);
    await writeFile(exportFile, docs.map((d) => JSON.stringify(d.hit)).join('\n'));
    await writeFile(mappingFile, JSON.stringify(await es.client.indices.getMapping({ index: idx })));
    const rulesFile = path.join(dir, `${idx}.rules.yaml`);
    await writeFile(rulesFile, `id: nm-by-pid\nname: by pid\nindex: [${idx}]\nquery: |\n  sequence by process.pid with maxspan=1m\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);
    const withMapping = await runCli(['replay', '--rules', rulesFile, '--mapping', mappingFile, exportFile]);
    expect(withMapping.code, withMapping.stderr).toBe(0);
    const cliIds = withMapping.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { _id: string })._id).sort();
    expect(cliIds).toEqual(ids.filter((id) => cliIds.includes(id)));
    expect(cliIds).toHaveLength(3);
    const without = await runCli(['replay', '--rules', rulesFile, exportFile]);
    expect(without.stdout.trim()).toBe('');
  });
});

describe('a rule edited between runs', () => {
  it('a sequence rule whose query changed shape drops its pending sequences with a warning and goes on', async () => {
    const idx = await index('nm-edited', { host: { properties: { id: { type: 'keyword' } } } });
    const two = ruleFrom('e.yaml', `id: nm-edited\nname: edited\nindex: [${idx}]\nquery: |\n  sequence by host.id with maxspan=10m\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);
    const three = ruleFrom('e.yaml', `id: nm-edited\nname: edited\nindex: [${idx}]\nquery: |\n  sequence by host.id with maxspan=10m\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n    [process where process.name == "sh"]\n`);
    await bulk(idx, [['c1', ev('curl', T0 - 3 * 60_000, { host: { id: 'h1' } })]]);
    const before = new WorkerHarness(es, [two]);
    await before.run(T0);
    expect(JSON.stringify((await before.stateDoc('nm-edited')).doc)).toContain('c1');
    const h = before.withRules([three]);
    await bulk(idx, [
      ['c2', ev('curl', T0 - 30_000, { host: { id: 'h2' } })],
      ['m2', ev('chmod', T0 - 29_000, { host: { id: 'h2' } })],
      ['s2', ev('sh', T0 - 28_000, { host: { id: 'h2' } })],
    ]);
    const [r] = await h.run(T0 + 60_000);
    expect(r!.status).toBe('ok');
    expect(r!.status === 'ok' && r!.health.evicted).toBe(1);
    expect(h.logsOf('warn', /does not fit the rule's query any more/)).toHaveLength(1);
    // The edited rule goes on: the three-stage sequence after the edit is alerted.
    expect(await h.alertIds()).toHaveLength(4);
  });
});

describe('the stored state stays small and bounded', () => {
  const seq = (idx: string, id: string) =>
    ruleFrom('s.yaml', `id: ${id}\nname: seq ${id}\nindex: [${idx}]\nmax_signals: 1000\nquery: |\n  sequence by host.id with maxspan=10s\n    [process where process.name == "curl"]\n    [process where process.name == "chmod"]\n`);

  it('events stamped in the future (a skewed shipper clock) are not held in the state; they are evaluated when their time comes', async () => {
    const idx = await index('nm-future', { host: { properties: { id: { type: 'keyword' } } }, process: { properties: { name: { type: 'keyword' }, args: { type: 'keyword' } } } });
    const future = T0 + 3_600_000;
    const big = 'x'.repeat(2_000);
    await bulk(idx, Array.from({ length: 300 }, (_, i) => [`f${i}`, ev(i % 2 ? 'chmod' : 'curl', future + Math.floor(i / 2) * 100, { host: { id: `h${Math.floor(i / 2)}` }, process: { name: i % 2 ? 'chmod' : 'curl', args: [big] } })] as [string, Record<string, unknown>]));
    const h = new WorkerHarness(es, [seq(idx, 'nm-future')]);
    const sizes: number[] = [];
    for (const t of [T0, T0 + 60_000, T0 + 120_000]) {
      await h.run(t);
      sizes.push((await h.stateDoc('nm-future')).bytes);
    }
    // 300 events of 2 KB each are waiting: none of them is in the state (it grows by one audit range per run).
    expect(Math.max(...sizes)).toBeLessThan(4_000);
    expect(await h.alertIds()).toHaveLength(0);
    // Once their time (plus the tolerance) has passed, the 150 sequences are found.
    await h.run(future + 20 * 60_000);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(450);
    expect(ids).toEqual(await h.replayIds([idx]));
  });

  it('pending sequences beyond worker.maxPendingSequences are evicted, logged and exported, and replay evicts the same', async () => {
    const idx = await index('nm-evict', { host: { properties: { id: { type: 'keyword' } } } });
    const t = T0 - 5 * 60_000;
    // 150 hosts start a sequence; the first host's partner comes last, after its pending sequence was evicted.
    const docs: [string, Record<string, unknown>][] = Array.from({ length: 150 }, (_, i) => [`c${i}`, ev('curl', t + i * 10, { host: { id: `h${i}` } })]);
    docs.push(['m0', ev('chmod', t + 5_000, { host: { id: 'h0' } })], ['m149', ev('chmod', t + 5_000, { host: { id: 'h149' } })]);
    await bulk(idx, docs);
    const rule = seq(idx, 'nm-evict');
    const h = new WorkerHarness(es, [rule], { ...DEFAULT_TEST_SETTINGS, maxPendingSequences: 100 });
    const [r] = await h.run(T0);
    expect(r!.status === 'ok' && r!.health.evicted).toBe(50);
    expect(h.metrics.value('eqlwatch_sequence_evictions_total', { rule_id: 'nm-evict', rule_name: 'seq nm-evict' })).toBe(50);
    expect(h.logsOf('warn', /50 pending partial sequence\(s\) evicted/)).toHaveLength(1);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(3);
    expect(ids).toEqual(await h.replayIds([idx]));
  });
});
