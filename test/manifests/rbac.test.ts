// manifests/rbac/ and manifests/rbac-staging/ grant exactly the permissions src/kube/permissions.ts lists
// for the runs they are for, which is what the RBAC preflight checks: nothing missing (a run would fail
// its preflight), nothing extra.
//   rbac/          every run, including --allow-cluster-wide and namespaces meshprobe creates at run time
//                  (so the topology's rules are bound cluster-wide: no RoleBinding can reach a namespace
//                  that does not exist yet).
//   rbac-staging/  a run that creates no namespace and changes nothing outside the topology's: the
//                  namespaces are made by the manifests, and the topology's rules bound in them only.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../../src/kube/permissions.js';

const SUBJECT = { kind: 'ServiceAccount', name: 'meshprobe', namespace: 'meshprobe-system' };
/** Istio's root namespace on a default install. */
const ROOT = 'istio-system';
/** Where runs with --allow-cluster-wide keep their journal. */
const JOURNAL = 'meshprobe-system';
/** Resources without a namespace among those RBAC rules could name; everything else is namespaced. */
const CLUSTER_SCOPED = new Set([
  'namespaces',
  'nodes',
  'persistentvolumes',
  'customresourcedefinitions',
  'clusterroles',
  'clusterrolebindings',
  'meshpolicies',
  'mutatingwebhookconfigurations',
]);

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

interface Profile {
  dir: string;
  /** The permissions a run with this identity needs. */
  permissions: Permission[];
  /**
   * How a ClusterRoleBinding's namespaced rules count: `topology` (they are how namespaces created at run
   * time are reached, and cover the root and journal namespaces too), or `all` (listing across namespaces
   * only: the topology's rules must then come from RoleBindings in its namespaces).
   */
  clusterWide: 'topology' | 'all';
}

const PROFILES: Profile[] = [
  { dir: 'rbac', permissions: PERMISSIONS, clusterWide: 'topology' },
  {
    dir: 'rbac-staging',
    permissions: PERMISSIONS.filter((p) => !p.clusterWideOnly && !p.when),
    clusterWide: 'all',
  },
];

function manifests(dir: string): Obj[] {
  const path = fileURLToPath(new URL(`../../manifests/${dir}/`, import.meta.url));
  return readdirSync(path)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(path, f), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as Obj;
      }),
    );
}

type Scope = Permission['scope'];
const key = (scope: Scope, group: string, resource: string, verb: string) =>
  `${scope} ${group || 'core'}/${resource} ${verb}`;

/** What the list asks for, one entry per scope, group, resource and verb. */
function needed(profile: Profile): Set<string> {
  // In rbac/, listing across all namespaces comes from the cluster-wide binding that grants `topology` too.
  return new Set(
    profile.permissions.flatMap((p) =>
      p.verbs.map((v) =>
        key(p.scope === 'all' && profile.clusterWide === 'topology' ? 'topology' : p.scope, p.group, p.resource, v),
      ),
    ),
  );
}

/** The namespaces the manifests make for the topology: those carrying an injection label. */
const topologyNamespaces = (objs: Obj[]) =>
  objs.filter((o) => o.kind === 'Namespace' && o.metadata.labels?.['istio-injection']).map((o) => o.metadata.name);

/**
 * What the manifests grant to meshprobe's ServiceAccount, in the list's terms: a ClusterRole bound by a
 * ClusterRoleBinding grants cluster-scoped resources (`cluster`) and namespaced resources in every
 * namespace (`topology` or `all`, by profile); a RoleBinding in the root namespace grants `root`, in the
 * journal's `journal`, in a topology namespace the manifests make `topology`. Any other shape is reported,
 * so it cannot slip past.
 */
function granted(objs: Obj[], profile: Profile): { grants: Set<string>; problems: string[]; bound: Set<string> } {
  const grants = new Set<string>();
  const problems: string[] = [];
  const bound = new Set<string>();
  const topology = new Set(topologyNamespaces(objs));
  const roles = new Map(
    objs
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .map((o) => [`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]),
  );
  const used = new Set<string>();
  for (const b of objs.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const where = `${b.kind} ${b.metadata.name}`;
    if (JSON.stringify(b.subjects) !== JSON.stringify([SUBJECT]))
      problems.push(`${where}: subjects must be exactly ServiceAccount meshprobe-system/meshprobe`);
    const ref = b.roleRef!;
    if (ref.apiGroup !== 'rbac.authorization.k8s.io') problems.push(`${where}: roleRef.apiGroup`);
    const roleKey =
      ref.kind === 'ClusterRole' ? `ClusterRole /${ref.name}` : `Role ${b.metadata.namespace}/${ref.name}`;
    const role = roles.get(roleKey);
    if (!role) {
      problems.push(`${where}: refers to ${roleKey}, which is not in manifests/${profile.dir}/`);
      continue;
    }
    used.add(roleKey);
    const ns = b.metadata.namespace;
    const bindingScope =
      b.kind === 'ClusterRoleBinding'
        ? 'cluster-wide'
        : ns === ROOT
          ? 'root'
          : ns === JOURNAL
            ? 'journal'
            : ns && topology.has(ns)
              ? 'topology'
              : `namespace ${ns}`;
    if (bindingScope === 'topology') bound.add(ns!);
    for (const rule of role.rules ?? []) {
      if (rule.resourceNames || rule.nonResourceURLs)
        problems.push(`${roleKey}: resourceNames/nonResourceURLs are not in the list`);
      for (const field of [rule.apiGroups, rule.resources, rule.verbs])
        if (!field?.length || field.includes('*')) problems.push(`${roleKey}: a rule with an empty or wildcard field`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const clusterScoped = CLUSTER_SCOPED.has(resource.split('/')[0]!);
          let scope: Scope | undefined;
          if (bindingScope === 'cluster-wide') scope = clusterScoped ? 'cluster' : profile.clusterWide;
          else if (!clusterScoped && ['root', 'journal', 'topology'].includes(bindingScope))
            scope = bindingScope as Scope;
          if (!scope) {
            problems.push(`${roleKey} bound in ${bindingScope} grants ${resource}, which fits no scope of the list`);
            continue;
          }
          for (const verb of rule.verbs ?? []) grants.add(key(scope, group, resource, verb));
        }
      }
    }
  }
  for (const r of roles.keys()) if (!used.has(r)) problems.push(`${r} is bound by nothing`);
  return { grants, problems, bound };
}

/**
 * In rbac/, a ClusterRoleBinding grants its namespaced rules in every namespace (recorded as `topology`),
 * so it also covers what the list needs in the root namespace and in the journal's.
 */
function covered(grants: Set<string>, need: string, profile: Profile): boolean {
  if (grants.has(need)) return true;
  const [scope, ...rest] = need.split(' ');
  return (
    profile.clusterWide === 'topology' &&
    (scope === 'root' || scope === 'journal') &&
    grants.has(['topology', ...rest].join(' '))
  );
}

describe.each(PROFILES)('manifests/$dir', (profile) => {
  const objs = manifests(profile.dir);

  it('binds well-formed roles to the meshprobe ServiceAccount only', () => {
    expect(granted(objs, profile).problems).toEqual([]);
    expect(
      objs.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    ).toEqual(['meshprobe-system/meshprobe']);
    expect(objs.find((o) => o.kind === 'Namespace')?.metadata.name).toBe('meshprobe-system');
    for (const o of objs.filter((x) => x.kind.includes('Role')))
      expect(o.apiVersion, `${o.kind} ${o.metadata.name}`).toBe('rbac.authorization.k8s.io/v1');
  });

  it('grants everything src/kube/permissions.ts lists for its runs', () => {
    const { grants } = granted(objs, profile);
    expect([...needed(profile)].filter((n) => !covered(grants, n, profile))).toEqual([]);
  });

  it('needs no namespace that it does not make, except Istio root namespace where it must read the mesh config', () => {
    const made = new Set(objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
    const namespaces = objs.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : []));
    // rbac/ applies before Istio is installed; the staging identity is for a cluster that runs Istio.
    const allowed = profile.dir === 'rbac' ? [] : [ROOT];
    expect(namespaces.filter((n) => !made.has(n) && !allowed.includes(n))).toEqual([]);
  });

  it('grants nothing src/kube/permissions.ts does not list for its runs', () => {
    const { grants } = granted(objs, profile);
    const want = needed(profile);
    expect([...grants].filter((g) => !want.has(g))).toEqual([]);
  });

  it('has no write access beyond what the list names, in particular no RBAC, impersonation or escalation verbs', () => {
    const verbs = new Set(objs.flatMap((o) => (o.rules ?? []).flatMap((r) => r.verbs ?? [])));
    for (const v of ['bind', 'escalate', 'impersonate', 'deletecollection', 'watch', '*'])
      expect(verbs.has(v), v).toBe(false);
    // `update` only where meshprobe replaces a policy a scenario overwrites and puts it back, and (rbac/)
    // where it puts back the labels of a namespace it adopted.
    const updatable = new Set(
      objs.flatMap((o) => (o.rules ?? []).filter((r) => r.verbs?.includes('update')).flatMap((r) => r.resources ?? [])),
    );
    expect([...updatable].sort()).toEqual(
      profile.dir === 'rbac'
        ? ['authorizationpolicies', 'destinationrules', 'meshpolicies', 'namespaces', 'peerauthentications', 'policies']
        : ['authorizationpolicies', 'destinationrules', 'peerauthentications', 'policies'],
    );
    const resources = new Set(objs.flatMap((o) => (o.rules ?? []).flatMap((r) => r.resources ?? [])));
    for (const r of [
      'roles',
      'rolebindings',
      'clusterroles',
      'clusterrolebindings',
      'nodes',
      'pods/attach',
      'pods/portforward',
      'serviceaccounts/token',
    ])
      expect(resources.has(r), r).toBe(false);
  });
});

describe('manifests/rbac-staging, least privilege', () => {
  const profile = PROFILES[1]!;
  const objs = manifests(profile.dir);

  it('binds the topology rules in each topology namespace it makes, and Secrets and pods/exec nowhere else', () => {
    const { bound, grants } = granted(objs, profile);
    expect([...bound].sort()).toEqual(topologyNamespaces(objs).sort());
    const reach = (resource: string) =>
      [...grants].filter((g) => g.includes(` core/${resource} `)).map((g) => g.split(' ')[0]);
    expect(new Set(reach('secrets'))).toEqual(new Set(['topology']));
    expect(new Set(reach('pods/exec'))).toEqual(new Set(['topology']));
    // No namespace can be created, changed or deleted: they are the admin's.
    expect([...grants].filter((g) => g.includes(' core/namespaces ')).sort()).toEqual(['cluster core/namespaces get']);
  });

  it('makes the namespaces of the default topology under --namespace-prefix meshprobe, labelled as the topology asks', () => {
    const labels = Object.fromEntries(
      objs
        .filter((o) => o.kind === 'Namespace' && o.metadata.name !== JOURNAL)
        .map((o) => [o.metadata.name, o.metadata.labels?.['istio-injection']]),
    );
    expect(labels).toEqual({
      'meshprobe-test1': 'enabled',
      'meshprobe-test2': 'enabled',
      'meshprobe-test3': 'disabled',
      'meshprobe-ngtest': 'enabled',
    });
  });
});

describe('the comparison itself', () => {
  it('catches a missing and an extra permission', () => {
    const profile = PROFILES[0]!;
    const tampered: Obj[] = JSON.parse(JSON.stringify(manifests('rbac')));
    const topology = tampered.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshprobe-topology')!;
    topology.rules = topology.rules!.filter((r) => !r.resources!.includes('pods/exec'));
    topology.rules.push({ apiGroups: [''], resources: ['endpoints'], verbs: ['get'] });
    const { grants } = granted(tampered, profile);
    expect([...needed(profile)].filter((n) => !covered(grants, n, profile))).toEqual([
      'topology core/pods/exec get',
      'topology core/pods/exec create',
    ]);
    expect([...grants].filter((g) => !needed(profile).has(g))).toEqual(['topology core/endpoints get']);
  });

  it('catches, in the staging identity, a rule bound cluster-wide that belongs in the topology namespaces', () => {
    const profile = PROFILES[1]!;
    const tampered: Obj[] = JSON.parse(JSON.stringify(manifests('rbac-staging')));
    const cluster = tampered.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshprobe-staging-cluster')!;
    cluster.rules!.push({ apiGroups: [''], resources: ['secrets'], verbs: ['get'] });
    const { grants } = granted(tampered, profile);
    expect([...grants].filter((g) => !needed(profile).has(g))).toEqual(['all core/secrets get']);
  });
});
