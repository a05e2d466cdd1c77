// What a client's sidecar originates towards one server pod on one service port.
import type { DestinationRule, PeerAuthentication } from '../model/istio-objects.js';
import { describePolicy } from '../model/istio-objects.js';
import type { Service, ServicePort, Workload } from '../model/topology.js';
import type { ClientDecision, ServerDecision, Step } from '../model/prediction.js';
import { describeMatch, findDestinationRule, tlsForPort } from './destination-rule.js';
import { serviceHost, type MeshConfig } from './mesh.js';
import { namespaceMode } from './server-mode.js';

export function clientOrigination(
  client: Workload,
  service: Service,
  port: ServicePort,
  server: ServerDecision,
  rules: DestinationRule[],
  peerAuthentications: PeerAuthentication[],
  mesh: MeshConfig,
): ClientDecision {
  if (!client.sidecar)
    return {
      sidecar: false,
      origination: 'plaintext',
      chain: [{ by: 'client', says: 'no sidecar: the app talks to the server pod directly' }],
    };

  const host = serviceHost(service.name, service.namespace, mesh);
  const lookup = findDestinationRule(rules, client.namespace, service.namespace, host, mesh);
  const chain: Step[] = [];
  if (lookup.rule) {
    const { mode, portLevel } = tlsForPort(lookup.rule, port.port);
    const where = `${describeMatch(lookup, mesh)}${portLevel ? `, portLevelSettings port ${port.port}` : ''}`;
    if (mode) {
      chain.push({ by: describePolicy(lookup.rule), says: `tls.mode ${mode} (${where})` });
      const origination =
        mode === 'ISTIO_MUTUAL'
          ? 'mtls'
          : mode === 'DISABLE'
            ? 'plaintext'
            : mode === 'SIMPLE'
              ? 'simple-tls'
              : 'mutual-tls';
      return { sidecar: true, origination, byRule: true, chain };
    }
    chain.push({ by: describePolicy(lookup.rule), says: `sets no TLS for port ${port.port} (${where})` });
  } else {
    chain.push({ by: 'client sidecar', says: `no DestinationRule for ${host}` });
  }

  if (!mesh.autoMtls) {
    chain.push({ by: 'mesh', says: 'auto mTLS is off (Istio 1.4 default): plaintext' });
    return { sidecar: true, origination: 'plaintext', byRule: false, chain };
  }
  // cluster_tls.go buildUpstreamTLSSettings: a namespace- or mesh-level DISABLE turns auto mTLS off for the service.
  const ns = namespaceMode(peerAuthentications, service.namespace, mesh);
  if (ns.mode === 'DISABLE') {
    chain.push({
      by: ns.by ? describePolicy(ns.by) : 'mesh',
      says: `auto mTLS: ${service.namespace} is DISABLE at namespace/mesh level, so plaintext`,
    });
    return { sidecar: true, origination: 'plaintext', byRule: false, chain };
  }
  // mtls_checker.go checkMtlsEnabled: per endpoint, a sidecar whose port is not DISABLE gets mTLS.
  if (!server.sidecar) {
    chain.push({ by: 'auto mTLS', says: 'the server pod has no sidecar: plaintext' });
    return { sidecar: true, origination: 'plaintext', byRule: false, chain };
  }
  if (server.mode === 'DISABLE') {
    chain.push({ by: 'auto mTLS', says: `the server's port ${port.targetPort} is DISABLE: plaintext` });
    return { sidecar: true, origination: 'plaintext', byRule: false, chain };
  }
  chain.push({ by: 'auto mTLS', says: 'the server pod has a sidecar: mTLS' });
  return { sidecar: true, origination: 'mtls', byRule: false, chain };
}
