// The CustomResourceDefinitions `istioctl install` leaves behind, per flavor. Modern (1.24): security
// v1beta1 + v1 and networking v1alpha3 / v1beta1 / v1. Legacy (1.4): authentication.istio.io
// v1alpha1 MeshPolicy (cluster-scoped) and Policy, networking v1alpha3, and no security.istio.io.
// Schemas are open (preserve-unknown-fields), so the emulator never rejects a field Istio would take.
import type { KubeObject } from '../contracts.js';
import type { PrinterColumn } from '../api/resources.js';

export type Flavor = 'modern' | 'legacy';

interface CrdDef {
  group: string;
  kind: string;
  plural: string;
  scope?: 'Namespaced' | 'Cluster';
  shortNames?: string[];
  versions: string[];
  storage: string;
  columns?: PrinterColumn[];
  categories: string[];
}

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata',
};

const NETWORKING_CATEGORIES = ['istio-io', 'networking-istio-io'];
const SECURITY_CATEGORIES = ['istio-io', 'security-istio-io'];

function modern(): CrdDef[] {
  const net = ['v1', 'v1alpha3', 'v1beta1'];
  return [
    {
      group: 'security.istio.io',
      kind: 'PeerAuthentication',
      plural: 'peerauthentications',
      shortNames: ['pa'],
      versions: ['v1', 'v1beta1'],
      storage: 'v1beta1',
      categories: SECURITY_CATEGORIES,
      columns: [
        {
          name: 'Mode',
          type: 'string',
          jsonPath: '.spec.mtls.mode',
          description: 'Defines the mTLS mode used for peer authentication.',
        },
        AGE,
      ],
    },
    {
      group: 'security.istio.io',
      kind: 'AuthorizationPolicy',
      plural: 'authorizationpolicies',
      shortNames: ['ap'],
      versions: ['v1', 'v1beta1'],
      storage: 'v1beta1',
      categories: SECURITY_CATEGORIES,
      columns: [
        { name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'The operation to take.' },
        AGE,
      ],
    },
    {
      group: 'security.istio.io',
      kind: 'RequestAuthentication',
      plural: 'requestauthentications',
      shortNames: ['ra'],
      versions: ['v1', 'v1beta1'],
      storage: 'v1beta1',
      categories: SECURITY_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'DestinationRule',
      plural: 'destinationrules',
      shortNames: ['dr'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
      columns: [
        {
          name: 'Host',
          type: 'string',
          jsonPath: '.spec.host',
          description: 'The name of a service from the service registry',
        },
        AGE,
      ],
    },
    {
      group: 'networking.istio.io',
      kind: 'VirtualService',
      plural: 'virtualservices',
      shortNames: ['vs'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
      columns: [
        {
          name: 'Gateways',
          type: 'string',
          jsonPath: '.spec.gateways',
          description: 'The names of gateways and sidecars that should apply these routes',
        },
        {
          name: 'Hosts',
          type: 'string',
          jsonPath: '.spec.hosts',
          description: 'The destination hosts to which traffic is being sent',
        },
        AGE,
      ],
    },
    {
      group: 'networking.istio.io',
      kind: 'Gateway',
      plural: 'gateways',
      shortNames: ['gw'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'ServiceEntry',
      plural: 'serviceentries',
      shortNames: ['se'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
      columns: [
        {
          name: 'Hosts',
          type: 'string',
          jsonPath: '.spec.hosts',
          description: 'The hosts associated with the ServiceEntry',
        },
        {
          name: 'Location',
          type: 'string',
          jsonPath: '.spec.location',
          description:
            'Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)',
        },
        {
          name: 'Resolution',
          type: 'string',
          jsonPath: '.spec.resolution',
          description: 'Service resolution mode for the hosts (NONE, STATIC, or DNS)',
        },
        AGE,
      ],
    },
    {
      group: 'networking.istio.io',
      kind: 'Sidecar',
      plural: 'sidecars',
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'EnvoyFilter',
      plural: 'envoyfilters',
      versions: ['v1alpha3'],
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'WorkloadEntry',
      plural: 'workloadentries',
      shortNames: ['we'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
  ];
}

function legacy(): CrdDef[] {
  const net = ['v1alpha3'];
  return [
    {
      group: 'authentication.istio.io',
      kind: 'MeshPolicy',
      plural: 'meshpolicies',
      scope: 'Cluster',
      versions: ['v1alpha1'],
      storage: 'v1alpha1',
      categories: ['istio-io', 'authentication-istio-io'],
    },
    {
      group: 'authentication.istio.io',
      kind: 'Policy',
      plural: 'policies',
      versions: ['v1alpha1'],
      storage: 'v1alpha1',
      categories: ['istio-io', 'authentication-istio-io'],
    },
    {
      group: 'networking.istio.io',
      kind: 'DestinationRule',
      plural: 'destinationrules',
      shortNames: ['dr'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
      columns: [
        {
          name: 'Host',
          type: 'string',
          jsonPath: '.spec.host',
          description: 'The name of a service from the service registry',
        },
        AGE,
      ],
    },
    {
      group: 'networking.istio.io',
      kind: 'VirtualService',
      plural: 'virtualservices',
      shortNames: ['vs'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
      columns: [
        {
          name: 'Gateways',
          type: 'string',
          jsonPath: '.spec.gateways',
          description: 'The names of gateways and sidecars that should apply these routes',
        },
        {
          name: 'Hosts',
          type: 'string',
          jsonPath: '.spec.hosts',
          description: 'The destination hosts to which traffic is being sent',
        },
        AGE,
      ],
    },
    {
      group: 'networking.istio.io',
      kind: 'Gateway',
      plural: 'gateways',
      shortNames: ['gw'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'ServiceEntry',
      plural: 'serviceentries',
      shortNames: ['se'],
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'Sidecar',
      plural: 'sidecars',
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
    {
      group: 'networking.istio.io',
      kind: 'EnvoyFilter',
      plural: 'envoyfilters',
      versions: net,
      storage: 'v1alpha3',
      categories: NETWORKING_CATEGORIES,
    },
  ];
}

const OPEN_SCHEMA = {
  openAPIV3Schema: {
    type: 'object',
    properties: {
      spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  },
};

export function istioCrds(flavor: Flavor, version: string): KubeObject[] {
  const defs = flavor === 'modern' ? modern() : legacy();
  return defs.map((d): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${d.plural}.${d.group}`,
      labels:
        flavor === 'modern'
          ? ({
              'app.kubernetes.io/instance': 'istio-base',
              'app.kubernetes.io/name': 'istio-base',
              'app.kubernetes.io/part-of': 'istio',
              'app.kubernetes.io/version': version,
              'helm.sh/chart': `base-${version}`,
              'istio.io/rev': 'default',
            } as Record<string, string>)
          : { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio' },
    },
    spec: {
      group: d.group,
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.kind.toLowerCase(),
        categories: d.categories,
        ...(d.shortNames ? { shortNames: d.shortNames } : {}),
      },
      scope: d.scope ?? 'Namespaced',
      versions: d.versions.map((name) => ({
        name,
        served: true,
        storage: name === d.storage,
        schema: OPEN_SCHEMA,
        // Istio 1.4's CRDs declared no subresources; today's carry a status subresource.
        ...(flavor === 'modern' ? { subresources: { status: {} } } : {}),
        ...(d.columns ? { additionalPrinterColumns: d.columns } : {}),
      })),
    },
  }));
}
