// manifests/rbac/ grants exactly the permissions src/kube/permissions.ts lists, which is what the
// RBAC preflight checks: nothing missing (a run would fail its preflight), nothing extra (least privilege).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PERMISSIONS, type Permission } from '../../src/kube/permissions.js';

const DIR = fileURLToPath(new URL('../../manifests/rbac/', import.meta.url));
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
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

function manifests(): Obj[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => {
        if (d.errors.length) throw new Error(`${f}: ${d.errors[0]!.message}`);
        return d.toJS() as Obj;
      }),
    );
}

type Scope = Permission['scope'];
const key = (scope: Scope, group: string, resource: string, verb: string) =>
  `${scope} ${group || 'core'}/${resource} ${verb}`;

/** What the list asks for, one entry per scope, group, resource and verb. */
function needed(): Set<string> {
  // Listing across all namespaces needs a cluster-wide binding: the one that grants `topology` too.
  return new Set(
    PERMISSIONS.flatMap((p) =>
      p.verbs.map((v) => key(p.scope === 'all' ? 'topology' : p.scope, p.group, p.resource, v)),
    ),
  );
}

/**
 * What the manifests grant to meshprobe's ServiceAccount, in the list's terms: a ClusterRole bound by a
 * ClusterRoleBinding grants cluster-scoped resources (`cluster`) and namespaced resources in every
 * namespace, which is how `topology` (namespaces created at run time) is granted; a Role bound in the
 * root namespace grants `root`. Any other shape is reported, so it cannot slip past.
 */
function granted(objs: Obj[]): { grants: Set<string>; problems: string[] } {
  const grants = new Set<string>();
  const problems: string[] = [];
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
      problems.push(`${where}: refers to ${roleKey}, which is not in manifests/rbac/`);
      continue;
    }
    used.add(roleKey);
    const bindingScope =
      b.kind === 'ClusterRoleBinding'
        ? 'cluster-wide'
        : b.metadata.namespace === ROOT
          ? 'root'
          : b.metadata.namespace === JOURNAL
            ? 'journal'
            : `namespace ${b.metadata.namespace}`;
    for (const rule of role.rules ?? []) {
      if (rule.resourceNames || rule.nonResourceURLs)
        problems.push(`${roleKey}: resourceNames/nonResourceURLs are not in the list`);
      for (const field of [rule.apiGroups, rule.resources, rule.verbs])
        if (!field?.length || field.includes('*')) problems.push(`${roleKey}: a rule with an empty or wildcard field`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const clusterScoped = CLUSTER_SCOPED.has(resource.split('/')[0]!);
          let scope: Scope | undefined;
          if (bindingScope === 'cluster-wide') scope = clusterScoped ? 'cluster' : 'topology';
          else if (bindingScope === 'root' && !clusterScoped) scope = 'root';
          else if (bindingScope === 'journal' && !clusterScoped) scope = 'journal';
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
  return { grants, problems };
}

/**
 * A ClusterRoleBinding grants its namespaced rules in every namespace (recorded as `topology`), so it
 * also covers what the list needs in the root namespace and in the journal's.
 */
function covered(grants: Set<string>, need: string): boolean {
  if (grants.has(need)) return true;
  const [scope, ...rest] = need.split(' ');
  return (scope === 'root' || scope === 'journal') && grants.has(['topology', ...rest].join(' '));
}

describe('manifests/rbac', () => {
  const objs = manifests();

  it('binds well-formed roles to the meshprobe ServiceAccount only', () => {
    expect(granted(objs).problems).toEqual([]);
    expect(
      objs.filter((o) => o.kind === 'ServiceAccount').map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    ).toEqual(['meshprobe-system/meshprobe']);
    expect(objs.find((o) => o.kind === 'Namespace')?.metadata.name).toBe('meshprobe-system');
    for (const o of objs.filter((x) => x.kind.includes('Role')))
      expect(o.apiVersion, `${o.kind} ${o.metadata.name}`).toBe('rbac.authorization.k8s.io/v1');
  });

  it('grants everything src/kube/permissions.ts lists', () => {
    const { grants } = granted(objs);
    expect([...needed()].filter((n) => !covered(grants, n))).toEqual([]);
  });

  it("needs no namespace that a fresh cluster lacks: Istio's root namespace is reached by the cluster-wide binding", () => {
    const made = new Set(objs.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
    const namespaces = objs.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : []));
    expect(namespaces.filter((n) => !made.has(n))).toEqual([]);
  });

  it('grants nothing src/kube/permissions.ts does not list', () => {
    const { grants } = granted(objs);
    const want = needed();
    expect([...grants].filter((g) => !want.has(g))).toEqual([]);
  });

  it('has no write access beyond what the list names, in particular no RBAC, impersonation or escalation verbs', () => {
    const verbs = new Set(objs.flatMap((o) => (o.rules ?? []).flatMap((r) => r.verbs ?? [])));
    for (const v of ['bind', 'escalate', 'impersonate', 'deletecollection', 'watch', '*'])
      expect(verbs.has(v), v).toBe(false);
    // `update` only where meshprobe replaces a policy a scenario overwrites and puts it back, and where it
    // puts back the labels of a namespace it adopted.
    const updatable = new Set(
      objs.flatMap((o) => (o.rules ?? []).filter((r) => r.verbs?.includes('update')).flatMap((r) => r.resources ?? [])),
    );
    expect([...updatable].sort()).toEqual([
      'destinationrules',
      'meshpolicies',
      'namespaces',
      'peerauthentications',
      'policies',
    ]);
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

  it('the comparison catches a missing and an extra permission', () => {
    const tampered: Obj[] = JSON.parse(JSON.stringify(objs));
    const topology = tampered.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'meshprobe-topology')!;
    topology.rules = topology.rules!.filter((r) => !r.resources!.includes('pods/exec'));
    topology.rules.push({ apiGroups: [''], resources: ['endpoints'], verbs: ['get'] });
    const { grants } = granted(tampered);
    expect([...needed()].filter((n) => !covered(grants, n))).toEqual([
      'topology core/pods/exec get',
      'topology core/pods/exec create',
    ]);
    expect([...grants].filter((g) => !needed().has(g))).toEqual(['topology core/endpoints get']);
  });
});
