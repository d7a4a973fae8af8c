/**
 * Shared scans against the real node: rules over the same indices run as one group whose requests per
 * window do not grow with the number of rules, whose candidate documents are each read once, and whose
 * alerts are exactly those of the same rules run one by one (and replay's).
 */
import type { Client } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { formGroups } from '../../src/worker/groups.js';
import { prepareRule } from '../../src/worker/prepared-rule.js';
import { useEs } from '../helpers/es.js';
import { ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const T0 = Date.parse('2026-05-05T10:00:00.000Z');
const NAMES = ['curl', 'wget', 'sh', 'bash', 'chmod', 'python3', 'nc', 'kubectl'];

/** Requests the client makes while `f` runs, and the hits its searches return. */
async function traced<T>(client: Client, f: () => Promise<T>): Promise<{ value: T; requests: number; hits: number }> {
  let requests = 0;
  let hits = 0;
  const onResponse = (_e: unknown, ev: { body?: unknown } | null) => {
    requests++;
    const h = (ev?.body as { hits?: { hits?: unknown[] } } | undefined)?.hits?.hits;
    if (Array.isArray(h)) hits += h.length;
  };
  client.diagnostic.on('response', onResponse);
  try {
    return { value: await f(), requests, hits };
  } finally {
    client.diagnostic.removeListener('response', onResponse);
  }
}

describe('rules over the same indices share one read per window (real node)', () => {
  it('a group of many rules makes the requests of one, reads each candidate once, and alerts as the rules one by one', async () => {
    const index = es.name('shared');
    await es.client.indices.create({
      index,
      mappings: { properties: { '@timestamp': { type: 'date' }, event: { properties: { category: { type: 'keyword' }, ingested: { type: 'date' } } }, host: { properties: { id: { type: 'keyword' } } }, process: { properties: { name: { type: 'keyword' }, args: { type: 'keyword' } } } } },
    });
    const t = T0 - 4 * 60_000;
    const docs = Array.from({ length: 400 }, (_, i) => ({
      '@timestamp': new Date(t + i * 200).toISOString(),
      event: { category: 'process', ingested: new Date(t + i * 200 + 500).toISOString() },
      host: { id: `h${i % 5}` },
      process: { name: NAMES[i % NAMES.length], args: ['x'.repeat(200)] },
    }));
    const res = await es.client.bulk({ refresh: true, operations: docs.flatMap((d, i) => [{ create: { _index: index, _id: `d${i}` } }, d]) });
    expect(res.errors).toBe(false);
    const events = NAMES.slice(0, 6).map((n, i) => ruleFrom(`e${i}.yaml`, `id: shared-event-${i}\nname: event ${n}\nindex: [${index}]\ntimestamp_override: event.ingested\nmax_signals: 1000\nquery: process where process.name in ("${n}", "${NAMES[i + 1]}")\n`));
    const one = events.slice(0, 1);
    const seqs = [0, 1, 2].map((i) => ruleFrom(`s${i}.yaml`, `id: shared-seq-${i}\nname: seq ${i}\nindex: [${index}]\nmax_signals: 1000\nquery: |\n  sequence by host.id with maxspan=5s\n    [process where process.name == "${NAMES[i]}"]\n    [process where process.name == "${NAMES[i + 1]}"]\n`));
    expect(formGroups([...events, ...seqs].map((r) => prepareRule(r)), { shared: true }).map((g) => g.rules.length).sort()).toEqual([3, 6]);

    const run = async (rules: typeof events, shared: boolean) => {
      const h = new WorkerHarness(es, rules, undefined, 'harness', shared);
      await h.run(T0 - 10 * 60_000); // set-up and a first empty run, untraced
      const t = await traced(es.client, () => h.run(T0));
      return { h, requests: t.requests, hits: t.hits };
    };
    const lone = await run(one, true);
    const group = await run(events, true);
    const byRule = await run(events, false);
    // The same alerts as one by one, and as replay.
    expect(await group.h.alertIds()).toEqual(await byRule.h.alertIds());
    expect(await group.h.alertIds()).toEqual(await group.h.replayIds([index]));
    expect((await group.h.alertIds()).length).toBe(600);
    // Six rules in one group cost what one rule costs, but for loading and saving the states of six (and
    // the group's own lease document), and the 600 alerts taking two bulk requests of 500 instead of one.
    expect(group.requests).toBeLessThanOrEqual(lone.requests + 3);
    expect(byRule.requests).toBeGreaterThanOrEqual(6 * (lone.requests - 1));
    // Each candidate document read once: the rules' candidates overlap (each matches two names), their
    // union is 7 names × 50 documents; rule by rule reads 6 × 100.
    expect(group.hits).toBe(350);
    expect(byRule.hits).toBe(600);

    // Sequences too: three sequence rules shared equal the three alone.
    const sg = await run(seqs, true);
    const sr = await run(seqs, false);
    expect(await sg.h.alertIds()).toEqual(await sr.h.alertIds());
    expect(await sg.h.alertIds()).toEqual(await sg.h.replayIds([index]));
    expect((await sg.h.alertIds()).length).toBeGreaterThan(0);
    expect(sg.requests).toBeLessThan(sr.requests);
  });
});

