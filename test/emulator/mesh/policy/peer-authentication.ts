// Inbound mTLS mode of a workload port from PeerAuthentication (security.istio.io v1beta1/v1), read from
// istio/istio pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication and the API's proto:
// start PERMISSIVE; mesh (root namespace, no selector) then namespace (no selector) then workload (selector,
// never from the root namespace) override it; UNSET inherits; portLevelMtls (keyed by workload port, only
// with a selector) overrides the workload's mode for that port. Among several at one level the oldest wins.
import type { KubeObject } from '../../contracts.js';
import { labels, matchesLabels, oldestFirst, podNamespace } from '../k8s.js';
import { describe, type ConfigInputs, type Decided, type InboundMode } from './types.js';

interface PaSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: string } | null;
  portLevelMtls?: Record<string, { mode?: string } | null>;
}

function spec(pa: KubeObject): PaSpec {
  return (pa.spec ?? {}) as PaSpec;
}

function hasSelector(pa: KubeObject): boolean {
  const ml = spec(pa).selector?.matchLabels;
  return ml !== undefined && Object.keys(ml).length > 0;
}

function mode(raw: string | undefined): InboundMode | undefined {
  const m = (raw ?? 'UNSET').toUpperCase();
  return m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined;
}

export interface PaLevels {
  mesh?: KubeObject;
  namespace?: KubeObject;
  workload?: KubeObject;
}

export function paLevels(inputs: ConfigInputs, ns: string, podLabels?: Record<string, string>): PaLevels {
  const all = oldestFirst(inputs.peerAuthentications);
  const out: PaLevels = {};
  const mesh = all.find((pa) => podNamespace(pa) === inputs.rootNamespace && !hasSelector(pa));
  if (mesh) out.mesh = mesh;
  const nsLevel =
    ns === inputs.rootNamespace ? undefined : all.find((pa) => podNamespace(pa) === ns && !hasSelector(pa));
  if (nsLevel) out.namespace = nsLevel;
  if (podLabels && ns !== inputs.rootNamespace) {
    const wl = all.find(
      (pa) => podNamespace(pa) === ns && hasSelector(pa) && matchesLabels(spec(pa).selector?.matchLabels, podLabels),
    );
    if (wl) out.workload = wl;
  }
  // In the root namespace a namespace-wide policy *is* the mesh-wide one.
  return out;
}

/** The mesh/namespace-level mode alone (istio's BestEffortInferServiceMTLSMode uses it for auto mTLS). */
export function namespaceMode(inputs: ConfigInputs, ns: string): Decided<InboundMode> {
  const lv = paLevels(inputs, ns);
  let result: Decided<InboundMode> = { value: 'PERMISSIVE', by: 'default (no PeerAuthentication)' };
  for (const pa of [lv.mesh, lv.namespace]) {
    const m = pa ? mode(spec(pa).mtls?.mode) : undefined;
    if (pa && m) result = { value: m, by: describe(pa) };
  }
  return result;
}

export function modernInboundMode(inputs: ConfigInputs, pod: KubeObject, port: number): Decided<InboundMode> {
  const lv = paLevels(inputs, podNamespace(pod), labels(pod));
  let result: Decided<InboundMode> = { value: 'PERMISSIVE', by: 'default (no PeerAuthentication)' };
  for (const pa of [lv.mesh, lv.namespace, lv.workload]) {
    const m = pa ? mode(spec(pa).mtls?.mode) : undefined;
    if (pa && m) result = { value: m, by: describe(pa) };
  }
  if (lv.workload) {
    const pl = spec(lv.workload).portLevelMtls?.[String(port)];
    const m = pl ? mode(pl.mode) : undefined;
    if (m) result = { value: m, by: `${describe(lv.workload)} portLevelMtls ${port}` };
  }
  return result;
}
