// Defaulting as the API server's scheme defaulters do it (pkg/apis/*/v1/defaults.go), so objects read
// back look like a cluster's: kubectl apply's three-way merge and `get -o yaml` both depend on that.
import type { KubeObject } from '../contracts.js';
import { isObject } from './patch.js';

type Obj = Record<string, unknown>;

function obj(parent: Obj, key: string): Obj {
  if (!isObject(parent[key])) parent[key] = {};
  return parent[key] as Obj;
}

function setDefault(target: Obj, key: string, value: unknown): void {
  if (target[key] === undefined) target[key] = value;
}

function defaultContainer(c: Obj): void {
  const image = typeof c.image === 'string' ? c.image : '';
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  const tagged = lastPart.includes(':') && !image.endsWith(':latest');
  const digested = image.includes('@');
  setDefault(c, 'imagePullPolicy', tagged || digested ? 'IfNotPresent' : 'Always');
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isObject(p)) setDefault(p, 'protocol', 'TCP');
  if (Array.isArray(c.env))
    for (const e of c.env)
      if (isObject(e) && isObject(e.valueFrom) && isObject(e.valueFrom.fieldRef))
        setDefault(e.valueFrom.fieldRef, 'apiVersion', 'v1');
}

export function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const list of ['containers', 'initContainers']) {
    const cs = spec[list];
    if (Array.isArray(cs)) for (const c of cs) if (isObject(c)) defaultContainer(c);
  }
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (!isObject(v)) continue;
      for (const source of ['secret', 'configMap']) if (isObject(v[source])) setDefault(v[source], 'defaultMode', 420);
    }
  }
}

function defaultPod(pod: Obj, creating: boolean): void {
  const spec = obj(pod, 'spec');
  defaultPodSpec(spec);
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  setDefault(spec, 'priority', 0);
  if (creating) {
    // The DefaultTolerationSeconds admission plugin.
    const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Obj[]) : [];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
      if (!tolerations.some((t) => t.key === key))
        tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
    spec.tolerations = tolerations;
    pod.status = { phase: 'Pending', qosClass: qosClass(spec) };
  }
}

/** The pod's QoS class, computed once admission (and any injected sidecar) has shaped the pod. */
export function qosClass(spec: Obj): string {
  const containers = (Array.isArray(spec.containers) ? spec.containers : []) as Obj[];
  const resources = containers.map(
    (c) => (c.resources ?? {}) as { requests?: Record<string, string>; limits?: Record<string, string> },
  );
  const hasAny = resources.some(
    (r) => Object.keys(r.requests ?? {}).length > 0 || Object.keys(r.limits ?? {}).length > 0,
  );
  if (!hasAny) return 'BestEffort';
  const guaranteed = resources.every((r) =>
    ['cpu', 'memory'].every(
      (k) => r.limits?.[k] !== undefined && (r.requests?.[k] === undefined || r.requests[k] === r.limits[k]),
    ),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function defaultWorkload(workload: Obj, kind: 'Deployment' | 'ReplicaSet'): void {
  const spec = obj(workload, 'spec');
  setDefault(spec, 'replicas', 1);
  if (kind === 'Deployment') {
    if (!isObject(spec.strategy)) spec.strategy = { type: 'RollingUpdate' };
    const strategy = spec.strategy as Obj;
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = obj(strategy, 'rollingUpdate');
      setDefault(ru, 'maxUnavailable', '25%');
      setDefault(ru, 'maxSurge', '25%');
    }
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
  }
  const template = obj(spec, 'template');
  obj(template, 'metadata');
  defaultPodSpec(obj(template, 'spec'));
  setDefault(workload, 'status', {});
}

function defaultService(service: Obj): void {
  const spec = obj(service, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.type === 'ClusterIP' || spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (Array.isArray(spec.ports)) {
    for (const p of spec.ports) {
      if (!isObject(p)) continue;
      setDefault(p, 'protocol', 'TCP');
      setDefault(p, 'targetPort', p.port);
    }
  }
  setDefault(service, 'status', { loadBalancer: {} });
}

function defaultSecret(secret: Obj): void {
  setDefault(secret, 'type', 'Opaque');
  // stringData is write-only: it is folded into data, base64-encoded, and never stored.
  if (isObject(secret.stringData)) {
    const data = obj(secret, 'data');
    for (const [k, v] of Object.entries(secret.stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete secret.stringData;
  }
}

function defaultNamespace(ns: Obj, name: string, creating: boolean): void {
  const metadata = obj(ns, 'metadata');
  const labels = obj(metadata, 'labels');
  labels['kubernetes.io/metadata.name'] = name;
  const spec = obj(ns, 'spec');
  setDefault(spec, 'finalizers', ['kubernetes']);
  if (creating) ns.status = { phase: 'Active' };
}

/** Applies the defaulters for `group/resource` to a mutable object, on create and on update. */
export function applyDefaults(group: string, resource: string, object: KubeObject, creating: boolean): void {
  const o = object as unknown as Obj;
  switch (`${group}/${resource}`) {
    case '/pods':
      return defaultPod(o, creating);
    case 'apps/deployments':
      return defaultWorkload(o, 'Deployment');
    case 'apps/replicasets':
      return defaultWorkload(o, 'ReplicaSet');
    case '/services':
      return defaultService(o);
    case '/secrets':
      return defaultSecret(o);
    case '/namespaces':
      return defaultNamespace(o, object.metadata.name, creating);
    default:
      return;
  }
}
