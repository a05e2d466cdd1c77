// Test scaffolding without the API server: a MemoryStore filled from the project's workload manifests, pods
// made from Deployment templates (with an istio-proxy container where the namespace is injected), and an
// exec helper that collects output. The must-show tests go through the real API server instead.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../contracts.js';
import { MemoryStore } from '../store.js';
import { createMeshRuntimeWith, type MeshRuntime, type MeshRuntimeOptions } from './index.js';
import type { Flavor } from './policy/types.js';

const GROUPS: Record<string, [string, string]> = {
  Service: ['', 'services'],
  ServiceAccount: ['', 'serviceaccounts'],
  ConfigMap: ['', 'configmaps'],
  Secret: ['', 'secrets'],
  Namespace: ['', 'namespaces'],
  Pod: ['', 'pods'],
  PeerAuthentication: ['security.istio.io', 'peerauthentications'],
  DestinationRule: ['networking.istio.io', 'destinationrules'],
  MeshPolicy: ['authentication.istio.io', 'meshpolicies'],
  Policy: ['authentication.istio.io', 'policies'],
};

let clock = Date.parse('2026-01-01T00:00:00Z');

export class Cluster {
  readonly store = new MemoryStore();
  runtime!: MeshRuntime;
  private ipSeq = 10;

  static async start(flavor: Flavor, options: MeshRuntimeOptions = {}): Promise<Cluster> {
    const c = new Cluster();
    c.runtime = await createMeshRuntimeWith({
      store: c.store,
      flavor,
      propagationDelayMs: { min: 0, max: 0 },
      ...options,
    });
    return c;
  }

  apply(obj: KubeObject): void {
    const [group, resource] = GROUPS[obj.kind] ?? [];
    if (resource === undefined || group === undefined) throw new Error(`fixture cannot store ${obj.kind}`);
    clock += 1000;
    const meta = {
      ...obj.metadata,
      creationTimestamp: obj.metadata.creationTimestamp ?? new Date(clock).toISOString(),
    };
    this.store.put(group, resource, { ...obj, metadata: meta });
  }

  applyYaml(text: string, namespace?: string): void {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as KubeObject | null;
      if (!obj) continue;
      if (namespace && obj.kind !== 'MeshPolicy' && obj.kind !== 'Namespace') obj.metadata.namespace ??= namespace;
      this.apply(obj);
    }
  }

  deleteYaml(text: string): void {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj) this.delete(obj.kind, obj.metadata.namespace, obj.metadata.name);
    }
  }

  delete(kind: string, namespace: string | undefined, name: string): void {
    const [group, resource] = GROUPS[kind]!;
    this.store.remove(group, resource, namespace, name);
  }

  /** Applies a workload manifest in a namespace and starts one pod per Deployment. */
  async deploy(file: string, namespace: string, injected: boolean, forceInject = false): Promise<void> {
    for (const doc of parseAllDocuments(
      readFileSync(new URL(`../../../manifests/workloads/${file}`, import.meta.url), 'utf8'),
    )) {
      const obj = doc.toJS() as KubeObject;
      obj.metadata.namespace = namespace;
      if (obj.kind !== 'Deployment') {
        this.apply(obj);
        continue;
      }
      const template = (
        obj.spec as {
          template: {
            metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
            spec: Record<string, unknown>;
          };
        }
      ).template;
      const optOut = !forceInject && template.metadata.annotations?.['sidecar.istio.io/inject'] === 'false';
      const spec = structuredClone(template.spec) as { containers: Array<Record<string, unknown>> };
      if (injected && !optOut) spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' });
      const pod: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${obj.metadata.name}-0`,
          namespace,
          labels: {
            ...template.metadata.labels,
            ...(injected && !optOut ? { 'security.istio.io/tlsMode': 'istio' } : {}),
          },
        },
        spec,
        status: { phase: 'Running', podIP: `10.244.0.${this.ipSeq++}` },
      };
      this.apply(pod);
      await this.runtime.startPod(this.store.get('', 'pods', namespace, pod.metadata.name)!);
    }
  }

  async exec(
    namespace: string,
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
    const podObj = this.store.get('', 'pods', namespace, pod);
    if (!podObj) throw new Error(`no pod ${namespace}/${pod}`);
    const r = await this.runtime.exec({
      pod: podObj,
      container,
      command,
      stdin: null,
      stdout,
      stderr,
      tty: false,
      signal: new AbortController().signal,
    });
    return { code: r.kind === 'exited' ? r.code : `runtime-error: ${r.message}`, stdout: out, stderr: err };
  }

  /** curl as meshprobe runs it: status code on stdout, exit code from the process. */
  async curl(
    fromNs: string,
    url: string,
    extra: string[] = [],
  ): Promise<{ exit: number | string; http: string; body: string; stderr: string }> {
    const r = await this.exec(fromNs, 'sleep-0', 'sleep', [
      'curl',
      '-sS',
      '-m',
      '10',
      '-w',
      '\n%{http_code}',
      ...extra,
      url,
    ]);
    const nl = r.stdout.lastIndexOf('\n');
    return { exit: r.code, http: r.stdout.slice(nl + 1), body: r.stdout.slice(0, Math.max(nl, 0)), stderr: r.stderr };
  }

  async stop(): Promise<void> {
    await this.runtime.close();
  }
}

export function tlsSecret(namespace: string, name: string, certPem: string, keyPem: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace },
    data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
  } as KubeObject;
}
