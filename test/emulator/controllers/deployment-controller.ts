// The deployment controller, as kubernetes/kubernetes v1.32 pkg/controller/deployment does it
// (deployment_controller.go syncDeployment, rolling.go, recreate.go, sync.go, progress.go): a new pod
// template gets a ReplicaSet named by its pod-template-hash; a RollingUpdate grows it by maxSurge and
// shrinks the old ones only as far as maxUnavailable allows, one step per change of the ReplicaSets'
// status, so old pods keep serving until new ones are available; the status (replicas, updated, ready,
// available, unavailable, observedGeneration) is summed from the ReplicaSets; Progressing and Available
// are kept as progress.go keeps them, with the new ReplicaSet's ReplicaFailure copied in, and a
// rollout that makes no progress for progressDeadlineSeconds is marked ProgressDeadlineExceeded.
import type { KubeObject } from '../contracts.js';
import { thaw } from '../store.js';
import { ApiError } from '../api/status.js';
import { fnv32a, safeEncode } from '../api/names.js';
import { sortKeys } from '../api/validation.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { recordEvent } from './events.js';
import { nsName, splitKey, Timers, WorkQueue } from './queue.js';
import {
  byCreation,
  conditionOf,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  DESIRED_REPLICAS,
  findNewReplicaSet,
  FOUND_NEW_RS_REASON,
  hasProgressDeadline,
  isRollingUpdate,
  isSaturated,
  maxSurge,
  maxUnavailable,
  NEW_RS_AVAILABLE_REASON,
  NEW_RS_REASON,
  newCondition,
  newRSNewReplicas,
  PAUSED_REASON,
  proportion,
  removeCondition,
  replicasOf,
  RESUMED_REASON,
  REVISION,
  revisionOf,
  RS_UPDATED_REASON,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
  statusOf,
  sumStatus,
  TEMPLATE_HASH_LABEL,
  TIMED_OUT_REASON,
} from './deployment-util.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go controllers' structs

const SOURCE = { component: 'deployment-controller' } as const;

/** controller.ComputeHash: the template's hash, perturbed by status.collisionCount after a name clash. */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const text = JSON.stringify(sortKeys(template ?? {}));
  return safeEncode(String(fnv32a(collisionCount ? `${text}#${collisionCount}` : text)));
}

export function ownedBy(obj: KubeObject, owner: KubeObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true);
}

export function controllerRef(owner: KubeObject): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  } as never;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a ?? null)) === JSON.stringify(sortKeys(b ?? null));
}

export function startDeploymentController(ctx: ControllerContext): Controller {
  const replicasets = builtIn(ctx, 'apps', 'replicasets');
  const { store, objects } = ctx;
  const queue = new WorkQueue((key) => sync(key));
  const timers = new Timers();
  const progressChecks = new Map<string, NodeJS.Timeout>();

  function sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const live = store.get('apps', 'deployments', namespace, name);
    if (!live) return;
    const d = thaw(live) as KubeObject;
    const rsList = store.list('apps', 'replicasets', namespace).filter((rs) => ownedBy(rs, d));
    if (d.metadata.deletionTimestamp) return syncStatusOnly(d, rsList);
    checkPausedConditions(d);
    if ((d.spec as Any).paused) return scaleAndSync(d, rsList);
    if (isScalingEvent(d, rsList)) return scaleAndSync(d, rsList);
    if (!isRollingUpdate(d)) return rolloutRecreate(d, rsList);
    return rolloutRolling(d, rsList);
  }

  // --- ReplicaSets --------------------------------------------------------------------------------

  function oldReplicaSets(d: KubeObject, rsList: KubeObject[]): KubeObject[] {
    const current = findNewReplicaSet(d, rsList);
    return rsList.filter((rs) => rs !== current);
  }

  /** getNewReplicaSet: the existing new ReplicaSet with its revision synced, or (if asked) a new one. */
  function newReplicaSet(d: KubeObject, rsList: KubeObject[], create: boolean): KubeObject | undefined {
    const existing = findNewReplicaSet(d, rsList);
    const olds = rsList.filter((rs) => rs !== existing);
    const newRevision = Math.max(0, ...olds.map(revisionOf)) + 1;
    const status = (d.status ??= {}) as Any;
    if (existing) {
      const copy = thaw(existing) as Any;
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReady = Number((d.spec as Any).minReadySeconds ?? 0);
      if (annotationsChanged || Number(copy.spec.minReadySeconds ?? 0) !== minReady) {
        copy.spec.minReadySeconds = minReady;
        if (minReady === 0) delete copy.spec.minReadySeconds;
        return objects.update(replicasets, copy.metadata.namespace, copy.metadata.name, copy, CONTROLLER_WRITE);
      }
      let needsUpdate = setDeploymentRevision(d, String(copy.metadata.annotations?.[REVISION] ?? ''));
      if (hasProgressDeadline(d) && !conditionOf(status, 'Progressing')) {
        setCondition(
          status,
          newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${copy.metadata.name}"`),
        );
        needsUpdate = true;
      }
      if (needsUpdate) writeDeployment(d);
      return existing;
    }
    if (!create) return undefined;
    const spec = d.spec as Any;
    const template = thaw(spec.template) as Any;
    const hash = podTemplateHash(spec.template, Number(status.collisionCount ?? 0));
    template.metadata = {
      ...(template.metadata ?? {}),
      labels: { ...(template.metadata?.labels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
    };
    const rs: Any = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: template.metadata.labels,
        ownerReferences: [controllerRef(d)],
      },
      spec: {
        replicas: 0,
        selector: {
          ...(spec.selector ?? {}),
          matchLabels: { ...(spec.selector?.matchLabels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
        },
        template,
      },
    };
    if (spec.minReadySeconds) rs.spec.minReadySeconds = spec.minReadySeconds;
    const count = newRSNewReplicas(d, [...olds, rs as KubeObject], rs as KubeObject);
    rs.spec.replicas = count;
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    let created: KubeObject;
    try {
      created = objects.create(replicasets, d.metadata.namespace, rs as KubeObject, CONTROLLER_WRITE);
    } catch (error) {
      const message = error instanceof ApiError ? error.message : String(error);
      if (terminating(d.metadata.namespace)) return undefined;
      const msg = `Failed to create new replica set "${String(rs.metadata.name)}": ${message}`;
      if (hasProgressDeadline(d)) {
        setCondition(status, newCondition('Progressing', 'False', 'ReplicaSetCreateError', msg));
        writeDeployment(d);
      }
      recordEvent(store, d, 'Warning', 'ReplicaSetCreateError', msg, SOURCE);
      return undefined;
    }
    if (count > 0)
      recordEvent(
        store,
        d,
        'Normal',
        'ScalingReplicaSet',
        `Scaled up replica set ${created.metadata.name} to ${count}`,
        SOURCE,
      );
    setDeploymentRevision(d, String(newRevision));
    if (hasProgressDeadline(d))
      setCondition(
        status,
        newCondition('Progressing', 'True', NEW_RS_REASON, `Created new replica set "${created.metadata.name}"`),
      );
    writeDeployment(d);
    return created;
  }

  function setDeploymentRevision(d: KubeObject, revision: string): boolean {
    if (!revision || d.metadata.annotations?.[REVISION] === revision) return false;
    d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [REVISION]: revision };
    return true;
  }

  /** scaleReplicaSet: the new size and the replica annotations, with the ScalingReplicaSet event. */
  function scaleReplicaSet(rs: KubeObject, size: number, d: KubeObject, operation?: 'up' | 'down'): boolean {
    const old = replicasOf(rs);
    const copy = thaw(rs) as Any;
    const annotations = setReplicasAnnotations(copy, replicasOf(d), replicasOf(d) + maxSurge(d));
    if (old === size && !annotations) return false;
    copy.spec.replicas = size;
    objects.update(replicasets, copy.metadata.namespace, copy.metadata.name, copy, CONTROLLER_WRITE);
    if (old === size) return false;
    const op = operation ?? (old < size ? 'up' : 'down');
    recordEvent(
      store,
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${op} replica set ${rs.metadata.name} to ${size} from ${old}`,
      SOURCE,
    );
    return true;
  }

  // --- strategies ---------------------------------------------------------------------------------

  /** rolling.go rolloutRolling: scale up if we can, else scale down if we can, then sync the status. */
  function rolloutRolling(d: KubeObject, rsList: KubeObject[]): void {
    const newRS = newReplicaSet(d, rsList, true);
    const fresh = (): KubeObject[] =>
      store.list('apps', 'replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
    const olds = oldReplicaSets(d, fresh()).filter((rs) => rs.metadata.name !== newRS?.metadata.name);
    const current = newRS ? store.get('apps', 'replicasets', d.metadata.namespace, newRS.metadata.name) : undefined;
    if (current && reconcileNewReplicaSet(d, [...olds, current], current)) return syncRolloutStatus(d, fresh());
    if (
      current &&
      reconcileOldReplicaSets(
        d,
        [...olds, current],
        olds.filter((rs) => replicasOf(rs) > 0),
        current,
      )
    )
      return syncRolloutStatus(d, fresh());
    const status = calculateStatus(fresh(), d);
    if (deploymentComplete(d, status)) cleanupDeployment(d, oldReplicaSets(d, fresh()));
    syncRolloutStatus(d, fresh());
  }

  function reconcileNewReplicaSet(d: KubeObject, all: KubeObject[], newRS: KubeObject): boolean {
    const want = replicasOf(d);
    if (replicasOf(newRS) === want) return false;
    if (replicasOf(newRS) > want) return scaleReplicaSet(newRS, want, d);
    return scaleReplicaSet(newRS, newRSNewReplicas(d, all, newRS), d);
  }

  /** rolling.go reconcileOldReplicaSets: never below spec.replicas - maxUnavailable available pods. */
  function reconcileOldReplicaSets(d: KubeObject, all: KubeObject[], olds: KubeObject[], newRS: KubeObject): boolean {
    if (specReplicas(olds) === 0) return false;
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - statusOf(newRS, 'availableReplicas');
    const maxScaledDown = specReplicas(all) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas first: removing them costs no availability.
    let cleaned = 0;
    const sorted = [...olds].sort(byCreation);
    for (let i = 0; i < sorted.length && cleaned < maxScaledDown; i++) {
      const rs = sorted[i]!;
      const unhealthy = replicasOf(rs) - statusOf(rs, 'availableReplicas');
      if (replicasOf(rs) === 0 || unhealthy <= 0) continue;
      const count = Math.min(maxScaledDown - cleaned, unhealthy);
      scaleReplicaSet(rs, replicasOf(rs) - count, d);
      cleaned += count;
      sorted[i] = store.get('apps', 'replicasets', rs.metadata.namespace, rs.metadata.name) ?? rs;
    }
    // Then as many available ones as maxUnavailable allows.
    const everyone = [...sorted, newRS];
    const available = sumStatus(everyone, 'availableReplicas');
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (const rs of sorted) {
        if (scaled >= total) break;
        if (replicasOf(rs) === 0) continue;
        const count = Math.min(replicasOf(rs), total - scaled);
        scaleReplicaSet(rs, replicasOf(rs) - count, d);
        scaled += count;
      }
    }
    return cleaned + scaled > 0;
  }

  /** recreate.go: old pods all gone (not just terminating) before the new ReplicaSet is scaled up. */
  function rolloutRecreate(d: KubeObject, rsList: KubeObject[]): void {
    const existing = findNewReplicaSet(d, rsList);
    const olds = rsList.filter((rs) => rs !== existing);
    let scaledDown = false;
    for (const rs of olds) if (replicasOf(rs) > 0 && scaleReplicaSet(rs, 0, d)) scaledDown = true;
    const fresh = (): KubeObject[] =>
      store.list('apps', 'replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
    if (scaledDown) return syncRolloutStatus(d, fresh());
    const oldUids = new Set(olds.map((rs) => rs.metadata.uid));
    const oldPodsRunning = store
      .list('', 'pods', d.metadata.namespace)
      .some(
        (p) =>
          (p.metadata.ownerReferences ?? []).some((r) => oldUids.has(r.uid)) &&
          !['Succeeded', 'Failed'].includes(String((p.status as Any | undefined)?.phase)),
      );
    if (oldPodsRunning) return syncRolloutStatus(d, fresh());
    const newRS = newReplicaSet(d, fresh(), true);
    if (newRS && replicasOf(newRS) !== replicasOf(d)) scaleReplicaSet(newRS, replicasOf(d), d);
    if (deploymentComplete(d, calculateStatus(fresh(), d))) cleanupDeployment(d, oldReplicaSets(d, fresh()));
    syncRolloutStatus(d, fresh());
  }

  /** isScalingEvent: an active ReplicaSet's desired-replicas annotation differs from spec.replicas. */
  function isScalingEvent(d: KubeObject, rsList: KubeObject[]): boolean {
    newReplicaSet(d, rsList, false);
    const fresh = store.list('apps', 'replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
    return fresh.some((rs) => {
      if (replicasOf(rs) === 0) return false;
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      return desired !== undefined && Number(desired) !== replicasOf(d);
    });
  }

  /** sync.go sync + scale: proportional scaling of the active ReplicaSets on a scaling event or while paused. */
  function scaleAndSync(d: KubeObject, rsList: KubeObject[]): void {
    const newRS = newReplicaSet(d, rsList, false);
    const fresh = (): KubeObject[] =>
      store.list('apps', 'replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d));
    const all = fresh();
    const current = newRS ? all.find((rs) => rs.metadata.name === newRS.metadata.name) : undefined;
    const olds = all.filter((rs) => rs !== current);
    const active = all.filter((rs) => replicasOf(rs) > 0);
    if (active.length <= 1) {
      const target = active[0] ?? current ?? [...olds].sort(byCreation).reverse()[0];
      if (target && replicasOf(target) !== replicasOf(d)) scaleReplicaSet(target, replicasOf(d), d);
    } else if (isSaturated(d, current)) {
      for (const rs of olds) if (replicasOf(rs) > 0) scaleReplicaSet(rs, 0, d);
    } else if (isRollingUpdate(d)) {
      const allowed = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
      const toAdd = allowed - specReplicas(active);
      const sorted = [...active].sort((a, b) =>
        replicasOf(a) !== replicasOf(b)
          ? replicasOf(b) - replicasOf(a)
          : toAdd > 0
            ? byCreation(b, a)
            : byCreation(a, b),
      );
      let added = 0;
      const sizes = new Map<string, number>();
      for (const rs of sorted) {
        const p = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
        sizes.set(rs.metadata.name, replicasOf(rs) + p);
        added += p;
      }
      sorted.forEach((rs, i) => {
        let size = sizes.get(rs.metadata.name) ?? replicasOf(rs);
        if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
        scaleReplicaSet(rs, size, d, toAdd > 0 ? 'up' : 'down');
      });
    }
    if ((d.spec as Any).paused) cleanupDeployment(d, oldReplicaSets(d, fresh()));
    syncDeploymentStatus(d, fresh());
  }

  /** sync.go cleanupDeployment: keep revisionHistoryLimit old ReplicaSets, oldest revisions go first. */
  function cleanupDeployment(d: KubeObject, olds: KubeObject[]): void {
    const limit = (d.spec as Any).revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = olds.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
    const diff = cleanable.length - Number(limit);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if (
        statusOf(rs, 'replicas') !== 0 ||
        replicasOf(rs) !== 0 ||
        Number(rs.metadata.generation ?? 0) > statusOf(rs, 'observedGeneration')
      )
        continue;
      try {
        objects.delete(replicasets, rs.metadata.namespace, rs.metadata.name, {});
      } catch {
        // already gone
      }
    }
  }

  // --- status ---------------------------------------------------------------------------------------

  /** sync.go calculateStatus. */
  function calculateStatus(all: KubeObject[], d: KubeObject): Any {
    const newRS = findNewReplicaSet(d, all);
    const available = sumStatus(all, 'availableReplicas');
    const total = specReplicas(all);
    const status: Any = {
      observedGeneration: d.metadata.generation,
      replicas: sumStatus(all, 'replicas'),
      updatedReplicas: newRS ? statusOf(newRS, 'replicas') : 0,
      readyReplicas: sumStatus(all, 'readyReplicas'),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
    };
    const previous = (d.status ?? {}) as Any;
    if (previous.collisionCount !== undefined) status.collisionCount = previous.collisionCount;
    if (previous.conditions) status.conditions = structuredClone(previous.conditions);
    if (available >= replicasOf(d) - maxUnavailable(d))
      setCondition(
        status,
        newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      );
    else
      setCondition(
        status,
        newCondition(
          'Available',
          'False',
          'MinimumReplicasUnavailable',
          'Deployment does not have minimum availability.',
        ),
      );
    return status;
  }

  function syncDeploymentStatus(d: KubeObject, all: KubeObject[]): void {
    const status = calculateStatus(all, d);
    writeStatus(d, status);
  }

  /** progress.go syncRolloutStatus. */
  function syncRolloutStatus(d: KubeObject, all: KubeObject[]): void {
    const status = calculateStatus(all, d);
    const newRS = findNewReplicaSet(d, all);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = conditionOf(d.status as Any, 'Progressing');
    const isComplete =
      Number(status.replicas) === Number(status.updatedReplicas) && current?.reason === NEW_RS_AVAILABLE_REASON;
    if (hasProgressDeadline(d) && !isComplete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(
          status,
          newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, `${subject} has successfully progressed.`),
        );
      } else if (deploymentProgressing(d, status)) {
        // Progress refreshes lastUpdateTime even with the same reason, unlike setCondition.
        const c = newCondition('Progressing', 'True', RS_UPDATED_REASON, `${subject} is progressing.`);
        if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        status.conditions = [...((status.conditions ?? []) as Any[]), c];
      } else if (deploymentTimedOut(d, status)) {
        setCondition(
          status,
          newCondition('Progressing', 'False', TIMED_OUT_REASON, `${subject} has timed out progressing.`),
        );
      }
    }
    const failure = replicaFailure(all, newRS);
    if (failure) setCondition(status, failure);
    else removeCondition(status, 'ReplicaFailure');
    if (!writeStatus(d, status)) requeueStuckDeployment(d, status);
  }

  /** getReplicaFailures + ReplicaSetToDeploymentCondition: the new ReplicaSet's failure first. */
  function replicaFailure(all: KubeObject[], newRS: KubeObject | undefined): Any | undefined {
    const failureOf = (rs: KubeObject | undefined): Any | undefined => {
      const c = conditionOf(rs?.status as Any | undefined, 'ReplicaFailure');
      if (!c) return undefined;
      return {
        type: 'ReplicaFailure',
        status: c.status,
        lastUpdateTime: c.lastTransitionTime,
        lastTransitionTime: c.lastTransitionTime,
        reason: c.reason,
        message: c.message,
      };
    };
    return failureOf(newRS) ?? all.map(failureOf).find((c) => c !== undefined);
  }

  /** requeueStuckDeployment: look again when the progress deadline passes. */
  function requeueStuckDeployment(d: KubeObject, status: Any): void {
    const key = nsName(d.metadata.namespace, d.metadata.name);
    const current = conditionOf(d.status as Any, 'Progressing');
    if (!hasProgressDeadline(d) || !current) return;
    if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return;
    if (progressChecks.has(key)) return;
    const after =
      Date.parse(current.lastUpdateTime) + Number((d.spec as Any).progressDeadlineSeconds) * 1000 - Date.now();
    progressChecks.set(
      key,
      timers.after(Math.max(0, after) + 1000, () => {
        progressChecks.delete(key);
        queue.add(key);
      }),
    );
  }

  function checkPausedConditions(d: KubeObject): void {
    if (!hasProgressDeadline(d)) return;
    const status = (d.status ??= {}) as Any;
    const c = conditionOf(status, 'Progressing');
    if (c?.reason === TIMED_OUT_REASON) return;
    const pausedCond = c?.reason === PAUSED_REASON;
    const paused = Boolean((d.spec as Any).paused);
    if (paused && !pausedCond)
      setCondition(status, newCondition('Progressing', 'Unknown', PAUSED_REASON, 'Deployment is paused'));
    else if (!paused && pausedCond)
      setCondition(status, newCondition('Progressing', 'Unknown', RESUMED_REASON, 'Deployment is resumed'));
    else return;
    writeDeployment(d);
  }

  function syncStatusOnly(d: KubeObject, rsList: KubeObject[]): void {
    newReplicaSet(d, rsList, false);
    syncDeploymentStatus(
      d,
      store.list('apps', 'replicasets', d.metadata.namespace).filter((rs) => ownedBy(rs, d)),
    );
  }

  /** Zero counts are omitted, as the Go structs' omitempty does. */
  function writeStatus(d: KubeObject, status: Any): boolean {
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'])
      if (status[k] === 0) delete status[k];
    const live = store.get('apps', 'deployments', d.metadata.namespace, d.metadata.name);
    if (!live || live.metadata.uid !== d.metadata.uid) return false;
    const annotationsChanged = !same(live.metadata.annotations, d.metadata.annotations);
    if (!annotationsChanged && same(live.status, status)) return false;
    const next = thaw(live);
    next.status = status;
    next.metadata.annotations = d.metadata.annotations;
    if (!next.metadata.annotations) delete next.metadata.annotations;
    store.put('apps', 'deployments', next);
    d.status = status;
    return true;
  }

  /** UpdateStatus with what getNewReplicaSet changed (revision annotation, conditions). */
  function writeDeployment(d: KubeObject): void {
    writeStatus(d, structuredClone((d.status ?? {}) as Any));
  }

  function terminating(namespace: string | undefined): boolean {
    const ns = store.get('', 'namespaces', undefined, namespace ?? '');
    return !ns || Boolean(ns.metadata.deletionTimestamp);
  }

  const unsubscribe = store.subscribe((e) => {
    const ns = e.object.metadata.namespace;
    if (e.group === 'apps' && e.resource === 'deployments') {
      if (e.type === 'DELETED') {
        const key = nsName(ns, e.object.metadata.name);
        timers.cancel(progressChecks.get(key));
        progressChecks.delete(key);
      } else queue.add(nsName(ns, e.object.metadata.name));
    }
    if (e.group === 'apps' && e.resource === 'replicasets')
      for (const ref of e.object.metadata.ownerReferences ?? [])
        if (ref.kind === 'Deployment' && ref.controller) queue.add(nsName(ns, ref.name));
  });
  return {
    stop() {
      unsubscribe();
      queue.stop();
      timers.clear();
    },
  };
}
