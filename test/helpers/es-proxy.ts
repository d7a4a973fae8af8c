/**
 * A proxy in front of the real Elasticsearch node, for tests and benchmarks that need what the test node
 * cannot do itself:
 *  - terminate TLS with a given certificate chain (the test node has no x-pack security), recording the
 *    `Authorization` header of every request it forwards, and optionally answering 401 like a secured
 *    cluster when that header is not the expected one;
 *  - inject faults between a worker and the node: refuse connections, stall, reset, answer 429/503, add
 *    latency (`setFault`).
 * Requests are forwarded unchanged (method, path, headers, body) over HTTP to `target`.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'none' }
  /** Every request waits this long before it is forwarded. */
  | { kind: 'latency'; ms: number }
  /** Answered by the proxy with this status (an overloaded or restarting cluster), never forwarded. */
  | { kind: 'status'; status: 429 | 503 }
  /** Requests are accepted and never answered (until the fault ends: then their sockets are destroyed). */
  | { kind: 'stall' }
  /** The connection is reset as soon as a request arrives. */
  | { kind: 'reset' }
  /** Nothing listens: connecting fails with ECONNREFUSED. */
  | { kind: 'refuse' };

export type FaultKind = Fault['kind'];

export interface EsProxyOptions {
  /** Serve HTTPS with this key and chain (leaf first); plain HTTP when absent. */
  tls?: { key: string; chain: string };
  /** Answer 401 (as a secured cluster does) to requests whose Authorization header is not this. */
  requireAuthorization?: string;
  /** Host to listen on (default 127.0.0.1). */
  host?: string;
  /**
   * Called once per forwarded request when its response has been sent (benchmarks count requests and bytes
   * with it). The response body is passed (as received from the node, possibly compressed) when
   * `captureBody` says so for that request.
   */
  onExchange?: (e: Exchange) => void;
  captureBody?: (method: string, path: string) => boolean;
}

export interface Exchange {
  method: string;
  path: string;
  status: number;
  /** Response body bytes as sent by the node (before any decompression). */
  responseBytes: number;
  contentEncoding: string | undefined;
  body?: Buffer;
  startedAt: number;
  ms: number;
}

export interface EsProxy {
  /** `http(s)://<host>:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Authorization header of every request that reached the proxy over HTTP (undefined: none sent). */
  readonly authorizations: (string | undefined)[];
  /** TLS handshakes completed (a refused client never completes one, or sends no request after it). */
  readonly handshakes: number;
  /** Requests forwarded to the node, and requests the current faults answered or broke, by kind. */
  readonly counts: { forwarded: number } & Partial<Record<FaultKind | 'unauthorized', number>>;
  setFault(f: Fault): Promise<void>;
  close(): Promise<void>;
}

export async function startEsProxy(target: string, o: EsProxyOptions = {}): Promise<EsProxy> {
  const upstream = new URL(target);
  // One upstream connection per request: a kept-alive socket that the node closed while idle would turn into a
  // reset nobody injected.
  const agent = new http.Agent({ keepAlive: false });
  const host = o.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const stalled = new Set<http.ServerResponse>();
  let fault: Fault = { kind: 'none' };
  let handshakes = 0;
  const authorizations: (string | undefined)[] = [];
  const counts: EsProxy['counts'] = { forwarded: 0 };
  const count = (k: FaultKind | 'unauthorized') => (counts[k] = (counts[k] ?? 0) + 1);

  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    counts.forwarded++;
    const startedAt = Date.now();
    const up = http.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        if (o.onExchange) {
          const method = req.method ?? 'GET';
          const path = req.url ?? '/';
          const chunks: Buffer[] | null = o.captureBody?.(method, path) ? [] : null;
          let bytes = 0;
          r.on('data', (c: Buffer) => {
            bytes += c.length;
            chunks?.push(c);
          });
          r.on('end', () => {
            const enc = r.headers['content-encoding'];
            o.onExchange!({ method, path, status: r.statusCode ?? 502, responseBytes: bytes, contentEncoding: typeof enc === 'string' ? enc : undefined, ...(chunks ? { body: Buffer.concat(chunks) } : {}), startedAt, ms: Date.now() - startedAt });
          });
        }
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    authorizations.push(req.headers.authorization);
    if (o.requireAuthorization !== undefined && req.headers.authorization !== o.requireAuthorization) {
      count('unauthorized');
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'ApiKey, Basic realm="security"' });
      res.end(JSON.stringify({ error: { type: 'security_exception', reason: 'unable to authenticate user [unknown] for REST request' }, status: 401 }));
      return;
    }
    const f = fault;
    switch (f.kind) {
      case 'none':
        return forward(req, res);
      case 'latency':
        count('latency');
        setTimeout(() => forward(req, res), f.ms);
        return;
      case 'status':
        count('status');
        req.resume();
        res.writeHead(f.status, { 'content-type': 'application/json', ...(f.status === 429 ? { 'retry-after': '1' } : {}) });
        res.end(JSON.stringify({ error: { type: f.status === 429 ? 'es_rejected_execution_exception' : 'unavailable', reason: 'injected by the test proxy' }, status: f.status }));
        return;
      case 'stall':
        count('stall');
        req.resume();
        stalled.add(res);
        res.on('close', () => stalled.delete(res));
        return;
      case 'reset':
      case 'refuse':
        count(f.kind);
        req.socket.destroy();
        return;
    }
  };

  const server = o.tls ? https.createServer({ key: o.tls.key, cert: o.tls.chain }, handler) : http.createServer(handler);
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => handshakes++);
  // A refused handshake is the client's doing; it must not crash the proxy.
  server.on('tlsClientError', () => undefined);

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = async () => {
    const closed = new Promise<void>((r) => server.close(() => r()));
    for (const s of sockets) s.destroy();
    await closed;
  };

  await listen(0);
  const port = (server.address() as AddressInfo).port;
  let listening = true;

  return {
    url: `${o.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    authorizations,
    get handshakes() {
      return handshakes;
    },
    counts,
    async setFault(f) {
      const previous = fault;
      fault = f;
      if (previous.kind === 'stall' && f.kind !== 'stall') for (const res of stalled) res.destroy();
      if (f.kind === 'refuse' && listening) {
        listening = false;
        await stopListening();
      } else if (f.kind !== 'refuse' && !listening) {
        await listen(port);
        listening = true;
      }
    },
    async close() {
      for (const res of stalled) res.destroy();
      if (listening) await stopListening();
      agent.destroy();
    },
  };
}
