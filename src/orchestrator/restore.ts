import type { Cluster } from '../kube/cluster.js';
import { refOf } from '../kube/cluster.js';
import type { KubeObject } from '../model/kube-object.js';

/** Puts back an object as it was before meshprobe replaced it: its spec, labels and annotations, same uid. */
export async function restore(cluster: Cluster, before: KubeObject): Promise<void> {
  const now = await cluster.get(refOf(before));
  if (now) {
    const restored = { ...before, metadata: { ...before.metadata, resourceVersion: now.metadata.resourceVersion } };
    delete (restored.metadata as Record<string, unknown>).managedFields;
    await cluster.replace(restored);
  } else {
    await cluster.apply(withoutServerFields(before));
  }
}

/** Fields the API server owns, which a create must not carry. */
export function withoutServerFields(o: KubeObject): KubeObject {
  const {
    uid: _u,
    resourceVersion: _r,
    creationTimestamp: _c,
    generation: _g,
    managedFields: _m,
    ...metadata
  } = o.metadata as Record<string, unknown>;
  const { status: _s, ...rest } = o;
  return { ...rest, metadata: metadata as KubeObject['metadata'] };
}
