// The seam between meshprobe and a cluster. Everything above src/kube sees only this interface, so
// tests can swap in an in-memory fake; the one implementation that talks to a real API server is
// client-node-cluster.ts.
import type { KubeObject } from '../model/kube-object.js';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Which Istio APIs the cluster serves, from discovery. */
export interface IstioApis {
  /** `modern`: security.istio.io (Istio >= 1.5); `legacy`: only authentication.istio.io (Istio <= 1.4); `none`: no Istio CRDs. */
  flavor: 'modern' | 'legacy' | 'none';
  /** Served group/versions, e.g. `security.istio.io/v1`, preferred first within a group. */
  groupVersions: string[];
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface Cluster {
  /** The kubeconfig context and API server URL, for messages and reports. */
  readonly context: string;
  readonly server: string;
  /** `v1.32.0`; the first call, so it is also the reachability and authentication check. */
  version(): Promise<string>;
  istioApis(): Promise<IstioApis>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** Server-side apply as field manager `meshprobe`, taking ownership of conflicting fields. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** Replaces an existing object (PUT), `metadata.resourceVersion` guarding against lost updates. */
  replace(obj: KubeObject): Promise<KubeObject>;
  /** Deletes in the background; false when it was already gone. */
  delete(ref: ObjectRef): Promise<boolean>;
  /** Runs a command in a container and waits for its exit code (or throws ExecError). */
  exec(
    pod: { namespace: string; name: string },
    container: string,
    command: string[],
    opts: { timeoutMs: number },
  ): Promise<ExecResult>;
  /** SelfSubjectAccessReview. */
  canI(access: { verb: string; group: string; resource: string; namespace?: string }): Promise<boolean>;
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});
