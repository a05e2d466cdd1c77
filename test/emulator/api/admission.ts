// The admission chain every write passes through, whether it came over HTTP or from a controller
// (the ReplicaSet controller's pods meet the same ServiceAccount check and sidecar injector as a
// `kubectl apply` of a bare Pod). Plugins mutate the object in place or throw an ApiError.
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import { randomSuffix } from './names.js';
import type { ResourceType } from './resources.js';
import { forbidden, notFound } from './status.js';

export type Operation = 'CREATE' | 'UPDATE';

export interface AdmissionRequest {
  operation: Operation;
  type: ResourceType;
  /** Mutable: plugins change it in place. */
  object: KubeObject;
  old: KubeObject | undefined;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  name: string;
  admit(request: AdmissionRequest): void;
}

/** NamespaceLifecycle: no new objects in a namespace that does not exist or is being deleted. */
export function namespaceLifecycle(store: MemoryStore): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    admit({ operation, type, object }) {
      if (operation !== 'CREATE' || !type.namespaced) return;
      const namespace = object.metadata.namespace ?? '';
      const ns = store.get('', 'namespaces', undefined, namespace);
      if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
      if (ns.metadata.deletionTimestamp) {
        // kubernetes v1.32 plugin/pkg/admission/namespace/lifecycle/admission.go: Forbidden, with the
        // cause NamespaceTerminating, so that a client can tell it from an RBAC refusal.
        const e = forbidden(
          { group: type.group, resource: type.resource },
          object.metadata.name,
          `unable to create new content in namespace ${namespace} because it is being terminated`,
        );
        ((e.status.details ??= {}).causes ??= []).push({
          reason: 'NamespaceTerminating',
          message: `namespace ${namespace} is being terminated`,
          field: 'metadata.namespace',
        });
        throw e;
      }
    },
  };
}

/** ServiceAccount admission: a pod runs as an existing account and gets its projected API token volume. */
export function serviceAccountAdmission(store: MemoryStore): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    admit({ operation, type, object }) {
      if (operation !== 'CREATE' || type.group !== '' || type.resource !== 'pods') return;
      const spec = (object.spec ??= {}) as {
        serviceAccountName?: string;
        serviceAccount?: string;
        automountServiceAccountToken?: boolean;
        volumes?: Array<Record<string, unknown>>;
        containers?: Array<{ volumeMounts?: Array<Record<string, unknown>> }>;
        initContainers?: Array<{ volumeMounts?: Array<Record<string, unknown>> }>;
      };
      const account = spec.serviceAccountName || spec.serviceAccount || 'default';
      spec.serviceAccountName = account;
      spec.serviceAccount = account;
      const namespace = object.metadata.namespace ?? 'default';
      if (!store.get('', 'serviceaccounts', namespace, account)) {
        throw forbidden(
          { group: '', resource: 'pods' },
          nameBeforeGeneration(object),
          `error looking up service account ${namespace}/${account}: serviceaccount "${account}" not found`,
        );
      }
      if (spec.automountServiceAccountToken === false) return;
      const volumeName = `kube-api-access-${randomSuffix(5)}`;
      spec.volumes = [...(spec.volumes ?? []), tokenVolume(volumeName)];
      for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
        const mounts = c.volumeMounts ?? [];
        if (!mounts.some((m) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount')) {
          c.volumeMounts = [
            ...mounts,
            { name: volumeName, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
          ];
        }
      }
    },
  };
}

/**
 * The name a mutating plugin's refusal names: real names are generated after mutating admission, so
 * admission.NewForbidden falls back to generateName ("pods \"web-7d4c8f6b5-\" is forbidden: ...").
 */
export function nameBeforeGeneration(object: KubeObject): string {
  const { name, generateName } = object.metadata as { name: string; generateName?: string };
  if (generateName && name.startsWith(generateName) && name.length === generateName.length + 5) return generateName;
  return name;
}

function tokenVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

/**
 * Service IP and node port allocation, from the usual kind/kubeadm ranges. These addresses are only
 * ever reported: nothing connects to them (the mesh runtime maps them to loopback itself).
 */
export function serviceAllocation(store: MemoryStore): AdmissionPlugin {
  let nextIp = 10;
  let nextNodePort = 30000;
  const usedIps = (): Set<string> =>
    new Set(store.list('', 'services').map((s) => (s.spec as { clusterIP?: string } | undefined)?.clusterIP ?? ''));
  return {
    name: 'ServiceIPAllocation',
    admit({ operation, type, object, old }) {
      if (type.group !== '' || type.resource !== 'services') return;
      const spec = (object.spec ??= {}) as {
        type?: string;
        clusterIP?: string;
        clusterIPs?: string[];
        ports?: Array<{ nodePort?: number }>;
      };
      const previous = old?.spec as
        { clusterIP?: string; clusterIPs?: string[]; ports?: Array<{ nodePort?: number }> } | undefined;
      if (spec.type === 'ExternalName') return;
      if (operation === 'UPDATE' && previous?.clusterIP && !spec.clusterIP) {
        spec.clusterIP = previous.clusterIP;
        spec.clusterIPs = previous.clusterIPs ?? [previous.clusterIP];
      }
      if (!spec.clusterIP) {
        const used = usedIps();
        let ip: string;
        do {
          ip = `10.96.${Math.floor(nextIp / 256)}.${nextIp % 256}`;
          nextIp += 1;
        } while (used.has(ip) || nextIp % 256 === 0);
        spec.clusterIP = ip;
      }
      spec.clusterIPs ??= [spec.clusterIP];
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
        (spec.ports ?? []).forEach((p, i) => {
          p.nodePort ??= previous?.ports?.[i]?.nodePort ?? nextNodePort++;
        });
      }
    },
  };
}
