// The mesh settings the oracle needs, read from the cluster's `istio` ConfigMap where it can be read.
import { parse } from 'yaml';
import type { Cluster, IstioApis } from '../kube/cluster.js';
import { meshConfig, type MeshConfig } from '../oracle/mesh.js';

export async function readMeshConfig(cluster: Cluster, apis: IstioApis): Promise<MeshConfig> {
  const flavor = apis.flavor === 'legacy' ? 'legacy' : 'modern';
  let mesh: { enableAutoMtls?: boolean; rootNamespace?: string; trustDomain?: string } = {};
  try {
    const cm = await cluster.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'istio-system', name: 'istio' });
    const text = (cm?.data as { mesh?: string } | undefined)?.mesh;
    if (text) mesh = (parse(text) as typeof mesh) ?? {};
  } catch {
    // Not readable (RBAC) or not there: the flavor's defaults are what a default install has.
  }
  return meshConfig(flavor, {
    ...(typeof mesh.enableAutoMtls === 'boolean' ? { autoMtls: mesh.enableAutoMtls } : {}),
    ...(mesh.rootNamespace ? { rootNamespace: mesh.rootNamespace } : {}),
    ...(mesh.trustDomain ? { trustDomain: mesh.trustDomain } : {}),
  });
}
