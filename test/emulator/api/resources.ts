// The resource types the emulated API server serves: the built-ins it implements, plus one type per
// CustomResourceDefinition in the store, added and removed as CRDs come and go (as the real
// apiextensions-apiserver does), so discovery, OpenAPI and the REST paths all follow the CRDs.
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface SubresourceType {
  name: string;
  kind: string;
  verbs: string[];
  /** When the subresource answers with another group's kind (scale: autoscaling/v1 Scale). */
  responseGroupVersion?: { group: string; version: string };
}

export interface ResourceType {
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  /** The version objects are stored and converted from (all served versions share one store). */
  storageVersion: string;
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: SubresourceType[];
  /** Defined by a CRD: lists keep items' kind, merges treat lists as atomic, printer columns apply. */
  custom: boolean;
  printerColumns: PrinterColumn[];
  /** Whether DELETE answers with the object (pods, services, ...) rather than a Success Status. */
  returnDeletedObject: boolean;
  /** Create-only reviews (SelfSubjectAccessReview): evaluated, never stored. */
  virtual: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

interface BuiltIn {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  subresources?: SubresourceType[];
  returnDeletedObject?: boolean;
  virtual?: boolean;
}

const status = (kind: string): SubresourceType => ({ name: 'status', kind, verbs: STATUS_VERBS });
const scale: SubresourceType = {
  name: 'scale',
  kind: 'Scale',
  verbs: STATUS_VERBS,
  responseGroupVersion: { group: 'autoscaling', version: 'v1' },
};

const BUILT_INS: BuiltIn[] = [
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'] },
  { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'finalize', kind: 'Namespace', verbs: ['update'] }, status('Namespace')],
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    subresources: [status('Node')],
  },
  {
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      status('Pod'),
    ],
    returnDeletedObject: true,
  },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  {
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    returnDeletedObject: true,
  },
  {
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [
      { name: 'proxy', kind: 'ServiceProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      status('Service'),
    ],
    returnDeletedObject: true,
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [scale, status('Deployment')],
  },
  {
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: [scale, status('ReplicaSet')],
  },
  {
    group: 'authentication.k8s.io',
    version: 'v1',
    resource: 'selfsubjectreviews',
    kind: 'SelfSubjectReview',
    namespaced: false,
    verbs: ['create'],
    virtual: true,
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    resource: 'selfsubjectaccessreviews',
    kind: 'SelfSubjectAccessReview',
    namespaced: false,
    verbs: ['create'],
    virtual: true,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterrolebindings',
    kind: 'ClusterRoleBinding',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'clusterroles',
    kind: 'ClusterRole',
    namespaced: false,
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource: 'rolebindings',
    kind: 'RoleBinding',
    namespaced: true,
  },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
    categories: ['api-extensions'],
  },
  {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    resource: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
    categories: ['api-extensions'],
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: [status('CustomResourceDefinition')],
  },
  { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
];

/** /apis lists the built-in groups in the API server's fixed order, then the CRD groups by name. */
const BUILT_IN_GROUP_ORDER = [
  '',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'rbac.authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'discovery.k8s.io',
];

export interface ApiGroup {
  name: string;
  /** Served versions, preferred first. */
  versions: string[];
}

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>(); // group/resource
  private readonly listeners = new Set<() => void>();
  private revision = 0;

  constructor() {
    for (const b of BUILT_INS) {
      this.types.set(`${b.group}/${b.resource}`, {
        group: b.group,
        versions: [b.version],
        storageVersion: b.version,
        resource: b.resource,
        singular: b.kind.toLowerCase(),
        kind: b.kind,
        listKind: `${b.kind}List`,
        namespaced: b.namespaced,
        verbs: b.verbs ?? ALL_VERBS,
        shortNames: b.shortNames ?? [],
        categories: b.categories ?? [],
        subresources: b.subresources ?? [],
        custom: false,
        printerColumns: [],
        returnDeletedObject: b.returnDeletedObject ?? false,
        virtual: b.virtual ?? false,
      });
    }
  }

  /** Changes each time the set of served types changes (discovery and OpenAPI hashes follow it). */
  get generation(): number {
    return this.revision;
  }

  /** Follows the CustomResourceDefinitions in the store from now on. */
  followCrds(store: MemoryStore): () => void {
    for (const crd of store.list('apiextensions.k8s.io', 'customresourcedefinitions')) this.defineFromCrd(crd);
    return store.subscribe((event) => {
      if (event.group !== 'apiextensions.k8s.io' || event.resource !== 'customresourcedefinitions') return;
      if (event.type === 'DELETED') this.undefineCrd(event.object);
      else this.defineFromCrd(event.object);
    });
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The type served at group/version/resource, or undefined when that version is not served. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const type = this.types.get(`${group}/${resource}`);
    return type && type.versions.includes(version) ? type : undefined;
  }

  byGroupResource(group: string, resource: string): ResourceType | undefined {
    return this.types.get(`${group}/${resource}`);
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    for (const type of this.types.values()) if (type.group === group && type.kind === kind) return type;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  groups(): ApiGroup[] {
    const byGroup = new Map<string, Set<string>>();
    for (const type of this.types.values()) {
      let versions = byGroup.get(type.group);
      if (!versions) byGroup.set(type.group, (versions = new Set()));
      for (const v of type.versions) versions.add(v);
    }
    const rank = (g: string): number => {
      const i = BUILT_IN_GROUP_ORDER.indexOf(g);
      return i === -1 ? BUILT_IN_GROUP_ORDER.length : i;
    };
    return [...byGroup.entries()]
      .map(([name, versions]) => ({ name, versions: [...versions].sort(compareVersions) }))
      .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** The types served in one group version, by plural. */
  resourcesIn(group: string, version: string): ResourceType[] {
    return this.all()
      .filter((t) => t.group === group && t.versions.includes(version))
      .sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }

  private defineFromCrd(crd: KubeObject): void {
    const spec = crd.spec as CrdSpec | undefined;
    if (!spec?.group || !spec.names?.plural || !spec.names.kind) return;
    const versions = (spec.versions ?? []).filter((v) => v.served !== false);
    if (versions.length === 0) return this.undefineCrd(crd);
    const storage = versions.find((v) => v.storage) ?? versions[0];
    const preferred = [...versions].sort((a, b) => compareVersions(a.name, b.name))[0];
    const statusSub = versions.some((v) => v.subresources?.status !== undefined);
    this.types.set(`${spec.group}/${spec.names.plural}`, {
      group: spec.group,
      versions: versions.map((v) => v.name).sort(compareVersions),
      storageVersion: storage?.name ?? 'v1',
      resource: spec.names.plural,
      singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
      kind: spec.names.kind,
      listKind: spec.names.listKind ?? `${spec.names.kind}List`,
      namespaced: spec.scope !== 'Cluster',
      verbs: ALL_VERBS,
      shortNames: spec.names.shortNames ?? [],
      categories: spec.names.categories ?? [],
      subresources: statusSub ? [status(spec.names.kind)] : [],
      custom: true,
      printerColumns: preferred?.additionalPrinterColumns ?? [],
      returnDeletedObject: false,
      virtual: false,
    });
    this.changed();
  }

  private undefineCrd(crd: KubeObject): void {
    const spec = crd.spec as CrdSpec | undefined;
    if (spec?.group && spec.names?.plural && this.types.delete(`${spec.group}/${spec.names.plural}`)) this.changed();
  }

  private changed(): void {
    this.revision += 1;
    for (const listener of this.listeners) listener();
  }
}

export interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  additionalPrinterColumns?: PrinterColumn[];
  subresources?: { status?: object };
  schema?: { openAPIV3Schema?: object };
}

export interface CrdSpec {
  group?: string;
  scope?: 'Namespaced' | 'Cluster';
  names?: {
    plural?: string;
    singular?: string;
    kind?: string;
    listKind?: string;
    shortNames?: string[];
    categories?: string[];
  };
  versions?: CrdVersion[];
}

/**
 * Kubernetes version priority (apimachinery version.CompareKubeAwareVersionStrings): GA before beta
 * before alpha, higher numbers first, non-Kubernetes names last alphabetically.
 */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2];
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}
