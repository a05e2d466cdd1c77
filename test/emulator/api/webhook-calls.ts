// The API server's calls to mutating admission webhooks, as far as they can fail. The emulated
// webhooks' answers are in-process plugins (istio/injection.ts is istiod's injector), but whether the
// API server reaches them is decided here, as kube-apiserver 1.32 decides it
// (staging/src/k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go, generic/webhook.go
// ShouldCallHook, pkg/util/webhook/client.go): every MutatingWebhookConfiguration, in name order, and
// each webhook whose rules, namespaceSelector and objectSelector match is called at
// https://<service>.<namespace>.svc:<port><path>?timeout=<timeoutSeconds>s. kube-apiserver's default
// service resolver dials the Service's ClusterIP (ResolveCluster in apiserver/pkg/util/proxy), so a
// Service without ready endpoints answers "connection refused" (kube-proxy rejects it); a missing
// Service is the lister's NotFound. With failurePolicy Fail the request is refused with
//   Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to
//   call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": dial tcp
//   10.96.0.10:443: connect: connection refused
// (apierrors.NewInternalError around webhookutil.ErrCallingWebhook); with Ignore it goes on. The
// `webhook-down` fault makes a matching call fail the same way while istiod runs.
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { AdmissionPlugin, Operation } from './admission.js';
import type { Faults } from './faults.js';
import type { ResourceType } from './resources.js';
import { matchesSelectorObject } from './selectors.js';
import { internalError } from './status.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

function ruleMatches(rules: Any[] | undefined, operation: Operation, type: ResourceType): boolean {
  const has = (list: unknown, value: string): boolean =>
    Array.isArray(list) && (list.includes('*') || list.includes(value));
  return (rules ?? []).some(
    (r) =>
      (has(r.operations, operation) || has(r.operations, '*')) &&
      has(r.apiGroups, type.group) &&
      has(r.resources, type.resource) &&
      (r.scope === undefined || r.scope === '*' || r.scope === (type.namespaced ? 'Namespaced' : 'Cluster')),
  );
}

const selects = (selector: Any | undefined, labels: Record<string, string> | undefined): boolean =>
  selector === undefined || selector === null || matchesSelectorObject(selector, labels);

/** Why the call cannot be made, as the dialer reports it; undefined when the webhook is reachable. */
function unreachable(store: MemoryStore, service: Any): string | undefined {
  const svc = store.get('', 'services', service.namespace, service.name);
  if (!svc) return `service "${String(service.name)}" not found`;
  const endpoints = store.get('', 'endpoints', service.namespace, service.name) as Any | undefined;
  const ready = ((endpoints?.subsets ?? []) as Any[]).some((s) => ((s.addresses ?? []) as Any[]).length > 0);
  if (ready) return undefined;
  return `dial tcp ${String((svc.spec as Any | undefined)?.clusterIP)}:${Number(service.port ?? 443)}: connect: connection refused`;
}

export function mutatingWebhookCalls(store: MemoryStore, faults: Faults): AdmissionPlugin {
  return {
    name: 'MutatingAdmissionWebhook',
    admit({ operation, type, object }) {
      const configs = store
        .list('admissionregistration.k8s.io', 'mutatingwebhookconfigurations')
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
      if (configs.length === 0) return;
      const namespace: KubeObject | undefined = type.namespaced
        ? store.get('', 'namespaces', undefined, object.metadata.namespace ?? '')
        : undefined;
      for (const config of configs) {
        for (const hook of ((config as Any).webhooks ?? []) as Any[]) {
          if (!ruleMatches(hook.rules, operation, type)) continue;
          if (type.namespaced && !selects(hook.namespaceSelector, namespace?.metadata.labels)) continue;
          if (!selects(hook.objectSelector, object.metadata.labels)) continue;
          const service = hook.clientConfig?.service as Any | undefined;
          if (!service) continue;
          const down = faults.webhookDown(object, String(hook.name));
          const reason = down
            ? (down.message ?? unreachable(store, service) ?? refused(store, service))
            : unreachable(store, service);
          if (!reason) continue;
          if (hook.failurePolicy === 'Ignore') continue;
          const url = `https://${String(service.name)}.${String(service.namespace)}.svc:${Number(service.port ?? 443)}${String(service.path ?? '')}?timeout=${Number(hook.timeoutSeconds ?? 10)}s`;
          throw internalError(
            `failed calling webhook "${String(hook.name)}": failed to call webhook: Post "${url}": ${reason}`,
          );
        }
      }
    },
  };
}

/** The fault's default: what a Service whose pods are gone answers. */
function refused(store: MemoryStore, service: Any): string {
  const svc = store.get('', 'services', service.namespace, service.name);
  return `dial tcp ${String((svc?.spec as Any | undefined)?.clusterIP ?? '10.96.0.1')}:${Number(service.port ?? 443)}: connect: connection refused`;
}
