/** Slack incoming webhook: POST the Block Kit message as JSON. */
import type { Dispatcher } from 'undici';
import type { Channel, Deliverable } from './channel.js';
import { postJson } from './http.js';
import { jsonText } from '../render/escape.js';
import { renderSlack } from '../render/slack.js';
import type { RenderOptions } from '../render/common.js';

export interface SlackChannelOptions {
  name: string;
  webhookUrl: string;
  timeoutMs: number;
  render: RenderOptions;
  /** For a receiver behind a private CA, or with verification off (http.ts `trustDispatcher`). */
  dispatcher?: Dispatcher | undefined;
}

export class SlackChannel implements Channel {
  readonly type = 'slack' as const;
  readonly name: string;
  constructor(private readonly opts: SlackChannelOptions) {
    this.name = opts.name;
  }

  async send(d: Deliverable): Promise<void> {
    const msg = renderSlack({ notificationId: d.notificationId, payload: d.payload, suppressed: d.suppressed }, this.opts.render);
    await postJson(this.opts.webhookUrl, jsonText(msg), {}, this.opts.timeoutMs, `slack channel ${this.name}`, this.opts.dispatcher);
  }

  async close(): Promise<void> {
    await this.opts.dispatcher?.close();
  }
}
