// Namespace lifecycle and what hangs off it: a new namespace gets its `default` ServiceAccount and the
// kube-root-ca.crt ConfigMap (the serviceaccount and root-ca-cert-publisher controllers); a deleted one
// stays Terminating while the namespace controller deletes everything in it, then disappears.
// The garbage collector lives here too: dependents go when their owner goes (background cascade).
import type { KubeObject } from '../contracts.js';
import { thaw } from '../store.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { applyStuck, releaseStuck, remainingContent, writeDeletionConditions } from './namespace-deletion.js';
import { WorkQueue } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

export function startNamespaceController(ctx: ControllerContext): Controller {
  const { store, objects, registry } = ctx;
  const serviceAccounts = builtIn(ctx, '', 'serviceaccounts');
  const configMaps = builtIn(ctx, '', 'configmaps');
  const terminating = new WorkQueue((name) => cleanUp(name));
  /** Namespaces a namespace-stuck fault holds, with the finalizer it put there. */
  const held = new Map<string, string>();

  function populate(ns: KubeObject): void {
    const namespace = ns.metadata.name;
    if (!store.get('', 'serviceaccounts', namespace, 'default')) {
      objects.create(
        serviceAccounts,
        namespace,
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
        CONTROLLER_WRITE,
      );
    }
    if (!store.get('', 'configmaps', namespace, 'kube-root-ca.crt')) {
      objects.create(
        configMaps,
        namespace,
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: 'kube-root-ca.crt',
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
            },
          },
          data: { 'ca.crt': ctx.config.caPem },
        },
        CONTROLLER_WRITE,
      );
    }
  }

  function cleanUp(namespace: string): void {
    let ns = store.get('', 'namespaces', undefined, namespace);
    if (!ns) held.delete(namespace);
    if (!ns || !ns.metadata.deletionTimestamp) return;
    const stuck = ctx.faults.namespaceStuck(ns);
    const holding = held.get(namespace);
    if (holding !== undefined && holding !== stuck?.finalizer) {
      held.delete(namespace);
      releaseStuck(ctx, namespace, holding);
    }
    if (stuck) {
      held.set(namespace, stuck.finalizer);
      applyStuck(ctx, ns, stuck);
    }
    let remaining = 0;
    for (const type of registry.all()) {
      if (!type.namespaced || type.virtual) continue;
      for (const obj of store.list(type.group, type.resource, namespace)) {
        remaining += 1;
        if (obj.metadata.deletionTimestamp) continue;
        try {
          objects.delete(type, namespace, obj.metadata.name, { propagationPolicy: 'Background' });
        } catch {
          // deleted meanwhile (by the garbage collector, say)
        }
      }
    }
    ns = store.get('', 'namespaces', undefined, namespace);
    if (!ns) return;
    writeDeletionConditions(ctx, ns, remainingContent(ctx, namespace));
    if (remaining > 0) return;
    // Empty: the namespace controller removes its own `kubernetes` token (finalizeNamespace); the namespace
    // goes once no other finalizer is left.
    ns = store.get('', 'namespaces', undefined, namespace) ?? ns;
    const finalizers = (((ns.spec ?? {}) as Any).finalizers ?? []) as string[];
    if (finalizers.includes('kubernetes')) {
      const next = thaw(ns);
      (next.spec as Any).finalizers = finalizers.filter((f) => f !== 'kubernetes');
      store.put('', 'namespaces', next);
    }
    if (finalizers.some((f) => f !== 'kubernetes')) return;
    if ((ns.metadata.finalizers ?? []).length === 0) store.remove('', 'namespaces', undefined, namespace);
  }

  // A cleared fault lets the namespaces it held finish.
  const offFaults = ctx.faults.onChange(() => {
    for (const namespace of held.keys()) terminating.add(namespace);
  });

  const unsubscribe = store.subscribe((e) => {
    if (e.group === '' && e.resource === 'namespaces') {
      if (e.type === 'DELETED') return;
      if (e.object.metadata.deletionTimestamp) terminating.add(e.object.metadata.name);
      else if (e.type === 'ADDED') populate(e.object);
      return;
    }
    const namespace = e.object.metadata.namespace;
    if (
      e.type === 'DELETED' &&
      namespace &&
      store.get('', 'namespaces', undefined, namespace)?.metadata.deletionTimestamp
    ) {
      terminating.add(namespace);
    }
  });
  return {
    stop() {
      unsubscribe();
      offFaults();
      terminating.stop();
    },
  };
}

export function startGarbageCollector(ctx: ControllerContext): Controller {
  const { store, objects, registry } = ctx;
  const pending: KubeObject[] = [];
  const queue = new WorkQueue(() => {
    for (let owner = pending.shift(); owner; owner = pending.shift()) {
      for (const d of objects.dependentsOf(owner)) {
        const type = registry.byGroupResource(d.group, d.resource);
        if (!type || d.object.metadata.deletionTimestamp) continue;
        try {
          objects.delete(type, d.object.metadata.namespace, d.object.metadata.name, {
            propagationPolicy: 'Background',
          });
        } catch {
          // already gone
        }
      }
    }
  });
  const unsubscribe = store.subscribe((e) => {
    if (e.type !== 'DELETED' || !e.object.metadata.uid) return;
    // Pods own nothing here; skipping them keeps namespace teardown cheap.
    if (e.group === '' && (e.resource === 'pods' || e.resource === 'events' || e.resource === 'endpoints')) return;
    pending.push(e.object);
    queue.add('gc');
  });
  return {
    stop() {
      unsubscribe();
      queue.stop();
    },
  };
}

/** The apiextensions controllers' part: a CRD is accepted and Established as soon as it is stored. */
export function startCrdController(ctx: ControllerContext): Controller {
  const { store } = ctx;
  const unsubscribe = store.subscribe((e) => {
    if (e.group !== 'apiextensions.k8s.io' || e.resource !== 'customresourcedefinitions' || e.type === 'DELETED')
      return;
    const crd = e.object;
    const spec = (crd.spec ?? {}) as Any;
    const established = (((crd.status as Any | undefined)?.conditions ?? []) as Any[]).some(
      (c) => c.type === 'Established' && c.status === 'True',
    );
    if (established && JSON.stringify((crd.status as Any).acceptedNames) === JSON.stringify(spec.names)) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const next = thaw(crd) as Any;
    const storage = ((spec.versions ?? []) as Any[]).find((v) => v.storage)?.name;
    next.status = {
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          lastTransitionTime: now,
          reason: 'NoConflicts',
          message: 'no conflicts found',
        },
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: now,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: spec.names,
      storedVersions: storage ? [storage] : [],
    };
    store.put('apiextensions.k8s.io', 'customresourcedefinitions', next as KubeObject);
  });
  return { stop: unsubscribe };
}
