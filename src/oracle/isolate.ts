// `--isolation namespaced`: a scenario's cluster-wide objects (mesh-wide PeerAuthentication or MeshPolicy,
// DestinationRules and AuthorizationPolicies in the root namespace) rewritten into equivalent objects in the
// topology's namespaces,
// so a run on a shared cluster changes nothing outside them. Equivalence is not assumed: `sameMatrix`
// proves it with the oracle, and the run refuses the rewrite when the matrices differ.
import { fromObject, type IstioPolicy, type PeerAuthentication } from '../model/istio-objects.js';
import { describePolicy } from '../model/istio-objects.js';
import type { KubeObject } from '../model/kube-object.js';
import { cellName } from '../model/matrix.js';
import type { Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { ruleHost } from './destination-rule.js';
import { overlay, type MeshConfig } from './mesh.js';
import { predict } from './predict.js';

export const ISOLATED_PREFIX = 'meshprobe-mesh-';

/** Objects of the scenario outside the topology's namespaces: they change every workload of the mesh. */
export function clusterWideObjects(scenario: Scenario, topology: Topology): IstioPolicy[] {
  const ours = new Set(topology.namespaces.map((n) => n.name));
  return scenario.objects.filter((o) => o.namespace === undefined || !ours.has(o.namespace));
}

export function isolateScenario(scenario: Scenario, topology: Topology, mesh: MeshConfig): Scenario {
  const wide = new Set(clusterWideObjects(scenario, topology));
  if (wide.size === 0) return scenario;
  const namespaces = topology.namespaces.map((n) => n.name);
  const out: IstioPolicy[] = [];
  const local = scenario.objects.filter((o) => !wide.has(o));

  for (const o of scenario.objects) {
    if (!wide.has(o)) {
      out.push(inheritMeshMode(o, scenario, mesh));
      continue;
    }
    if (o.kind === 'MeshPolicy') {
      // A namespace-wide Policy replaces the mesh policy whole, as the MeshPolicy would have been replaced.
      for (const ns of namespaces) {
        if (local.some((l) => l.kind === 'Policy' && l.namespace === ns && l.targets.length === 0)) continue;
        // Named "default": Istio 1.4 refuses a namespace-wide Policy by any other name.
        out.push(
          copy(o, {
            apiVersion: o.apiVersion,
            kind: 'Policy',
            metadata: { name: 'default', namespace: ns, labels: o.raw.metadata.labels },
            spec: o.raw.spec,
          }),
        );
      }
    } else if (o.kind === 'PeerAuthentication') {
      if (o.selector && Object.keys(o.selector).length) continue; // ignored by Istio in the root namespace
      for (const ns of namespaces) {
        if (local.some((l) => l.kind === 'PeerAuthentication' && l.namespace === ns && !l.selector)) continue; // handled by inheritMeshMode
        out.push(
          copy(o, {
            apiVersion: o.apiVersion,
            kind: 'PeerAuthentication',
            metadata: { name: `${ISOLATED_PREFIX}${o.name}`, namespace: ns, labels: o.raw.metadata.labels },
            spec: o.raw.spec,
          }),
        );
      }
    } else if (o.kind === 'DestinationRule') {
      // Only the services of each namespace: a copy with the root rule's host would also catch the
      // namespace's clients calling elsewhere, ahead of the rules of those services' namespaces.
      for (const ns of namespaces) {
        const host = narrowHost(ruleHost(o, mesh), ns, mesh);
        if (!host) continue;
        const spec = { ...(o.raw.spec as Record<string, unknown>), host };
        out.push(
          copy(o, {
            apiVersion: o.apiVersion,
            kind: 'DestinationRule',
            metadata: { name: `${ISOLATED_PREFIX}${o.name}`, namespace: ns, labels: o.raw.metadata.labels },
            spec,
          }),
        );
      }
    } else if (o.kind === 'AuthorizationPolicy') {
      // A root-namespace policy applies in every namespace, its selector too (authorization_policy.proto:
      // "If the authorization policy is in the root namespace, the selector will additionally match with
      // workloads in all namespaces"); policies of one action add up, so a copy per namespace is the same.
      if (o.namespace !== mesh.rootNamespace) continue; // a namespace outside the topology selects none of it
      for (const ns of namespaces)
        out.push(
          copy(o, {
            apiVersion: o.apiVersion,
            kind: 'AuthorizationPolicy',
            metadata: {
              name: `${ISOLATED_PREFIX}${o.name}`,
              namespace: ns,
              labels: o.raw.metadata.labels,
              ...(o.raw.metadata.annotations ? { annotations: o.raw.metadata.annotations } : {}),
            },
            spec: o.raw.spec,
          }),
        );
    } else if (o.kind === 'Policy') {
      out.push(o);
    }
  }
  return { ...scenario, objects: out };
}

/**
 * A namespace-wide PeerAuthentication with mode UNSET inherited the scenario's mesh-wide mode; once the
 * mesh-wide policy is gone it would inherit the cluster's, so it gets that mode written in.
 */
function inheritMeshMode(o: IstioPolicy, scenario: Scenario, mesh: MeshConfig): IstioPolicy {
  if (o.kind !== 'PeerAuthentication' || o.selector || o.mode !== 'UNSET') return o;
  const meshWide = scenario.objects.find(
    (m): m is PeerAuthentication =>
      m.kind === 'PeerAuthentication' && m.namespace === mesh.rootNamespace && !m.selector,
  );
  if (!meshWide || meshWide.mode === 'UNSET') return o;
  return fromObject({ ...o.raw, spec: { ...(o.raw.spec as object), mtls: { mode: meshWide.mode } } }, o.order);
}

/** The part of a host pattern that covers namespace `ns`'s services, or undefined when none. */
function narrowHost(host: string, ns: string, mesh: MeshConfig): string | undefined {
  const nsWildcard = `*.${ns}.svc.${mesh.clusterDomain}`;
  if (host === '*') return nsWildcard;
  if (host.startsWith('*.'))
    return nsWildcard.endsWith(host.slice(1))
      ? nsWildcard
      : host.endsWith(`.${ns}.svc.${mesh.clusterDomain}`)
        ? host
        : undefined;
  return host.endsWith(`.${ns}.svc.${mesh.clusterDomain}`) ? host : undefined;
}

function copy(from: IstioPolicy, raw: KubeObject): IstioPolicy {
  return fromObject(
    {
      ...raw,
      metadata: {
        ...raw.metadata,
        // istio.io/dry-run stays: a dry-run policy is still one once copied.
        annotations: { ...raw.metadata.annotations, 'meshprobe.dev/isolated-from': describePolicy(from) },
      },
    },
    from.order,
  );
}

/** Cells whose predicted outcome differs between two sets of objects: empty when the rewrite is faithful. */
export function sameMatrix(
  topology: Topology,
  baseline: IstioPolicy[],
  a: IstioPolicy[],
  b: IstioPolicy[],
  mesh: MeshConfig,
): string[] {
  const pa = predict(topology, overlay(topology, baseline, a, mesh), mesh);
  const pb = predict(topology, overlay(topology, baseline, b, mesh), mesh);
  return pa
    .zip(pb, (x, y, from, to) =>
      x.outcome === y.outcome ? undefined : `${cellName(from, to)}: ${x.outcome} cluster-wide, ${y.outcome} namespaced`,
    )
    .values()
    .filter((d) => d !== undefined);
}
