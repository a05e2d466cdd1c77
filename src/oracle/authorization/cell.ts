// Authorization after mutual TLS, for one cell: only a request that got through the mTLS layer to a
// server sidecar meets its RBAC filters (a STRICT sidecar resets plaintext before authorization), and
// what a deny looks like from curl depends on the port: an HTTP port answers 403 "RBAC: access denied"
// (Envoy's rbac_filter.cc sendLocalReply), a TCP port's network filter closes the connection without a
// reply (curl exit 52), and on a TLS port that close comes during curl's TLS handshake.
import { ConfigError } from '../../errors.js';
import type { AuthorizationPolicy } from '../../model/istio-objects.js';
import type { NetworkOutcome } from '../../model/outcome.js';
import type { AuthorizationDecision, ClientDecision, ServerDecision } from '../../model/prediction.js';
import type { Target, Workload } from '../../model/topology.js';
import type { Combined } from '../combine.js';
import type { MeshConfig } from '../mesh.js';
import { authorize, selectedPolicies, Undecidable } from './evaluate.js';
import { requestAttributes } from './request.js';

export interface CellAuthorization {
  decision: AuthorizationDecision;
  /** Set when authorization changes what curl sees. */
  outcome?: NetworkOutcome;
  why?: string;
  /** Appended to the cell's one-line summary when policies select the server. */
  summary?: string;
}

export function authorizeCell(
  policies: AuthorizationPolicy[],
  server: Workload,
  client: Workload,
  clientDecision: ClientDecision,
  serverDecision: ServerDecision,
  combined: Combined,
  target: Target,
  mesh: MeshConfig,
  cell: () => string,
): CellAuthorization {
  const wl = `${server.namespace}/${server.name}`;
  const selected = selectedPolicies(policies, server, mesh).map((p) => `${p.namespace}/${p.name}`);
  const named = selected.length ? ` (AuthorizationPolicy ${selected.join(', ')})` : '';
  if (!serverDecision.sidecar)
    return {
      decision: {
        effect: 'no-sidecar',
        chain: [{ by: 'server', says: `${wl} has no sidecar: no AuthorizationPolicy is enforced on it${named}` }],
        notes: [],
      },
      ...(selected.length ? { summary: 'no sidecar enforces its AuthorizationPolicies' } : {}),
    };
  const reached = combined.outcome === 'mtls' || combined.outcome === 'plaintext' || combined.outcome === 'reached';
  if (!reached)
    return {
      decision: {
        effect: 'not-reached',
        chain: [
          {
            by: 'server sidecar',
            says: `the connection fails before authorization (${combined.outcome}): no AuthorizationPolicy is consulted${named}`,
          },
        ],
        notes: [],
      },
      ...(selected.length ? { summary: 'authorization is never reached' } : {}),
    };

  const principal =
    clientDecision.origination === 'mtls'
      ? `${mesh.trustDomain}/ns/${client.namespace}/sa/${client.serviceAccount}`
      : undefined;
  let decision: AuthorizationDecision;
  try {
    decision = authorize(policies, server, requestAttributes(target, principal), mesh);
  } catch (e) {
    if (!(e instanceof Undecidable)) throw e;
    throw new ConfigError(
      `cannot predict ${cell()}: ${e.message}`,
      'narrow or remove that rule: meshprobe predicts principals, namespaces, request principals, hosts, ports, methods, paths and the conditions on them, not IP blocks, SNI or Envoy metadata',
    );
  }
  if (decision.effect === 'denied') {
    const by = decision.decidedBy ? `denied by ${decision.decidedBy}` : 'no ALLOW rule matches';
    const http = target.port.protocol === 'http';
    return {
      decision,
      outcome: http ? 'denied' : target.port.protocol === 'tls' ? 'tls-error' : 'reset',
      why: http
        ? `${by}: the server sidecar answers 403 "RBAC: access denied"`
        : `${by}: the server sidecar's network RBAC filter closes the connection without a reply${target.port.protocol === 'tls' ? ', during the TLS handshake' : ' (curl exit 52)'}`,
      summary: decision.decidedBy ? `denied by ${decision.decidedBy}` : 'no ALLOW rule matches: denied',
    };
  }
  if (decision.effect === 'allowed')
    return {
      decision,
      summary: decision.decidedBy
        ? `allowed by ${decision.decidedBy}`
        : 'no DENY rule matches and no ALLOW policy applies',
    };
  return { decision };
}
