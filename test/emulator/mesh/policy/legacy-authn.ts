// Inbound mTLS mode from the pre-1.6 authentication.istio.io/v1alpha1 API, as the 1.1–1.4 concept docs
// describe it: the narrowest matching policy wins (service-specific > namespace-wide Policy "default" >
// MeshPolicy "default") and replaces the broader one completely; targets name Services of the policy's
// namespace and their *service* ports; no peers means mTLS off; `mtls: {}` / `mtls: null` means STRICT;
// no matching policy at all means mTLS off. Where several service policies match Istio picks one at random;
// the emulator picks the oldest so that runs are reproducible.
import type { KubeObject } from '../../contracts.js';
import {
  matchesLabels,
  labels,
  oldestFirst,
  podNamespace,
  resolveTargetPort,
  serviceSelector,
  servicePorts,
} from '../k8s.js';
import { describe, type ConfigInputs, type Decided, type InboundMode } from './types.js';

interface LegacySpec {
  targets?: Array<{ name: string; ports?: Array<{ number?: number; name?: string }> }>;
  peers?: Array<{ mtls?: { mode?: string } | null }> | null;
}

function spec(p: KubeObject): LegacySpec {
  return (p.spec ?? {}) as LegacySpec;
}

export function legacyPeerMode(p: KubeObject): InboundMode {
  const peers = spec(p).peers ?? [];
  const mtls = peers.find((peer) => peer !== null && typeof peer === 'object' && 'mtls' in peer);
  if (!mtls) return 'DISABLE';
  const m = (mtls.mtls?.mode ?? 'STRICT').toUpperCase();
  return m === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT';
}

/** Does this service-specific policy cover the given workload port of the pod? */
function covers(inputs: ConfigInputs, policy: KubeObject, pod: KubeObject, port: number): boolean {
  const ns = podNamespace(policy);
  if (podNamespace(pod) !== ns) return false;
  for (const target of spec(policy).targets ?? []) {
    const svc = inputs.services.find((s) => podNamespace(s) === ns && s.metadata.name === target.name);
    if (!svc || !matchesLabels(serviceSelector(svc), labels(pod))) continue;
    if (!target.ports || target.ports.length === 0) return true;
    for (const tp of target.ports) {
      const sp = servicePorts(svc).find(
        (p) => (tp.number !== undefined && p.port === tp.number) || (tp.name !== undefined && p.name === tp.name),
      );
      if (sp && resolveTargetPort(sp, pod) === port) return true;
    }
  }
  return false;
}

export function legacyInboundMode(inputs: ConfigInputs, pod: KubeObject, port: number): Decided<InboundMode> {
  const ns = podNamespace(pod);
  const policies = oldestFirst(inputs.policies);
  const service = policies.find((p) => (spec(p).targets ?? []).length > 0 && covers(inputs, p, pod, port));
  if (service) return { value: legacyPeerMode(service), by: describe(service) };
  const nsDefault = policies.find(
    (p) => podNamespace(p) === ns && p.metadata.name === 'default' && (spec(p).targets ?? []).length === 0,
  );
  if (nsDefault) return { value: legacyPeerMode(nsDefault), by: describe(nsDefault) };
  const mesh = inputs.meshPolicies.find((p) => p.metadata.name === 'default' && (spec(p).targets ?? []).length === 0);
  if (mesh) return { value: legacyPeerMode(mesh), by: describe(mesh) };
  return { value: 'DISABLE', by: 'no authentication policy (mTLS off)' };
}
