// The data-plane tests' harness on the real emulated API server: workloads and policies go in with
// `kubectl apply` as a user would, probes run curl through the pods/exec API with @kubernetes/client-node,
// the mesh is the cluster's container runtime.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../contracts.js';
import { startEmulator, type Emulator } from '../index.js';
import type { CurlResult, Harness, NamespaceSpec } from './harness.js';
import { nginxSecretYaml, TEST_DELAY } from './harness.js';
import { meshRuntimeFactory, type MeshRuntimeOptions } from './index.js';
import type { Flavor } from './policy/types.js';

export function workloadYaml(name: string): string {
  return readFileSync(new URL(`../../../manifests/workloads/${name}.yaml`, import.meta.url), 'utf8');
}

export class ApiCluster {
  private constructor(
    readonly emu: Emulator,
    private readonly kc: KubeConfig,
  ) {}

  static async start(flavor: Flavor, options: MeshRuntimeOptions = {}): Promise<ApiCluster> {
    const emu = await startEmulator({
      istio: flavor,
      runtime: meshRuntimeFactory({ propagationDelayMs: TEST_DELAY, ...options }),
      podReadyDelayMs: 50,
    });
    const kc = new KubeConfig();
    kc.loadFromString(emu.kubeconfig());
    return new ApiCluster(emu, kc);
  }

  async kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        'kubectl',
        args,
        { env: { ...process.env, KUBECONFIG: this.emu.kubeconfigPath }, timeout: 60_000 },
        (error, stdout, stderr) => {
          const code = error
            ? typeof (error as { code?: unknown }).code === 'number'
              ? (error as { code: number }).code
              : 1
            : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (stdin !== undefined) child.stdin?.end(stdin);
    });
  }

  async apply(yaml: string, namespace?: string): Promise<void> {
    const r = await this.kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], yaml);
    if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
  }

  async delete(yaml: string): Promise<void> {
    const r = await this.kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], yaml);
    if (r.code !== 0) throw new Error(`kubectl delete failed: ${r.stderr}`);
  }

  pods(ns: string, app?: string): KubeObject[] {
    return this.emu.store
      .list('', 'pods', ns)
      .filter((p) => !p.metadata.deletionTimestamp && (app === undefined || p.metadata.labels?.app === app));
  }

  /** Polls (bounded) until every pod of these namespaces is Ready. */
  async waitReady(namespaces: string[], timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pods = namespaces.flatMap((ns) => this.pods(ns));
      const ready =
        pods.length > 0 &&
        pods.every((p) =>
          ((p.status as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some(
            (c) => c.type === 'Ready' && c.status === 'True',
          ),
        );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`pods not ready in ${namespaces.join(',')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async exec(
    ns: string,
    pod: string,
    container: string,
    command: string[],
  ): Promise<{ code: number | string; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (d: Buffer) => (out += d.toString()));
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const status = await new Promise<V1Status>((resolve, reject) => {
      new Exec(this.kc).exec(ns, pod, container, command, stdout, stderr, null, false, resolve).catch(reject);
    });
    let code: number | string = 0;
    if (status.status !== 'Success') {
      const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
      code = cause?.message !== undefined ? Number(cause.message) : `error: ${status.message ?? ''}`;
    }
    return { code, stdout: out, stderr: err };
  }

  async stop(): Promise<void> {
    await this.emu.stop();
  }
}

export async function startApiHarness(
  flavor: Flavor,
  namespaces: NamespaceSpec[],
  options: MeshRuntimeOptions = {},
): Promise<Harness & { cluster: ApiCluster }> {
  const c = await ApiCluster.start(flavor, options);
  // One `kubectl apply` for the whole topology: namespaces first, then each namespace's workloads.
  const docs: string[] = [];
  for (const n of namespaces) {
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n.ns}\n${n.injected ? '  labels:\n    istio-injection: enabled\n' : ''}`,
    );
  }
  for (const n of namespaces) {
    if (n.workloads.includes('my-nginx')) docs.push(nginxSecretYaml(n.ns));
    for (const w of n.workloads) {
      for (const doc of parseAllDocuments(workloadYaml(w))) {
        const obj = doc.toJS() as KubeObject | null;
        if (!obj) continue;
        obj.metadata.namespace = n.ns;
        if (n.forceInject)
          delete (obj as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } }).spec
            ?.template?.metadata?.annotations?.['sidecar.istio.io/inject'];
        docs.push(stringify(obj));
      }
    }
  }
  await c.apply(docs.join('---\n'));
  await c.waitReady(namespaces.map((n) => n.ns));
  const max = options.propagationDelayMs?.max ?? TEST_DELAY.max;
  const settle = () => new Promise<void>((r) => setTimeout(r, max + 60));
  await settle();
  const podOf = (ns: string, app: string) => {
    const p = c.pods(ns, app)[0];
    if (!p) throw new Error(`no ${app} pod in ${ns}`);
    return p.metadata.name;
  };
  return {
    cluster: c,
    apply: async (yamls) => {
      if (yamls.length > 0) await c.apply(yamls.join('---\n'));
    },
    remove: async (yamls) => {
      if (yamls.length > 0) await c.delete(yamls.join('---\n'));
    },
    settle,
    curl: async (fromNs, url, opts = {}): Promise<CurlResult> => {
      const r = await c.exec(fromNs, podOf(fromNs, 'sleep'), opts.container ?? 'sleep', [
        'curl',
        '-sS',
        '-m',
        '10',
        '-w',
        '\n%{http_code}',
        ...(opts.extra ?? []),
        url,
      ]);
      const nl = r.stdout.lastIndexOf('\n');
      return { exit: r.code, http: r.stdout.slice(nl + 1), body: r.stdout.slice(0, Math.max(nl, 0)), stderr: r.stderr };
    },
    exec: (ns, pod, container, command) => c.exec(ns, pod, container, command),
    stop: () => c.stop(),
  };
}
