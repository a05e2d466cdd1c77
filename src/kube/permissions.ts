// Every API permission meshprobe uses, in one list: the RBAC preflight checks it with
// SelfSubjectAccessReviews, and manifests/rbac/ grants exactly it; manifests/rbac-staging/ grants exactly
// what a run needs that creates no namespace and changes nothing outside the topology's (no `when`, no
// `clusterWideOnly`). test/manifests/rbac.test.ts proves both.

export interface Permission {
  group: string;
  resource: string;
  verbs: string[];
  /**
   * `cluster`: cluster-scoped resources; `topology`: in the topology's namespaces; `root`: in Istio's root
   * namespace; `all`: listed across all namespaces; `journal`: in meshprobe-system, where runs that change
   * objects outside their namespaces keep their journal.
   */
  scope: 'cluster' | 'topology' | 'root' | 'all' | 'journal';
  /** Only needed by runs allowed to change objects outside the topology's namespaces. */
  clusterWideOnly?: boolean;
  /**
   * Only needed when a topology namespace does not exist yet (`creating-namespaces`), or exists without
   * its injection label (`relabelling-namespaces`). Namespaces an admin made, labelled, with a RoleBinding
   * (manifests/rbac-staging/), need neither: meshprobe only fills and empties them.
   */
  when?: 'creating-namespaces' | 'relabelling-namespaces';
  /** Only needed on clusters that serve the legacy authentication.istio.io API. */
  legacyOnly?: boolean;
  /** Only needed on clusters that serve security.istio.io. */
  modernOnly?: boolean;
  why: string;
}

const write = ['get', 'list', 'create', 'patch', 'delete'];
/** Policies a scenario overwrites are replaced whole and put back afterwards: PUT, verb `update`. */
const replaceable = [...write, 'update'];

export const PERMISSIONS: Permission[] = [
  {
    group: '',
    resource: 'namespaces',
    verbs: ['get'],
    scope: 'cluster',
    why: 'see whether the topology namespaces exist, and whose they are',
  },
  {
    group: '',
    resource: 'namespaces',
    // Server-side apply is a PATCH.
    verbs: ['create', 'patch', 'delete'],
    scope: 'cluster',
    when: 'creating-namespaces',
    why: 'create, label and delete the topology namespaces',
  },
  {
    group: '',
    resource: 'namespaces',
    // Labels are put back with a PUT of the namespace as it was (verb update).
    verbs: ['patch', 'update'],
    scope: 'cluster',
    when: 'relabelling-namespaces',
    why: 'label existing topology namespaces for sidecar injection, and put their labels back',
  },
  { group: '', resource: 'serviceaccounts', verbs: write, scope: 'topology', why: "the workloads' identities" },
  { group: '', resource: 'services', verbs: write, scope: 'topology', why: 'the probed services' },
  { group: '', resource: 'configmaps', verbs: write, scope: 'topology', why: 'nginx configuration' },
  {
    group: '',
    resource: 'secrets',
    verbs: ['get', 'create', 'patch', 'delete'],
    scope: 'topology',
    why: "nginx's TLS certificate",
  },
  { group: 'apps', resource: 'deployments', verbs: write, scope: 'topology', why: 'the workloads' },
  {
    group: '',
    resource: 'pods',
    verbs: ['get', 'list'],
    scope: 'topology',
    why: 'find the client pods and check sidecar injection',
  },
  // Exec over WebSocket is a GET upgrade; newer API servers authorize it as `create` as well.
  { group: '', resource: 'pods/exec', verbs: ['get', 'create'], scope: 'topology', why: 'run curl in the client pods' },
  {
    group: 'security.istio.io',
    resource: 'peerauthentications',
    verbs: replaceable,
    scope: 'topology',
    modernOnly: true,
    why: 'apply scenario policies',
  },
  {
    group: 'security.istio.io',
    resource: 'peerauthentications',
    verbs: replaceable,
    scope: 'root',
    modernOnly: true,
    clusterWideOnly: true,
    why: 'apply mesh-wide scenario policies',
  },
  {
    group: 'security.istio.io',
    resource: 'peerauthentications',
    verbs: ['list'],
    scope: 'all',
    modernOnly: true,
    why: "predict from the cluster's own policies",
  },
  {
    group: 'security.istio.io',
    resource: 'authorizationpolicies',
    verbs: replaceable,
    scope: 'topology',
    modernOnly: true,
    why: 'apply scenario AuthorizationPolicies',
  },
  {
    group: 'security.istio.io',
    resource: 'authorizationpolicies',
    verbs: replaceable,
    scope: 'root',
    modernOnly: true,
    clusterWideOnly: true,
    why: 'apply mesh-wide scenario AuthorizationPolicies',
  },
  {
    group: 'security.istio.io',
    resource: 'authorizationpolicies',
    verbs: ['list'],
    scope: 'all',
    modernOnly: true,
    why: "predict from the cluster's own AuthorizationPolicies",
  },
  {
    group: 'networking.istio.io',
    resource: 'destinationrules',
    verbs: replaceable,
    scope: 'topology',
    why: 'apply scenario DestinationRules',
  },
  {
    group: 'networking.istio.io',
    resource: 'destinationrules',
    verbs: replaceable,
    scope: 'root',
    clusterWideOnly: true,
    why: 'apply mesh-wide DestinationRules',
  },
  {
    group: 'networking.istio.io',
    resource: 'destinationrules',
    verbs: ['list'],
    scope: 'all',
    why: "predict from the cluster's own DestinationRules",
  },
  {
    group: 'authentication.istio.io',
    resource: 'policies',
    verbs: replaceable,
    scope: 'topology',
    legacyOnly: true,
    why: 'apply legacy scenario policies',
  },
  {
    group: 'authentication.istio.io',
    resource: 'policies',
    verbs: ['list'],
    scope: 'all',
    legacyOnly: true,
    why: "predict from the cluster's own legacy policies",
  },
  {
    group: 'authentication.istio.io',
    resource: 'meshpolicies',
    verbs: ['list'],
    scope: 'cluster',
    legacyOnly: true,
    why: "predict from the cluster's own legacy mesh-wide policy",
  },
  {
    group: 'authentication.istio.io',
    resource: 'meshpolicies',
    verbs: ['get', 'create', 'patch', 'delete', 'update'],
    scope: 'cluster',
    legacyOnly: true,
    clusterWideOnly: true,
    why: 'apply the legacy mesh-wide policy',
  },
  {
    group: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
    verbs: ['list'],
    scope: 'cluster',
    why: "find the Istio revisions, tags and default from the sidecar injector's webhooks (cluster-scoped, read-only)",
  },
  {
    group: 'apps',
    resource: 'deployments',
    verbs: ['list'],
    scope: 'root',
    why: "find the chosen revision's istiod Deployment (read-only)",
  },
  {
    group: '',
    resource: 'configmaps',
    verbs: ['get'],
    scope: 'root',
    why: 'read the mesh config (auto mTLS, root namespace, trust domain) from the istio or istio-REV ConfigMap',
  },
  {
    group: '',
    resource: 'configmaps',
    verbs: write,
    scope: 'journal',
    clusterWideOnly: true,
    why: 'journal changes outside the topology so that meshprobe cleanup can undo them after a crash',
  },
];
