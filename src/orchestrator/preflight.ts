// Checks before anything is changed: each failure is one ClusterError naming the cause and the fix.
import pLimit from 'p-limit';
import { ClusterError, ConfigError } from '../errors.js';
import type { Cluster, IstioApis } from '../kube/cluster.js';
import { PERMISSIONS } from '../kube/permissions.js';
import { JOURNAL_NAMESPACE } from './journal.js';
import type { EventSink } from '../model/events.js';
import { describePolicy } from '../model/istio-objects.js';
import { LEGACY_AUTHORIZATION, type Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';

export async function checkReachable(cluster: Cluster, events: EventSink): Promise<string> {
  const version = await cluster.version();
  events({ type: 'preflight', check: 'cluster reachable', ok: true, detail: `${cluster.server} (${version})` });
  return version;
}

export async function checkIstio(cluster: Cluster, events: EventSink): Promise<IstioApis> {
  const apis = await cluster.istioApis();
  if (apis.flavor === 'none') {
    events({ type: 'preflight', check: 'Istio installed', ok: false });
    throw new ClusterError(
      `Istio is not installed in context "${cluster.context}": the cluster serves no security.istio.io or authentication.istio.io API`,
      'install Istio (istioctl install --set profile=minimal -y), or try meshprobe on an emulated cluster with Istio: `make try` in a clone of meshprobe',
    );
  }
  events({
    type: 'preflight',
    check: 'Istio installed',
    ok: true,
    detail: `${apis.flavor} (${apis.groupVersions.join(', ')})`,
  });
  return apis;
}

/** Every scenario object must be of a kind and version the cluster serves, or translatable to one. */
export function checkScenarioApis(scenarios: Scenario[], apis: IstioApis): void {
  const problems: string[] = [];
  for (const s of scenarios) {
    for (const o of s.objects) {
      if (apis.flavor === 'legacy' && o.kind === 'PeerAuthentication') {
        problems.push(
          `${s.name}: ${describePolicy(o)} needs security.istio.io, which this Istio 1.4-era cluster does not serve (write it as a MeshPolicy or Policy)`,
        );
      } else if (apis.flavor === 'legacy' && o.kind === 'AuthorizationPolicy') {
        problems.push(`${s.name}: ${describePolicy(o)}: ${LEGACY_AUTHORIZATION}`);
      } else if (o.kind === 'AuthorizationPolicy' && !apis.groupVersions.includes(o.apiVersion)) {
        problems.push(
          `${s.name}: ${describePolicy(o)} is ${o.apiVersion}, which this cluster does not serve (security.istio.io/v1 needs Istio 1.22+)`,
        );
      } else if (o.kind === 'DestinationRule' && !apis.groupVersions.includes(o.apiVersion)) {
        const served = apis.groupVersions.filter((gv) => gv.startsWith('networking.istio.io/'));
        problems.push(
          `${s.name}: ${describePolicy(o)} is ${o.apiVersion}, which this cluster does not serve (it serves ${served.join(', ') || 'no networking.istio.io'})`,
        );
      } else if (o.kind === 'PeerAuthentication' && !apis.groupVersions.includes(o.apiVersion)) {
        problems.push(
          `${s.name}: ${describePolicy(o)} is ${o.apiVersion}, which this cluster does not serve (security.istio.io/v1 needs Istio 1.22+)`,
        );
      }
    }
  }
  if (problems.length)
    throw new ConfigError(
      `scenarios use APIs the cluster does not serve:\n  ${problems.join('\n  ')}`,
      'run only the other scenarios (--scenario), or change the apiVersion in the scenario file',
    );
}

/** What the run will do that needs more than the permissions every run needs. */
export interface RunNeeds {
  /** It changes objects outside the topology's namespaces (and journals them in meshprobe-system). */
  clusterWide: boolean;
  /** A topology namespace does not exist yet. */
  createsNamespaces: boolean;
  /** An existing topology namespace lacks its injection label. */
  relabelsNamespaces: boolean;
}

/** SelfSubjectAccessReviews for every permission in src/kube/permissions.ts this run needs. */
export async function checkPermissions(
  cluster: Cluster,
  topology: Topology,
  apis: IstioApis,
  rootNamespace: string,
  needs: RunNeeds,
  events: EventSink,
  signal?: AbortSignal,
): Promise<void> {
  const wanted = PERMISSIONS.filter(
    (p) =>
      !(p.legacyOnly && apis.flavor !== 'legacy') &&
      !(p.modernOnly && apis.flavor !== 'modern') &&
      !(p.clusterWideOnly && !needs.clusterWide) &&
      !(p.when === 'creating-namespaces' && !needs.createsNamespaces) &&
      !(p.when === 'relabelling-namespaces' && !needs.relabelsNamespaces),
  );
  const checks = wanted.flatMap((p) => {
    const namespaces =
      p.scope === 'cluster' || p.scope === 'all'
        ? [undefined]
        : p.scope === 'root'
          ? [rootNamespace]
          : p.scope === 'journal'
            ? [JOURNAL_NAMESPACE]
            : topology.namespaces.map((n) => n.name);
    return namespaces.flatMap((namespace) => p.verbs.map((verb) => ({ p, verb, namespace })));
  });
  const limit = pLimit(16);
  const denied = (
    await Promise.all(
      checks.map((c) =>
        limit(async () => {
          signal?.throwIfAborted();
          return (await cluster.canI({
            verb: c.verb,
            group: c.p.group,
            resource: c.p.resource,
            namespace: c.namespace,
          }))
            ? undefined
            : c;
        }),
      ),
    )
  ).filter((c) => !!c);
  if (denied.length) {
    events({ type: 'preflight', check: 'permissions', ok: false });
    const lines = denied
      .slice(0, 8)
      .map(
        (c) =>
          `cannot ${c.verb} ${c.p.resource}${c.p.group ? `.${c.p.group}` : ''}${c.namespace ? ` in ${c.namespace}` : c.p.scope === 'all' ? ' in all namespaces' : ' (cluster-wide)'}: needed to ${c.p.why}`,
      );
    throw new ClusterError(
      `missing permissions in context "${cluster.context}":\n  ${lines.join('\n  ')}${denied.length > 8 ? `\n  ... and ${denied.length - 8} more` : ''}`,
      'apply manifests/rbac/ (a cluster of your own) or, on a shared cluster, manifests/rbac-staging/ (then run with --adopt), and bind it to this identity (README, "Nightly CI and RBAC")',
    );
  }
  events({ type: 'preflight', check: 'permissions', ok: true, detail: `${checks.length} checked` });
}
