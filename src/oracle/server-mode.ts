// The inbound mTLS mode of a server workload's port, for both API generations.
import type { LegacyPolicy, MtlsMode, PeerAuthentication } from '../model/istio-objects.js';
import { describePolicy } from '../model/istio-objects.js';
import { selects, type Service, type ServicePort, type Workload } from '../model/topology.js';
import type { ServerDecision, ServerMode, Step } from '../model/prediction.js';
import { serviceHost, type MeshConfig } from './mesh.js';

const oldest = <T extends { order: number }>(items: T[]): T | undefined =>
  items.reduce<T | undefined>((a, b) => (a && a.order <= b.order ? a : b), undefined);

/** Selected PeerAuthentications for a workload, as `ComposePeerAuthentication` (pilot/pkg/security/authn/policy_applier.go) picks them. */
function selectPeerAuthentications(
  policies: PeerAuthentication[],
  namespace: string,
  labels: Record<string, string>,
  mesh: MeshConfig,
) {
  const unselected = (p: PeerAuthentication) => !p.selector || Object.keys(p.selector).length === 0;
  return {
    meshWide: oldest(policies.filter((p) => p.namespace === mesh.rootNamespace && unselected(p))),
    namespaceWide:
      namespace === mesh.rootNamespace
        ? undefined
        : oldest(policies.filter((p) => p.namespace === namespace && unselected(p))),
    // Selector policies in the root namespace are ignored (proto: "ignored when deployed in the root namespace").
    workload: oldest(
      policies.filter(
        (p) =>
          p.namespace === namespace &&
          p.namespace !== mesh.rootNamespace &&
          !unselected(p) &&
          selects(p.selector!, labels),
      ),
    ),
  };
}

/** Modern: start PERMISSIVE, then mesh, namespace, workload, port; UNSET inherits. */
export function modernServerMode(
  policies: PeerAuthentication[],
  workload: Workload,
  targetPort: number,
  mesh: MeshConfig,
): ServerDecision {
  const chain: Step[] = [{ by: 'default', says: 'PERMISSIVE (no PeerAuthentication applies)' }];
  let mode: ServerMode = 'PERMISSIVE';
  const {
    meshWide,
    namespaceWide,
    workload: wl,
  } = selectPeerAuthentications(policies, workload.namespace, workload.labels, mesh);
  const apply = (p: PeerAuthentication | undefined, m: MtlsMode | undefined, level: string) => {
    if (!p) return;
    if (m === undefined || m === 'UNSET') {
      chain.push({ by: describePolicy(p), says: `${level}: UNSET, inherits ${mode}` });
      return;
    }
    mode = m;
    chain.push({ by: describePolicy(p), says: `${level}: ${m}` });
  };
  apply(meshWide, meshWide?.mode, 'mesh-wide');
  apply(namespaceWide, namespaceWide?.mode, 'namespace-wide');
  apply(wl, wl?.mode, 'workload');
  if (wl?.portLevel.has(targetPort)) apply(wl, wl.portLevel.get(targetPort), `port ${targetPort}`);
  if (chain.length > 1) chain.shift();
  return { sidecar: true, mode, chain };
}

/**
 * The namespace- or mesh-level mode of a namespace, which auto mTLS consults before looking at endpoints
 * (`BestEffortInferServiceMTLSMode` / `GetNamespaceMutualTLSMode`, pilot/pkg/model): workload policies do not count.
 */
export function namespaceMode(
  policies: PeerAuthentication[],
  namespace: string,
  mesh: MeshConfig,
): { mode: ServerMode; by?: PeerAuthentication } {
  const { meshWide, namespaceWide } = selectPeerAuthentications(policies, namespace, {}, mesh);
  let mode: ServerMode = 'PERMISSIVE';
  let by: PeerAuthentication | undefined;
  if (meshWide && meshWide.mode !== 'UNSET') [mode, by] = [meshWide.mode, meshWide];
  if (namespaceWide && namespaceWide.mode !== 'UNSET') [mode, by] = [namespaceWide.mode, namespaceWide];
  return { mode, by };
}

/**
 * Legacy (Istio 1.4 `AuthenticationPolicyForWorkload`, pilot/pkg/model/push_context.go): the narrowest
 * policy wins whole: service (a port-specific target before a name-only one, else the oldest), then
 * namespace (a Policy without targets, oldest), then the MeshPolicy named default. Its first mtls peer
 * gives the mode; no such peer means mTLS is off for the service.
 */
export function legacyServerMode(
  policies: LegacyPolicy[],
  service: Service,
  port: ServicePort,
  mesh: MeshConfig,
): ServerDecision {
  const host = serviceHost(service.name, service.namespace, mesh);
  const fqdn = (name: string, ns: string) => (name.includes('.') ? name : serviceHost(name, ns, mesh));
  const sorted = [...policies].sort((a, b) => a.order - b.order);

  type Entry = { policy: LegacyPolicy; ports?: { number?: number; name?: string } };
  const byService: Entry[] = [];
  for (const p of sorted) {
    if (p.kind !== 'Policy') continue;
    for (const t of p.targets) {
      if (fqdn(t.name, p.namespace) !== host) continue;
      if (t.ports.length === 0) byService.push({ policy: p });
      else for (const ports of t.ports) byService.push({ policy: p, ports });
    }
  }
  const pick = (entries: Entry[]): { entry: Entry; portSpecific: boolean } | undefined => {
    let matched: Entry | undefined;
    for (const e of entries) {
      if (!e.ports && !matched) matched = e;
      if (e.ports && (e.ports.number === port.port || (e.ports.name !== undefined && e.ports.name === port.name)))
        return { entry: e, portSpecific: true };
    }
    return matched && { entry: matched, portSpecific: false };
  };

  let chosen: { policy: LegacyPolicy; level: string } | undefined;
  const svc = pick(byService);
  if (svc)
    chosen = {
      policy: svc.entry.policy,
      level: svc.portSpecific ? `service ${service.name} port ${port.port}` : `service ${service.name}`,
    };
  // Istio's validation lets a Policy without targets exist only under the name "default".
  const ns =
    !chosen &&
    sorted.find(
      (p) => p.kind === 'Policy' && p.namespace === service.namespace && p.targets.length === 0 && p.name === 'default',
    );
  if (ns) chosen = { policy: ns, level: 'namespace-wide' };
  const meshPolicy = !chosen && sorted.find((p) => p.kind === 'MeshPolicy' && p.name === 'default');
  if (meshPolicy) chosen = { policy: meshPolicy, level: 'mesh-wide' };

  if (!chosen)
    return {
      sidecar: true,
      mode: 'DISABLE',
      chain: [{ by: 'default', says: 'no MeshPolicy or Policy applies: mTLS off, plaintext only' }],
    };
  const m = chosen.policy.peerMtls;
  const mode: ServerMode = m ?? 'DISABLE';
  const says = m
    ? `${chosen.level}: ${m}${m === 'STRICT' && hasEmptyMtls(chosen.policy) ? ' (mtls: {})' : ''}`
    : `${chosen.level}: no mtls peer, so mTLS is off (plaintext only)`;
  return { sidecar: true, mode, chain: [{ by: describePolicy(chosen.policy), says }] };
}

function hasEmptyMtls(p: LegacyPolicy): boolean {
  const peers = (p.raw.spec as { peers?: Array<{ mtls?: { mode?: string } | null }> } | undefined)?.peers ?? [];
  return peers.some((peer) => peer && 'mtls' in peer && !peer.mtls?.mode);
}
