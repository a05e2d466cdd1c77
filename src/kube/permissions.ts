// Every API permission meshprobe uses, in one list: the RBAC preflight checks it with
// SelfSubjectAccessReviews, and manifests/rbac/ grants exactly it (a test proves the two agree).

export interface Permission {
  group: string;
  resource: string;
  verbs: string[];
  /** `cluster`: cluster-scoped resources; `topology`: in the topology's namespaces; `root`: in Istio's root namespace. */
  scope: 'cluster' | 'topology' | 'root';
  /** Only needed on clusters that serve the legacy authentication.istio.io API. */
  legacyOnly?: boolean;
  /** Only needed on clusters that serve security.istio.io. */
  modernOnly?: boolean;
  why: string;
}

const write = ['get', 'list', 'create', 'patch', 'delete'];

export const PERMISSIONS: Permission[] = [
  { group: '', resource: 'namespaces', verbs: write, scope: 'cluster', why: 'create, label and delete the topology namespaces' },
  { group: '', resource: 'serviceaccounts', verbs: write, scope: 'topology', why: 'the workloads\' identities' },
  { group: '', resource: 'services', verbs: write, scope: 'topology', why: 'the probed services' },
  { group: '', resource: 'configmaps', verbs: write, scope: 'topology', why: 'nginx configuration' },
  { group: '', resource: 'secrets', verbs: ['get', 'create', 'patch', 'delete'], scope: 'topology', why: "nginx's TLS certificate" },
  { group: 'apps', resource: 'deployments', verbs: write, scope: 'topology', why: 'the workloads' },
  { group: '', resource: 'pods', verbs: ['get', 'list'], scope: 'topology', why: 'find the client pods and check sidecar injection' },
  // Exec over WebSocket is a GET upgrade; newer API servers authorize it as `create` as well.
  { group: '', resource: 'pods/exec', verbs: ['get', 'create'], scope: 'topology', why: 'run curl in the client pods' },
  { group: 'security.istio.io', resource: 'peerauthentications', verbs: write, scope: 'topology', modernOnly: true, why: 'apply scenario policies' },
  { group: 'security.istio.io', resource: 'peerauthentications', verbs: write, scope: 'root', modernOnly: true, why: 'apply mesh-wide scenario policies' },
  { group: 'networking.istio.io', resource: 'destinationrules', verbs: write, scope: 'topology', why: 'apply scenario DestinationRules' },
  { group: 'networking.istio.io', resource: 'destinationrules', verbs: write, scope: 'root', why: 'apply mesh-wide DestinationRules' },
  { group: 'authentication.istio.io', resource: 'policies', verbs: write, scope: 'topology', legacyOnly: true, why: 'apply legacy scenario policies' },
  { group: 'authentication.istio.io', resource: 'meshpolicies', verbs: write, scope: 'cluster', legacyOnly: true, why: 'apply the legacy mesh-wide policy' },
];
