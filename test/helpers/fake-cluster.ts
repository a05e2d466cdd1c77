// An in-memory Cluster (src/kube/cluster.ts) for specs of the orchestrator's decisions: a map of
// objects, a log of every call that changes one, and a scripted exec. Deployments come up at once
// with one Ready pod, with an istio-proxy where the namespace asks for injection. It models only what
// the orchestrator relies on; fidelity to a real API server is the emulator's job (test/emulator/).
import { ClusterError } from '../../src/errors.js';
import type { Cluster, ExecResult, IstioApis, ListOptions, ObjectRef } from '../../src/kube/cluster.js';
import { describeRef, type KubeObject } from '../../src/model/kube-object.js';
import type { Topology } from '../../src/model/topology.js';

export interface ExecCall {
  pod: { namespace: string; name: string };
  container: string;
  command: string[];
}

/** Answers an exec, or throws (an ExecError, as client-node-cluster.ts would). */
export type ExecScript = (call: ExecCall) => ExecResult | Promise<ExecResult>;

const MODERN: IstioApis = {
  flavor: 'modern',
  groupVersions: ['security.istio.io/v1', 'security.istio.io/v1beta1', 'networking.istio.io/v1'],
};

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
const keyOf = (r: { apiVersion: string; kind: string; namespace?: string; name: string }) =>
  `${group(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});

export class FakeCluster implements Cluster {
  readonly context = 'fake';
  readonly server = 'https://fake.invalid:6443';
  /** `apply|replace|delete Kind ns/name`, in the order the calls came. */
  readonly log: string[] = [];
  /** Called before each change is stored, with what the log will say; throwing fails the call. */
  beforeWrite: (entry: string, target: ObjectRef) => void = () => {};
  /** Called at each SelfSubjectAccessReview (the preflight's), e.g. to send a signal then. */
  onCanI: () => void = () => {};
  /** Deployments (`ns/name`) that never become ready. */
  readonly neverReady = new Set<string>();
  exec: (pod: ExecCall['pod'], container: string, command: string[]) => Promise<ExecResult>;
  private readonly apis: IstioApis;
  private readonly objects = new Map<string, KubeObject>();
  private version_ = 0;

  constructor(o: { exec?: ExecScript; apis?: IstioApis; objects?: KubeObject[] } = {}) {
    const script = o.exec ?? (() => ({ stdout: '', stderr: '', exitCode: 0 }));
    this.exec = async (pod, container, command) => script({ pod, container, command });
    this.apis = o.apis ?? MODERN;
    for (const obj of o.objects ?? []) this.store(obj);
  }

  async version(): Promise<string> {
    return 'v1.30.0';
  }

  async istioApis(): Promise<IstioApis> {
    return this.apis;
  }

  async canI(): Promise<boolean> {
    this.onCanI();
    return true;
  }

  async get(ref: ObjectRef): Promise<KubeObject | undefined> {
    const o = this.objects.get(keyOf(ref));
    return o && structuredClone(o);
  }

  async list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    // `key=value` and `key` (the label exists), as the API server reads a label selector.
    const selector = (opts.labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string | undefined]);
    return [...this.objects.values()]
      .filter((o) => group(o.apiVersion) === group(apiVersion) && o.kind === kind)
      .filter((o) => opts.namespace === undefined || o.metadata.namespace === opts.namespace)
      .filter((o) =>
        selector.every(([k, v]) =>
          v === undefined ? o.metadata.labels?.[k] !== undefined : o.metadata.labels?.[k] === v,
        ),
      )
      .map((o) => structuredClone(o));
  }

  async apply(obj: KubeObject): Promise<KubeObject> {
    this.write('apply', refOf(obj));
    return this.store(obj);
  }

  async replace(obj: KubeObject): Promise<KubeObject> {
    this.write('replace', refOf(obj));
    const now = this.objects.get(keyOf(refOf(obj)));
    if (!now || now.metadata.resourceVersion !== obj.metadata.resourceVersion)
      throw new ClusterError(`conflict replacing ${describeRef(refOf(obj))}`, undefined, { code: 409 });
    return this.store(obj);
  }

  async delete(ref: ObjectRef): Promise<boolean> {
    if (!this.objects.has(keyOf(ref))) return false;
    this.write('delete', ref);
    this.objects.delete(keyOf(ref));
    if (ref.kind === 'Namespace')
      for (const [k, o] of this.objects) if (o.metadata.namespace === ref.name) this.objects.delete(k);
    // The garbage collector removes a Deployment's pods with it.
    if (ref.kind === 'Deployment')
      this.objects.delete(keyOf({ apiVersion: 'v1', kind: 'Pod', namespace: ref.namespace, name: `${ref.name}-0` }));
    return true;
  }

  /** Every object of the store (copies). */
  all(): KubeObject[] {
    return [...this.objects.values()].map((o) => structuredClone(o));
  }

  /** Every object of the store, as `Kind ns/name`, sorted: what a test compares before and after. */
  contents(): string[] {
    return [...this.objects.values()].map((o) => describeRef(refOf(o))).sort();
  }

  private write(verb: string, ref: ObjectRef): void {
    const entry = `${verb} ${describeRef(ref)}`;
    this.beforeWrite(entry, ref);
    this.log.push(entry);
  }

  private store(obj: KubeObject): KubeObject {
    const key = keyOf(refOf(obj));
    const old = this.objects.get(key);
    const stored: KubeObject = structuredClone({
      ...obj,
      metadata: {
        ...obj.metadata,
        uid: old?.metadata.uid ?? `uid-${++this.version_}`,
        creationTimestamp: old?.metadata.creationTimestamp ?? new Date(0).toISOString(),
        resourceVersion: String(++this.version_),
        generation: 1,
      },
    });
    if (obj.kind === 'Deployment') this.rollOut(stored);
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  /** A Deployment is rolled out at once, its one pod Running and Ready. */
  private rollOut(d: KubeObject): void {
    const spec = d.spec as { replicas?: number; template: { metadata?: { labels?: Record<string, string> } } };
    const replicas = spec.replicas ?? 1;
    if (this.neverReady.has(`${d.metadata.namespace}/${d.metadata.name}`)) {
      d.status = { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: 0, readyReplicas: 0 };
      return;
    }
    d.status = {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      availableReplicas: replicas,
      readyReplicas: replicas,
    };
    const ns = this.objects.get(keyOf({ apiVersion: 'v1', kind: 'Namespace', name: d.metadata.namespace ?? '' }));
    const injected = ns?.metadata.labels?.['istio-injection'] === 'enabled';
    const containers = [{ name: d.metadata.name }, ...(injected ? [{ name: 'istio-proxy' }] : [])];
    this.store({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${d.metadata.name}-0`,
        namespace: d.metadata.namespace,
        labels: spec.template.metadata?.labels,
      },
      spec: { containers },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }
}

/**
 * The topology with a Deployment for each of its workloads (and a Service for each service) among its
 * namespaces' objects, as a topology file's manifests would put them, so that setup has something to
 * wait for and the clients have pods.
 */
export function withWorkloads(topology: Topology): Topology {
  return {
    ...topology,
    namespaces: topology.namespaces.map((n) => ({
      ...n,
      objects: [
        ...topology.workloads
          .filter((w) => w.namespace === n.name)
          .map((w) => ({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: w.name },
            spec: {
              selector: { matchLabels: w.labels },
              template: { metadata: { labels: w.labels }, spec: { containers: [{ name: w.name }] } },
            },
          })),
        ...topology.services
          .filter((s) => s.namespace === n.name)
          .map((s) => ({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: s.name },
            spec: { selector: s.selector, ports: s.ports.map((p) => ({ name: p.name, port: p.port })) },
          })),
      ],
    })),
  };
}

/** What curl came to for one URL, written the way the probe script's `-w` trailer writes it. */
export interface CurlAnswer {
  httpCode: number;
  curlExit?: number;
  body?: string;
  error?: string;
}

/**
 * An exec script that answers meshprobe's probe command (src/probe/command.ts: `sh -c SCRIPT
 * meshprobe-probe NONCE TIMEOUT INSECURE URL...`) with one body and trailer per URL.
 */
export function probeAnswers(answer: (call: ExecCall, url: string) => CurlAnswer): ExecScript {
  return (call) => {
    const [, , , , nonce, , , ...args] = call.command;
    // As src/probe/command.ts passes them: INDEX METHOD URL triples, `--`, then the GET URLs by %{urlnum};
    // to the per-URL script, METHOD URL pairs in order.
    const split = args.indexOf('--');
    const transfers: Array<[index: string, url: string]> = [];
    if (split < 0) for (let i = 0; i + 1 < args.length; i += 2) transfers.push([String(i / 2), args[i + 1]!]);
    else {
      const others = args.slice(0, split);
      for (let i = 0; i + 2 < others.length; i += 3) transfers.push([others[i]!, others[i + 2]!]);
      for (const [i, url] of args.slice(split + 1).entries()) transfers.push([String(i), url]);
    }
    const stdout = transfers
      .map(([i, url]) => {
        const a = answer(call, url);
        const code = String(a.httpCode).padStart(3, '0');
        return `${a.body ?? ''}\n@@${nonce} ${i} http ${code} exit ${a.curlExit ?? 0} err ${a.error ?? ''}\n`;
      })
      .join('');
    return { stdout, stderr: '', exitCode: 0 };
  };
}
