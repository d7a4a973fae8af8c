/** Email over SMTP with nodemailer (implicit TLS, STARTTLS required or opportunistic, AUTH). */
import nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { DeliveryError, type Channel, type Deliverable } from './channel.js';
import { renderEmail } from '../render/email.js';
import { headerText } from '../render/escape.js';
import type { RenderOptions } from '../render/common.js';

export interface EmailChannelOptions {
  name: string;
  host: string;
  port: number;
  /** Implicit TLS (SMTPS, usually port 465). */
  secure: boolean;
  /** Fail unless the server offers STARTTLS (plain-port submission). */
  requireTLS: boolean;
  tlsRejectUnauthorized: boolean;
  ca?: string | undefined;
  auth?: { user: string; pass: string } | undefined;
  from: string;
  to: string[];
  cc: string[];
  timeoutMs: number;
  render: RenderOptions;
}

export class EmailChannel implements Channel {
  readonly type = 'email' as const;
  readonly name: string;
  private readonly transport: Transporter;

  constructor(private readonly opts: EmailChannelOptions) {
    this.name = opts.name;
    this.transport = nodemailer.createTransport({
      host: opts.host,
      port: opts.port,
      secure: opts.secure,
      requireTLS: !opts.secure && opts.requireTLS,
      ...(opts.auth ? { auth: { user: opts.auth.user, pass: opts.auth.pass } } : {}),
      tls: { rejectUnauthorized: opts.tlsRejectUnauthorized, ...(opts.ca ? { ca: opts.ca } : {}), servername: opts.host },
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(d: Deliverable): Promise<void> {
    const mail = renderEmail({ notificationId: d.notificationId, payload: d.payload, suppressed: d.suppressed }, this.opts.render);
    try {
      await this.transport.sendMail({
        from: this.opts.from,
        to: this.opts.to,
        ...(this.opts.cc.length ? { cc: this.opts.cc } : {}),
        // Explicit envelope: recipients come from configuration only, never from message headers.
        envelope: { from: this.opts.from, to: [...this.opts.to, ...this.opts.cc] },
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // Same Message-ID on every retry lets mail clients collapse an at-least-once duplicate.
        messageId: `<${d.notificationId}@eqlwatch>`,
        headers: {
          'X-Eqlwatch-Notification-Id': d.notificationId,
          'X-Eqlwatch-Alert-Id': headerText(d.alertIds[0] ?? '', 256),
          'X-Eqlwatch-Alert-Count': String(d.payload.total),
          'Auto-Submitted': 'auto-generated',
        },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (e) {
      const err = e as Error & { responseCode?: number; code?: string };
      throw new DeliveryError(`email channel ${this.name}: ${err.code ? `${err.code} ` : ''}${err.message}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
