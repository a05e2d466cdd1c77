// Waiting on the cluster by polling with a deadline: simple, deterministic, and the same against any
// API server (kube-exec-protocol.md §6 recommends it over watches for this).
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterError } from '../errors.js';
import { describeRef, type KubeObject } from '../model/kube-object.js';
import type { Cluster, ObjectRef } from './cluster.js';
import { labelSelector } from './pods.js';

/** Container states that will not get better by waiting. */
const HOPELESS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface DeploymentRef {
  namespace: string;
  name: string;
}

/** Waits until every deployment has rolled out and its pods are Ready; fails at once on a crash loop or a bad image. */
export async function waitForDeployments(
  cluster: Cluster,
  deployments: DeploymentRef[],
  timeoutMs: number,
  pollMs = 500,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = deployments;
  for (;;) {
    const states = await Promise.all(
      pending.map(async (d) => ({
        d,
        obj: await cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.namespace, name: d.name }),
      })),
    );
    pending = [];
    for (const { d, obj } of states) {
      if (!obj) throw new ClusterError(`deployment ${d.namespace}/${d.name} disappeared while meshprobe waited for it`);
      if (!rolledOut(obj)) pending.push(d);
    }
    if (pending.length === 0) return;
    await failOnHopelessPods(cluster, pending);
    if (Date.now() >= deadline) {
      const detail = await Promise.all(
        pending.map(async (d) => `${d.namespace}/${d.name}: ${await podStates(cluster, d)}`),
      );
      throw new ClusterError(
        `deployments not ready after ${Math.round(timeoutMs / 1000)} s: ${detail.join('; ')}`,
        'look at `kubectl describe pod` in those namespaces; raise --ready-timeout if the cluster is just slow',
      );
    }
    await sleep(pollMs);
  }
}

function rolledOut(d: KubeObject): boolean {
  const spec = d.spec as { replicas?: number } | undefined;
  const status = d.status as
    | { observedGeneration?: number; availableReplicas?: number; updatedReplicas?: number; readyReplicas?: number }
    | undefined;
  const want = spec?.replicas ?? 1;
  const generation = (d.metadata as { generation?: number }).generation ?? 0;
  return (
    (status?.observedGeneration ?? 0) >= generation &&
    (status?.availableReplicas ?? 0) >= want &&
    (status?.readyReplicas ?? status?.availableReplicas ?? 0) >= want
  );
}

async function podsOf(cluster: Cluster, d: DeploymentRef): Promise<KubeObject[]> {
  const dep = await cluster.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: d.namespace, name: d.name });
  const match = (dep?.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector
    ?.matchLabels;
  return cluster.list('v1', 'Pod', { namespace: d.namespace, labelSelector: labelSelector(match ?? {}) });
}

type ContainerStatus = {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: { exitCode?: number; reason?: string } };
};

function containerStatuses(pod: KubeObject): ContainerStatus[] {
  const st = pod.status as
    { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] } | undefined;
  return [...(st?.initContainerStatuses ?? []), ...(st?.containerStatuses ?? [])];
}

async function failOnHopelessPods(cluster: Cluster, deployments: DeploymentRef[]): Promise<void> {
  for (const d of deployments) {
    for (const pod of await podsOf(cluster, d)) {
      for (const c of containerStatuses(pod)) {
        const reason = c.state?.waiting?.reason;
        if (reason && HOPELESS.has(reason)) {
          const last = c.lastState?.terminated;
          throw new ClusterError(
            `pod ${d.namespace}/${pod.metadata.name} container ${c.name} is in ${reason}${c.state?.waiting?.message ? `: ${c.state.waiting.message}` : ''}${last ? ` (last exit code ${last.exitCode}${last.reason ? `, ${last.reason}` : ''}, ${c.restartCount ?? 0} restarts)` : ''}`,
            `kubectl logs -n ${d.namespace} ${pod.metadata.name} -c ${c.name} --previous`,
          );
        }
      }
    }
  }
}

async function podStates(cluster: Cluster, d: DeploymentRef): Promise<string> {
  const pods = await podsOf(cluster, d);
  if (pods.length === 0) return 'no pods';
  return pods
    .map((p) => {
      const phase = (p.status as { phase?: string } | undefined)?.phase ?? 'Unknown';
      const waiting = containerStatuses(p)
        .filter((c) => !c.ready)
        .map((c) => `${c.name} ${c.state?.waiting?.reason ?? 'not ready'}`);
      return `pod ${p.metadata.name} ${phase}${waiting.length ? ` (${waiting.join(', ')})` : ''}`;
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
