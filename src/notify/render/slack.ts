/**
 * Slack incoming-webhook message (Block Kit inside a legacy attachment, which is the only way to get a
 * severity colour bar).
 *
 * Escaping approach (Slack "Formatting text for app surfaces"):
 * - every event value is escaped with `slackText` (& < > -> entities, controls made visible), so no
 *   `<!channel>`, `<@U…>`, `<#C…>` or `<url|label>` can be formed;
 * - event values go only into `plain_text` objects (header, section fields, context), which Slack never
 *   formats, so `*bold*`, `_x_`, `~x~` stay literal; the one mrkdwn object (the command line) puts
 *   the value inside a ``` code block where formatting does not apply, with backticks replaced by
 *   U+02CB so the block cannot be closed early, and `verbatim: true` so nothing is auto-linked;
 * - links are button `url`s built from configuration plus percent-encoded ids, never mrkdwn links;
 * - `unfurl_links`/`unfurl_media` are off, so a URL inside an event never produces a preview.
 * Slack only parses mentions written as `<!here>`/`<@U…>` (or with `link_names`, which we never set).
 */
import { locator } from './summary.js';
import { slackCode, slackFit, slackText } from './escape.js';
import { type RenderInput, type RenderOptions, SEVERITY_COLOR, headline, mitreRows, suppressedLine } from './common.js';
import { kibanaAlertUrl } from './links.js';
import type { AlertSummary } from '../types.js';

// Slack limits: header text 150, section text 3000, field 2000 (we keep fields short), 10 fields/section,
// 10 context elements, 50 blocks per message.
const HEADER_MAX = 150;
const FIELD_MAX = 300;
const CODE_MAX = 2_800;
const CONTEXT_MAX = 1_000;
const CONTEXT_ELEMENTS = 10;

type TextObj = { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string; verbatim: boolean };
export type SlackBlock = Record<string, unknown>;
export interface SlackMessage {
  text: string;
  mrkdwn: boolean;
  unfurl_links: false;
  unfurl_media: false;
  attachments: Array<{ color: string; fallback: string; blocks: SlackBlock[] }>;
}

const plain = (raw: string, max: number): TextObj => ({ type: 'plain_text', text: slackFit(slackText(raw), max), emoji: false });

function fields(a: AlertSummary): TextObj[] {
  const rows: Array<[string, string | undefined]> = [
    ['Severity', `${a.severity}${a.riskScore !== undefined ? ` (risk ${a.riskScore})` : ''}`],
    ['Host', a.host],
    ['Container', a.containerName ?? a.containerId],
    ['Pod', a.pod],
    ['Namespace', a.namespace],
    ['User', a.user],
    ['Event time', a.originalTime],
  ];
  return rows
    .filter((r): r is [string, string] => r[1] !== undefined && r[1] !== '')
    .slice(0, 10)
    .map(([k, v]) => plain(`${k}: ${v}`, FIELD_MAX));
}

function alertBlocks(a: AlertSummary, opts: RenderOptions, withButton: boolean): SlackBlock[] {
  const blocks: SlackBlock[] = [{ type: 'section', fields: fields(a) }];
  if (a.commandLine) {
    const code = slackFit(slackCode(a.commandLine), CODE_MAX);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', verbatim: true, text: `*Command line*\n\`\`\`${code}\`\`\`` } });
  }
  // A context block holds at most 10 elements: the reason and the alert id always get theirs, and MITRE
  // rows beyond what is left share the last MITRE element.
  const tail: TextObj[] = [...(a.reason ? [plain(a.reason, CONTEXT_MAX)] : []), plain(`Alert id: ${a.alertId}`, 200)];
  const mitre = mitreRows(a).map(([, v]) => `MITRE ATT&CK: ${v}`);
  const room = CONTEXT_ELEMENTS - tail.length;
  const shown = mitre.length <= room ? mitre : [...mitre.slice(0, room - 1), mitre.slice(room - 1).join('; ')];
  blocks.push({ type: 'context', elements: [...shown.map((m) => plain(m, CONTEXT_MAX)), ...tail] });
  const url = kibanaAlertUrl(opts.kibana, a);
  if (withButton && url && url.length <= 3000)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Kibana', emoji: false }, url, style: 'primary' }],
    });
  return blocks;
}

function digestLine(a: AlertSummary, opts: RenderOptions): SlackBlock {
  const bits = [locator(a), a.user ? `user ${a.user}` : undefined, a.commandLine].filter(Boolean).join(' · ');
  const block: SlackBlock = { type: 'section', text: plain(bits || a.alertId, FIELD_MAX) };
  const url = kibanaAlertUrl(opts.kibana, a);
  if (url && url.length <= 3000)
    block.accessory = { type: 'button', text: { type: 'plain_text', text: 'Open', emoji: false }, url };
  return block;
}

export function renderSlack(input: RenderInput, opts: RenderOptions): SlackMessage {
  const p = input.payload;
  const title = `${p.kind === 'test' ? '[TEST] ' : ''}[${p.severity}] ${p.ruleName}`;
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(title, HEADER_MAX) }];
  if (p.kind !== 'alert') blocks.push({ type: 'section', text: plain(headline(input), CONTEXT_MAX) });
  const sup = suppressedLine(input.suppressed);
  if (sup) blocks.push({ type: 'context', elements: [plain(sup, CONTEXT_MAX)] });
  if (p.kind === 'digest') {
    for (const a of p.alerts.slice(0, 40)) blocks.push(digestLine(a, opts));
  } else {
    for (const a of p.alerts) blocks.push(...alertBlocks(a, opts, true));
  }
  blocks.push({ type: 'context', elements: [plain(`eqlwatch notification ${input.notificationId}`, 200)] });
  // Fallback text (push notifications, clients without blocks): configuration values only.
  const fallback = slackFit(slackText(`eqlwatch ${p.severity}: ${p.kind === 'digest' ? `${p.total} alerts — ` : ''}${p.ruleName}`), 300);
  return {
    text: fallback,
    mrkdwn: false,
    unfurl_links: false,
    unfurl_media: false,
    attachments: [{ color: SEVERITY_COLOR[p.severity], fallback, blocks: blocks.slice(0, 50) }],
  };
}
