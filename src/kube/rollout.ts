// Whether a Deployment has rolled out, by the rule `kubectl rollout status` applies (kubernetes v1.32
// staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer.Status): the
// controller has seen the latest spec (observedGeneration), every replica runs the new template
// (updatedReplicas), no old one is left (replicas), and every new one is available. During a rolling
// update the old pod stays Ready and counted in readyReplicas, so ready counts alone pass too early.
// A Deployment whose pods cannot be created carries the ReplicaFailure condition its new ReplicaSet
// has (pkg/controller/deployment/progress.go syncRolloutStatus copies it): that is where admission's
// refusal shows, since there is no pod to look at.
import type { KubeObject } from '../model/kube-object.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  availableReplicas?: number;
  conditions?: Condition[];
}

export type Rollout =
  | { state: 'done' }
  | { state: 'waiting'; message: string }
  /** Progressing False with ProgressDeadlineExceeded: kubectl gives up. */
  | { state: 'failed'; message: string };

export function rolloutStatus(d: KubeObject): Rollout {
  const name = d.metadata.name;
  const status = (d.status ?? {}) as DeploymentStatus;
  const generation = (d.metadata as { generation?: number }).generation ?? 0;
  if (generation > (status.observedGeneration ?? 0))
    return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  // The API server defaults spec.replicas to 1.
  const want = (d.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const waiting = (what: string): Rollout => ({
    state: 'waiting',
    message: `Waiting for deployment "${name}" rollout to finish: ${what}...`,
  });
  if (updated < want) return waiting(`${updated} out of ${want} new replicas have been updated`);
  if (replicas > updated) return waiting(`${replicas - updated} old replicas are pending termination`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available`);
  return { state: 'done' };
}

/** The ReplicaFailure condition (reason FailedCreate: admission or a quota refused the pods), when it is True. */
export function replicaFailure(d: KubeObject): { reason: string; message: string } | undefined {
  const c = ((d.status ?? {}) as DeploymentStatus).conditions?.find(
    (x) => x.type === 'ReplicaFailure' && x.status === 'True',
  );
  return c ? { reason: c.reason ?? 'FailedCreate', message: c.message ?? '' } : undefined;
}
