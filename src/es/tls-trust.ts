/**
 * Trust in the cluster's certificate when the operator pins its CA by SHA-256 fingerprint (what
 * Elasticsearch prints at first start) instead of giving the CA's PEM file.
 *
 * The Elasticsearch client's own `caFingerprint` check runs only after Node's TLS verification, which
 * rejects a private CA it was never given ("self-signed certificate in certificate chain"); turning
 * verification off to get past that would also drop the signature and host-name checks, so that anyone who
 * copies the (public) CA certificate into a chain of their own would pass the fingerprint comparison. Instead,
 * before the client is created, one TLS handshake reads the chain a node presents and takes from it the
 * certificate whose SHA-256 digest equals the pin: equal digests mean it is the pinned certificate itself,
 * whoever sent it. That certificate becomes the client's `tls.ca`, so every connection is then verified by
 * Node as with a CA file: chain signatures, validity dates and the host name.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

/** The pin cannot be honoured (no node reachable, or no presented certificate matches it). */
export class EsTrustError extends Error {
  override name = 'EsTrustError';
}

/** A fingerprint as 64 upper-case hex digits (colons and case as Elasticsearch or openssl print them). */
export const normalizeFingerprint = (fp: string): string => fp.replace(/:/g, '').trim().toUpperCase();

/** The certificates of a TLS connection's peer, leaf first, as Node links them by issuer. */
export function presentedChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

/** The chain `host:port` presents, read without trusting it (only digests are compared afterwards). */
function readChain(url: URL, timeoutMs: number): Promise<X509Certificate[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || 443);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: false });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => {
      const chain = presentedChain(socket);
      socket.end();
      resolve(chain);
    });
    socket.once('error', reject);
  });
}

const describe = (c: X509Certificate): string => `"${c.subject.replace(/\n/g, ', ')}" (SHA-256 ${c.fingerprint256.slice(0, 11)}…)`;

/**
 * The PEM of the pinned CA, taken from the chain of the first https node that answers. A node that answers
 * without the pinned CA in its chain is an error at once (a wrong pin, or not the cluster we expect);
 * unreachable nodes are skipped.
 */
export async function fetchPinnedCa(urls: string[], fingerprint: string, timeoutMs: number): Promise<string> {
  const pin = normalizeFingerprint(fingerprint);
  const unreachable: string[] = [];
  for (const u of urls) {
    const url = new URL(u);
    if (url.protocol !== 'https:') continue;
    let chain: X509Certificate[];
    try {
      chain = await readChain(url, timeoutMs);
    } catch (e) {
      unreachable.push(`${url.host}: ${(e as Error).message}`);
      continue;
    }
    const match = chain.find((c) => normalizeFingerprint(c.fingerprint256) === pin);
    if (!match) {
      throw new EsTrustError(
        `elasticsearch.tls.caFingerprint: ${url.host} presented no certificate with SHA-256 fingerprint ${pin.slice(0, 8)}…; ` +
          `it presented ${chain.map(describe).join(' → ') || 'no certificate'}. Pin the fingerprint of the CA that signed the ` +
          "cluster's certificate (Elasticsearch prints it at first start), or give its PEM file as elasticsearch.tls.caFile",
      );
    }
    if (!match.ca) {
      throw new EsTrustError(
        `elasticsearch.tls.caFingerprint: the pinned certificate ${describe(match)} is not a CA certificate; pin the CA that signed it`,
      );
    }
    return match.toString();
  }
  throw new EsTrustError(
    unreachable.length > 0
      ? `elasticsearch.tls.caFingerprint: could not read the certificate chain of any node (${unreachable.join('; ')})`
      : 'elasticsearch.tls.caFingerprint needs https:// node URLs',
  );
}

/**
 * A hint for an error that Node's TLS verification raised (by code, as the Elasticsearch client keeps it in
 * the message), or undefined when the error is not a certificate problem.
 */
export function tlsHint(message: string): string | undefined {
  if (/self[- ]signed certificate|unable to (get local issuer|verify the first) certificate|unable to get issuer certificate|certificate signature failure/i.test(message)) {
    return "the server's certificate is not signed by a CA eqlwatch trusts: set elasticsearch.tls.caFile (ES_CA_FILE) to the cluster's CA, or pin it with elasticsearch.tls.caFingerprint (ES_CA_FINGERPRINT)";
  }
  if (/certificate has expired|certificate is not yet valid/i.test(message)) {
    return "the server's certificate is outside its validity period: renew it (or check this machine's clock)";
  }
  if (/Hostname\/IP does not match certificate|altnames/i.test(message)) {
    return "the host name in elasticsearch.node is not one the certificate names: connect by a name listed in its subjectAltName";
  }
  if (/caFingerprint/.test(message)) return 'check elasticsearch.tls.caFingerprint (ES_CA_FINGERPRINT) against the CA Elasticsearch printed';
  return undefined;
}
