// The endpoints and endpointslice controllers: for every Service with a selector, the pods it selects
// (ready ones as addresses, others as notReadyAddresses / ready:false), with each service port's
// targetPort resolved against the pod's named container ports. Objects are only rewritten on change.
import type { KubeObject } from '../contracts.js';
import { thaw } from '../store.js';
import { randomSuffix } from '../api/names.js';
import { matchesMapSelector } from '../api/selectors.js';
import { sortKeys } from '../api/validation.js';
import type { Controller, ControllerContext } from './context.js';
import { WorkQueue } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';

function isReady(pod: KubeObject): boolean {
  return (((pod.status as Any | undefined)?.conditions ?? []) as Any[]).some(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
}

function resolveTargetPort(pod: KubeObject, target: number | string | undefined, fallback: number): number | undefined {
  if (typeof target === 'number') return target;
  if (target === undefined || target === '') return fallback;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of ((pod.spec as Any | undefined)?.containers ?? []) as Any[]) {
    for (const p of (c.ports ?? []) as Any[]) if (p.name === target) return Number(p.containerPort);
  }
  return undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a ?? null)) === JSON.stringify(sortKeys(b ?? null));
}

export function startEndpointsController(ctx: ControllerContext): Controller {
  const { store } = ctx;
  const queue = new WorkQueue((namespace) => reconcileNamespace(namespace));

  function reconcileNamespace(namespace: string): void {
    const ns = store.get('', 'namespaces', undefined, namespace);
    if (!ns) return;
    const pods = store
      .list('', 'pods', namespace)
      .filter(
        (p) =>
          (p.status as Any | undefined)?.podIP &&
          !['Succeeded', 'Failed'].includes(String((p.status as Any | undefined)?.phase)),
      );
    const services = store.list('', 'services', namespace);
    for (const svc of services) {
      const spec = (svc.spec ?? {}) as Any;
      if (!spec.selector || Object.keys(spec.selector as object).length === 0) continue;
      reconcileService(
        svc,
        pods.filter((p) => matchesMapSelector(spec.selector as Record<string, string>, p.metadata.labels)),
      );
    }
    // Slices whose Service is gone are garbage-collected through their ownerReference; Endpoints by name.
    for (const ep of store.list('', 'endpoints', namespace)) {
      if (
        ep.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === 'endpoint-controller' &&
        !services.some((s) => s.metadata.name === ep.metadata.name)
      ) {
        store.remove('', 'endpoints', namespace, ep.metadata.name);
      }
    }
  }

  function reconcileService(svc: KubeObject, selected: KubeObject[]): void {
    const namespace = svc.metadata.namespace ?? 'default';
    const ports = ((svc.spec as Any).ports ?? []) as Any[];
    // One subset per distinct set of resolved ports (the controller's RepackSubsets does the same grouping).
    const subsets = new Map<string, { addresses: Any[]; notReadyAddresses: Any[]; ports: Any[] }>();
    const slicePorts = new Map<string, Any[]>();
    const sliceEndpoints = new Map<string, Any[]>();
    for (const pod of selected) {
      const resolved = ports.map((p) => ({
        name: p.name,
        port: resolveTargetPort(pod, p.targetPort, Number(p.port)),
        protocol: p.protocol ?? 'TCP',
        appProtocol: p.appProtocol,
      }));
      if (resolved.some((p) => p.port === undefined)) continue;
      const epPorts = resolved.map((p) => {
        const out: Any = { port: p.port, protocol: p.protocol };
        if (p.name) out.name = p.name;
        if (p.appProtocol) out.appProtocol = p.appProtocol;
        return out;
      });
      const key = JSON.stringify(epPorts);
      const subset = subsets.get(key) ?? { addresses: [], notReadyAddresses: [], ports: epPorts };
      subsets.set(key, subset);
      const address = {
        ip: (pod.status as Any).podIP,
        nodeName: (pod.spec as Any).nodeName,
        targetRef: { kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid },
      };
      const terminating = Boolean(pod.metadata.deletionTimestamp);
      const ready = isReady(pod) && !terminating;
      (ready ? subset.addresses : subset.notReadyAddresses).push(address);
      slicePorts.set(
        key,
        epPorts.map((p) => ({
          name: p.name ?? '',
          port: p.port,
          protocol: p.protocol,
          ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
        })),
      );
      const list = sliceEndpoints.get(key) ?? [];
      list.push({
        addresses: [address.ip],
        conditions: { ready, serving: isReady(pod), terminating },
        targetRef: address.targetRef,
        nodeName: address.nodeName,
      });
      sliceEndpoints.set(key, list);
    }

    const subsetList = [...subsets.values()].map((s) => {
      const out: Any = { ports: s.ports };
      if (s.addresses.length > 0) out.addresses = s.addresses.sort((a, b) => String(a.ip).localeCompare(String(b.ip)));
      if (s.notReadyAddresses.length > 0)
        out.notReadyAddresses = s.notReadyAddresses.sort((a, b) => String(a.ip).localeCompare(String(b.ip)));
      return out;
    });
    const existing = store.get('', 'endpoints', namespace, svc.metadata.name);
    const labels = { ...(svc.metadata.labels ?? {}), 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
    if (!existing || !same((existing as Any).subsets ?? [], subsetList) || !same(existing.metadata.labels, labels)) {
      const next: Any = existing
        ? thaw(existing)
        : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: svc.metadata.name, namespace } };
      next.metadata.labels = labels;
      if (subsetList.length > 0) next.subsets = subsetList;
      else delete next.subsets;
      store.put('', 'endpoints', next as KubeObject);
    }

    // EndpointSlices: one per port set (an empty one when nothing is selected), owned by the Service.
    const mine = store
      .list('discovery.k8s.io', 'endpointslices', namespace)
      .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === svc.metadata.name);
    const wanted = sliceEndpoints.size > 0 ? [...sliceEndpoints.keys()] : ['[]'];
    const used = new Set<string>();
    for (const key of wanted) {
      const endpoints = (sliceEndpoints.get(key) ?? []).sort((a, b) =>
        String(a.addresses[0]).localeCompare(String(b.addresses[0])),
      );
      const portsOut = slicePorts.get(key) ?? [];
      const match =
        mine.find((s) => !used.has(s.metadata.name) && same((s as Any).ports ?? [], portsOut)) ??
        mine.find((s) => !used.has(s.metadata.name));
      const sliceLabels = {
        ...(svc.metadata.labels ?? {}),
        [SERVICE_NAME_LABEL]: svc.metadata.name,
        [MANAGED_BY_LABEL]: 'endpointslice-controller.k8s.io',
      };
      if (match) {
        used.add(match.metadata.name);
        if (
          same((match as Any).endpoints ?? [], endpoints) &&
          same((match as Any).ports ?? [], portsOut) &&
          same(match.metadata.labels, sliceLabels)
        )
          continue;
        const next = thaw(match) as Any;
        next.endpoints = endpoints;
        next.ports = portsOut;
        next.metadata.labels = sliceLabels;
        store.put('discovery.k8s.io', 'endpointslices', next as KubeObject);
      } else {
        store.put('discovery.k8s.io', 'endpointslices', {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name: `${svc.metadata.name}-${randomSuffix(5)}`,
            namespace,
            generateName: `${svc.metadata.name}-`,
            labels: sliceLabels,
            ownerReferences: [
              {
                apiVersion: 'v1',
                kind: 'Service',
                name: svc.metadata.name,
                uid: svc.metadata.uid ?? '',
                controller: true,
                blockOwnerDeletion: true,
              } as never,
            ],
          },
          addressType: 'IPv4',
          endpoints,
          ports: portsOut,
        } as KubeObject);
      }
    }
    for (const s of mine)
      if (!used.has(s.metadata.name)) store.remove('discovery.k8s.io', 'endpointslices', namespace, s.metadata.name);
  }

  const unsubscribe = store.subscribe((e) => {
    if (e.group !== '') return;
    if (e.resource === 'pods' || e.resource === 'services') queue.add(e.object.metadata.namespace ?? 'default');
  });
  return {
    stop() {
      unsubscribe();
      queue.stop();
    },
  };
}
