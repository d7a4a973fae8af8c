/**
 * Links to an alert, derived from Kibana's routing source (src/alerts/links.ts cites the files): the Security
 * Alerts page state of Kibana's alert redirect, or Discover's locator state; the space prefix of
 * addSpaceIdToPath; rison as Kibana's URL state encoding.
 */
import { describe, expect, it } from 'vitest';
import { buildSequenceAlerts } from '../../src/alerts/build.js';
import { alertLink, rison, spacePrefix } from '../../src/alerts/links.js';
import { loadRuleText } from '../../src/rules/load.js';

const ID = 'a'.repeat(64);
const TS = '2026-01-20T10:05:00.000Z';

describe('rison', () => {
  it('encodes objects, arrays, strings (quoted, ! and \' escaped), numbers and booleans', () => {
    expect(rison({ a: 'x', b: [1, true, false, null], 'c-d': "it's!" })).toBe("(a:'x',b:!(1,!t,!f,!n),'c-d':'it!'s!!')");
  });
});

describe('alertLink', () => {
  it('no Kibana configured: no link', () => {
    expect(alertLink({ kibanaUrl: null, spaceId: 'default', target: 'security' }, ID, TS)).toBeUndefined();
  });

  it("promotion set up: Security → Alerts with the redirect's query, time range and status control, filtered to event.id", () => {
    const url = new URL(alertLink({ kibanaUrl: 'https://kb.example/base/', spaceId: 'secops', target: 'security' }, ID, TS)!);
    expect(url.origin + url.pathname).toBe('https://kb.example/base/s/secops/app/security/alerts');
    expect(url.searchParams.get('query')).toBe(`(language:'kuery',query:'event.id: "${ID}"')`);
    expect(url.searchParams.get('timerange')).toBe(
      "(global:(timerange:(kind:'absolute',from:'2026-01-20T10:05:00.000Z',to:'2026-01-21T10:05:00.000Z'),linkTo:!())," +
        "timeline:(timerange:(kind:'absolute',from:'2026-01-20T10:05:00.000Z',to:'2026-01-21T10:05:00.000Z'),linkTo:!()))",
    );
    expect(url.searchParams.get('pageFilters')).toBe("!((fieldName:'kibana.alert.workflow_status',title:'Status',selectedOptions:!(),existsSelected:!f))");
  });

  it('no promotion: Discover on the eqlwatch data view, filtered to kibana.alert.uuid, default space without prefix', () => {
    const link = alertLink({ kibanaUrl: 'https://kb.example', spaceId: 'default', target: 'discover' }, ID, TS)!;
    expect(link.startsWith('https://kb.example/app/discover#/?_g=')).toBe(true);
    const hash = new URLSearchParams(new URL(link).hash.slice(3));
    expect(hash.get('_g')).toBe("(time:(from:'2026-01-20T10:05:00.000Z',to:'2026-01-20T10:10:00.000Z'))");
    expect(hash.get('_a')).toBe(`(dataSource:(dataViewId:'eqlwatch-alerts',type:'dataView'),query:(language:'kuery',query:'kibana.alert.uuid: "${ID}"'))`);
  });

  it('space prefix as addSpaceIdToPath', () => {
    expect(spacePrefix('default')).toBe('');
    expect(spacePrefix('soc-eu')).toBe('/s/soc-eu');
  });

  it('on built alerts: kibana.alert.url carries the alert\'s own @timestamp; a building block opens its promoted shell', () => {
    const out = loadRuleText('r.yaml', 'name: r\nid: r\nquery: |\n  sequence [any where true] [any where true]\n');
    if (out.kind !== 'rule') throw new Error('rule');
    const hit = (id: string) => ({ _index: 'logs-x', _id: id, _source: { '@timestamp': '2020-01-01T00:00:00.000Z' } });
    const docs = buildSequenceAlerts(out.rule, [hit('a'), hit('b')], { now: new Date(TS), spaceId: 'soc', executionId: 'x', kibanaUrl: 'https://kb', linkTarget: 'security' });
    const shellId = docs[0]!.id;
    for (const d of docs) {
      const url = new URL(d.doc['kibana.alert.url'] as string);
      expect(url.pathname).toBe('/s/soc/app/security/alerts');
      expect(url.searchParams.get('query')).toContain(`event.id: "${shellId}"`);
      expect(url.searchParams.get('timerange')).toContain(`from:'${TS}'`);
    }
    const discover = buildSequenceAlerts(out.rule, [hit('a'), hit('b')], { now: new Date(TS), spaceId: 'soc', executionId: 'x', kibanaUrl: 'https://kb' });
    expect(decodeURIComponent(discover[1]!.doc['kibana.alert.url'] as string)).toContain(`kibana.alert.uuid: "${discover[1]!.id}"`);
  });
});
