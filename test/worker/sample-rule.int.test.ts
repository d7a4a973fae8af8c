/**
 * Sample rules through the worker against the real node: Elastic's three production `sample by` rules fire on
 * events that satisfy them, with Kibana's sequence alert shape (a shell and one building block per event),
 * the alerts `replay` gives over the same documents, and nothing twice when later executions read the same
 * look-back again.
 */
import { describe, expect, it } from 'vitest';
import { corpusRules, eventsFor, SAMPLE_RULES, T, toToml } from '../fixtures/sample-rules.js';
import { prepareRule } from '../../src/worker/prepared-rule.js';
import { useEs } from '../helpers/es.js';
import { HAS_SHARED, noteSharedMissing } from '../helpers/shared.js';
import { ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();

describe.skipIf(!HAS_SHARED)("Elastic's production sample rules through the worker", () => {
  noteSharedMissing('sample rules (worker)');

  it.each(SAMPLE_RULES)('%s fires once, as replay finds, shell plus building blocks', async (rulePath) => {
    const r = corpusRules().find((x) => x.path === rulePath)!;
    const prefix = es.name('sample');
    const rule = { ...ruleFrom('r.toml', toToml(r)), index: [`${prefix}-*`] };
    const events = eventsFor(rulePath);
    // Each event in an index of this test named after its dataset.
    const indexOf = (i: string) => `${prefix}-${i.replace(/^logs-/, '').replace(/[^a-z0-9]+/g, '-')}`;
    const res = await es.client.bulk({ refresh: true, operations: events.flatMap((e) => [{ create: { _index: indexOf(e._index), _id: e._id } }, e._source]) });
    expect(res.errors).toBe(false);
    const h = new WorkerHarness(es, [rule]);
    const [run] = await h.run(T + 60_000);
    expect(run!.status).toBe('ok');
    const alerts = await h.workerAlerts();
    const stages = prepareRule(rule).compiled.stages.length;
    expect(run!.status === 'ok' && run!.windows[0]!.matches).toBe(1);
    expect([...alerts.values()].filter((d) => d.includes('shell'))).toHaveLength(1);
    expect([...alerts.values()].filter((d) => d.includes('block'))).toHaveLength(stages);
    expect(alerts.size).toBe(stages + 1);
    expect([...alerts.keys()].sort()).toEqual(await h.replayIds([...new Set(events.map((e) => indexOf(e._index)))]));
    // A later execution reads the same look-back again: the same alerts, none twice.
    const [again] = await h.run(T + 120_000);
    expect(again!.status === 'ok' && again!.windows[0]!.alertsDuplicate).toBe(alerts.size);
    expect((await h.alertIds()).length).toBe(alerts.size);
  });
});
