/** Email templates: subject, plain-text body and HTML body. */
import { locator } from './summary.js';
import { headerText, html, plainText } from './escape.js';
import { type RenderInput, type RenderOptions, SEVERITY_COLOR, alertRows, headline, suppressedLine } from './common.js';
import { kibanaAlertUrl } from './links.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** `[eqlwatch][medium] Rule name — host/pod`; digest: `[eqlwatch][high] 37 alerts — Rule name`. */
export function renderSubject(input: RenderInput, opts: RenderOptions): string {
  const p = input.payload;
  const tag = p.kind === 'test' ? '[TEST]' : '';
  const head = `${opts.subjectPrefix}${tag}[${p.severity}]`;
  let rest: string;
  if (p.kind === 'digest') rest = `${p.total} alerts — ${p.ruleName}`;
  else {
    const a = p.alerts[0];
    const where = a ? locator(a) : '';
    rest = where ? `${p.ruleName} — ${where}` : p.ruleName;
  }
  return headerText(`${head} ${rest}`, opts.subjectChars);
}

const LABEL_WIDTH = 14;
/** `Label:` padded to a column; long labels (ECS field names) still get one space. */
const label = (k: string) => (k.length + 1 >= LABEL_WIDTH ? `${k}: ` : `${k}:`.padEnd(LABEL_WIDTH));

export function renderText(input: RenderInput, opts: RenderOptions): string {
  const p = input.payload;
  const lines: string[] = [plainText(headline(input)), ''];
  const sup = suppressedLine(input.suppressed);
  if (sup) lines.push(sup, '');
  p.alerts.forEach((a, i) => {
    if (p.alerts.length > 1) lines.push(`--- Alert ${i + 1} of ${p.total} ---`);
    for (const [k, v] of alertRows(a)) lines.push(`${label(k)}${plainText(v)}`);
    const url = kibanaAlertUrl(opts.kibana, a);
    if (url) lines.push(`${label('Kibana')}${plainText(url)}`);
    lines.push('');
  });
  if (p.kind === 'digest' && p.total > p.alerts.length) lines.push(`${p.total - p.alerts.length} more alerts not shown; see the alerts index in Kibana.`, '');
  lines.push(`Notification id: ${plainText(input.notificationId)}`);
  lines.push('Sent by eqlwatch. Values from events are shown verbatim with control characters escaped.');
  return `${lines.join('\n')}\n`;
}

export function renderHtml(input: RenderInput, opts: RenderOptions): string {
  const p = input.payload;
  const color = SEVERITY_COLOR[p.severity];
  const out: string[] = [];
  out.push('<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="color-scheme" content="light"></head>');
  out.push('<body style="margin:0;padding:16px;background:#f5f7fa;font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1a1c21">');
  out.push(`<div style="max-width:760px;margin:0 auto;background:#fff;border-top:6px solid ${color};border-radius:4px;padding:16px 20px">`);
  out.push(`<h2 style="margin:0 0 4px 0;font-size:18px">${html(headline(input))}</h2>`);
  out.push(`<div style="display:inline-block;background:${color};color:#000;border-radius:3px;padding:2px 8px;font-size:12px;font-weight:bold;text-transform:uppercase">${html(p.severity)}</div>`);
  const sup = suppressedLine(input.suppressed);
  if (sup) out.push(`<p style="color:#69707d;font-size:13px">${html(sup)}</p>`);
  p.alerts.forEach((a, i) => {
    if (p.alerts.length > 1) out.push(`<h3 style="font-size:15px;margin:18px 0 6px 0">Alert ${i + 1} of ${p.total}</h3>`);
    out.push('<table style="border-collapse:collapse;width:100%;font-size:13px;margin-top:10px">');
    for (const [k, v] of alertRows(a)) {
      const mono = k === 'Command line' || k === 'Alert id' || k.includes('.');
      const cell = mono
        ? `<code style="font-family:Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all">${html(v)}</code>`
        : html(v);
      out.push(
        `<tr><th style="text-align:left;vertical-align:top;padding:4px 10px 4px 0;color:#69707d;font-weight:600;white-space:nowrap">${html(k)}</th><td style="padding:4px 0;word-break:break-word">${cell}</td></tr>`,
      );
    }
    out.push('</table>');
    const url = kibanaAlertUrl(opts.kibana, a);
    if (url)
      out.push(
        `<p><a href="${html(url)}" style="display:inline-block;background:#0077cc;color:#fff;text-decoration:none;padding:6px 12px;border-radius:3px">Open in Kibana</a></p>`,
      );
  });
  if (p.kind === 'digest' && p.total > p.alerts.length)
    out.push(`<p style="color:#69707d">${p.total - p.alerts.length} more alerts not shown; see the alerts index in Kibana.</p>`);
  out.push(`<p style="color:#98a2b3;font-size:11px;margin-top:18px">Notification id ${html(input.notificationId)} · sent by eqlwatch</p>`);
  out.push('</div></body></html>');
  return out.join('\n');
}

export function renderEmail(input: RenderInput, opts: RenderOptions): RenderedEmail {
  return { subject: renderSubject(input, opts), text: renderText(input, opts), html: renderHtml(input, opts) };
}
