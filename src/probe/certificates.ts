// A workload's certificate as its sidecar holds it: Envoy's /certs admin output
// (`pilot-agent request GET certs`, Istio >= 1.5) or the PEM files of Istio 1.4 (/etc/certs).
import { X509Certificate } from 'node:crypto';
import type { CertificateReport } from '../model/results.js';

interface EnvoyCert {
  serial_number?: string;
  subject_alt_names?: Array<{ uri?: string; dns?: string }>;
  days_until_expiration?: string | number;
  valid_from?: string;
  expiration_time?: string;
}

/** The workload certificate (the chain entry with a SPIFFE SAN) from Envoy's /certs JSON. */
export function fromEnvoyCerts(json: string, workload: string, pod: string): CertificateReport | undefined {
  let doc: { certificates?: Array<{ cert_chain?: EnvoyCert[] }> };
  try {
    doc = JSON.parse(json);
  } catch {
    return undefined;
  }
  for (const entry of doc.certificates ?? []) {
    for (const c of entry.cert_chain ?? []) {
      const spiffe = (c.subject_alt_names ?? [])
        .map((s) => s.uri)
        .filter((u): u is string => !!u?.startsWith('spiffe://'));
      if (!spiffe.length) continue;
      return {
        workload,
        pod,
        spiffe,
        serial: c.serial_number ?? '',
        notBefore: c.valid_from ?? '',
        notAfter: c.expiration_time ?? '',
        daysLeft: Number(c.days_until_expiration ?? NaN),
      };
    }
  }
  return undefined;
}

/** The same facts from a PEM certificate (Istio 1.4's /etc/certs/cert-chain.pem). */
export function fromPem(pem: string, workload: string, pod: string, now = new Date()): CertificateReport | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!first) return undefined;
  const x = new X509Certificate(first);
  const spiffe = (x.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:spiffe://'))
    .map((s) => s.slice(4));
  const notAfter = new Date(x.validTo);
  return {
    workload,
    pod,
    spiffe,
    serial: x.serialNumber.toLowerCase(),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000),
  };
}
