// The mesh settings the oracle needs, read from the control plane's mesh config ConfigMap (`istio`, or
// `istio-REV` for a revision, in istiod's namespace). What cannot be read is said, not silently defaulted.
import { parse } from 'yaml';
import { ClusterError } from '../errors.js';
import type { Cluster, IstioApis } from '../kube/cluster.js';
import type { EventSink } from '../model/events.js';
import { meshConfig, type MeshConfig } from '../oracle/mesh.js';
import { assumedControlPlane, type ControlPlane } from './control-plane-select.js';

interface ExtensionProvider {
  name?: string;
  envoyExtAuthzHttp?: unknown;
  envoyExtAuthzGrpc?: unknown;
}

interface MeshFields {
  enableAutoMtls?: unknown;
  rootNamespace?: unknown;
  trustDomain?: unknown;
  extensionProviders?: unknown;
}

export async function readMeshConfig(
  cluster: Cluster,
  apis: IstioApis,
  o: { controlPlane?: ControlPlane; events?: EventSink } = {},
): Promise<MeshConfig> {
  const flavor = apis.flavor === 'legacy' ? 'legacy' : 'modern';
  const cp = o.controlPlane ?? assumedControlPlane();
  const where = `${cp.namespace}/${cp.meshConfigMap}`;
  const defaults = meshConfig(flavor);
  const assuming = `assuming Istio's defaults (auto mTLS ${defaults.autoMtls ? 'on' : 'off'}, root namespace ${defaults.rootNamespace}, trust domain ${defaults.trustDomain})`;
  const warn = (why: string) => o.events?.({ type: 'warning', message: `mesh config ${where} ${why}: ${assuming}` });
  let mesh: MeshFields = {};
  try {
    const cm = await cluster.get({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: cp.namespace,
      name: cp.meshConfigMap,
    });
    const text = (cm?.data as { mesh?: unknown } | undefined)?.mesh;
    if (!cm) warn('not found');
    else if (typeof text !== 'string') warn('has no "mesh" key');
    else {
      try {
        const parsed: unknown = parse(text);
        if (parsed && typeof parsed === 'object') mesh = parsed as MeshFields;
      } catch (e) {
        warn(`is not YAML (${(e as Error).message.split('\n')[0]})`);
      }
    }
  } catch (e) {
    if (!(e instanceof ClusterError)) throw e;
    warn(`cannot be read (${e.message})`);
  }
  return meshConfig(flavor, {
    ...(typeof mesh.enableAutoMtls === 'boolean' ? { autoMtls: mesh.enableAutoMtls } : {}),
    ...(typeof mesh.rootNamespace === 'string' && mesh.rootNamespace ? { rootNamespace: mesh.rootNamespace } : {}),
    ...(typeof mesh.trustDomain === 'string' && mesh.trustDomain ? { trustDomain: mesh.trustDomain } : {}),
    // pilot/pkg/security/authz/builder/extauthz.go processExtensionProvider: only ext_authz providers count.
    ...(Array.isArray(mesh.extensionProviders)
      ? {
          extensionProviders: (mesh.extensionProviders as ExtensionProvider[])
            .filter((p) => p && (p.envoyExtAuthzHttp || p.envoyExtAuthzGrpc) && typeof p.name === 'string')
            .map((p) => p.name!),
        }
      : {}),
  });
}
