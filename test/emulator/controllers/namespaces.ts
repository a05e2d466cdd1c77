// Namespace lifecycle and what hangs off it: a new namespace gets its `default` ServiceAccount and the
// kube-root-ca.crt ConfigMap (the serviceaccount and root-ca-cert-publisher controllers); a deleted one
// stays Terminating while the namespace controller deletes everything in it, then disappears.
// The garbage collector lives here too: dependents go when their owner goes (background cascade).
import type { KubeObject } from '../contracts.js';
import { thaw } from '../store.js';
import { builtIn, CONTROLLER_WRITE, type Controller, type ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

export function startNamespaceController(ctx: ControllerContext): Controller {
  const { store, objects, registry } = ctx;
  const serviceAccounts = builtIn(ctx, '', 'serviceaccounts');
  const configMaps = builtIn(ctx, '', 'configmaps');
  const terminating = new WorkQueue((name) => cleanUp(name));

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
    const ns = store.get('', 'namespaces', undefined, namespace);
    if (!ns || !ns.metadata.deletionTimestamp) return;
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
    if (remaining > 0) return;
    // Empty: the namespace controller removes its `kubernetes` finalizer, and the namespace goes.
    const spec = (ns.spec ?? {}) as Any;
    if ((spec.finalizers ?? []).length > 0) {
      const next = thaw(ns);
      (next.spec as Any).finalizers = [];
      store.put('', 'namespaces', next);
    }
    if ((ns.metadata.finalizers ?? []).length === 0) store.remove('', 'namespaces', undefined, namespace);
  }

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
