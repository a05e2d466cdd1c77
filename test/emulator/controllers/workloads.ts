// Deployment -> ReplicaSet -> Pod, as the deployment and replicaset controllers do it, compressed in
// time: a new template gets a new ReplicaSet named by its pod-template-hash, older ones go to zero at
// once, pods are named <replicaset>-<5 chars> and owned by their ReplicaSet, and both status blocks
// (observedGeneration, replicas, ready/available counts, conditions) follow the pods.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp } from '../store.js';
import { ApiError } from '../api/status.js';
import { fnv32a, safeEncode } from '../api/names.js';
import { matchesSelectorObject } from '../api/selectors.js';
import { sortKeys } from '../api/validation.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { nsName, splitKey, WorkQueue } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go controllers' structs

export const TEMPLATE_HASH_LABEL = 'pod-template-hash';

export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv32a(JSON.stringify(sortKeys(template ?? {})))));
}

function ownedBy(obj: KubeObject, owner: KubeObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller === true);
}

function controllerRef(owner: KubeObject): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  } as never;
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as Any | undefined)?.conditions ?? []) as Any[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

function sameIgnoringTimes(a: unknown, b: unknown): boolean {
  const strip = (v: unknown): unknown =>
    JSON.parse(
      JSON.stringify(v ?? null, (k, val: unknown) =>
        k === 'lastUpdateTime' || k === 'lastTransitionTime' ? undefined : val,
      ),
    );
  return JSON.stringify(sortKeys(strip(a))) === JSON.stringify(sortKeys(strip(b)));
}

/** Keeps a condition's lastTransitionTime when its status did not change. */
function condition(
  previous: Any[] | undefined,
  type: string,
  status: string,
  reason: string,
  message: string,
  withUpdateTime: boolean,
): Any {
  const now = timestamp();
  const old = previous?.find((c) => c.type === type);
  const c: Any = { type, status, reason, message };
  if (withUpdateTime)
    c.lastUpdateTime = old && old.status === status && old.reason === reason ? old.lastUpdateTime : now;
  c.lastTransitionTime = old && old.status === status ? old.lastTransitionTime : now;
  return c;
}

export function startWorkloadControllers(ctx: ControllerContext): Controller {
  const replicasets = builtIn(ctx, 'apps', 'replicasets');
  const pods = builtIn(ctx, '', 'pods');
  const { store, objects } = ctx;

  const deploymentQueue = new WorkQueue((key) => reconcileDeployment(key));
  const replicaSetQueue = new WorkQueue((key) => reconcileReplicaSet(key));

  function reconcileDeployment(key: string): void {
    const { namespace, name } = splitKey(key);
    const d = store.get('apps', 'deployments', namespace, name);
    if (!d || d.metadata.deletionTimestamp) return;
    const spec = d.spec as Any;
    const replicas = Number(spec.replicas ?? 1);
    const hash = podTemplateHash(spec.template);
    const rsName = `${name}-${hash}`;
    const owned = store.list('apps', 'replicasets', namespace).filter((rs) => ownedBy(rs, d));
    const revisions = owned.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0));
    let current = owned.find((rs) => rs.metadata.name === rsName);
    const revision =
      current?.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? String(Math.max(0, ...revisions) + 1);
    const rsAnnotations = {
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + Math.ceil(replicas * 0.25)),
      'deployment.kubernetes.io/revision': revision,
    };
    if (!current) {
      const template = thaw(spec.template) as Any;
      template.metadata = {
        ...(template.metadata ?? {}),
        labels: { ...(template.metadata?.labels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
      };
      current = objects.create(
        replicasets,
        namespace,
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: rsName,
            namespace,
            labels: template.metadata.labels,
            annotations: rsAnnotations,
            ownerReferences: [controllerRef(d)],
          },
          spec: {
            replicas,
            selector: {
              ...(spec.selector ?? {}),
              matchLabels: { ...(spec.selector?.matchLabels ?? {}), [TEMPLATE_HASH_LABEL]: hash },
            },
            template,
          },
        },
        CONTROLLER_WRITE,
      );
    } else if (
      Number((current.spec as Any).replicas) !== replicas ||
      current.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] !== String(replicas)
    ) {
      const next = thaw(current);
      (next.spec as Any).replicas = replicas;
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...rsAnnotations };
      current = objects.update(replicasets, namespace, next.metadata.name, next, CONTROLLER_WRITE);
    }
    for (const old of owned) {
      if (old.metadata.name === rsName || Number((old.spec as Any).replicas) === 0) continue;
      const next = thaw(old);
      (next.spec as Any).replicas = 0;
      objects.update(replicasets, namespace, next.metadata.name, next, CONTROLLER_WRITE);
    }
    writeDeploymentStatus(
      d,
      current,
      store.list('apps', 'replicasets', namespace).filter((rs) => ownedBy(rs, d)),
      revision,
    );
  }

  function writeDeploymentStatus(d: KubeObject, current: KubeObject, all: KubeObject[], revision: string): void {
    const spec = d.spec as Any;
    const replicas = Number(spec.replicas ?? 1);
    const sum = (field: string): number =>
      all.reduce((n, rs) => n + Number((rs.status as Any | undefined)?.[field] ?? 0), 0);
    const updated = Number((current.status as Any | undefined)?.replicas ?? 0);
    const available = sum('availableReplicas');
    const previous = ((d.status as Any | undefined)?.conditions ?? []) as Any[];
    const complete = updated === replicas && available >= replicas && sum('replicas') === replicas;
    const status: Any = {
      observedGeneration: d.metadata.generation,
      replicas: sum('replicas'),
      updatedReplicas: updated,
      readyReplicas: sum('readyReplicas'),
      availableReplicas: available,
      conditions: [
        available >= replicas
          ? condition(
              previous,
              'Available',
              'True',
              'MinimumReplicasAvailable',
              'Deployment has minimum availability.',
              true,
            )
          : condition(
              previous,
              'Available',
              'False',
              'MinimumReplicasUnavailable',
              'Deployment does not have minimum availability.',
              true,
            ),
        complete
          ? condition(
              previous,
              'Progressing',
              'True',
              'NewReplicaSetAvailable',
              `ReplicaSet "${current.metadata.name}" has successfully progressed.`,
              true,
            )
          : condition(
              previous,
              'Progressing',
              'True',
              'ReplicaSetUpdated',
              `ReplicaSet "${current.metadata.name}" is progressing.`,
              true,
            ),
      ],
    };
    for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    if (replicas - available > 0) status.unavailableReplicas = replicas - available;
    const revisionChanged = d.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision;
    if (!revisionChanged && sameIgnoringTimes(d.status, status)) return;
    const next = thaw(d);
    next.status = status;
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': revision };
    store.put('apps', 'deployments', next);
  }

  function reconcileReplicaSet(key: string): void {
    const { namespace, name } = splitKey(key);
    const rs = store.get('apps', 'replicasets', namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const spec = rs.spec as Any;
    const want = Number(spec.replicas ?? 1);
    const mine = store.list('', 'pods', namespace).filter((p) => ownedBy(p, rs));
    const active = mine.filter(
      (p) =>
        !p.metadata.deletionTimestamp &&
        !['Succeeded', 'Failed'].includes(String((p.status as Any | undefined)?.phase)),
    );
    let failure: string | undefined;
    for (let i = active.length; i < want; i++) {
      const template = thaw(spec.template ?? {}) as Any;
      try {
        const pod = objects.create(
          pods,
          namespace,
          {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              generateName: `${name}-`,
              namespace,
              labels: template.metadata?.labels ?? {},
              annotations: template.metadata?.annotations,
              ownerReferences: [controllerRef(rs)],
            },
            spec: template.spec ?? {},
          },
          CONTROLLER_WRITE,
        );
        active.push(pod);
      } catch (error) {
        // As the replicaset controller: record FailedCreate and try again when something changes.
        failure = error instanceof ApiError ? error.message : String(error);
        break;
      }
    }
    if (active.length > want) {
      // Scale down: not-ready pods first, then the newest.
      const victims = [...active]
        .sort(
          (a, b) =>
            Number(isReady(a)) - Number(isReady(b)) ||
            String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
        )
        .slice(0, active.length - want);
      for (const v of victims) {
        try {
          objects.delete(pods, namespace, v.metadata.name, {});
        } catch {
          // already gone
        }
      }
    }
    const current = store.list('', 'pods', namespace).filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp);
    const ready = current.filter(isReady).length;
    const status: Any = {
      replicas: current.length,
      fullyLabeledReplicas: current.filter((p) => matchesSelectorObject(spec.selector, p.metadata.labels)).length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'])
      if (status[k] === 0) delete status[k];
    if (failure) {
      const previous = ((rs.status as Any | undefined)?.conditions ?? []) as Any[];
      status.conditions = [condition(previous, 'ReplicaFailure', 'True', 'FailedCreate', failure, false)];
    }
    const latest = store.get('apps', 'replicasets', namespace, name);
    if (!latest || sameIgnoringTimes(latest.status, status)) return;
    const next = thaw(latest);
    next.status = status;
    store.put('apps', 'replicasets', next);
  }

  const unsubscribe = store.subscribe((e) => {
    const ns = e.object.metadata.namespace;
    if (e.group === 'apps' && e.resource === 'deployments' && e.type !== 'DELETED')
      deploymentQueue.add(nsName(ns, e.object.metadata.name));
    if (e.group === 'apps' && e.resource === 'replicasets') {
      if (e.type !== 'DELETED') replicaSetQueue.add(nsName(ns, e.object.metadata.name));
      for (const ref of e.object.metadata.ownerReferences ?? [])
        if (ref.kind === 'Deployment') deploymentQueue.add(nsName(ns, ref.name));
    }
    if (e.group === '' && e.resource === 'pods') {
      for (const ref of e.object.metadata.ownerReferences ?? [])
        if (ref.kind === 'ReplicaSet') replicaSetQueue.add(nsName(ns, ref.name));
    }
    if (e.group === '' && e.resource === 'serviceaccounts' && e.type === 'ADDED') {
      // A pod refused for a missing ServiceAccount is retried once the account exists.
      for (const rs of store.list('apps', 'replicasets', ns)) replicaSetQueue.add(nsName(ns, rs.metadata.name));
    }
  });
  return {
    stop() {
      unsubscribe();
      deploymentQueue.stop();
      replicaSetQueue.stop();
    },
  };
}
