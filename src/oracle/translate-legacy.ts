// Legacy (authentication.istio.io/v1alpha1) MeshPolicy and Policy -> security.istio.io PeerAuthentication,
// for clusters that no longer serve the legacy kinds (Istio >= 1.6).
//
// Where this differs from istio-ecosystem/security-policy-migrate (converter/convert.go), and why:
// - A policy with no mtls peer becomes DISABLE, not PERMISSIVE: in Istio <= 1.4 it meant "plaintext only"
//   ("Istio rejects mutual TLS connections bound for the sidecar"), and we want the same matrix.
// - The first peer carrying `mtls` decides (Istio 1.4 GetMutualTLS), not blindly peers[0].
// - A named targetPort is resolved through the workload's container ports instead of falling back to the
//   service port.
// - Service ports that share a target port cannot carry different modes in PeerAuthentication (it is keyed
//   by workload port); that case is refused instead of silently merged.
import { ConfigError } from '../errors.js';
import {
  describePolicy,
  fromObject,
  TRANSLATED_FROM,
  type LegacyPolicy,
  type MtlsMode,
  type PeerAuthentication,
} from '../model/istio-objects.js';
import type { KubeObject } from '../model/kube-object.js';
import type { Service } from '../model/topology.js';
import type { MeshConfig } from './mesh.js';

export interface Translation {
  from: LegacyPolicy;
  to: PeerAuthentication;
}

function modeOf(p: LegacyPolicy): MtlsMode {
  return p.peerMtls ?? 'DISABLE';
}

export function translateLegacy(policies: LegacyPolicy[], services: Service[], mesh: MeshConfig): Translation[] {
  const out: Translation[] = [];
  for (const p of policies) {
    const mode = modeOf(p);
    const base = (name: string, namespace: string, spec: Record<string, unknown>): KubeObject => ({
      apiVersion: 'security.istio.io/v1beta1',
      kind: 'PeerAuthentication',
      metadata: { name, namespace, annotations: { [TRANSLATED_FROM]: describePolicy(p) } },
      spec,
    });
    if (p.kind === 'MeshPolicy') {
      out.push({ from: p, to: pa(base('default', mesh.rootNamespace, { mtls: { mode } }), p.order) });
      continue;
    }
    if (p.targets.length === 0) {
      out.push({ from: p, to: pa(base(p.name, p.namespace, { mtls: { mode } }), p.order) });
      continue;
    }
    for (const t of p.targets) {
      // Targets are short names "from the service registry", in the policy's namespace.
      const svcName = t.name;
      const svcNs = p.namespace;
      const svc = services.find((s) => s.name === svcName && s.namespace === svcNs);
      if (!svc)
        throw new ConfigError(
          `${describePolicy(p)}: could not find service ${svcNs}/${svcName} to translate target "${t.name}" into a workload selector`,
        );
      const spec: Record<string, unknown> = { selector: { matchLabels: svc.selector } };
      if (t.ports.length === 0) spec.mtls = { mode };
      else {
        const portLevel: Record<string, { mode: MtlsMode }> = {};
        for (const sel of t.ports) {
          const sp = svc.ports.find(
            (x) =>
              (sel.number !== undefined && x.port === sel.number) || (sel.name !== undefined && x.name === sel.name),
          );
          if (!sp)
            throw new ConfigError(
              `${describePolicy(p)}: service ${svcNs}/${svcName} has no port ${sel.number ?? sel.name}`,
            );
          const sharing = svc.ports.filter((x) => x.targetPort === sp.targetPort && x !== sp);
          if (sharing.length) {
            throw new ConfigError(
              `${describePolicy(p)}: service port ${sp.port} shares target port ${sp.targetPort} with port ${sharing.map((x) => x.port).join(', ')}; PeerAuthentication is keyed by workload port and cannot tell them apart`,
              'run this scenario on a legacy (Istio 1.4) cluster, or target the service without ports',
            );
          }
          portLevel[String(sp.targetPort)] = { mode };
        }
        spec.portLevelMtls = portLevel;
      }
      out.push({ from: p, to: pa(base(`${p.name}-${svcName}`, p.namespace, spec), p.order) });
    }
  }
  return out;
}

function pa(raw: KubeObject, order: number): PeerAuthentication {
  return fromObject(raw, order) as PeerAuthentication;
}
