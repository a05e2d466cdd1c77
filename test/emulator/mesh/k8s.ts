// Reading Kubernetes objects the way the mesh needs them: pods, services and their ports. Only the fields
// a kubelet / kube-proxy / istiod would look at; no policy logic here.
import type { KubeObject } from '../contracts.js';

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface ContainerSpec {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  env?: Array<{ name: string; value?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

export interface ServicePortSpec {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export const SIDECAR_CONTAINER = 'istio-proxy';

export function podContainers(pod: KubeObject): ContainerSpec[] {
  const spec = (pod.spec ?? {}) as { containers?: ContainerSpec[] };
  return spec.containers ?? [];
}

/** Istio's native-sidecar mode puts istio-proxy among the init containers (restartPolicy Always). */
export function podInitContainers(pod: KubeObject): ContainerSpec[] {
  const spec = (pod.spec ?? {}) as { initContainers?: ContainerSpec[] };
  return spec.initContainers ?? [];
}

export function hasSidecar(pod: KubeObject): boolean {
  return [...podContainers(pod), ...podInitContainers(pod)].some((c) => c.name === SIDECAR_CONTAINER);
}

export function appContainers(pod: KubeObject): ContainerSpec[] {
  return podContainers(pod).filter((c) => c.name !== SIDECAR_CONTAINER);
}

export function findContainer(pod: KubeObject, name: string): ContainerSpec | undefined {
  return [...podContainers(pod), ...podInitContainers(pod)].find((c) => c.name === name);
}

export function podIP(pod: KubeObject): string | undefined {
  const status = (pod.status ?? {}) as { podIP?: string };
  return status.podIP;
}

export function podNamespace(obj: KubeObject): string {
  return obj.metadata.namespace ?? 'default';
}

export function serviceAccount(pod: KubeObject): string {
  const spec = (pod.spec ?? {}) as { serviceAccountName?: string; serviceAccount?: string };
  return spec.serviceAccountName ?? spec.serviceAccount ?? 'default';
}

export function labels(obj: KubeObject): Record<string, string> {
  return obj.metadata.labels ?? {};
}

export function podKey(pod: KubeObject): string {
  return `${podNamespace(pod)}/${pod.metadata.name}`;
}

export function matchesLabels(
  selector: Record<string, string> | undefined,
  objLabels: Record<string, string>,
): boolean {
  if (!selector) return false;
  return Object.entries(selector).every(([k, v]) => objLabels[k] === v);
}

export function serviceSelector(svc: KubeObject): Record<string, string> | undefined {
  const spec = (svc.spec ?? {}) as { selector?: Record<string, string> };
  return spec.selector && Object.keys(spec.selector).length > 0 ? spec.selector : undefined;
}

export function servicePorts(svc: KubeObject): ServicePortSpec[] {
  const spec = (svc.spec ?? {}) as { ports?: ServicePortSpec[] };
  return spec.ports ?? [];
}

export function serviceClusterIP(svc: KubeObject): string | undefined {
  const spec = (svc.spec ?? {}) as { clusterIP?: string };
  return spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
}

export function serviceFqdn(svc: KubeObject, domain = 'cluster.local'): string {
  return `${svc.metadata.name}.${podNamespace(svc)}.svc.${domain}`;
}

/** The container port a service port lands on for this pod (a named targetPort is looked up among the pod's ports). */
export function resolveTargetPort(sp: ServicePortSpec, pod: KubeObject): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of podContainers(pod)) {
    for (const p of c.ports ?? []) if (p.name === target) return p.containerPort;
  }
  return undefined;
}

export function isTerminating(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** creationTimestamp then name: Istio's "oldest wins" order (model.sortConfigByCreationTime). */
export function oldestFirst<T extends KubeObject>(objs: T[]): T[] {
  return [...objs].sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    if (ta !== tb) return ta - tb;
    const na = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
    const nb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}
