import { describe, expect, it } from 'vitest';
import { renderEmail, renderSubject } from '../../src/notify/render/email.js';
import type { RenderOptions } from '../../src/notify/render/common.js';
import { kibanaAlertUrl } from '../../src/notify/render/links.js';
import { renderSlack } from '../../src/notify/render/slack.js';
import { isBuildingBlock, summarizeAlert } from '../../src/notify/render/summary.js';
import { renderWebhook } from '../../src/notify/render/webhook.js';
import type { AlertSummary, NotificationPayload } from '../../src/notify/types.js';
import { alertDoc, hostileAlert } from './helpers.js';

const opts: RenderOptions = {
  kibana: { url: 'https://kibana.example:5601/', spaceId: 'sec' },
  subjectPrefix: '[eqlwatch]',
  subjectChars: 200,
};

function single(a: AlertSummary): NotificationPayload {
  return { kind: 'alert', ruleName: a.ruleName, severity: a.severity, alerts: [a], total: 1 };
}

describe('alert summary', () => {
  it('extracts the displayed fields from a Kibana alert document', () => {
    const s = summarizeAlert(alertDoc({ id: 'a1', host: 'h1', pod: 'p1', namespace: 'ns', user: 'bob', severity: 'high' }));
    expect(s).toMatchObject({
      alertId: 'a1',
      ruleName: 'Kubectl exec into pod',
      ruleId: 'rule-1',
      severity: 'high',
      riskScore: 47,
      host: 'h1',
      pod: 'p1',
      namespace: 'ns',
      user: 'bob',
      containerName: 'web',
      commandLine: 'sh -c id', // from process.args when command_line is absent
    });
    expect(s.threat[0]?.tactic?.id).toBe('TA0002');
    expect(s.threat[0]?.techniques[0]?.id).toBe('T1609');
  });

  it('caps fields at fieldBytes and the command line at argsBytes, with the marker', () => {
    const s = summarizeAlert(alertDoc({ id: 'a', host: 'h'.repeat(5000), commandLine: 'x'.repeat(100_000) }), { fieldBytes: 1024, argsBytes: 65_536 });
    expect(s.host).toBe(`${'h'.repeat(1024)}… [truncated, 3976 more bytes]`);
    expect(s.commandLine).toBe(`${'x'.repeat(65_536)}… [truncated, 34464 more bytes]`);
  });

  it('recognises building blocks', () => {
    expect(isBuildingBlock(alertDoc({ id: 'b', buildingBlock: true }))).toBe(true);
    expect(isBuildingBlock(alertDoc({ id: 'b' }))).toBe(false);
  });
});

describe('Kibana link', () => {
  it("is the alert's own kibana.alert.url, so notification and alert always open the same page", () => {
    const url = 'https://kibana.example:5601/s/sec/app/security/alerts?query=x';
    const s = summarizeAlert({ ...alertDoc({ id: 'abc123' }), 'kibana.alert.url': url });
    expect(kibanaAlertUrl(opts.kibana, s)).toBe(url);
  });

  it('without one (queued by an older eqlwatch): Discover on the alerts data view, filtered to the alert, in the space', () => {
    const s = summarizeAlert(alertDoc({ id: 'abc123' }));
    const url = kibanaAlertUrl(opts.kibana, s)!;
    expect(url.startsWith('https://kibana.example:5601/s/sec/app/discover#/?_g=')).toBe(true);
    expect(decodeURIComponent(url)).toContain(`query:(language:'kuery',query:'kibana.alert.uuid: "abc123"')`);
    expect(kibanaAlertUrl({ ...opts.kibana, spaceId: 'default' }, s)).toMatch(/^https:\/\/kibana\.example:5601\/app\/discover#/);
    expect(kibanaAlertUrl({}, s)).toBeUndefined();
  });
});

describe('email templates', () => {
  it('subject: [eqlwatch][severity] Rule — host/pod', () => {
    const s = summarizeAlert(alertDoc({ id: 'a', host: 'node-7', pod: 'api-0' }));
    expect(renderSubject({ notificationId: 'n', payload: single(s), suppressed: 0 }, opts)).toBe('[eqlwatch][medium] Kubectl exec into pod — node-7/api-0');
  });

  it('hostile event: subject on one line, text body one line per field, HTML escaped, link present', () => {
    const s = summarizeAlert(hostileAlert());
    const m = renderEmail({ notificationId: 'nid', payload: single(s), suppressed: 0 }, opts);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.subject).toContain('node-1 Bcc: x@evil.example');
    // No line of the text body can be forged by the event: every line starts with a known label or is ours.
    for (const line of m.text.split('\n')) expect(line).not.toMatch(/^(Bcc|X-Evil|forged body)/);
    expect(m.text).toContain('Host:         node-1\\r\\nBcc: x@evil.example');
    expect(m.text).toContain('… [truncated, ');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;!channel&gt;');
    // The link is percent-encoded and the HTML attribute escaped: no raw quote of the query ends the attribute.
    expect(m.html).toContain('href="https://kibana.example:5601/s/sec/app/discover#/?_g=(time%3A(from%3A&#39;2026-11-24T10%3A00%3A00.000Z&#39;');
    expect(m.html).not.toMatch(/[\uD800-\uDFFF]/);
  });

  it('digest headline: "N alerts of rule X in the last run; first K shown"', () => {
    const alerts = Array.from({ length: 10 }, (_, i) => summarizeAlert(alertDoc({ id: `a${i}` })));
    const payload: NotificationPayload = { kind: 'digest', ruleName: 'Rule X', severity: 'high', alerts, total: 37 };
    const m = renderEmail({ notificationId: 'n', payload, suppressed: 0 }, opts);
    expect(m.text.split('\n')[0]).toBe('37 alerts of rule Rule X in the last run; first 10 shown');
    expect(m.text).toContain('--- Alert 10 of 37 ---');
    expect(m.text).toContain('27 more alerts not shown');
    expect(m.subject).toBe('[eqlwatch][high] 37 alerts — Rule X');
  });

  it('reports throttled alerts folded into the notification', () => {
    const s = summarizeAlert(alertDoc({ id: 'a' }));
    const m = renderEmail({ notificationId: 'n', payload: single(s), suppressed: 4 }, opts);
    expect(m.text).toContain('4 more alerts in the same group within the throttle window were folded into this notification.');
  });
});

describe('Slack message', () => {
  it('has a severity colour, header with the rule name, fields, command line code block, MITRE and a link button', () => {
    const s = summarizeAlert(alertDoc({ id: 'a1', host: 'h1', pod: 'p1', user: 'bob', severity: 'critical', commandLine: 'kubectl exec -it p1 -- sh' }));
    const msg = renderSlack({ notificationId: 'nid', payload: single(s), suppressed: 0 }, opts);
    const att = msg.attachments[0]!;
    expect(att.color).toBe('#E7664C');
    expect(att.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '[critical] Kubectl exec into pod', emoji: false } });
    const json = JSON.stringify(msg);
    for (const f of ['Host: h1', 'Pod: p1', 'User: bob', 'Container: web', 'Namespace: default']) expect(json).toContain(f);
    expect(json).toContain('"text":"*Command line*\\n```kubectl exec -it p1 -- sh```"');
    expect(json).toContain('MITRE ATT&amp;CK: Execution (TA0002) / Container Administration Command (T1609)');
    expect(att.blocks).toContainEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Kibana', emoji: false }, style: 'primary', url: kibanaAlertUrl(opts.kibana, s) }],
    });
    expect(msg.unfurl_links).toBe(false);
  });

  it('hostile event: no raw < anywhere, mentions and links escaped, formatting only in plain_text or code', () => {
    const s = summarizeAlert(hostileAlert());
    const msg = renderSlack({ notificationId: 'nid', payload: single(s), suppressed: 0 }, opts);
    const json = JSON.stringify(msg);
    expect(json).not.toContain('<');
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).toContain('&lt;@U0123&gt;');
    expect(json).toContain('&lt;http://evil.example|click me&gt;');
    // Every mrkdwn object is ours: the command-line code block, whose content has no backtick.
    const mrkdwn: string[] = [];
    JSON.parse(json, (k, v) => {
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'mrkdwn') mrkdwn.push((v as { text: string }).text);
      return v;
    });
    expect(mrkdwn).toHaveLength(1);
    const code = /^\*Command line\*\n```([\s\S]*)```$/.exec(mrkdwn[0]!);
    expect(code).not.toBeNull();
    expect(code![1]).not.toContain('`');
    expect(code![1]).not.toContain('\n');
    expect(code![1]!.length).toBeLessThanOrEqual(2800);
    expect(code![1]).toMatch(/… \[truncated\]$/);
    expect(json).toContain('Pod: &lt;!channel&gt; *bold*'); // plain_text: shown literally, never bold
  });

  it('digest lists the first alerts with a link each', () => {
    const alerts = Array.from({ length: 10 }, (_, i) => summarizeAlert(alertDoc({ id: `a${i}`, host: `h${i}` })));
    const msg = renderSlack({ notificationId: 'n', payload: { kind: 'digest', ruleName: 'R', severity: 'low', alerts, total: 37 }, suppressed: 0 }, opts);
    const json = JSON.stringify(msg);
    expect(json).toContain('37 alerts of rule R in the last run; first 10 shown');
    expect(msg.attachments[0]!.blocks.filter((b) => (b as { accessory?: unknown }).accessory)).toHaveLength(10);
    expect(msg.attachments[0]!.blocks.length).toBeLessThanOrEqual(50);
  });
});

describe('webhook body', () => {
  it('carries ids, rule, severity, counts and the alert summaries with Kibana links', () => {
    const s = summarizeAlert(alertDoc({ id: 'a1' }));
    const b = renderWebhook({ notificationId: 'nid', payload: single(s), suppressed: 2 }, opts, ['a1']);
    expect(b).toMatchObject({ version: 1, source: 'eqlwatch', kind: 'alert', notification_id: 'nid', alert_ids: ['a1'], severity: 'medium', total: 1, suppressed: 2 });
    expect(b.alerts[0]?.kibana_url).toBe(kibanaAlertUrl(opts.kibana, s));
  });
});
