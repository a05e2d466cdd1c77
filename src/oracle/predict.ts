// The oracle: from topology + Istio objects + mesh settings to the predicted cell of every
// (client, server port) pair, with the chain of objects that decided it. Pure.
import { ConfigError } from '../errors.js';
import type {
  AuthorizationPolicy,
  DestinationRule,
  IstioPolicy,
  LegacyPolicy,
  PeerAuthentication,
} from '../model/istio-objects.js';
import { describePolicy } from '../model/istio-objects.js';
import { cellName, Matrix } from '../model/matrix.js';
import type { Prediction, ServerDecision } from '../model/prediction.js';
import { LEGACY_AUTHORIZATION } from '../model/scenario.js';
import { backends, findService, findWorkload, type Client, type Target, type Topology } from '../model/topology.js';
import { authorizeCell } from './authorization/cell.js';
import { clientOrigination } from './client-tls.js';
import { combine } from './combine.js';
import type { MeshConfig } from './mesh.js';
import { legacyServerMode, modernServerMode } from './server-mode.js';
import { translateLegacy } from './translate-legacy.js';

/** The objects the data plane acts on in this flavor: legacy kinds become PeerAuthentication on a modern mesh. */
export function effectivePolicies(
  topology: Topology,
  policies: IstioPolicy[],
  mesh: MeshConfig,
): {
  peerAuthentications: PeerAuthentication[];
  legacy: LegacyPolicy[];
  rules: DestinationRule[];
  authorization: AuthorizationPolicy[];
} {
  const rules = policies.filter((p): p is DestinationRule => p.kind === 'DestinationRule');
  const authorization = policies.filter((p): p is AuthorizationPolicy => p.kind === 'AuthorizationPolicy');
  const legacy = policies.filter((p): p is LegacyPolicy => p.kind === 'MeshPolicy' || p.kind === 'Policy');
  const pas = policies.filter((p): p is PeerAuthentication => p.kind === 'PeerAuthentication');
  if (mesh.flavor === 'legacy') {
    if (pas.length)
      throw new ConfigError(
        `${describePolicy(pas[0]!)}: Istio 1.4 does not serve security.istio.io; write the policy as a MeshPolicy or Policy, or predict with --istio modern`,
      );
    if (authorization.length)
      throw new ConfigError(
        `${describePolicy(authorization[0]!)}: ${LEGACY_AUTHORIZATION}`,
        'predict it with --istio modern',
      );
    return { peerAuthentications: [], legacy, rules, authorization: [] };
  }
  const translated = translateLegacy(legacy, topology.services, mesh).map((t) => t.to);
  return { peerAuthentications: [...pas, ...translated], legacy: [], rules, authorization };
}

export function predict(topology: Topology, policies: IstioPolicy[], mesh: MeshConfig): Matrix<Prediction> {
  const effective = effectivePolicies(topology, policies, mesh);
  return Matrix.of(topology, (client, target) => predictCell(topology, effective, mesh, client, target));
}

function predictCell(
  topology: Topology,
  policies: ReturnType<typeof effectivePolicies>,
  mesh: MeshConfig,
  client: Client,
  target: Target,
): Prediction {
  const clientWl = findWorkload(topology, client.namespace, client.workload)!;
  const service = findService(topology, target.namespace, target.service)!;
  const serverWl = backends(topology, service)[0];
  if (!serverWl)
    throw new ConfigError(`service ${service.namespace}/${service.name} selects no workload of the topology`);

  const server: ServerDecision = !serverWl.sidecar
    ? {
        sidecar: false,
        chain: [{ by: 'server', says: `${serverWl.namespace}/${serverWl.name} has no sidecar: nothing enforces mTLS` }],
      }
    : mesh.flavor === 'modern'
      ? modernServerMode(policies.peerAuthentications, serverWl, target.port.targetPort, mesh)
      : legacyServerMode(policies.legacy, service, target.port, mesh);
  const clientDecision = clientOrigination(
    clientWl,
    service,
    target.port,
    server,
    policies.rules,
    policies.peerAuthentications,
    mesh,
  );
  const combined = combine(clientDecision, server, target.port.protocol);
  const authz =
    mesh.flavor === 'modern'
      ? authorizeCell(policies.authorization, serverWl, clientWl, clientDecision, server, combined, target, mesh, () =>
          cellName(client.id, target.id),
        )
      : undefined;

  const sends = clientDecision.sidecar
    ? `client sidecar sends ${clientDecision.origination}`
    : 'client (no sidecar) sends plaintext';
  const takes = server.sidecar ? `server sidecar is ${server.mode}` : 'server has no sidecar';
  const outcome = authz?.outcome ?? combined.outcome;
  const why = authz?.why ?? combined.why;
  return {
    outcome,
    reason: {
      summary: `${sends}; ${takes}: ${combined.why}${authz?.summary ? `; ${authz.summary}` : ''}`,
      why,
      client: clientDecision,
      server,
      protocol: target.port.protocol,
      row: combined.row,
      ...(authz ? { authorization: authz.decision } : {}),
    },
  };
}
