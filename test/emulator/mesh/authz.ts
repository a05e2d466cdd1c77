// The server sidecar's authorization on the data path: the attributes Envoy's RBAC filters read from a
// connection and a request, what a denial looks like to the client, and what the proxy logs.
// - HTTP (envoy source/extensions/filters/http/rbac/rbac_filter.cc): sendLocalReply(403, "RBAC: access
//   denied", response details rbac_access_denied_matched_policy[<policy or none>]); the connection
//   manager adds date and the server name, "istio-envoy" on a sidecar inbound (Istio
//   pilot/pkg/networking/core/httproute.go GetProxyHeadersFromProxyConfig).
// - TCP (source/extensions/filters/network/rbac/rbac_filter.cc): checked on the first bytes from the
//   client (onData), a denial sets the connection termination details and closes with NoFlush, so the
//   client reads EOF (Istio's tests/integration check.Forbidden expects "EOF" on TCP) and curl exits 52.
// - dry-run policies are Envoy shadow rules: never enforced, their result only logged at rbac debug level
//   ("shadow denied, matched policy ns[foo]-policy[deny-path-headers]-rule[0]", istio.io authz-dry-run task).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { AuthzDecision } from './policy/authorization.js';
import type { Attributes } from './policy/rbac.js';
import type { PodNet } from './mesh.js';

/** What the inbound knows about a downstream connection when its filter chain starts. */
export interface ConnInfo {
  /** URI SANs of the client certificate; undefined without mutual TLS terminated by the sidecar. */
  peerUris?: string[];
  /** The client's address as the pod network would show it. */
  sourceIp: string;
  /** The ClientHello's server name (tls_inspector), '' for plaintext. */
  sni: string;
}

export function connectionAttributes(pod: PodNet, port: number, conn: ConnInfo): Attributes {
  return {
    ...(conn.peerUris ? { peerUris: conn.peerUris } : {}),
    directRemoteIp: conn.sourceIp,
    remoteIp: conn.sourceIp,
    localIp: pod.ip,
    localPort: port,
    sni: conn.sni,
    headers: new Map(),
  };
}

/**
 * A request's attributes: headers as the connection manager has them when its filters run (names lower
 * case, repeated ones joined with ','), the pseudo headers, and remote.ip from x-forwarded-for's last
 * address (a sidecar inbound has use_remote_address false and no trusted hops).
 */
export function requestAttributes(
  pod: PodNet,
  port: number,
  conn: ConnInfo,
  req: IncomingMessage,
  path: string,
  /** Headers the connection manager set or removed before its filters run (undefined: removed). */
  overrides: Record<string, string | string[] | undefined>,
): Attributes {
  const headers = new Map<string, string>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const prior = headers.get(name);
    headers.set(name, prior === undefined ? req.rawHeaders[i + 1]! : `${prior},${req.rawHeaders[i + 1]!}`);
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) headers.delete(k);
    else headers.set(k, Array.isArray(v) ? v.join(',') : v);
  }
  headers.delete('host');
  headers.set(':method', req.method ?? 'GET');
  headers.set(':path', path);
  if (req.headers.host !== undefined) headers.set(':authority', req.headers.host);
  const xff = headers.get('x-forwarded-for');
  const last = xff?.split(',').pop()?.trim();
  return {
    ...connectionAttributes(pod, port, conn),
    remoteIp: last && isIP(last) ? last : conn.sourceIp,
    headers,
  };
}

/**
 * Envoy's normalize_path with Istio's default BASE normalization (istio.io reference/config/security/
 * normalization): percent-encoded unreserved characters decoded once, backslashes made slashes, dot
 * segments resolved (RFC 3986 5.2.4). The query is kept. (Envoy rejects %00 with a 400; not reproduced.)
 */
export function normalizePath(raw: string): string {
  const cut = raw.search(/[?#]/);
  const path = cut < 0 ? raw : raw.slice(0, cut);
  const rest = cut < 0 ? '' : raw.slice(cut);
  const decoded = path
    .replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(c) ? c : m;
    })
    .replace(/\\/g, '/');
  const out: string[] = [];
  const segments = decoded.split('/');
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      if (out.length > 1) out.pop();
      if (last) out.push('');
    } else out.push(seg);
  });
  let normalized = out.join('/');
  if (!normalized.startsWith('/')) normalized = `/${normalized}`;
  return normalized + rest;
}

/** Envoy's RBAC::responseDetail (filters/common/rbac/utility.cc): whitespace in the policy id becomes '_'. */
export function rbacDetail(policy: string): string {
  return `rbac_access_denied_matched_policy[${policy.replace(/\s/g, '_')}]`;
}

/** The shadow (dry-run) results, as the rbac logger prints them at debug level. */
export function logShadow(pod: PodNet, d: AuthzDecision): void {
  for (const s of d.shadow) {
    pod.appendLog(
      'istio-proxy',
      `${new Date().toISOString()}\tdebug\tenvoy rbac\tshadow ${s.allowed ? 'allowed' : 'denied'}, matched policy ${s.policy}`,
    );
  }
}

export const RBAC_DENIED_BODY = 'RBAC: access denied';

/** The 403 local reply of a sidecar inbound: Envoy sends no Connection or Keep-Alive header. */
export function sendRbacDenied(res: ServerResponse): void {
  res.removeHeader('connection');
  res.writeHead(403, {
    'content-length': Buffer.byteLength(RBAC_DENIED_BODY),
    'content-type': 'text/plain',
    date: new Date().toUTCString(),
    server: 'istio-envoy',
  });
  res.end(RBAC_DENIED_BODY);
}
