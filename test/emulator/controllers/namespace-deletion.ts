// What the namespace controller writes while a namespace terminates, and the namespace-stuck fault.
//
// Conditions: kubernetes/kubernetes v1.32 pkg/controller/namespace/deletion/status_condition_utils.go. Every
// pass of deleteAllContent (namespaced_resources_deleter.go) sets all five condition types: the failing ones
// True with what remains ("Some resources are remaining: configmaps. has 1 resource instances", GVR
// resource "." group), the others False with their "ok" reason and message. lastTransitionTime changes only
// when the status flips.
//
// The fault: a finalizer nobody removes. With `content`, objects inside keep it: the controller deletes them,
// they stay with a deletionTimestamp, and the namespace stays Terminating with ContentRemaining and
// FinalizersRemaining True. With `finalizer`, the namespace's spec.finalizers holds another controller's
// token: the controller deletes everything, removes only its own `kubernetes` token (finalizeNamespace), and
// the namespace stays Terminating with every condition False. Clearing the fault removes the finalizer, as
// the missing controller would when it comes back.
import type { KubeObject } from '../contracts.js';
import type { NamespaceStuck } from '../api/faults.js';
import { thaw } from '../store.js';
import { builtIn, CONTROLLER_WRITE, type ControllerContext } from './context.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

const OK: Array<[type: string, reason: string, message: string]> = [
  ['NamespaceDeletionDiscoveryFailure', 'ResourcesDiscovered', 'All resources successfully discovered'],
  ['NamespaceDeletionGroupVersionParsingFailure', 'ParsedGroupVersions', 'All legacy kube types successfully parsed'],
  [
    'NamespaceDeletionContentFailure',
    'ContentDeleted',
    'All content successfully deleted, may be waiting on finalization',
  ],
  ['NamespaceContentRemaining', 'ContentRemoved', 'All content successfully removed'],
  ['NamespaceFinalizersRemaining', 'ContentRemoved', 'All content successfully removed'],
];

export interface RemainingContent {
  /** `resource.group` (a core resource ends with the dot) → objects still there. */
  byResource: Map<string, number>;
  /** finalizer → objects still carrying it. */
  byFinalizer: Map<string, number>;
}

/** The five conditions for what remains, keeping the transition times of those that did not flip. */
export function deletionConditions(previous: Condition[], remaining: RemainingContent, now: string): Condition[] {
  const failing = new Map<string, [string, string]>();
  const list = (m: Map<string, number>, format: (k: string, n: number) => string): string =>
    [...m]
      .filter(([, n]) => n > 0)
      .map(([k, n]) => format(k, n))
      .sort()
      .join(', ');
  if (remaining.byResource.size > 0)
    failing.set('NamespaceContentRemaining', [
      'SomeResourcesRemain',
      `Some resources are remaining: ${list(remaining.byResource, (k, n) => `${k} has ${n} resource instances`)}`,
    ]);
  if (remaining.byFinalizer.size > 0)
    failing.set('NamespaceFinalizersRemaining', [
      'SomeFinalizerRemain',
      `Some finalizers are remaining: ${list(remaining.byFinalizer, (k, n) => `${k} in ${n} resource instances`)}`,
    ]);
  return OK.map(([type, okReason, okMessage]) => {
    const bad = failing.get(type);
    const status = bad ? 'True' : 'False';
    const old = previous.find((c) => c.type === type);
    return {
      type,
      status,
      lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
      reason: bad ? bad[0] : okReason,
      message: bad ? bad[1] : okMessage,
    };
  });
}

/** Counts what is left in a namespace, by resource and by finalizer. */
export function remainingContent(ctx: ControllerContext, namespace: string): RemainingContent {
  const byResource = new Map<string, number>();
  const byFinalizer = new Map<string, number>();
  for (const type of ctx.registry.all()) {
    if (!type.namespaced || type.virtual) continue;
    const items = ctx.store.list(type.group, type.resource, namespace);
    if (items.length === 0) continue;
    byResource.set(`${type.resource}.${type.group}`, items.length);
    for (const item of items)
      for (const f of item.metadata.finalizers ?? []) byFinalizer.set(f, (byFinalizer.get(f) ?? 0) + 1);
  }
  return { byResource, byFinalizer };
}

/** Writes the conditions through the status subresource, as UpdateStatus does, when they changed. */
export function writeDeletionConditions(ctx: ControllerContext, ns: KubeObject, remaining: RemainingContent): void {
  const status = (ns.status ?? {}) as Any;
  const previous = (status.conditions ?? []) as Condition[];
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const conditions = deletionConditions(previous, remaining, now);
  const same = (a: Condition[], b: Condition[]): boolean =>
    a.length === b.length &&
    a.every((c, i) => c.type === b[i]?.type && c.status === b[i]?.status && c.message === b[i]?.message);
  if (same(previous, conditions)) return;
  const next = thaw(ns);
  next.status = { ...status, conditions };
  ctx.objects.update(builtIn(ctx, '', 'namespaces'), undefined, ns.metadata.name, next, {
    ...CONTROLLER_WRITE,
    subresource: 'status',
  });
}

/** Puts the stuck finalizer where the fault says, before the controller deletes the namespace's content. */
export function applyStuck(ctx: ControllerContext, ns: KubeObject, stuck: NamespaceStuck): void {
  const namespace = ns.metadata.name;
  if (stuck.cause === 'finalizer') {
    const finalizers = ((ns.spec as Any | undefined)?.finalizers ?? []) as string[];
    if (finalizers.includes(stuck.finalizer)) return;
    const next = thaw(ns);
    next.spec = { ...((next.spec as Any | undefined) ?? {}), finalizers: [...finalizers, stuck.finalizer] };
    ctx.store.put('', 'namespaces', next);
    return;
  }
  for (const resource of stuck.resources) {
    const type = ctx.registry
      .all()
      .find((t) => t.namespaced && (t.resource === resource || `${t.resource}.${t.group}` === resource));
    if (!type) continue;
    for (const obj of ctx.store.list(type.group, type.resource, namespace)) {
      if (obj.metadata.deletionTimestamp || (obj.metadata.finalizers ?? []).includes(stuck.finalizer)) continue;
      const next = thaw(obj);
      next.metadata.finalizers = [...(next.metadata.finalizers ?? []), stuck.finalizer];
      ctx.store.put(type.group, type.resource, next);
    }
  }
}

/**
 * Removes a stuck finalizer from a namespace and everything in it (the fault was cleared); objects whose
 * last finalizer it was go, as after any finalizer removal.
 */
export function releaseStuck(ctx: ControllerContext, namespace: string, finalizer: string): void {
  const ns = ctx.store.get('', 'namespaces', undefined, namespace);
  if (!ns) return;
  const specFinalizers = ((ns.spec as Any | undefined)?.finalizers ?? []) as string[];
  if (specFinalizers.includes(finalizer)) {
    const next = thaw(ns);
    next.spec = {
      ...((next.spec as Any | undefined) ?? {}),
      finalizers: specFinalizers.filter((f) => f !== finalizer),
    };
    ctx.store.put('', 'namespaces', next);
  }
  for (const type of ctx.registry.all()) {
    if (!type.namespaced || type.virtual) continue;
    for (const obj of ctx.store.list(type.group, type.resource, namespace)) {
      if (!(obj.metadata.finalizers ?? []).includes(finalizer)) continue;
      const next = thaw(obj);
      next.metadata.finalizers = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      ctx.objects.update(type, namespace, obj.metadata.name, next, CONTROLLER_WRITE);
    }
  }
}
