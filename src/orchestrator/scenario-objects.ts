// The objects a scenario puts in this cluster: legacy kinds become PeerAuthentication where the cluster
// no longer serves them (Istio >= 1.6), everything labelled as meshprobe's.
import type { Cluster, IstioApis } from '../kube/cluster.js';
import { fromObject, LEGACY_KINDS, type LegacyPolicy, type IstioPolicy } from '../model/istio-objects.js';
import type { KubeObject } from '../model/kube-object.js';
import type { Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import type { MeshConfig } from '../oracle/mesh.js';
import { translateLegacy } from '../oracle/translate-legacy.js';
import { MANAGED_BY, stamp } from './ownership.js';

export function objectsToApply(
  scenario: Scenario,
  topology: Topology,
  apis: IstioApis,
  mesh: MeshConfig,
  runId: string,
): KubeObject[] {
  const servesLegacy = apis.groupVersions.some((gv) => gv.startsWith('authentication.istio.io/'));
  const paVersion = apis.groupVersions.find((gv) => gv.startsWith('security.istio.io/')) ?? 'security.istio.io/v1beta1';
  return scenario.objects.flatMap((o) => {
    if (!LEGACY_KINDS.has(o.kind) || servesLegacy) return [stamp(o.raw, runId)];
    return translateLegacy([o as LegacyPolicy], topology.services, mesh).map((t) =>
      stamp({ ...t.to.raw, apiVersion: paVersion }, runId),
    );
  });
}

/** The mTLS objects already in the cluster (not meshprobe's), oldest first: the baseline every scenario lands on. */
export function baselineFrom(objects: KubeObject[]): IstioPolicy[] {
  const created = (o: KubeObject) => Date.parse(String(o.metadata.creationTimestamp ?? '')) || 0;
  return objects
    .filter((o) => o.metadata.labels?.[MANAGED_BY] !== 'meshprobe')
    .sort((a, b) => created(a) - created(b))
    .map((o, i) => fromObject(o, i - objects.length));
}

/** Every PeerAuthentication, DestinationRule, AuthorizationPolicy and legacy policy the cluster holds, in all namespaces. */
export async function listPolicies(cluster: Cluster, groupVersions: string[]): Promise<KubeObject[]> {
  const served = (group: string) => groupVersions.find((gv) => gv.startsWith(`${group}/`));
  const kinds: Array<[string | undefined, string]> = [
    [served('security.istio.io'), 'PeerAuthentication'],
    [served('security.istio.io'), 'AuthorizationPolicy'],
    [served('networking.istio.io'), 'DestinationRule'],
    [served('authentication.istio.io'), 'MeshPolicy'],
    [served('authentication.istio.io'), 'Policy'],
  ];
  const lists = await Promise.all(kinds.filter(([gv]) => gv).map(([gv, kind]) => cluster.list(gv!, kind)));
  return lists.flat();
}
