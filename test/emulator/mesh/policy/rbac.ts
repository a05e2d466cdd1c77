// Envoy's RBAC engine, the part a sidecar's authorization rests on: the matchers Istio generates
// (envoy/config/rbac/v3/rbac.proto Permission and Principal) and how the engine evaluates them
// (envoyproxy/envoy source/extensions/filters/common/rbac/engine_impl.cc and matchers.cc):
// policies are kept in a std::map, so they are tried in byte order of their names and the first match
// is the "effective policy"; ALLOW allows when one matches, DENY denies when one matches, LOG allows.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** envoy.type.matcher.v3.StringMatcher, reduced to the forms Istio generates. */
export type StringMatch =
  | { exact: string; ignoreCase?: boolean }
  | { prefix: string; ignoreCase?: boolean }
  | { suffix: string; ignoreCase?: boolean }
  | { regex: string };

/** envoy.config.route.v3.HeaderMatcher: present_match or string_match. */
export interface HeaderMatch {
  name: string;
  present?: true;
  string?: StringMatch;
}

export interface Cidr {
  address: string;
  prefixLen: number;
}

export type Permission =
  | { any: true }
  | { and: Permission[] }
  | { or: Permission[] }
  | { not: Permission }
  | { header: HeaderMatch }
  | { urlPath: StringMatch }
  | { pathTemplate: string }
  | { destinationPort: number }
  | { destinationIp: Cidr }
  | { requestedServerName: StringMatch }
  /** Dynamic metadata (JWT payload, experimental.envoy.filters): the emulator never sets any. */
  | { metadata: string };

export type Principal =
  | { any: true }
  | { and: Principal[] }
  | { or: Principal[] }
  | { not: Principal }
  | { authenticated: StringMatch }
  | { directRemoteIp: Cidr }
  | { remoteIp: Cidr }
  | { header: HeaderMatch }
  | { metadata: string };

export interface RbacPolicy {
  permissions: Permission[];
  principals: Principal[];
}

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface Rbac {
  action: RbacAction;
  policies: Record<string, RbacPolicy>;
}

/** What the RBAC engine reads from a connection and, on HTTP, a request. */
export interface Attributes {
  /** URI SANs of the verified peer certificate; undefined when the connection is not TLS (connection.ssl() null). */
  peerUris?: string[];
  /** The downstream connection's source address. */
  directRemoteIp: string;
  /** x-forwarded-for's trusted client address on HTTP (use_remote_address false, 0 trusted hops), else the source. */
  remoteIp: string;
  localIp: string;
  localPort: number;
  /** SNI the client sent; '' without TLS. */
  sni: string;
  /** Lower-case names, repeated headers joined with ','; includes :method, :path, :authority. Empty on TCP. */
  headers: Map<string, string>;
}

function fold(s: string, ignoreCase: boolean | undefined): string {
  return ignoreCase ? s.toLowerCase() : s;
}

const regexCache = new Map<string, RegExp | null>();

/** RE2 safe_regex matches the whole value. A regex Envoy would reject (a NACK) matches nothing here. */
function fullMatch(re: string, value: string): boolean {
  let compiled = regexCache.get(re);
  if (compiled === undefined) {
    try {
      compiled = new RegExp(`^(?:${re})$`, 's');
    } catch {
      compiled = null;
    }
    regexCache.set(re, compiled);
  }
  return compiled !== null && compiled.test(value);
}

export function stringMatches(m: StringMatch, value: string): boolean {
  if ('regex' in m) return fullMatch(m.regex, value);
  const v = fold(value, m.ignoreCase);
  if ('exact' in m) return v === fold(m.exact, m.ignoreCase);
  if ('prefix' in m) return v.startsWith(fold(m.prefix, m.ignoreCase));
  return v.endsWith(fold(m.suffix, m.ignoreCase));
}

/** Envoy's HeaderUtility::matchHeaders: an absent header matches nothing. */
function headerMatches(h: HeaderMatch, headers: Map<string, string>): boolean {
  const value = headers.get(h.name.toLowerCase());
  if (value === undefined) return false;
  if (h.present) return true;
  return h.string ? stringMatches(h.string, value) : false;
}

export function inCidr(ip: string, cidr: Cidr): boolean {
  const family = isIPv4(cidr.address) ? 'ipv4' : isIPv6(cidr.address) ? 'ipv6' : undefined;
  if (!family) return false;
  const list = new BlockList();
  list.addSubnet(cidr.address, cidr.prefixLen, family);
  const ipFamily = isIPv4(ip) ? 'ipv4' : isIPv6(ip) ? 'ipv6' : undefined;
  return ipFamily === family && list.check(ip, family);
}

/** Envoy's PathMatcher compares the path without its query string and fragment. */
function pathOnly(headers: Map<string, string>): string | undefined {
  const p = headers.get(':path');
  return p === undefined ? undefined : p.split(/[?#]/, 1)[0];
}

// RFC 3986 pchar without '*' and '=' (envoy source/extensions/path/uri_template_lib/uri_template_internal.cc kLiteral).
const PCHAR = "a-zA-Z0-9\\-._~%!$&'()+,;:@";

/** Envoy's uri_template match: `{*}` is one or more pchars of one segment, `{**}` any pchars and slashes. */
function templateMatches(template: string, path: string): boolean {
  const re = template
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) =>
      part === '{**}' ? `[${PCHAR}/]*` : part === '{*}' ? `[${PCHAR}]+` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return fullMatch(re, path);
}

export function permissionMatches(p: Permission, a: Attributes): boolean {
  if ('any' in p) return true;
  if ('and' in p) return p.and.every((x) => permissionMatches(x, a));
  if ('or' in p) return p.or.some((x) => permissionMatches(x, a));
  if ('not' in p) return !permissionMatches(p.not, a);
  if ('header' in p) return headerMatches(p.header, a.headers);
  if ('urlPath' in p) {
    const path = pathOnly(a.headers);
    return path !== undefined && stringMatches(p.urlPath, path);
  }
  if ('pathTemplate' in p) {
    const path = pathOnly(a.headers);
    return path !== undefined && templateMatches(p.pathTemplate, path);
  }
  if ('destinationPort' in p) return a.localPort === p.destinationPort;
  if ('destinationIp' in p) return inCidr(a.localIp, p.destinationIp);
  if ('requestedServerName' in p) return stringMatches(p.requestedServerName, a.sni);
  return false;
}

export function principalMatches(p: Principal, a: Attributes): boolean {
  if ('any' in p) return true;
  if ('and' in p) return p.and.every((x) => principalMatches(x, a));
  if ('or' in p) return p.or.some((x) => principalMatches(x, a));
  if ('not' in p) return !principalMatches(p.not, a);
  // matchers.cc AuthenticatedMatcher: no TLS, no match; otherwise any URI SAN may match.
  if ('authenticated' in p)
    return a.peerUris !== undefined && a.peerUris.some((u) => stringMatches(p.authenticated, u));
  if ('directRemoteIp' in p) return inCidr(a.directRemoteIp, p.directRemoteIp);
  if ('remoteIp' in p) return inCidr(a.remoteIp, p.remoteIp);
  if ('header' in p) return headerMatches(p.header, a.headers);
  return false;
}

function policyMatches(policy: RbacPolicy, a: Attributes): boolean {
  return (
    policy.permissions.some((x) => permissionMatches(x, a)) && policy.principals.some((x) => principalMatches(x, a))
  );
}

export interface EngineResult {
  allowed: boolean;
  /** The name of the policy that matched, as Envoy logs it ("none" when none did). */
  policy: string;
}

/** engine_impl.cc handleAction: the first matching policy in name order decides. */
export function runEngine(rbac: Rbac, a: Attributes): EngineResult {
  let matched: string | undefined;
  for (const name of Object.keys(rbac.policies).sort(byteOrder)) {
    if (policyMatches(rbac.policies[name]!, a)) {
      matched = name;
      break;
    }
  }
  const allowed =
    rbac.action === 'ALLOW' ? matched !== undefined : rbac.action === 'DENY' ? matched === undefined : true;
  return { allowed, policy: matched ?? 'none' };
}

function byteOrder(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
