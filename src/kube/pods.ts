// Reading pods: the label selector a workload's labels make, and whether a pod can take an exec.
import type { KubeObject } from '../model/kube-object.js';

/** `app=httpbin,version=v1`: the equality-based selector the list API takes. */
export const labelSelector = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

/** Running, Ready and not being deleted. */
export function isReady(pod: KubeObject): boolean {
  const status = pod.status as { phase?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
  return (
    !pod.metadata.deletionTimestamp &&
    status?.phase === 'Running' &&
    !!status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
  );
}
