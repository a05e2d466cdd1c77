/** A Kubernetes object as read from YAML or the API: only what every object has is typed. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** `Kind namespace/name`, or `Kind name` for a cluster-scoped object: how messages name an object. */
export function describeRef(r: { kind: string; namespace?: string; name: string }): string {
  return r.namespace ? `${r.kind} ${r.namespace}/${r.name}` : `${r.kind} ${r.name}`;
}

export function objectId(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return describeRef({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name });
}
