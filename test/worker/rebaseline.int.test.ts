/**
 * A mapping change between two runs (a field the rule reads becomes mapped as a new document arrives) changes
 * the rule's pushed-down filter, so the late-arrival audit cannot compare its counts and starts a new baseline.
 * A document that became searchable late (within the lateness tolerance) in that same interval must still be
 * alerted: single-event rules read the stretches within the tolerance again. Found by `npm run bench:fleet`,
 * where fields appear in the integrations' indices as the feed starts (dynamic templates) while documents lag
 * behind the refresh of a 5-second schedule.
 */
import { describe, expect, it } from 'vitest';
import { useEs } from '../helpers/es.js';
import { ruleFrom, WorkerHarness } from '../helpers/worker-harness.js';

const es = useEs();
const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

describe('late documents when the filter changes (real node)', () => {
  it('a document searchable late in the interval where a mapping change rebaselines the audit is alerted, once', async () => {
    const index = es.name('rebase');
    await es.client.indices.create({
      index,
      mappings: {
        // As the integrations map unknown strings: the rule's field is unmapped until a document brings it.
        dynamic_templates: [{ strings: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } }],
        properties: { '@timestamp': { type: 'date' }, event: { properties: { category: { type: 'keyword' }, ingested: { type: 'date' } } } },
      },
    });
    const rule = ruleFrom('r.yaml', `id: rebase\nname: curl\nindex: [${index}]\ntimestamp_override: event.ingested\nquery: process where process.name == "curl"\n`);
    const h = new WorkerHarness(es, [rule]);
    const t1 = T0 - 60_000;
    const t2 = t1 + 10_000;
    await h.run(t1);
    await h.run(t2); // reads [t1, t2): nothing there yet
    // Arrives late, stamped inside the stretch just read, and maps `process.name` on the way in.
    await es.client.index({ index, id: 'late', refresh: true, document: { '@timestamp': iso(t2 - 3_000), event: { category: 'process', ingested: iso(t2 - 2_000) }, process: { name: 'curl' } } });
    // Past the mappings cache (30 s): the filter is compiled against the new mapping.
    const [r] = await h.run(t2 + 35_000);
    expect(r!.status).toBe('ok');
    expect(h.logsOf('info', /candidate filter changed .* read again/)).toHaveLength(1);
    const ids = await h.alertIds();
    expect(ids).toHaveLength(1);
    expect(ids).toEqual(await h.replayIds([index]));
    // Read again once only: the next run compares counts under the new filter and finds nothing new.
    await h.run(t2 + 40_000);
    expect(await h.alertIds()).toEqual(ids);
  });
});
