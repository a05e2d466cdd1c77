// Which DestinationRule a client proxy uses for a service, and the TLS mode it sets for a service port.
// Lookup order from istio/istio pilot/pkg/model/push_context.go destinationRule(): the client's namespace
// (its own rules), then rules exported from the service's namespace, then rules exported from the root
// namespace; within one namespace MostSpecificHostMatch (exact host, else the longest wildcard), and for
// several rules with the same host the oldest one's traffic policy. Short hosts are relative to the rule's
// namespace (ResolveShortnameToFQDN: only names without a dot). Port-level TLS replaces the top-level TLS
// for that *service* port (mtls_checker.go trafficPolicyTLSModeForPort).
import type { KubeObject } from '../../contracts.js';
import { oldestFirst, podNamespace } from '../k8s.js';
import { describe, type ConfigInputs, type DrTlsMode } from './types.js';

interface TlsSettings {
  mode?: string;
  sni?: string;
}
interface DrSpec {
  host?: string;
  exportTo?: string[];
  trafficPolicy?: {
    tls?: TlsSettings | null;
    portLevelSettings?: Array<{ port?: { number?: number }; tls?: TlsSettings | null }>;
  };
}

function spec(dr: KubeObject): DrSpec {
  return (dr.spec ?? {}) as DrSpec;
}

const CLUSTER_DOMAIN = 'cluster.local';

export function drHost(dr: KubeObject, domain: string): string {
  const host = spec(dr).host ?? '';
  if (host.startsWith('*') || host.includes('.')) return host;
  return `${host}.${podNamespace(dr)}.svc.${domain}`;
}

function hostMatches(pattern: string, fqdn: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return fqdn.endsWith(pattern.slice(1));
  return pattern === fqdn;
}

function visibleFrom(dr: KubeObject, clientNs: string): boolean {
  const exportTo = spec(dr).exportTo ?? [];
  const ns = podNamespace(dr);
  if (exportTo.length === 0 || exportTo.includes('*')) return true;
  if (ns === clientNs && exportTo.includes('.')) return true;
  return exportTo.includes(clientNs);
}

function mostSpecific(drs: KubeObject[], fqdn: string, domain: string): KubeObject | undefined {
  const matching = oldestFirst(drs).filter((dr) => hostMatches(drHost(dr, domain), fqdn));
  const exact = matching.find((dr) => drHost(dr, domain) === fqdn);
  if (exact) return exact;
  let best: KubeObject | undefined;
  for (const dr of matching) if (!best || drHost(dr, domain).length > drHost(best, domain).length) best = dr;
  return best;
}

export function findDestinationRule(
  inputs: ConfigInputs,
  clientNs: string,
  serviceNs: string,
  fqdn: string,
): KubeObject | undefined {
  const namespaces = [clientNs, serviceNs, inputs.rootNamespace].filter((ns, i, a) => a.indexOf(ns) === i);
  for (const ns of namespaces) {
    const candidates = inputs.destinationRules.filter((dr) => podNamespace(dr) === ns && visibleFrom(dr, clientNs));
    const found = mostSpecific(candidates, fqdn, CLUSTER_DOMAIN);
    if (found) return found;
  }
  return undefined;
}

export interface DrTls {
  mode?: DrTlsMode;
  sni?: string;
  by: string;
}

export function drTlsForPort(dr: KubeObject | undefined, servicePort: number): DrTls {
  if (!dr) return { by: 'no DestinationRule' };
  const tp = spec(dr).trafficPolicy;
  let tls = tp?.tls ?? undefined;
  let where = describe(dr);
  const pl = tp?.portLevelSettings?.find((s) => s.port?.number === servicePort);
  if (pl?.tls) {
    tls = pl.tls;
    where = `${describe(dr)} portLevelSettings ${servicePort}`;
  }
  const m = tls?.mode?.toUpperCase();
  if (m === 'DISABLE' || m === 'SIMPLE' || m === 'MUTUAL' || m === 'ISTIO_MUTUAL') {
    return { mode: m, by: where, ...(tls?.sni ? { sni: tls.sni } : {}) };
  }
  return { by: `${describe(dr)} (no tls)` };
}
