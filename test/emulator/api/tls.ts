// The API server's own PKI: a throwaway CA and a serving certificate for 127.0.0.1 / localhost, so
// kubectl and client-node verify the server with certificate-authority-data and send their tokens
// (client-go sends no credentials to a server it does not reach over TLS).
import { issueCertificate } from '../../../src/pki/certificate.js';

export interface ServerPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export function createServerPki(): ServerPki {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const ca = issueCertificate({ subject: { commonName: 'kubernetes' }, role: 'ca', notBefore, notAfter });
  const serving = issueCertificate({
    subject: { commonName: 'kube-apiserver' },
    altNames: {
      dns: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      ip: ['127.0.0.1'],
    },
    role: 'leaf',
    issuer: { certPem: ca.certPem, key: ca.key },
    notBefore,
    notAfter,
  });
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem };
}
