// The Cluster interface over @kubernetes/client-node 1.4 (the last major that runs on Node 20).
import { Writable } from 'node:stream';
import {
  ApisApi,
  AuthorizationV1Api,
  Exec,
  type KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Status,
} from '@kubernetes/client-node';
import { describeRef, objectId, type KubeObject } from '../model/kube-object.js';
import type { Cluster, ExecResult, IstioApis, ListOptions, ObjectRef } from './cluster.js';
import { apiClient, objectApi } from './api-clients.js';
import { clusterError, ExecError, statusOf } from './errors.js';
import { DEFAULT_TIMEOUTS, type Timeouts } from './http-timeouts.js';
import { exitCodeOf, refusalFailure, statusFailure } from './exec-failure.js';
import { execSocket, UpgradeRefused } from './exec-socket.js';
import { withRetry, type RetryPolicy, DEFAULT_RETRY } from './retry.js';

export const FIELD_MANAGER = 'meshprobe';

export class ClientNodeCluster implements Cluster {
  readonly context: string;
  readonly server: string;
  private readonly objects: KubernetesObjectApi;

  constructor(
    private readonly kc: KubeConfig,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly timeouts: Timeouts = DEFAULT_TIMEOUTS,
  ) {
    this.context = kc.getCurrentContext();
    this.server = kc.getCurrentCluster()?.server ?? '(none)';
    this.objects = objectApi(kc, timeouts);
  }

  private call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, this.retry).catch((e) => {
      throw clusterError(e, doing, this);
    });
  }

  version(): Promise<string> {
    return this.call(
      'read the server version',
      async () => (await apiClient(this.kc, VersionApi, this.timeouts).getCode()).gitVersion,
    );
  }

  istioApis(): Promise<IstioApis> {
    return this.call('discover the API groups', async () => {
      const groups = (await apiClient(this.kc, ApisApi, this.timeouts).getAPIVersions()).groups;
      const groupVersions = groups
        .filter((g) => g.name.endsWith('.istio.io'))
        .flatMap((g) =>
          [g.preferredVersion?.groupVersion, ...g.versions.map((v) => v.groupVersion)].filter(
            (v, i, a): v is string => !!v && a.indexOf(v) === i,
          ),
        );
      const has = (group: string) => groupVersions.some((gv) => gv.startsWith(`${group}/`));
      const flavor = has('security.istio.io') ? 'modern' : has('authentication.istio.io') ? 'legacy' : 'none';
      return { flavor, groupVersions };
    });
  }

  get(ref: ObjectRef): Promise<KubeObject | undefined> {
    return this.call(`read ${describe(ref)}`, async () => {
      try {
        return (await this.objects.read<KubernetesObject>(header(ref))) as KubeObject;
      } catch (e) {
        if (statusOf(e)?.code === 404) return undefined;
        throw e;
      }
    });
  }

  list(apiVersion: string, kind: string, o: ListOptions = {}): Promise<KubeObject[]> {
    return this.call(`list ${kind}${o.namespace ? ` in ${o.namespace}` : ''}`, async () => {
      const res = await this.objects.list(
        apiVersion,
        kind,
        o.namespace,
        undefined,
        undefined,
        undefined,
        o.fieldSelector,
        o.labelSelector,
      );
      return res.items.map((i) => ({ apiVersion, kind, ...i }) as KubeObject);
    });
  }

  apply(obj: KubeObject): Promise<KubeObject> {
    const body = { ...obj, metadata: { ...obj.metadata } };
    delete (body.metadata as Record<string, unknown>).resourceVersion;
    delete (body.metadata as Record<string, unknown>).managedFields;
    return this.call(
      `apply ${describe(obj)}`,
      async () =>
        (await this.objects.patch(
          body as KubernetesObject,
          undefined,
          undefined,
          FIELD_MANAGER,
          true,
          PatchStrategy.ServerSideApply,
        )) as KubeObject,
    );
  }

  replace(obj: KubeObject): Promise<KubeObject> {
    return this.call(
      `replace ${describe(obj)}`,
      async () =>
        (await this.objects.replace(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER)) as KubeObject,
    );
  }

  delete(ref: ObjectRef): Promise<boolean> {
    return this.call(`delete ${describe(ref)}`, async () => {
      try {
        await this.objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Background');
        return true;
      } catch (e) {
        if (statusOf(e)?.code === 404) return false;
        throw e;
      }
    });
  }

  canI(a: { verb: string; group: string; resource: string; namespace?: string }): Promise<boolean> {
    const [resource, subresource] = a.resource.split('/');
    return this.call('check permissions (SelfSubjectAccessReview)', async () => {
      const review = await apiClient(this.kc, AuthorizationV1Api, this.timeouts).createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb: a.verb, group: a.group, resource, subresource, namespace: a.namespace } },
        },
      });
      return review.status?.allowed === true;
    });
  }

  async exec(
    pod: { namespace: string; name: string },
    container: string,
    command: string[],
    opts: { timeoutMs: number },
  ): Promise<ExecResult> {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const sink = (into: Buffer[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(chunk);
          cb();
        },
      });
    const at = { ...pod, container };
    const output = () => ({
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
    });
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let socket: { close(): void } | undefined;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const timer = setTimeout(
        () =>
          finish(() => {
            socket?.close();
            reject(
              new ExecError(
                `exec in ${pod.namespace}/${pod.name} timed out after ${opts.timeoutMs} ms`,
                'transient',
                undefined,
                output(),
              ),
            );
          }),
        opts.timeoutMs,
      );
      const onStatus = (s: V1Status) =>
        finish(() => {
          const exitCode = exitCodeOf(s);
          if (exitCode !== undefined) resolve({ ...output(), exitCode });
          else reject(statusFailure(s, at));
        });
      // One Exec per call: its socket factory keeps the answer of a refused upgrade (exec-socket.ts).
      new Exec(this.kc, execSocket(this.kc))
        .exec(pod.namespace, pod.name, container, command, sink(out), sink(err), null, false, onStatus)
        .then((ws) => {
          socket = ws;
          if (settled) ws.close();
          // Without a Status (a dropped stream, or a proxy that does not pass channel 3 on: audit §15) the
          // caller gets what was written so far, and decides whether it is complete.
          ws.on('close', (code: number) =>
            setImmediate(() =>
              finish(() =>
                reject(
                  new ExecError(
                    `exec stream to ${pod.namespace}/${pod.name} closed (${code}) before the command's exit status arrived`,
                    'transient',
                    undefined,
                    output(),
                  ),
                ),
              ),
            ),
          );
          ws.on('error', (e: Error) =>
            finish(() =>
              reject(
                new ExecError(
                  `exec stream to ${pod.namespace}/${pod.name} failed: ${e.message}`,
                  'transient',
                  undefined,
                  output(),
                ),
              ),
            ),
          );
        })
        .catch((e: unknown) => finish(() => reject(upgradeError(e, at))));
    });
  }
}

/** A refused upgrade with the server's answer, or a failure to connect at all (worth another try). */
function upgradeError(e: unknown, at: { namespace: string; name: string; container: string }): ExecError {
  if (e instanceof UpgradeRefused) return refusalFailure(e.code, e.body, at);
  const message = (e as { message?: string })?.message ?? String(e);
  return new ExecError(`exec upgrade to ${at.namespace}/${at.name} failed: ${message}`, 'transient');
}

function header(ref: ObjectRef): { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

function describe(ref: ObjectRef | KubeObject): string {
  return 'metadata' in ref ? objectId(ref) : describeRef(ref);
}
