import { fromObject, type IstioPolicy } from '../model/istio-objects.js';
import type { Flavor } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { translateLegacy } from './translate-legacy.js';

/** The mesh-wide settings the oracle needs. */
export interface MeshConfig {
  flavor: Flavor;
  rootNamespace: string;
  trustDomain: string;
  clusterDomain: string;
  /** Off in Istio 1.4 (`mtls.auto: false`), on by default from 1.5. */
  autoMtls: boolean;
  /**
   * Names of meshConfig.extensionProviders with an envoyExtAuthzHttp or envoyExtAuthzGrpc entry: the providers
   * a CUSTOM AuthorizationPolicy may name. A default install declares none.
   */
  extensionProviders: string[];
}

/** A service's name in the mesh: `NAME.NAMESPACE.svc.CLUSTER-DOMAIN`, the host DestinationRules and policies match. */
export function serviceHost(name: string, namespace: string, mesh: MeshConfig): string {
  return `${name}.${namespace}.svc.${mesh.clusterDomain}`;
}

export function meshConfig(flavor: Flavor, overrides: Partial<Omit<MeshConfig, 'flavor'>> = {}): MeshConfig {
  return {
    flavor,
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    clusterDomain: 'cluster.local',
    autoMtls: flavor === 'modern',
    extensionProviders: [],
    ...overrides,
  };
}

/**
 * The mTLS objects a default install creates. Istio 1.4's Helm chart installs a PERMISSIVE MeshPolicy
 * named "default" (install/kubernetes/helm/istio/charts/security/templates/enable-mesh-permissive.yaml);
 * current istioctl installs none.
 */
export function installDefaults(mesh: MeshConfig): IstioPolicy[] {
  if (mesh.flavor === 'modern') return [];
  return [
    fromObject(
      {
        apiVersion: 'authentication.istio.io/v1alpha1',
        kind: 'MeshPolicy',
        metadata: { name: 'default' },
        spec: { peers: [{ mtls: { mode: 'PERMISSIVE' } }] },
      },
      -1_000_000,
    ),
  ];
}

/**
 * What a cluster holds after applying `scenario` over `baseline`: an applied object replaces the one of the
 * same kind, namespace and name, but keeps its age (an update does not change creationTimestamp). On a
 * modern mesh the legacy kinds are compared as what the run applies in their place (translate-legacy.ts,
 * as orchestrator/scenario-objects.ts applies them): a MeshPolicy is the PeerAuthentication
 * ROOT/default, so it replaces the cluster's own mesh-wide PeerAuthentication instead of standing beside it.
 */
export function overlay(
  topology: Topology,
  baseline: IstioPolicy[],
  scenario: IstioPolicy[],
  mesh: MeshConfig,
): IstioPolicy[] {
  const applied = (ps: IstioPolicy[]): IstioPolicy[] =>
    mesh.flavor === 'legacy'
      ? ps
      : ps.flatMap((p) =>
          p.kind === 'MeshPolicy' || p.kind === 'Policy'
            ? translateLegacy([p], topology.services, mesh).map((t) => t.to)
            : [p],
        );
  const key = (p: IstioPolicy) => `${p.kind}/${p.namespace ?? ''}/${p.name}`;
  const out = new Map(applied(baseline).map((p) => [key(p), p]));
  for (const p of applied(scenario)) {
    const old = out.get(key(p));
    out.set(key(p), old ? { ...p, order: old.order } : p);
  }
  return [...out.values()].sort((a, b) => a.order - b.order);
}
