import type { KubeObject } from '../model/kube-object.js';
import type { TlsSecretSpec } from '../model/topology.js';
import { issueCertificate } from '../pki/certificate.js';

/** A kubernetes.io/tls Secret with a fresh self-signed certificate, as `openssl req -x509 -days 365` makes in the article. */
export function tlsSecret(spec: TlsSecretSpec, now = new Date()): KubeObject {
  const cert = issueCertificate({
    role: 'leaf',
    subject: { commonName: spec.commonName, organization: spec.commonName },
    altNames: {
      dns: [
        spec.commonName,
        `${spec.commonName}.${spec.namespace}`,
        `${spec.commonName}.${spec.namespace}.svc`,
        `${spec.commonName}.${spec.namespace}.svc.cluster.local`,
      ],
    },
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 365 * 86_400_000),
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: spec.name, namespace: spec.namespace },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(cert.certPem).toString('base64'),
      'tls.key': Buffer.from(cert.keyPem).toString('base64'),
    },
  };
}
