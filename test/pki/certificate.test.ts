import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/certificate.js';

const hour = 3600_000;

describe('issueCertificate', () => {
  const now = Date.now();
  const ca = issueCertificate({
    role: 'ca',
    subject: { organization: 'cluster.local' },
    notBefore: new Date(now - hour),
    notAfter: new Date(now + 24 * hour),
  });
  const leaf = (uri: string) =>
    issueCertificate({
      role: 'leaf',
      altNames: { uri: [uri] },
      notBefore: new Date(now - 120_000),
      notAfter: new Date(now + 24 * hour),
      issuer: { certPem: ca.certPem, key: ca.key },
    });

  it('issues a leaf that verifies against its CA and carries the SPIFFE SAN and validity asked for', () => {
    const cert = leaf('spiffe://cluster.local/ns/test1/sa/sleep');
    const x = new X509Certificate(cert.certPem);
    expect(x.subjectAltName).toBe('URI:spiffe://cluster.local/ns/test1/sa/sleep');
    expect(x.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(new Date(x.validTo).getTime() - new Date(x.validFrom).getTime()).toBeGreaterThan(24 * hour);
    expect(BigInt(`0x${x.serialNumber}`)).toBe(BigInt(`0x${cert.serialHex}`));
  });

  it('completes a mutual TLS handshake in which each side verifies the other against the CA', async () => {
    const server = leaf('spiffe://cluster.local/ns/test1/sa/httpbin');
    const client = leaf('spiffe://cluster.local/ns/test2/sa/sleep');
    const srv = tls.createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (s) => {
        s.end((s.getPeerCertificate() as { subjectaltname?: string }).subjectaltname ?? 'none');
      },
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as AddressInfo;
    const sock = tls.connect({
      port,
      host: '127.0.0.1',
      cert: client.certPem,
      key: client.keyPem,
      ca: ca.certPem,
      checkServerIdentity: () => undefined,
    });
    let body = '';
    sock.on('data', (d) => (body += d));
    await once(sock, 'end');
    srv.close();
    expect(body).toBe('URI:spiffe://cluster.local/ns/test2/sa/sleep');
  });
});
