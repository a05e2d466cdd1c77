// Waiting on the cluster by polling with a deadline: simple, deterministic, and the same against any
// API server (kube-exec-protocol.md §6 recommends it over watches for this).
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterError } from '../errors.js';
import { describeRef, type KubeObject } from '../model/kube-object.js';
import type { Cluster, ObjectRef } from './cluster.js';
import { containerTrouble, createFailure, type ContainerState } from './pod-trouble.js';
import { labelSelector } from './pods.js';
import { replicaFailure, rolloutStatus } from './rollout.js';

export interface DeploymentRef {
  namespace: string;
  name: string;
}

export interface WaitOptions {
  pollMs?: number;
  /** SIGINT/SIGTERM: stop waiting at once; the caller removes what it made. */
  signal?: AbortSignal;
  /** How long pods that cannot be created (a webhook, a quota) may stay so before setup gives up. */
  createFailureGraceMs?: number;
}

/** Long enough for istiod to restart behind its webhook, short against the 300 s ready timeout. */
export const CREATE_FAILURE_GRACE_MS = 15_000;

/**
 * Waits until every deployment has rolled out (kubectl's rule, rollout.ts) and fails as soon as waiting
 * cannot help: pods admission refuses (at once for Pod Security, after a grace period otherwise), a crash
 * loop, an image the registry does not have or will not give. Transient pull errors are waited through,
 * as the kubelet retries them, until the timeout.
 */
export async function waitForDeployments(
  cluster: Cluster,
  deployments: DeploymentRef[],
  timeoutMs: number,
  o: WaitOptions = {},
): Promise<void> {
  const pollMs = o.pollMs ?? 500;
  const graceMs = o.createFailureGraceMs ?? CREATE_FAILURE_GRACE_MS;
  const deadline = Date.now() + timeoutMs;
  const lastPull = new Map<string, string>();
  const failingSince = new Map<string, number>();
  let refs = deployments;
  for (;;) {
    const states = await Promise.all(
      refs.map(async (d) => ({
        d,
        obj: await cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.namespace, name: d.name }),
      })),
    );
    const pending: Array<{ d: DeploymentRef; obj: KubeObject }> = [];
    for (const { d, obj } of states) {
      if (!obj) throw new ClusterError(`deployment ${d.namespace}/${d.name} disappeared while meshprobe waited for it`);
      const rollout = rolloutStatus(obj);
      if (rollout.state === 'done') continue;
      if (rollout.state === 'failed')
        throw new ClusterError(
          `${rollout.message} (${d.namespace}): ${await podStates(cluster, d, obj, lastPull)}`,
          `kubectl describe deployment -n ${d.namespace} ${d.name}`,
        );
      pending.push({ d, obj });
      const refused = replicaFailure(obj);
      if (!refused) failingSince.delete(key(d));
      else {
        const trouble = createFailure(d.namespace, refused.message);
        const since = failingSince.get(key(d)) ?? Date.now();
        failingSince.set(key(d), since);
        if (trouble.final || Date.now() - since >= graceMs)
          throw new ClusterError(
            `deployment ${d.namespace}/${d.name} cannot create its pods (${refused.reason}): ${trouble.message}`,
            trouble.fix,
          );
      }
    }
    if (pending.length === 0) return;
    refs = pending.map((p) => p.d);
    await failOnHopelessPods(cluster, pending, lastPull);
    if (Date.now() >= deadline) {
      const detail = await Promise.all(
        pending.map(async ({ d, obj }) => `${d.namespace}/${d.name}: ${await podStates(cluster, d, obj, lastPull)}`),
      );
      const pulls = [...lastPull.values()];
      throw new ClusterError(
        `deployments not ready after ${Math.round(timeoutMs / 1000)} s: ${detail.join('; ')}`,
        pulls.length
          ? 'the registry kept refusing pulls: authenticate the nodes to it or pre-load the images (kind load docker-image), or raise --ready-timeout'
          : 'look at `kubectl describe pod` in those namespaces; raise --ready-timeout if the cluster is just slow',
      );
    }
    await sleep(pollMs, undefined, { signal: o.signal });
  }
}

const key = (d: DeploymentRef) => `${d.namespace}/${d.name}`;

async function podsOf(cluster: Cluster, d: DeploymentRef, dep: KubeObject): Promise<KubeObject[]> {
  const match = (dep.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
    ?.matchLabels;
  return cluster.list('v1', 'Pod', { namespace: d.namespace, labelSelector: labelSelector(match ?? {}) });
}

function containerStatuses(pod: KubeObject): ContainerState[] {
  const st = pod.status as
    { containerStatuses?: ContainerState[]; initContainerStatuses?: ContainerState[] } | undefined;
  return [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])];
}

async function failOnHopelessPods(
  cluster: Cluster,
  deployments: Array<{ d: DeploymentRef; obj: KubeObject }>,
  lastPull: Map<string, string>,
): Promise<void> {
  for (const { d, obj } of deployments) {
    for (const pod of await podsOf(cluster, d, obj)) {
      if (pod.metadata.deletionTimestamp) continue;
      for (const c of containerStatuses(pod)) {
        const at = `${d.namespace}/${pod.metadata.name}/${c.name}`;
        if (c.state?.waiting?.reason === 'ErrImagePull' && c.state.waiting.message)
          lastPull.set(at, c.state.waiting.message);
        const trouble = containerTrouble({ namespace: d.namespace, name: pod.metadata.name }, c, lastPull.get(at));
        if (trouble) throw new ClusterError(trouble.message, trouble.fix);
      }
    }
  }
}

async function podStates(
  cluster: Cluster,
  d: DeploymentRef,
  dep: KubeObject,
  lastPull: Map<string, string>,
): Promise<string> {
  const pods = await podsOf(cluster, d, dep);
  if (pods.length === 0) {
    const refused = replicaFailure(dep);
    return refused ? `no pods (${refused.reason}: ${refused.message})` : 'no pods';
  }
  return pods
    .map((p) => {
      const phase = (p.status as { phase?: string } | undefined)?.phase ?? 'Unknown';
      const waiting = containerStatuses(p)
        .filter((c) => !c.ready)
        .map((c) => {
          const pull = lastPull.get(`${d.namespace}/${p.metadata.name}/${c.name}`);
          return `${c.name} ${c.state?.waiting?.reason ?? 'not ready'}${pull ? `; last pull error: ${pull}` : ''}`;
        });
      return `pod ${p.metadata.name} ${phase}${p.metadata.deletionTimestamp ? ' Terminating' : ''}${waiting.length ? ` (${waiting.join(', ')})` : ''}`;
    })
    .join(', ');
}

/** Waits until none of the objects exists any more (namespaces pass through Terminating). */
export async function waitUntilGone(
  cluster: Cluster,
  refs: ObjectRef[],
  timeoutMs: number,
  pollMs = 250,
  signal?: AbortSignal,
): Promise<void> {
  const left = await stillPresent(cluster, refs, timeoutMs, pollMs, signal);
  if (left.length)
    throw new ClusterError(
      `still present after ${Math.round(timeoutMs / 1000)} s: ${left.map((l) => l.description).join(', ')}`,
      'check for finalizers that hold them (kubectl get -o yaml)',
    );
}

/** What is still there once `timeoutMs` has passed (nothing, when all went), each with what holds it. */
export async function stillPresent(
  cluster: Cluster,
  refs: ObjectRef[],
  timeoutMs: number,
  pollMs = 250,
  signal?: AbortSignal,
): Promise<Array<{ ref: ObjectRef; description: string }>> {
  const deadline = Date.now() + timeoutMs;
  let left = refs;
  for (;;) {
    const exists = await Promise.all(left.map(async (r) => ({ r, obj: await cluster.get(r) })));
    left = exists.filter((x) => !!x.obj).map((x) => x.r);
    if (!left.length) return [];
    if (Date.now() >= deadline)
      return exists.filter((x) => !!x.obj).map((x) => ({ ref: x.r, description: describeLeft(x.obj!) }));
    await sleep(pollMs, undefined, { signal });
  }
}

/**
 * `Kind ns/name`, and for a namespace stuck in Terminating what the namespace controller says holds it:
 * the conditions it writes on every pass (kubernetes pkg/controller/namespace/deletion/namespaced_resources_deleter.go,
 * NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionContentFailure ...).
 */
export function describeLeft(obj: KubeObject): string {
  const id = describeRef({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
  if (!obj.metadata.deletionTimestamp) return id;
  const conditions = (
    (obj.status as { conditions?: Array<{ type?: string; status?: string; message?: string }> })?.conditions ?? []
  ).filter((c) => c.status === 'True' && c.message);
  const finalizers = (obj.metadata.finalizers as string[] | undefined) ?? [];
  const why = conditions.length
    ? conditions.map((c) => c.message).join('; ')
    : finalizers.length
      ? `finalizers ${finalizers.join(', ')}`
      : '';
  return `${id} (being deleted${why ? `: ${why}` : ''})`;
}
