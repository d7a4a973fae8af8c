/** Test fixtures and real local receivers (HTTP, SMTP) for the notification tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { parseNotifyConfig, type NotifyConfig, type NotifyConfigInput } from '../../src/config/notify.js';
import type { AlertDoc } from '../../src/notify/types.js';

// ---------------------------------------------------------------- alert documents

export interface AlertSpec {
  id: string;
  rule?: string;
  ruleId?: string;
  severity?: 'low' | 'medium' | 'high' | 'critical';
  tags?: string[];
  host?: string;
  pod?: string;
  namespace?: string;
  user?: string;
  commandLine?: string;
  args?: string[];
  buildingBlock?: boolean;
  groupId?: string;
}

/** A Kibana-style alert mixing dotted keys and nested objects, as real alert documents do. */
export function alertDoc(s: AlertSpec): AlertDoc {
  const doc: AlertDoc = {
    '@timestamp': '2026-11-24T10:00:00.000Z',
    'kibana.alert.uuid': s.id,
    'kibana.alert.rule.uuid': `uuid-${s.ruleId ?? 'rule-1'}`,
    'kibana.alert.rule.rule_id': s.ruleId ?? 'rule-1',
    'kibana.alert.rule.name': s.rule ?? 'Kubectl exec into pod',
    'kibana.alert.rule.tags': s.tags ?? ['Domain: Container'],
    'kibana.alert.severity': s.severity ?? 'medium',
    'kibana.alert.risk_score': 47,
    'kibana.alert.original_time': '2026-11-24T09:59:58.000Z',
    'kibana.alert.reason': `process event by ${s.user ?? 'root'} on ${s.host ?? 'node-1'} created ${s.severity ?? 'medium'} alert.`,
    'kibana.alert.rule.threat': [
      {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0002', name: 'Execution', reference: 'https://attack.mitre.org/tactics/TA0002/' },
        technique: [{ id: 'T1609', name: 'Container Administration Command' }],
      },
    ],
    host: { name: s.host ?? 'node-1' },
    container: { id: 'c0ffee', name: 'web' },
    orchestrator: { resource: { name: s.pod ?? 'web-1' }, namespace: s.namespace ?? 'default' },
    user: { name: s.user ?? 'root' },
    process: {
      ...(s.commandLine !== undefined ? { command_line: s.commandLine } : {}),
      args: s.args ?? ['sh', '-c', 'id'],
    },
  };
  if (s.buildingBlock) doc['kibana.alert.building_block_type'] = 'default';
  if (s.groupId) doc['kibana.alert.group.id'] = s.groupId;
  return doc;
}

/** Bytes that are not valid UTF-8, decoded the way Node decodes them (U+FFFD replacement). */
export const INVALID_UTF8_DECODED = Buffer.from([0x66, 0x6f, 0xff, 0xfe, 0xc3, 0x28, 0x6f]).toString('utf8');
export const INJECT_BCC = 'x\r\nBcc: x@evil.example\r\nX-Evil: 1\r\n\r\nforged body';
export const HOSTILE_ARG = [
  INJECT_BCC,
  '<script>alert(1)</script>',
  '<!channel> <!here> <@U0123> <#C0123> <http://evil.example|click me>',
  '*bold* _italic_ ~strike~ `code` ```block```',
  `lone \uD800 surrogate and \uDC00`,
  INVALID_UTF8_DECODED,
  '\u001b[31mred\u001b[0m \u202Eevil',
].join(' ');

export function hostileAlert(id = 'hostile-1'): AlertDoc {
  return alertDoc({
    id,
    host: 'node-1\r\nBcc: x@evil.example',
    pod: '<!channel> *bold*',
    user: '<script>alert("u")</script>',
    commandLine: `${HOSTILE_ARG} ${'A'.repeat(64 * 1024)}`,
    args: ['sh', '-c', HOSTILE_ARG],
  });
}

export function config(input: NotifyConfigInput): NotifyConfig {
  return parseNotifyConfig(input);
}

// ---------------------------------------------------------------- HTTP receiver

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: unknown;
}

/** status 0 = never answer. */
export type Responder = (req: ReceivedRequest) => { status: number; headers?: Record<string, string>; body?: string };

export interface HttpReceiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  respond: Responder;
  /** Stop listening (connections are refused: "channel down"). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
}

/** `tls`: serve HTTPS with this key and certificate chain (leaf first). */
export async function startHttpReceiver(respond: Responder = () => ({ status: 200, body: 'ok' }), opts: { tls?: { key: string; cert: string } } = {}): Promise<HttpReceiver> {
  const rec: HttpReceiver = {
    url: '',
    port: 0,
    requests: [],
    respond,
    stop: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
    start: async () => {
      await new Promise<void>((r, j) => {
        server.once('error', j);
        server.listen(rec.port, '127.0.0.1', () => r());
      });
    },
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        json = undefined;
      }
      const r: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw, json };
      rec.requests.push(r);
      const out = rec.respond(r);
      if (out.status === 0) return; // hang: never answer (timeout tests); stop() closes the socket
      res.writeHead(out.status, { 'content-type': 'text/plain', ...(out.headers ?? {}) });
      res.end(out.body ?? '');
    });
  };
  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  // A client that refuses the certificate aborts the handshake; that is its decision, not a receiver error.
  server.on('tlsClientError', () => undefined);
  server.keepAliveTimeout = 100;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rec.port = (server.address() as AddressInfo).port;
  rec.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${rec.port}/hook`;
  return rec;
}

// ---------------------------------------------------------------- SMTP receiver

export interface ReceivedMail {
  mailFrom: string;
  rcptTo: string[];
  user: string | undefined;
  secure: boolean;
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SmtpOptions {
  auth?: { user: string; pass: string };
  /** PEM key/cert: enables STARTTLS. */
  tls?: { key: string; cert: string };
  /** Listen on this port (default: a free one). */
  port?: number;
}

export interface SmtpReceiver {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

export async function startSmtp(opts: SmtpOptions = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const pending: Promise<void>[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: [...(opts.tls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    authOptional: !opts.auth,
    allowInsecureAuth: !opts.tls,
    logger: false,
    size: 10 * 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) cb(null, { user: auth.username });
      else cb(new Error('invalid credentials'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const p = simpleParser(raw).then((parsed) => {
          mails.push({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
            secure: session.secure,
            raw,
            parsed,
          });
        });
        pending.push(p);
        p.then(() => cb(), cb);
      });
    },
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    close: async () => {
      await Promise.allSettled(pending);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A throw-away self-signed certificate for localhost (openssl CLI), or undefined if openssl is absent. */
export function selfSignedCert(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'eqlwatch-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      { stdio: 'ignore', timeout: 30_000 },
    );
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A port that was free a moment ago (for a server that must appear later on a known port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
