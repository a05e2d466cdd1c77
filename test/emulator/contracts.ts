// The seams between the emulated API server (api/, store, controllers) and what runs behind it
// (a container runtime: the plain one runs commands on the host; the mesh one adds sidecars,
// real TLS and emulated DNS). Both sides are test doubles; neither imports meshprobe's policy code.
import type { Readable, Writable } from 'node:stream';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Identifies a served resource: group ('' for core), version and plural, e.g. ('security.istio.io', 'v1', 'peerauthentications'). */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  /** Group and plural; the version is the storage version (objects of all served versions share one store). */
  group: string;
  resource: string;
  object: KubeObject;
}

/**
 * The in-process view of the emulated cluster's objects. Writes made through it get a new global
 * resourceVersion and are seen by API watchers exactly as writes through the HTTP API are.
 */
export interface ObjectStore {
  get(group: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(group: string, resource: string, namespace?: string): KubeObject[];
  /** Creates or replaces an object (controllers use it for status and for objects they own). */
  put(group: string, resource: string, object: KubeObject): KubeObject;
  remove(group: string, resource: string, namespace: string | undefined, name: string): void;
  /** Calls back on every change, after it is stored. Returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
}

export interface ExecRequest {
  pod: KubeObject;
  container: string;
  command: string[];
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  tty: boolean;
  /** Aborted when the client goes away; the runtime kills what it started. */
  signal: AbortSignal;
}

export type ExecResult =
  | { kind: 'exited'; code: number }
  /** The runtime could not start the command (unknown executable, container without a shell ...). The
   *  message is what containerd would say; the API server turns it into an InternalError Status. */
  | { kind: 'runtime-error'; message: string };

/**
 * What runs the pods. The API server calls startPod once a pod is admitted and scheduled (it has its
 * podIP), stopPod when it is deleted, and exec for the exec subresource.
 */
export interface ContainerRuntime {
  startPod(pod: KubeObject): Promise<void>;
  stopPod(pod: KubeObject): Promise<void>;
  exec(req: ExecRequest): Promise<ExecResult>;
  close(): Promise<void>;
  /** Optional: what `kubectl logs` shows for a container (empty when absent). */
  logs?(pod: KubeObject, container: string): Promise<string> | string;
  /**
   * Optional: the 127.0.0.1 port standing for `podIP:port` as a client outside every pod (the API server's
   * service proxy, a node) reaches it, through the pod's sidecar when it has one; undefined when nothing
   * listens there (connection refused). Without it, the service proxy finds nothing listening.
   */
  dial?(podIP: string, port: number): Promise<number | undefined>;
}

/** Which Istio the emulated cluster has installed ('none': no istio-system, no CRDs, no injection). */
export type IstioFlavor = 'modern' | 'legacy' | 'none';

/**
 * What the emulator hands a runtime factory. Objects read from `store` are frozen snapshots: clone
 * (structuredClone) before changing one, then `put` the copy.
 */
export interface RuntimeContext {
  store: ObjectStore;
  istio: IstioFlavor;
  /** The installed Istio version ('1.24.2', '1.4.10'); undefined when istio is 'none'. */
  istioVersion: string | undefined;
  /** The control plane's revision ('1-24-2'), when installed as one; its mesh config is `istio-REV`. */
  istioRevision?: string;
  /** The mesh root CA that the emulated istiod publishes as ConfigMap `istio-ca-root-cert`; a runtime
   *  that issues workload certificates should sign them with it so the published root verifies them. */
  meshCA: { certPem: string; keyPem: string };
  /** The cluster DNS domain ('cluster.local'). */
  clusterDomain: string;
  /** A private temporary directory for this emulator instance; removed by stop(). */
  workDir: string;
}

export type RuntimeFactory = (ctx: RuntimeContext) => ContainerRuntime | Promise<ContainerRuntime>;
