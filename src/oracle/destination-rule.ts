// Which DestinationRule a client sidecar uses for a service, and the TLS mode it sets for a port.
import type { DestinationRule, TlsMode } from '../model/istio-objects.js';
import { serviceHost, type MeshConfig } from './mesh.js';

/**
 * Istio's `ResolveShortnameToFQDN`: a name without a dot is relative to the rule's namespace; a name with
 * a dot is taken as fully qualified (so `httpbin.test3` matches nothing in a cluster).
 */
export function ruleHost(rule: DestinationRule, mesh: MeshConfig): string {
  if (rule.host === '*' || rule.host.includes('.')) return rule.host;
  return serviceHost(rule.host, rule.namespace, mesh);
}

function wildcardMatches(pattern: string, host: string): boolean {
  if (pattern === '*') return true;
  return pattern.startsWith('*.') && host.endsWith(pattern.slice(1));
}

/** `MostSpecificHostMatch`: an exact host first, else the most specific matching wildcard; ties go to the oldest rule. */
function mostSpecific(rules: DestinationRule[], host: string, mesh: MeshConfig): DestinationRule | undefined {
  const byAge = [...rules].sort((a, b) => a.order - b.order);
  const exact = byAge.find((r) => ruleHost(r, mesh) === host);
  if (exact) return exact;
  let best: DestinationRule | undefined;
  for (const r of byAge) {
    const h = ruleHost(r, mesh);
    if (!wildcardMatches(h, host)) continue;
    if (!best || h.length > ruleHost(best, mesh).length) best = r;
  }
  return best;
}

function exportedTo(rule: DestinationRule, clientNamespace: string): boolean {
  if (rule.exportTo.length === 0) return true;
  return rule.exportTo.some(
    (e) => e === '*' || e === clientNamespace || (e === '.' && rule.namespace === clientNamespace),
  );
}

export interface RuleLookup {
  rule: DestinationRule | undefined;
  /** Where it was found: the client's namespace, the service's, or the root namespace. */
  scope?: 'client namespace' | 'service namespace' | 'root namespace';
}

/**
 * The lookup order of `PushContext.destinationRule` (pilot/pkg/model/push_context.go): every rule in the
 * client's namespace, then rules exported from the service's namespace, then from the root namespace.
 * Namespace order beats host specificity: a `*.local` rule in the client's namespace wins over an exact one
 * elsewhere.
 */
export function findDestinationRule(
  rules: DestinationRule[],
  clientNamespace: string,
  serviceNamespace: string,
  host: string,
  mesh: MeshConfig,
): RuleLookup {
  const local = mostSpecific(
    rules.filter((r) => r.namespace === clientNamespace),
    host,
    mesh,
  );
  if (local) return { rule: local, scope: 'client namespace' };
  const inService = mostSpecific(
    rules.filter((r) => r.namespace === serviceNamespace && exportedTo(r, clientNamespace)),
    host,
    mesh,
  );
  if (inService) return { rule: inService, scope: 'service namespace' };
  const inRoot = mostSpecific(
    rules.filter((r) => r.namespace === mesh.rootNamespace && exportedTo(r, clientNamespace)),
    host,
    mesh,
  );
  if (inRoot) return { rule: inRoot, scope: 'root namespace' };
  return { rule: undefined };
}

/** A `portLevelSettings` entry for the service port replaces the top-level traffic policy, TLS included. */
export function tlsForPort(
  rule: DestinationRule,
  servicePort: number,
): { mode: TlsMode | undefined; portLevel: boolean } {
  const entry = rule.portLevel.find((p) => p.port === servicePort);
  if (entry) return { mode: entry.tls, portLevel: true };
  return { mode: rule.tls, portLevel: false };
}

/** How the rule came to apply (its host, and where it was found); the step naming it already says which rule. */
export function describeMatch(lookup: RuleLookup, mesh: MeshConfig): string {
  if (!lookup.rule) return 'no DestinationRule';
  return `host ${ruleHost(lookup.rule, mesh)}, ${lookup.scope}`;
}
