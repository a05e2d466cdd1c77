// What the data-plane tests need from a cluster: apply and remove objects as YAML, curl from a namespace's
// sleep pod, exec anywhere, wait out the propagation delay. api-harness.ts provides it on the API server.
import { issueCertificate } from '../../../src/pki/certificate.js';

export interface NamespaceSpec {
  ns: string;
  injected: boolean;
  workloads: Array<'httpbin' | 'sleep' | 'my-nginx'>;
  /** Inject even workloads that opt out (the https-overlay task's "nginx with sidecar"). */
  forceInject?: boolean;
}

export interface CurlResult {
  exit: number | string;
  http: string;
  body: string;
  stderr: string;
}

export interface Harness {
  apply(yamls: string[]): Promise<void>;
  remove(yamls: string[]): Promise<void>;
  /** Waits longer than the largest propagation delay. */
  settle(): Promise<void>;
  curl(fromNs: string, url: string, opts?: { container?: string; extra?: string[] }): Promise<CurlResult>;
  exec(
    ns: string,
    pod: string,
    container: string,
    command: string[],
  ): Promise<{ code: number | string; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export const TEST_DELAY = { min: 20, max: 60 };

/** The task's `kubectl create secret tls nginxsecret` with a fresh self-signed certificate for my-nginx. */
export function nginxSecretYaml(ns: string): string {
  const now = Date.now();
  const c = issueCertificate({
    role: 'leaf',
    subject: { commonName: 'my-nginx', organization: 'my-nginx' },
    altNames: { dns: ['my-nginx'] },
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 365 * 86_400_000),
  });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: nginxsecret\n  namespace: ${ns}\ndata:\n  tls.crt: ${b64(c.certPem)}\n  tls.key: ${b64(c.keyPem)}\n`;
}
