// ServiceAccount tokens and the RBAC objects in the store, as the API server uses them: a legacy token
// (from a kubernetes.io/service-account-token Secret) authenticates as system:serviceaccount:NS:NAME while
// its Secret and account exist (kubernetes/kubernetes pkg/serviceaccount/legacy.go validator), and that
// user's rules are the ones its Roles, ClusterRoles and bindings in the store grant, evaluated per request
// (plugin/pkg/auth/authorizer/rbac/rbac.go: ClusterRoleBindings everywhere, a RoleBinding in its namespace).
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { PolicyRule, UserInfo } from './auth.js';

export interface ServiceAccountKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
}

const ISSUER = 'kubernetes/serviceaccount';
const NS_CLAIM = 'kubernetes.io/serviceaccount/namespace';
const SECRET_CLAIM = 'kubernetes.io/serviceaccount/secret.name';
const SA_CLAIM = 'kubernetes.io/serviceaccount/service-account.name';
const UID_CLAIM = 'kubernetes.io/serviceaccount/service-account.uid';

export function createServiceAccountKey(): ServiceAccountKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' });
  const publicKey = createPublicKey(createPrivateKey(pem));
  const kid = Buffer.from(publicKey.export({ format: 'der', type: 'spki' }))
    .toString('base64url')
    .slice(0, 43);
  return { privateKey, publicKey, kid };
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A legacy (Secret-based) service-account token: RS256 JWT with the claims of legacy.go LegacyClaims. */
export function legacyToken(key: ServiceAccountKey, sa: KubeObject, secret: KubeObject): string {
  const namespace = sa.metadata.namespace!;
  const claims = {
    iss: ISSUER,
    [NS_CLAIM]: namespace,
    [SECRET_CLAIM]: secret.metadata.name,
    [SA_CLAIM]: sa.metadata.name,
    [UID_CLAIM]: sa.metadata.uid,
    sub: `system:serviceaccount:${namespace}:${sa.metadata.name}`,
  };
  const unsigned = `${enc({ alg: 'RS256', kid: key.kid })}.${enc(claims)}`;
  return `${unsigned}.${sign('sha256', Buffer.from(unsigned), key.privateKey).toString('base64url')}`;
}

type Subject = { kind: string; name: string; namespace?: string; apiGroup?: string };
type Binding = KubeObject & { roleRef?: { kind: string; name: string }; subjects?: Subject[] };
type Role = KubeObject & { rules?: PolicyRule[] };

/** The user a legacy token stands for, or undefined when it is not one, is forged, or its Secret or account is gone. */
export function serviceAccountUser(store: MemoryStore, key: ServiceAccountKey, token: string): UserInfo | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key.publicKey, Buffer.from(signature, 'base64url')))
    return undefined;
  let claims: Record<string, string>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, string>;
  } catch {
    return undefined;
  }
  if (claims.iss !== ISSUER) return undefined;
  const namespace = claims[NS_CLAIM] ?? '';
  const secret = store.get('', 'secrets', namespace, claims[SECRET_CLAIM] ?? '') as
    (KubeObject & { data?: Record<string, string> }) | undefined;
  if (!secret || secret.metadata.deletionTimestamp) return undefined;
  if (Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8') !== token) return undefined;
  const sa = store.get('', 'serviceaccounts', namespace, claims[SA_CLAIM] ?? '');
  if (!sa || sa.metadata.uid !== claims[UID_CLAIM] || sa.metadata.deletionTimestamp) return undefined;
  const name = `system:serviceaccount:${namespace}:${sa.metadata.name}`;
  const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
  return { name, groups: [...groups, 'system:authenticated'], admin: false, rules: rbacRules(store, name, groups) };
}

/** Every rule the store's RBAC objects grant this user or its groups; a RoleBinding's only in its namespace. */
export function rbacRules(store: MemoryStore, user: string, groups: string[]): PolicyRule[] {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  const matches = (s: Subject) =>
    (s.kind === 'User' && s.name === user) ||
    (s.kind === 'Group' && groups.includes(s.name)) ||
    (s.kind === 'ServiceAccount' && sa !== null && s.namespace === sa[1] && s.name === sa[2]);
  const rulesOf = (kind: string, name: string, namespace?: string): PolicyRule[] => {
    const role = (
      kind === 'ClusterRole'
        ? store.get('rbac.authorization.k8s.io', 'clusterroles', undefined, name)
        : store.get('rbac.authorization.k8s.io', 'roles', namespace, name)
    ) as Role | undefined;
    return role?.rules ?? [];
  };
  const rules: PolicyRule[] = [];
  for (const b of store.list('rbac.authorization.k8s.io', 'clusterrolebindings') as Binding[])
    if (b.roleRef?.kind === 'ClusterRole' && (b.subjects ?? []).some(matches))
      rules.push(...rulesOf('ClusterRole', b.roleRef.name));
  for (const b of store.list('rbac.authorization.k8s.io', 'rolebindings') as Binding[]) {
    const namespace = b.metadata.namespace!;
    if (!b.roleRef || !(b.subjects ?? []).some(matches)) continue;
    // A RoleBinding grants no non-resource URLs (those are cluster-wide only).
    for (const { nonResourceURLs: _ignored, ...r } of rulesOf(b.roleRef.kind, b.roleRef.name, namespace))
      if (r.resources) rules.push({ ...r, namespaces: [namespace] });
  }
  return rules;
}
