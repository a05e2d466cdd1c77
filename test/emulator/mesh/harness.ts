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
  exec(ns: string, pod: string, container: string, command: string[]): Promise<{ code: number | string; stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

export const TEST_DELAY = { min: 20, max: 60 };

/** The task's `kubectl create secret tls nginxsecret` with a fresh self-signed certificate for my-nginx. */
export function nginxSecretYaml(ns: string): string {
  const now = Date.now();
  const c = issueCertificate({ role: 'leaf', subject: { commonName: 'my-nginx', organization: 'my-nginx' }, altNames: { dns: ['my-nginx'] }, notBefore: new Date(now - 60_000), notAfter: new Date(now + 365 * 86_400_000) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return `apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: nginxsecret\n  namespace: ${ns}\ndata:\n  tls.crt: ${b64(c.certPem)}\n  tls.key: ${b64(c.keyPem)}\n`;
}

/**
 * A harness over the in-process store (fixture.ts) instead of the API server: objects are written to the
 * store directly, pods are made from the Deployment templates. Used where the API server cannot run the
 * case (see startHarnessFor in api-harness.ts).
 */
export async function startStoreHarness(flavor: import('./policy/types.js').Flavor, namespaces: NamespaceSpec[], options: import('./index.js').MeshRuntimeOptions = {}): Promise<Harness> {
  const { Cluster } = await import('./fixture.js');
  const c = await Cluster.start(flavor, { propagationDelayMs: TEST_DELAY, ...options });
  for (const n of namespaces) {
    if (n.workloads.includes('my-nginx')) c.applyYaml(nginxSecretYaml(n.ns));
    for (const w of n.workloads) await c.deploy(`${w}.yaml`, n.ns, n.injected, n.forceInject ?? false);
  }
  const max = options.propagationDelayMs?.max ?? TEST_DELAY.max;
  const settle = () => new Promise<void>((r) => setTimeout(r, max + 60));
  await settle();
  return {
    apply: async (yamls) => yamls.forEach((y) => c.applyYaml(y)),
    remove: async (yamls) => yamls.forEach((y) => c.deleteYaml(y)),
    settle,
    curl: async (fromNs, url, opts = {}) => {
      const r = await c.exec(fromNs, 'sleep-0', opts.container ?? 'sleep', ['curl', '-sS', '-m', '10', '-w', '\n%{http_code}', ...(opts.extra ?? []), url]);
      const nl = r.stdout.lastIndexOf('\n');
      return { exit: r.code, http: r.stdout.slice(nl + 1), body: r.stdout.slice(0, Math.max(nl, 0)), stderr: r.stderr };
    },
    exec: (ns, pod, container, command) => c.exec(ns, pod, container, command),
    stop: () => c.stop(),
  };
}
