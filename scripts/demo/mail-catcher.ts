/**
 * A local SMTP catcher for the demo and the browser test: accepts mail on 127.0.0.1 (random port, no
 * TLS, no auth) and saves each message as `<n>-<subject>.eml` plus its HTML part as `.html`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  subject: string;
  from: string;
  to: string[];
  emlPath: string;
  /** Absent when the message had no HTML part. */
  htmlPath?: string;
}

export interface MailCatcher {
  port: number;
  mails: CaughtMail[];
  /** Resolves once `count` messages were saved, or after `timeoutMs` with what arrived. */
  waitFor(count: number, timeoutMs: number): Promise<CaughtMail[]>;
  close(): Promise<void>;
}

/** A file-name-safe slug of an (attacker-influenced) subject. */
export function fileSlug(text: string, max = 60): string {
  const slug = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max).replace(/-+$/, '');
  return slug || 'message';
}

export async function startMailCatcher(outDir: string): Promise<MailCatcher> {
  mkdirSync(outDir, { recursive: true });
  const mails: CaughtMail[] = [];
  const pending: Promise<void>[] = [];
  const waiters: Array<() => void> = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const p = simpleParser(raw).then((parsed) => {
          const base = path.join(outDir, `${String(mails.length + 1).padStart(2, '0')}-${fileSlug(parsed.subject ?? '')}`);
          writeFileSync(`${base}.eml`, raw);
          const mail: CaughtMail = {
            subject: parsed.subject ?? '',
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            emlPath: `${base}.eml`,
          };
          if (typeof parsed.html === 'string') {
            writeFileSync(`${base}.html`, parsed.html);
            mail.htmlPath = `${base}.html`;
          }
          mails.push(mail);
          for (const w of waiters.splice(0)) w();
        });
        pending.push(p);
        p.then(() => cb(), cb);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async waitFor(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return mails.slice();
    },
    async close() {
      await Promise.allSettled(pending);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
