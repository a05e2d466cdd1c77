// The emulated Istio CA: workload certificates as istiod issues them (security/pkg/pki/util/generate_cert.go):
// an empty subject, a critical URI SAN spiffe://<trust domain>/ns/<ns>/sa/<sa>, server and client auth,
// 24 h TTL (DefaultWorkloadCertTTL) and NotBefore two minutes back (ClockSkewGracePeriod).
import { createSecureContext, type SecureContext } from 'node:tls';
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { issueCertificate, type IssuedCertificate, type Issuer } from '../../../src/pki/certificate.js';

export const WORKLOAD_TTL_MS = 24 * 3600_000;
export const CLOCK_SKEW_GRACE_MS = 2 * 60_000;

export interface WorkloadCert extends IssuedCertificate {
  spiffeId: string;
  x509: X509Certificate;
  rootPem: string;
  /** The key, chain and root loaded once: building a TLS context per connection cost the mesh most of its CPU. */
  context: SecureContext;
}

export class MeshCA {
  private readonly issuer: Issuer;
  readonly rootPem: string;
  readonly root: X509Certificate;

  constructor(ca: { certPem: string; keyPem: string }) {
    const key: KeyObject = createPrivateKey(ca.keyPem);
    this.issuer = { certPem: ca.certPem, key };
    this.rootPem = ca.certPem;
    this.root = new X509Certificate(ca.certPem);
  }

  /** A root of its own, for unit tests that run without the API server's mesh CA. */
  static selfSigned(): MeshCA {
    const now = Date.now();
    const root = issueCertificate({
      role: 'ca',
      subject: { organization: 'cluster.local' },
      notBefore: new Date(now - CLOCK_SKEW_GRACE_MS),
      notAfter: new Date(now + 10 * 365 * 24 * 3600_000),
    });
    return new MeshCA({ certPem: root.certPem, keyPem: root.keyPem });
  }

  issueWorkload(spiffeId: string, now = Date.now()): WorkloadCert {
    const issued = issueCertificate({
      role: 'leaf',
      altNames: { uri: [spiffeId] },
      notBefore: new Date(now - CLOCK_SKEW_GRACE_MS),
      notAfter: new Date(now + WORKLOAD_TTL_MS),
      issuer: this.issuer,
    });
    return {
      ...issued,
      spiffeId,
      x509: new X509Certificate(issued.certPem),
      rootPem: this.rootPem,
      context: createSecureContext({ key: issued.keyPem, cert: issued.certPem, ca: this.rootPem }),
    };
  }
}

export function spiffeId(trustDomain: string, ns: string, sa: string): string {
  return `spiffe://${trustDomain}/ns/${ns}/sa/${sa}`;
}

/** The URI SANs of a peer certificate as Node reports them ("URI:spiffe://..., DNS:..."). */
export function uriSans(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
}

export function sha256Hex(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
