// Bearer-token authentication and an RBAC-like authorizer. The admin may do anything; extra users
// carry rule lists shaped like RBAC PolicyRules, evaluated the way the RBAC authorizer does, with the
// real 401/403 Status bodies and the SelfSubjectAccessReview answers built on the same decision.
import { timingSafeEqual } from 'node:crypto';
import { forbidden, type ApiError } from './status.js';

export interface PolicyRule {
  verbs: string[];
  /** API groups ('' is core); '*' or omitted: all. */
  apiGroups?: string[];
  /** Plurals, `plural/subresource`, `*` or `*\/subresource`; omitted: all. */
  resources?: string[];
  resourceNames?: string[];
  /** Restricts a rule to these namespaces (a RoleBinding in each); omitted: cluster-wide (a ClusterRoleBinding). */
  namespaces?: string[];
  /** Non-resource paths, '*' suffix allowed ('/healthz', '/apis/*'). */
  nonResourceURLs?: string[];
}

export interface UserSpec {
  name: string;
  token: string;
  groups?: string[];
  rules: PolicyRule[];
}

export interface UserInfo {
  name: string;
  groups: string[];
  /** Bypasses authorization (the kubeadm admin, bound to cluster-admin). */
  admin: boolean;
  rules: PolicyRule[];
}

export const ADMIN_NAME = 'kubernetes-admin';

export interface RequestAttributes {
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
}

/** Paths every authenticated user may read (system:discovery, system:basic-user, system:public-info-viewer). */
const DISCOVERY_PATHS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/openapi/*',
  '/version',
  '/version/',
  '/healthz',
  '/livez',
  '/readyz',
];
const PUBLIC_PATHS = new Set(['/version', '/version/', '/healthz', '/livez', '/readyz']);

export class Authenticator {
  private readonly users: UserSpec[];

  constructor(
    private readonly adminToken: string,
    users: UserSpec[],
    /** Tokens issued by the cluster itself (ServiceAccount tokens: api/service-accounts.ts). */
    private readonly issued: (token: string) => UserInfo | undefined = () => undefined,
  ) {
    this.users = users;
  }

  /** The user a request authenticates as; 'anonymous' without a token; undefined for a bad token. */
  authenticate(authorization: string | undefined): UserInfo | 'anonymous' | undefined {
    if (!authorization) return 'anonymous';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return undefined;
    const token = m[1] ?? '';
    if (same(token, this.adminToken))
      return { name: ADMIN_NAME, groups: ['kubeadm:cluster-admins', 'system:authenticated'], admin: true, rules: [] };
    const user = this.users.find((u) => same(token, u.token));
    if (!user) return this.issued(token);
    return {
      name: user.name,
      groups: [...(user.groups ?? []), 'system:authenticated'],
      admin: false,
      rules: user.rules,
    };
  }

  /** Anonymous requests reach only the public health and version endpoints, as with --anonymous-auth on. */
  static anonymousAllowed(method: string, path: string): boolean {
    return method === 'GET' && PUBLIC_PATHS.has(path);
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function pathMatches(patterns: string[], path: string): boolean {
  return patterns.some((p) => p === '*' || p === path || (p.endsWith('*') && path.startsWith(p.slice(0, -1))));
}

function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(a.verb)) return false;
  if (!a.resourceRequest) return pathMatches(rule.nonResourceURLs ?? [], a.path);
  if (rule.nonResourceURLs && !rule.resources) return false;
  const groups = rule.apiGroups ?? ['*'];
  if (!groups.includes('*') && !groups.includes(a.apiGroup)) return false;
  const resources = rule.resources ?? ['*'];
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = resources.some(
    (r) =>
      r === '*' ||
      r === combined ||
      (a.subresource && r === `*/${a.subresource}`) ||
      (!a.subresource && r === a.resource),
  );
  if (!resourceOk) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0 && !rule.resourceNames.includes(a.name)) return false;
  // A namespaced binding never grants cluster-scoped or all-namespaces access.
  if (rule.namespaces && !rule.namespaces.includes(a.namespace)) return false;
  return true;
}

export function isAllowed(user: UserInfo, a: RequestAttributes): boolean {
  if (user.admin) return true;
  if (!a.resourceRequest && pathMatches(DISCOVERY_PATHS, a.path) && a.verb === 'get') return true;
  if (
    a.resourceRequest &&
    a.verb === 'create' &&
    !a.namespace &&
    ((a.apiGroup === 'authorization.k8s.io' &&
      (a.resource === 'selfsubjectaccessreviews' || a.resource === 'selfsubjectrulesreviews')) ||
      (a.apiGroup === 'authentication.k8s.io' && a.resource === 'selfsubjectreviews'))
  )
    return true;
  return user.rules.some((r) => ruleAllows(r, a));
}

/** The 403 the API server's authorization filter writes (endpoints/handlers/responsewriters.Forbidden). */
export function forbiddenFor(user: UserInfo, a: RequestAttributes): ApiError {
  if (!a.resourceRequest)
    return forbidden(undefined, undefined, `User "${user.name}" cannot ${a.verb} path "${a.path}"`);
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return forbidden(
    { group: a.apiGroup, resource: a.resource },
    a.name || undefined,
    `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}`,
  );
}

interface AccessReviewSpec {
  resourceAttributes?: {
    namespace?: string;
    verb?: string;
    group?: string;
    version?: string;
    resource?: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** Evaluates a SelfSubjectAccessReview's spec for `user`, returning the object the API server answers with. */
export function selfSubjectAccessReview(
  user: UserInfo,
  review: { spec?: AccessReviewSpec; metadata?: object },
): Record<string, unknown> {
  const spec = review.spec ?? {};
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  const attributes: RequestAttributes = r
    ? {
        verb: r.verb ?? '',
        resourceRequest: true,
        apiGroup: r.group ?? '',
        apiVersion: r.version ?? '',
        resource: r.resource ?? '',
        subresource: r.subresource ?? '',
        namespace: r.namespace ?? '',
        name: r.name ?? '',
        path: '',
      }
    : {
        verb: n?.verb ?? '',
        resourceRequest: false,
        apiGroup: '',
        apiVersion: '',
        resource: '',
        subresource: '',
        namespace: '',
        name: '',
        path: n?.path ?? '',
      };
  const allowed = isAllowed(user, attributes);
  const status: Record<string, unknown> = { allowed };
  if (allowed) {
    status.reason = user.admin
      ? 'RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"'
      : `RBAC: allowed by ClusterRoleBinding "meshprobe-emulator:${user.name}" of ClusterRole "meshprobe-emulator:${user.name}" to User "${user.name}"`;
  }
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { creationTimestamp: null },
    spec,
    status,
  };
}

export function selfSubjectReview(user: UserInfo): Record<string, unknown> {
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: null },
    status: { userInfo: { username: user.name, groups: user.groups } },
  };
}

/** `alice:TOKEN` (no rights) or `alice:TOKEN:get,list/pods,services@test1+test2;create/pods/exec`. */
export function parseUserSpec(text: string): UserSpec {
  const first = text.indexOf(':');
  const second = first === -1 ? -1 : text.indexOf(':', first + 1);
  const name = first === -1 ? text : text.slice(0, first);
  const token = first === -1 ? '' : text.slice(first + 1, second === -1 ? undefined : second);
  const rules = second === -1 ? '' : text.slice(second + 1);
  if (!name || !token) throw new Error(`user "${text}": expected NAME:TOKEN[:RULES]`);
  return { name, token, rules: rules ? rules.split(';').map(parseRule) : [] };
}

/** `VERBS/RESOURCES[@NAMESPACES]`, each a comma list; resources may be `group:plural` or `plural/sub`. */
function parseRule(text: string): PolicyRule {
  const m = /^([^/]+)\/([^@]+)(?:@(.+))?$/.exec(text.trim());
  if (!m) throw new Error(`rule "${text}": expected VERBS/RESOURCES[@NAMESPACES], e.g. get,list/pods@test1`);
  const groups = new Set<string>();
  const resources: string[] = [];
  for (const r of (m[2] ?? '').split(',')) {
    const colon = r.indexOf(':');
    if (colon === -1) {
      groups.add('*');
      resources.push(r);
    } else {
      groups.add(r.slice(0, colon));
      resources.push(r.slice(colon + 1));
    }
  }
  const rule: PolicyRule = { verbs: (m[1] ?? '').split(','), apiGroups: [...groups], resources };
  if (m[3]) rule.namespaces = m[3].split('+');
  return rule;
}
