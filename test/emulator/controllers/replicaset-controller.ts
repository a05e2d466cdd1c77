// The ReplicaSet controller, as kubernetes/kubernetes v1.32 pkg/controller/replicaset does it
// (replica_set.go manageReplicas, replica_set_utils.go calculateStatus) with the pod control of
// pkg/controller/controller_utils.go: missing pods are created in slow-start batches (1, 2, 4 ...)
// that stop at the first refusal; each refusal is a FailedCreate event "Error creating: <the API
// server's message>" and, the first time, the ReplicaFailure condition with that message; the key is
// retried with the workqueue's exponential back-off (5 ms doubling, up to 1000 s) until a create
// succeeds. Surplus pods are deleted least useful first (unscheduled, pending, not ready, newest).
// Only active pods (not terminal, not being deleted) count in status.replicas; ready pods count as
// available after minReadySeconds.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp } from '../store.js';
import { ApiError } from '../api/status.js';
import { sortKeys } from '../api/validation.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { controllerRef, ownedBy } from './deployment-controller.js';
import { recordEvent } from './events.js';
import { nsName, splitKey, Timers, WorkQueue } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go controllers' structs

const SOURCE = { component: 'replicaset-controller' } as const;
/** workqueue.DefaultControllerRateLimiter's per-item exponential back-off. */
const RETRY_BASE_MS = 5;
const RETRY_MAX_MS = 1000_000;
/** controller.SlowStartInitialBatchSize. */
const SLOW_START_INITIAL_BATCH = 1;

function readyCondition(pod: KubeObject): Any | undefined {
  return (((pod.status as Any | undefined)?.conditions ?? []) as Any[]).find((c) => c.type === 'Ready');
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** podutil.IsPodAvailable: Ready for at least minReadySeconds. */
function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return false;
  if (minReadySeconds === 0) return true;
  return Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000 <= now;
}

/** controller.IsPodActive. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = (pod.status as Any | undefined)?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** ActivePodsWithRanks' order: the pods to delete first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const assigned = (p: KubeObject): number => Number(Boolean((p.spec as Any | undefined)?.nodeName));
  const phaseRank = (p: KubeObject): number =>
    ({ Pending: 0, Unknown: 1, Running: 2 })[String((p.status as Any | undefined)?.phase)] ?? 0;
  const restarts = (p: KubeObject): number =>
    (((p.status as Any | undefined)?.containerStatuses ?? []) as Any[]).reduce(
      (n, s) => Math.max(n, Number(s.restartCount ?? 0)),
      0,
    );
  return (
    assigned(a) - assigned(b) ||
    phaseRank(a) - phaseRank(b) ||
    Number(isPodReady(a)) - Number(isPodReady(b)) ||
    // Ready more recently first.
    String(readyCondition(b)?.lastTransitionTime ?? '').localeCompare(
      String(readyCondition(a)?.lastTransitionTime ?? ''),
    ) ||
    restarts(b) - restarts(a) ||
    String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp))
  );
}

export function startReplicaSetController(ctx: ControllerContext): Controller {
  const pods = builtIn(ctx, '', 'pods');
  const { store, objects } = ctx;
  const queue = new WorkQueue((key) => sync(key));
  const timers = new Timers();
  const failures = new Map<string, number>();
  const retries = new Map<string, NodeJS.Timeout>();

  function requeueAfter(key: string, ms: number): void {
    timers.cancel(retries.get(key));
    retries.set(
      key,
      timers.after(ms, () => {
        retries.delete(key);
        queue.add(key);
      }),
    );
  }

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const rs = store.get('apps', 'replicasets', namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as Any;
    const want = Number(spec.replicas ?? 1);
    const active = store.list('', 'pods', namespace).filter((p) => ownedBy(p, rs) && isPodActive(p));
    let error: ApiError | Error | undefined;
    if (active.length < want) error = createPods(rs, want - active.length);
    else if (active.length > want) deletePods(rs, [...active].sort(deletionOrder).slice(0, active.length - want));

    const latest = store.get('apps', 'replicasets', namespace, name);
    if (!latest) return;
    const status = calculateStatus(latest, error);
    if (JSON.stringify(sortKeys(latest.status ?? null)) !== JSON.stringify(sortKeys(status))) {
      const next = thaw(latest);
      next.status = status;
      store.put('apps', 'replicasets', next);
    }
    if (error) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      requeueAfter(key, Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** n));
      return;
    }
    failures.delete(key);
    const minReady = Number(spec.minReadySeconds ?? 0);
    if (minReady > 0 && status.readyReplicas === want && status.availableReplicas !== want)
      requeueAfter(key, minReady * 1000);
  }

  /** slowStartBatch: 1, 2, 4 ... pods at a time; a batch with a refusal ends the round. */
  function createPods(rs: KubeObject, count: number): ApiError | Error | undefined {
    let remaining = count;
    let batch = Math.min(remaining, SLOW_START_INITIAL_BATCH);
    while (batch > 0) {
      let error: ApiError | Error | undefined;
      for (let i = 0; i < batch; i++) {
        const e = createPod(rs);
        error ??= e;
      }
      if (error) return error;
      remaining -= batch;
      batch = Math.min(2 * batch, remaining);
    }
    return undefined;
  }

  function createPod(rs: KubeObject): ApiError | Error | undefined {
    const template = thaw((rs.spec as Any).template ?? {}) as Any;
    const namespace = rs.metadata.namespace;
    try {
      const pod = objects.create(
        pods,
        namespace,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            generateName: `${rs.metadata.name}-`,
            namespace,
            labels: template.metadata?.labels ?? {},
            annotations: template.metadata?.annotations,
            ownerReferences: [controllerRef(rs)],
          },
          spec: template.spec ?? {},
        },
        CONTROLLER_WRITE,
      );
      recordEvent(store, rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
      return undefined;
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      // Only send an event if the namespace isn't terminating (controller_utils.go createPods).
      const ns = store.get('', 'namespaces', undefined, namespace ?? '');
      if (ns && !ns.metadata.deletionTimestamp)
        recordEvent(store, rs, 'Warning', 'FailedCreate', `Error creating: ${error.message}`, SOURCE);
      return error;
    }
  }

  function deletePods(rs: KubeObject, victims: KubeObject[]): void {
    for (const pod of victims) {
      try {
        objects.delete(pods, pod.metadata.namespace, pod.metadata.name, {});
        recordEvent(store, rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
      } catch {
        // already gone
      }
    }
  }

  /** replica_set_utils.go calculateStatus; zero counts omitted as omitempty does. */
  function calculateStatus(rs: KubeObject, error: Error | undefined): Any {
    const spec = rs.spec as Any;
    const previous = (rs.status ?? {}) as Any;
    const active = store.list('', 'pods', rs.metadata.namespace).filter((p) => ownedBy(p, rs) && isPodActive(p));
    const templateLabels = (spec.template?.metadata?.labels ?? {}) as Record<string, string>;
    const now = Date.now();
    const minReady = Number(spec.minReadySeconds ?? 0);
    const status: Any = {
      replicas: active.length,
      fullyLabeledReplicas: active.filter((p) =>
        Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
      ).length,
      readyReplicas: active.filter(isPodReady).length,
      availableReplicas: active.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    const failure = ((previous.conditions ?? []) as Any[]).find((c) => c.type === 'ReplicaFailure');
    if (error && !failure) {
      const diff = active.length - Number(spec.replicas ?? 1);
      status.conditions = [
        {
          type: 'ReplicaFailure',
          status: 'True',
          lastTransitionTime: timestamp(),
          reason: diff < 0 ? 'FailedCreate' : 'FailedDelete',
          message: error.message,
        },
      ];
    } else if (error && failure) {
      status.conditions = previous.conditions;
    } else {
      const rest = ((previous.conditions ?? []) as Any[]).filter((c) => c.type !== 'ReplicaFailure');
      if (rest.length > 0) status.conditions = rest;
    }
    return status;
  }

  const unsubscribe = store.subscribe((e) => {
    const ns = e.object.metadata.namespace;
    if (e.group === 'apps' && e.resource === 'replicasets') {
      const key = nsName(ns, e.object.metadata.name);
      if (e.type === 'DELETED') {
        timers.cancel(retries.get(key));
        retries.delete(key);
        failures.delete(key);
      } else queue.add(key);
    }
    if (e.group === '' && e.resource === 'pods')
      for (const ref of e.object.metadata.ownerReferences ?? [])
        if (ref.kind === 'ReplicaSet' && ref.controller) queue.add(nsName(ns, ref.name));
  });
  return {
    stop() {
      unsubscribe();
      queue.stop();
      timers.clear();
    },
  };
}
