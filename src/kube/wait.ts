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
    await sleep(pollMs);
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
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = refs;
  while (left.length) {
    const exists = await Promise.all(left.map(async (r) => ((await cluster.get(r)) ? r : undefined)));
    left = exists.filter((r): r is ObjectRef => !!r);
    if (!left.length) return;
    if (Date.now() >= deadline)
      throw new ClusterError(
        `still present after ${Math.round(timeoutMs / 1000)} s: ${left.map(describeRef).join(', ')}`,
        'check for finalizers that hold them (kubectl get -o yaml)',
      );
    await sleep(pollMs);
  }
}
