import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/pki/certificate.js';
import { fromEnvoyCerts, fromPem } from '../../src/probe/certificates.js';

describe('certificate facts', () => {
  it("from Envoy's /certs output: the chain entry with a SPIFFE SAN", () => {
    const json = JSON.stringify({
      certificates: [
        {
          ca_cert: [{ path: '<inline>', serial_number: '1', subject_alt_names: [] }],
          cert_chain: [
            {
              path: '<inline>',
              serial_number: 'a1b2',
              subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/test1/sa/httpbin' }],
              days_until_expiration: '0',
              valid_from: '2026-11-28T21:28:41Z',
              expiration_time: '2026-11-29T21:30:41Z',
            },
          ],
        },
      ],
    });
    expect(fromEnvoyCerts(json, 'test1/httpbin', 'httpbin-1')).toEqual({
      workload: 'test1/httpbin',
      pod: 'httpbin-1',
      spiffe: ['spiffe://cluster.local/ns/test1/sa/httpbin'],
      serial: 'a1b2',
      notBefore: '2026-11-28T21:28:41Z',
      notAfter: '2026-11-29T21:30:41Z',
      daysLeft: 0,
    });
    expect(fromEnvoyCerts('not json', 'w', 'p')).toBeUndefined();
  });

  it("from Istio 1.4's cert-chain.pem", () => {
    const now = new Date('2026-11-28T12:00:00Z');
    const c = issueCertificate({
      role: 'leaf',
      altNames: { uri: ['spiffe://cluster.local/ns/default/sa/default'] },
      notBefore: now,
      notAfter: new Date(now.getTime() + 90 * 86_400_000),
    });
    const facts = fromPem(c.certPem, 'default/app', 'app-1', now)!;
    expect(facts).toEqual({
      workload: 'default/app',
      pod: 'app-1',
      spiffe: ['spiffe://cluster.local/ns/default/sa/default'],
      serial: expect.stringMatching(/^[0-9a-f]+$/),
      notBefore: '2026-11-28T12:00:00.000Z',
      notAfter: '2027-02-26T12:00:00.000Z',
      daysLeft: 90,
    });
    expect(BigInt(`0x${facts.serial}`)).toBe(BigInt(`0x${c.serialHex}`));
  });
});
