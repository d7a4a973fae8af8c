/**
 * Render the sample email (subject + text body) and Slack message (JSON) shown in docs/notifications.md
 * and README.md.
 *   npx tsx scripts/render-samples.ts           # print them
 *   npx tsx scripts/render-samples.ts --write   # refresh the blocks between the markers in the doc
 * test/notify/docs-samples.test.ts fails when the doc and the code disagree.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { alertLink } from '../src/alerts/links.js';
import { parseNotifyConfig } from '../src/config/notify.js';
import { renderOptions } from '../src/notify/factory.js';
import { notificationId } from '../src/notify/outbox.js';
import { renderSubject, renderText } from '../src/notify/render/email.js';
import { renderSlack } from '../src/notify/render/slack.js';
import { summarizeAlert } from '../src/notify/render/summary.js';
import type { AlertDoc } from '../src/notify/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DOC_PATH = path.join(repoRoot, 'docs/notifications.md');
/** The README shows the same renderings. */
export const README_PATH = path.join(repoRoot, 'README.md');
export const SAMPLE_DOCS = [DOC_PATH, README_PATH];

/** A kubectl-exec style alert whose command line carries hostile text, to show the escaping. */
const DEMO_ID = '9b2d4f0e6c1a8b3d5e7f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d';

export function demoAlert(): AlertDoc {
  return {
    '@timestamp': '2026-11-24T10:15:02.120Z',
    'kibana.alert.uuid': DEMO_ID,
    // Written by the alert builder: this alert promoted into Kibana's Security app (alerts.promotion on).
    'kibana.alert.url': alertLink({ kibanaUrl: 'https://kibana.example.com', spaceId: 'default', target: 'security' }, DEMO_ID, '2026-11-24T10:15:02.120Z'),
    'kibana.alert.rule.uuid': 'b1e3a4f2-5d6c-4e7f-8a9b-0c1d2e3f4a5b',
    'kibana.alert.rule.rule_id': '60884af6-f553-4a6c-af13-300047455491',
    'kibana.alert.rule.name': 'Interactive Exec Into Container',
    'kibana.alert.rule.tags': ['Domain: Container', 'Tactic: Execution'],
    'kibana.alert.rule.threat': [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0002', name: 'Execution', reference: 'https://attack.mitre.org/tactics/TA0002/' },
        technique: [{ id: 'T1609', name: 'Container Administration Command', reference: 'https://attack.mitre.org/techniques/T1609/' }],
      },
    ],
    'kibana.alert.severity': 'medium',
    'kibana.alert.risk_score': 47,
    'kibana.alert.original_time': '2026-11-24T10:14:58.004Z',
    'kibana.alert.reason': 'process event with process sh, by root on worker-2 created medium alert Interactive Exec Into Container.',
    host: { name: 'worker-2' },
    container: { id: '4f9c2a7e1b3d', name: 'api' },
    orchestrator: { resource: { name: 'api-6d8f9b7c5-x2k4q' }, namespace: 'payments' },
    user: { name: 'root' },
    process: {
      name: 'sh',
      executable: '/bin/sh',
      command_line: 'sh -c echo pwned\r\nBcc: x@evil.example <!channel> *urgent* `id`',
      interactive: true,
    },
  };
}

export function renderSamples(): { emailText: string; slackJson: string } {
  const cfg = parseNotifyConfig({ kibana: { url: 'https://kibana.example.com' } });
  const opts = renderOptions(cfg);
  const s = summarizeAlert(demoAlert(), cfg.limits);
  const input = {
    notificationId: notificationId('soc-mail', [s.alertId]),
    payload: { kind: 'alert' as const, ruleName: s.ruleName, ...(s.ruleId ? { ruleId: s.ruleId } : {}), severity: s.severity, alerts: [s], total: 1 },
    suppressed: 0,
  };
  const emailText = `Subject: ${renderSubject(input, opts)}\n\n${renderText(input, opts)}`;
  const slack = renderSlack({ ...input, notificationId: notificationId('soc-slack', [s.alertId]) }, opts);
  return { emailText, slackJson: `${JSON.stringify(slack, null, 2)}\n` };
}

export function spliceBlock(doc: string, name: string, body: string, fence: string): string {
  const start = `<!-- sample:${name}:start -->`;
  const end = `<!-- sample:${name}:end -->`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`markers for ${name} not found`);
  return `${doc.slice(0, i + start.length)}\n\`\`\`\`${fence}\n${body}\`\`\`\`\n${doc.slice(j)}`;
}

export function docWithSamples(doc: string): string {
  const { emailText, slackJson } = renderSamples();
  return spliceBlock(spliceBlock(doc, 'email-text', emailText, 'text'), 'slack-json', slackJson, 'json');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes('--write')) {
    for (const file of SAMPLE_DOCS) {
      writeFileSync(file, docWithSamples(readFileSync(file, 'utf8')));
      console.log(`updated ${path.relative(repoRoot, file)}`);
    }
  } else {
    const { emailText, slackJson } = renderSamples();
    process.stdout.write(`${emailText}\n${slackJson}`);
  }
}
