/**
 * A throw-away PKI for TLS tests (node-forge; keys from Node's native RSA generator, so a CA and a few
 * server certificates take well under a second): a CA, and server certificates it signs for given host
 * names and IPs, with any validity period (expired ones included).
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPair {
  /** PEM of the certificate alone. */
  cert: string;
  key: string;
}

export interface ServerCert extends KeyPair {
  /** The certificate followed by its CA: what a TLS server presents (as Elasticsearch does). */
  chain: string;
}

export interface TestCa extends KeyPair {
  /** SHA-256 fingerprint, colon-separated upper-case hex, as Elasticsearch and openssl print it. */
  fingerprint256: string;
  /** A server certificate signed by this CA. */
  issue(o: IssueOptions): ServerCert;
}

export interface IssueOptions {
  /** DNS names and IP addresses for subjectAltName (the first is also the CN). */
  hosts: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** The certificates presented after the leaf (default: this CA). An impostor presents another CA's here. */
  presented?: string[];
}

let serial = 1;
const nextSerial = (): string => (serial++).toString(16).padStart(2, '0');
const DAY = 86_400_000;

function keyPair(): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

function sign(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): string {
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

export function createCa(name: string): TestCa {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = nextSerial();
  cert.validity.notBefore = new Date(Date.now() - DAY);
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY);
  const subject = [{ name: 'commonName', value: name }, { name: 'organizationName', value: 'eqlwatch tests' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const pem = sign(cert, keys.privateKey);
  return {
    cert: pem,
    key: forge.pki.privateKeyToPem(keys.privateKey),
    fingerprint256: new X509Certificate(pem).fingerprint256,
    issue(o) {
      const leafKeys = keyPair();
      const leaf = forge.pki.createCertificate();
      leaf.publicKey = leafKeys.publicKey;
      leaf.serialNumber = nextSerial();
      leaf.validity.notBefore = o.notBefore ?? new Date(Date.now() - DAY);
      leaf.validity.notAfter = o.notAfter ?? new Date(Date.now() + 7 * DAY);
      leaf.setSubject([{ name: 'commonName', value: o.hosts[0] ?? 'localhost' }]);
      leaf.setIssuer(cert.subject.attributes);
      leaf.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        // No authorityKeyIdentifier: chains are linked by issuer name, so an impostor CA of the same name can
        // present another CA's certificate as its issuer (the forged-chain test).
        { name: 'subjectAltName', altNames: o.hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
      ]);
      const leafPem = sign(leaf, keys.privateKey);
      return {
        cert: leafPem,
        key: forge.pki.privateKeyToPem(leafKeys.privateKey),
        chain: [leafPem, ...(o.presented ?? [pem])].join(''),
      };
    },
  };
}
