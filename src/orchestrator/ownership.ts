// What marks an object as meshprobe's: created by it, safe for it to delete.
import type { KubeObject } from '../model/kube-object.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'meshprobe';
export const RUN_ID = 'meshprobe.dev/run-id';
/** On a namespace meshprobe created to stay (`setup`, `run --keep`): `meshprobe cleanup` leaves it. */
export const KEEP = 'meshprobe.dev/keep';
/**
 * On an adopted namespace (not meshprobe's) whose labels meshprobe changed: the labels as they were,
 * JSON, `null` for one that was absent, so that `teardown` can put them back after a `--keep`.
 */
export const ADOPTED_LABELS = 'meshprobe.dev/adopted-labels';

export function isOurs(obj: KubeObject | undefined): boolean {
  return obj?.metadata.labels?.[MANAGED_BY] === MANAGER;
}

/** A copy of `obj` in `namespace` (if given) labelled as meshprobe's, for this run. */
export function stamp(obj: KubeObject, runId: string, namespace?: string): KubeObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      ...(namespace ? { namespace } : {}),
      labels: { ...obj.metadata.labels, [MANAGED_BY]: MANAGER, [RUN_ID]: runId },
    },
  };
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase()}-${Math.random().toString(16).slice(2, 6)}`;
}
