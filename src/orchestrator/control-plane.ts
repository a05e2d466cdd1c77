// Finding the Istio control plane the topology joins: its injector webhooks (cluster-scoped, listed
// read-only, as istioctl's GetRevisionWebhooks does) and its istiod Deployment.
import { ClusterError } from '../errors.js';
import type { Cluster } from '../kube/cluster.js';
import type { EventSink } from '../model/events.js';
import type { KubeObject } from '../model/kube-object.js';
import {
  assumedControlPlane,
  chooseControlPlane,
  describeControlPlane,
  meshConfigMapOf,
  REV_LABEL,
  type ControlPlane,
} from './control-plane-select.js';

export type { ControlPlane } from './control-plane-select.js';

const forbidden = (e: unknown) => e instanceof ClusterError && e.status?.code === 403;

/**
 * The control plane for --revision `wanted`, or the default / only one; reported as a preflight line.
 * Unreadable webhooks (RBAC) leave the unrevisioned assumption, said as a warning: the RBAC preflight
 * then names the missing permission.
 */
export async function detectControlPlane(
  cluster: Cluster,
  wanted: string | undefined,
  events: EventSink,
): Promise<ControlPlane> {
  let configs: KubeObject[];
  try {
    configs = await cluster.list('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', {
      labelSelector: REV_LABEL,
    });
  } catch (e) {
    if (!forbidden(e)) throw e;
    events({
      type: 'warning',
      message: `cannot list MutatingWebhookConfigurations (${(e as Error).message}), so the Istio revision is unknown: assuming an unrevisioned install (istio-injection=enabled, mesh config istio-system/istio)`,
    });
    return wanted === undefined
      ? assumedControlPlane()
      : {
          ...assumedControlPlane(),
          revision: wanted,
          label: { key: REV_LABEL, value: wanted },
          meshConfigMap: meshConfigMapOf(wanted),
        };
  }
  const cp = chooseControlPlane(configs, wanted);
  events({ type: 'preflight', check: 'Istio control plane', ok: true, detail: describeControlPlane(cp) });
  if (cp.detected) await checkIstiod(cluster, cp, events);
  return cp;
}

/** The chosen revision should have an istiod: without one its webhook fails every pod (failurePolicy Fail). */
async function checkIstiod(cluster: Cluster, cp: ControlPlane, events: EventSink): Promise<void> {
  let istiods: KubeObject[];
  try {
    istiods = await cluster.list('apps/v1', 'Deployment', { namespace: cp.namespace, labelSelector: 'app=istiod' });
  } catch (e) {
    if (forbidden(e)) return; // the RBAC preflight names it
    throw e;
  }
  const revisionOf = (d: KubeObject) => d.metadata.labels?.[REV_LABEL] ?? 'default';
  if (!istiods.some((d) => revisionOf(d) === cp.revision))
    events({
      type: 'warning',
      message: `no istiod Deployment of revision ${cp.revision} in ${cp.namespace} (found: ${istiods.map((d) => `${d.metadata.name} (${revisionOf(d)})`).join(', ') || 'none'}): its injection webhook may refuse every pod`,
    });
}
