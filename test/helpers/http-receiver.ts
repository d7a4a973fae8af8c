/**
 * A local HTTP receiver standing in for Kibana in tests (no Kibana runs on these machines): it records every
 * request and answers with what `respond` returns. Close it with `close()` (e.g. in afterEach).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  /** Path and query as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface Receiver {
  url: string;
  received: Received[];
  close: () => Promise<void>;
}

export async function httpReceiver(respond: (r: Received) => { status: number; json: unknown }): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://receiver');
      const r: Received = { method: req.method ?? '', url: req.url ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body: data ? (JSON.parse(data) as unknown) : null };
      received.push(r);
      const { status, json } = respond(r);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
