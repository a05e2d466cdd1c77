// The arithmetic of the deployment controller, as kubernetes/kubernetes v1.32
// pkg/controller/deployment/util/deployment_util.go computes it: surge and unavailability from
// `25%`-style values (surge rounded up, unavailability down, never both zero), how far the new
// ReplicaSet may grow, when a rollout is complete, progressing or timed out, and how conditions are
// replaced (a changed condition moves to the end of the list, which is why `kubectl describe` shows
// Available before Progressing).
import type { KubeObject } from '../contracts.js';
import { timestamp } from '../store.js';
import { sortKeys } from '../api/validation.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go controllers' structs

export const TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** deployment_util.go annotationsToSkip: what is not copied from a Deployment to its ReplicaSets. */
const ANNOTATIONS_TO_SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);
/** sync.go maxRevHistoryLengthInChars. */
const MAX_REVISION_HISTORY_CHARS = 2000;

// deployment_util.go reasons.
export const NEW_RS_REASON = 'NewReplicaSetCreated';
export const FOUND_NEW_RS_REASON = 'FoundNewReplicaSet';
export const RS_UPDATED_REASON = 'ReplicaSetUpdated';
export const NEW_RS_AVAILABLE_REASON = 'NewReplicaSetAvailable';
export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';
export const PAUSED_REASON = 'DeploymentPaused';
export const RESUMED_REASON = 'DeploymentResumed';

export const replicasOf = (obj: KubeObject | undefined): number =>
  Number((obj?.spec as Any | undefined)?.replicas ?? 1);
export const statusOf = (obj: KubeObject | undefined, field: string): number =>
  Number((obj?.status as Any | undefined)?.[field] ?? 0);

/** intstr.GetScaledValueFromIntOrPercent: `25%` of `total`, rounded up or down; a plain number as is. */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+%$/.test(value)) {
    const v = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(v) : Math.floor(v);
  }
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 0;
}

export function isRollingUpdate(d: KubeObject): boolean {
  return ((d.spec as Any).strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** ResolveFenceposts: if both round to zero, one pod may be unavailable (surge might be blocked by quota). */
export function resolveFenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const ru = ((d.spec as Any).strategy?.rollingUpdate ?? {}) as Any;
  const desired = replicasOf(d);
  const surge = scaledValue(ru.maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(ru.maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(d: KubeObject): number {
  return isRollingUpdate(d) ? resolveFenceposts(d).surge : 0;
}

export function maxUnavailable(d: KubeObject): number {
  if (!isRollingUpdate(d) || replicasOf(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicasOf(d));
}

export const specReplicas = (list: KubeObject[]): number => list.reduce((n, rs) => n + replicasOf(rs), 0);
export const sumStatus = (list: KubeObject[], field: string): number =>
  list.reduce((n, rs) => n + statusOf(rs, field), 0);

/** NewRSNewReplicas: how many replicas the new ReplicaSet may have now. */
export function newRSNewReplicas(d: KubeObject, all: KubeObject[], newRS: KubeObject): number {
  const desired = replicasOf(d);
  if (!isRollingUpdate(d)) return desired;
  const surge = scaledValue(((d.spec as Any).strategy?.rollingUpdate ?? {}).maxSurge ?? 0, desired, true);
  const current = specReplicas(all);
  const maxTotal = desired + surge;
  if (current >= maxTotal) return replicasOf(newRS);
  return replicasOf(newRS) + Math.min(maxTotal - current, desired - replicasOf(newRS));
}

/** The pod template a ReplicaSet was made from, without the hash label the controller added. */
function templateIgnoringHash(template: unknown): string {
  const t = structuredClone((template ?? {}) as Any);
  if (t.metadata?.labels) delete t.metadata.labels[TEMPLATE_HASH_LABEL];
  if (t.metadata?.labels && Object.keys(t.metadata.labels).length === 0) delete t.metadata.labels;
  return JSON.stringify(sortKeys(t));
}

/** FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's (hash label aside). */
export function findNewReplicaSet(d: KubeObject, rsList: KubeObject[]): KubeObject | undefined {
  const want = templateIgnoringHash((d.spec as Any).template);
  return [...rsList].sort(byCreation).find((rs) => templateIgnoringHash((rs.spec as Any).template) === want);
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  return (
    String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

export function revisionOf(rs: KubeObject): number {
  const v = Number(rs.metadata.annotations?.[REVISION] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas; true if they changed. */
export function setReplicasAnnotations(rs: Any, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {}) as Record<string, string>;
  let changed = false;
  if (a[DESIRED_REPLICAS] !== String(desired)) {
    a[DESIRED_REPLICAS] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS] !== String(max)) {
    a[MAX_REPLICAS] = String(max);
    changed = true;
  }
  return changed;
}

/**
 * SetNewReplicaSetAnnotations: the Deployment's own annotations (minus annotationsToSkip), the new
 * revision when it is higher (a rolled-back-to ReplicaSet keeps its old numbers in revision-history),
 * and for a ReplicaSet about to be created, the replica annotations.
 */
export function setNewReplicaSetAnnotations(d: KubeObject, rs: Any, newRevision: number, exists: boolean): boolean {
  const a = (rs.metadata.annotations ??= {}) as Record<string, string>;
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const had = a[REVISION];
  const old = had === undefined ? 0 : Number(had);
  if (old < newRevision) {
    a[REVISION] = String(newRevision);
    changed = true;
    if (had !== undefined) {
      const history = a[REVISION_HISTORY] ? a[REVISION_HISTORY].split(',') : [];
      history.push(had);
      while (history.join(',').length > MAX_REVISION_HISTORY_CHARS) history.shift();
      a[REVISION_HISTORY] = history.join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** IsSaturated: the new ReplicaSet has all the replicas and they are all available. */
export function isSaturated(d: KubeObject, rs: KubeObject | undefined): boolean {
  if (!rs) return false;
  const desired = Number(rs.metadata.annotations?.[DESIRED_REPLICAS]);
  return (
    replicasOf(rs) === replicasOf(d) && desired === replicasOf(d) && statusOf(rs, 'availableReplicas') === replicasOf(d)
  );
}

export function conditionOf(status: Any | undefined, type: string): Any | undefined {
  return ((status?.conditions ?? []) as Any[]).find((c) => c.type === type);
}

export function newCondition(type: string, status: string, reason: string, message: string): Any {
  const now = timestamp();
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

/** SetDeploymentCondition: unchanged status and reason keep the old one; otherwise it is replaced at the end. */
export function setCondition(status: Any, condition: Any): void {
  const current = conditionOf(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...((status.conditions ?? []) as Any[]).filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: Any, type: string): void {
  if (!status.conditions) return;
  status.conditions = (status.conditions as Any[]).filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

export function hasProgressDeadline(d: KubeObject): boolean {
  const s = (d.spec as Any).progressDeadlineSeconds;
  return s !== undefined && s !== null && s !== 2147483647;
}

/** DeploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: KubeObject, status: Any): boolean {
  const want = replicasOf(d);
  return (
    Number(status.updatedReplicas ?? 0) === want &&
    Number(status.replicas ?? 0) === want &&
    Number(status.availableReplicas ?? 0) === want &&
    Number(status.observedGeneration ?? 0) >= Number(d.metadata.generation ?? 0)
  );
}

/** DeploymentProgressing: more updated, fewer old, more ready or more available replicas than before. */
export function deploymentProgressing(d: KubeObject, status: Any): boolean {
  const old = (d.status ?? {}) as Any;
  const n = (s: Any, f: string): number => Number(s[f] ?? 0);
  return (
    n(status, 'updatedReplicas') > n(old, 'updatedReplicas') ||
    n(status, 'replicas') - n(status, 'updatedReplicas') < n(old, 'replicas') - n(old, 'updatedReplicas') ||
    n(status, 'readyReplicas') > n(old, 'readyReplicas') ||
    n(status, 'availableReplicas') > n(old, 'availableReplicas')
  );
}

/** DeploymentTimedOut: no progress reported for progressDeadlineSeconds. */
export function deploymentTimedOut(d: KubeObject, status: Any, now = Date.now()): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = conditionOf(status, 'Progressing');
  if (!c || c.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (c.reason === TIMED_OUT_REASON) return true;
  return Date.parse(c.lastUpdateTime) + Number((d.spec as Any).progressDeadlineSeconds) * 1000 < now;
}

/** GetProportion / getReplicaSetFraction: a ReplicaSet's share of a scaling event during a rollout. */
export function proportion(rs: KubeObject, d: KubeObject, toAdd: number, added: number): number {
  if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  let fraction: number;
  if (replicasOf(d) === 0) fraction = -replicasOf(rs);
  else {
    const total = replicasOf(d) + maxSurge(d);
    const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? statusOf(d, 'replicas'));
    fraction = Math.round((replicasOf(rs) * total) / (annotated || 1)) - replicasOf(rs);
  }
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}
