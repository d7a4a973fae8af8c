/** Generic JSON webhook with custom headers and an HMAC-SHA256 signature over the raw body. */
import type { Dispatcher } from 'undici';
import type { Channel, Deliverable } from './channel.js';
import { postJson } from './http.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';
import { renderWebhook } from '../render/webhook.js';
import { headerText, jsonText } from '../render/escape.js';
import type { RenderOptions } from '../render/common.js';

export interface WebhookChannelOptions {
  name: string;
  url: string;
  headers: Record<string, string>;
  secret?: string | undefined;
  timeoutMs: number;
  render: RenderOptions;
  /** For a receiver behind a private CA, or with verification off (http.ts `trustDispatcher`). */
  dispatcher?: Dispatcher | undefined;
  /** Clock for the signature timestamp (tests). */
  now?: () => number;
}

export class WebhookChannel implements Channel {
  readonly type = 'webhook' as const;
  readonly name: string;
  constructor(private readonly opts: WebhookChannelOptions) {
    this.name = opts.name;
    for (const [k, v] of Object.entries(opts.headers))
      if (/[\r\n]/.test(v)) throw new Error(`webhook channel ${opts.name}: header ${k} contains a line break`);
  }

  async send(d: Deliverable): Promise<void> {
    const body = jsonText(renderWebhook({ notificationId: d.notificationId, payload: d.payload, suppressed: d.suppressed }, this.opts.render, d.alertIds));
    const headers: Record<string, string> = {
      ...this.opts.headers,
      'X-Eqlwatch-Notification-Id': d.notificationId,
      'X-Eqlwatch-Alert-Id': headerText(d.alertIds[0] ?? '', 256),
      'X-Eqlwatch-Alert-Count': String(d.payload.total),
    };
    if (this.opts.secret) headers[SIGNATURE_HEADER] = signBody(this.opts.secret, body, Math.floor((this.opts.now ?? Date.now)() / 1000));
    await postJson(this.opts.url, body, headers, this.opts.timeoutMs, `webhook channel ${this.name}`, this.opts.dispatcher);
  }

  async close(): Promise<void> {
    await this.opts.dispatcher?.close();
  }
}
