// API discovery in both forms kubectl and client-node use: the legacy per-group-version documents
// (/api, /apis, /api/v1, /apis/G/V) and aggregated discovery v2 (/api and /apis, chosen by Accept).
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Which aggregated discovery version an Accept header asks for, if any (in its order of preference). */
export function wantsAggregated(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const params = new Map(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (params.get('g') === 'apidiscovery.k8s.io' && params.get('as') === 'APIGroupDiscoveryList') {
      const v = params.get('v');
      if (v === 'v2' || v === 'v2beta1') return v;
    }
  }
  return undefined;
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupObject(name: string, versions: string[]): object {
  const gv = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: gv, preferredVersion: gv[0] };
}

export function apiGroupList(registry: ResourceRegistry): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry
      .groups()
      .filter((g) => g.name !== '')
      .map((g) => groupObject(g.name, g.versions)),
  };
}

export function apiGroup(registry: ResourceRegistry, name: string): object | undefined {
  const group = registry.groups().find((g) => g.name === name && name !== '');
  return group ? { kind: 'APIGroup', apiVersion: 'v1', ...groupObject(group.name, group.versions) } : undefined;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.resourcesIn(group, version);
  if (types.length === 0) return undefined;
  const resources: object[] = [];
  for (const t of types) {
    const entry: Record<string, unknown> = {
      name: t.resource,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
    };
    if (t.shortNames.length > 0) entry.shortNames = t.shortNames;
    if (t.categories.length > 0) entry.categories = t.categories;
    resources.push(entry);
    for (const s of t.subresources) {
      const entry: Record<string, unknown> = {
        name: `${t.resource}/${s.name}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      };
      if (s.responseGroupVersion) Object.assign(entry, s.responseGroupVersion);
      resources.push(entry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function discoveryResource(t: ResourceType, version: string): object {
  const entry: Record<string, unknown> = {
    resource: t.resource,
    responseKind: { group: t.group, version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: t.verbs,
  };
  if (t.shortNames.length > 0) entry.shortNames = t.shortNames;
  if (t.categories.length > 0) entry.categories = t.categories;
  if (t.subresources.length > 0) {
    entry.subresources = t.subresources.map((s) => ({
      subresource: s.name,
      responseKind: {
        group: s.responseGroupVersion?.group ?? t.group,
        version: s.responseGroupVersion?.version ?? version,
        kind: s.kind,
      },
      verbs: s.verbs,
    }));
  }
  return entry;
}

/** Aggregated discovery for `/api` (core only) or `/apis` (every other group). */
export function aggregatedDiscovery(registry: ResourceRegistry, legacy: boolean, version: 'v2' | 'v2beta1'): object {
  const items = registry
    .groups()
    .filter((g) => (legacy ? g.name === '' : g.name !== ''))
    .map((g) => ({
      metadata: legacy ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({
        version: v,
        resources: registry.resourcesIn(g.name, v).map((t) => discoveryResource(t, v)),
        freshness: 'Current',
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
