// The request as the server's sidecar sees it when its RBAC filter runs: who sent it (the peer
// certificate's identity, if mutual TLS carried one), on which container port, and for HTTP ports the
// method, path and Host header curl sent. No JWT is ever sent by a probe.
import type { Target } from '../../model/topology.js';

export interface RequestAttributes {
  /** `TRUST-DOMAIN/ns/NS/sa/SA` from the client certificate's URI SAN; undefined for plaintext. */
  principal: string | undefined;
  /** The filter chain: HTTP ports get Envoy's HTTP RBAC filter, TCP and TLS ports the network one. */
  chain: 'http' | 'tcp';
  /** The container port the connection arrives on (Istio matches `ports` against it, not the service port). */
  port: number;
  method: string;
  /** After curl's and Envoy's normalization. */
  path: string;
  /** The Host header curl sends: `SERVICE.NAMESPACE:PORT`, as in the probe URL. */
  host: string;
}

export function requestAttributes(target: Target, principal: string | undefined): RequestAttributes {
  return {
    principal,
    chain: target.port.protocol === 'http' ? 'http' : 'tcp',
    port: target.port.targetPort,
    method: target.method,
    path: normalizePath(target.path),
    host: `${target.service}.${target.namespace}:${target.port.port}`,
  };
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * The path RBAC matches: curl removes dot segments before sending (RFC 3986 5.2.4, unless --path-as-is), and
 * Istio's default normalization (BASE: Envoy's normalize_path, which canonicalizes as Chromium's URL parser
 * does) removes them too and decodes percent-encoded unreserved characters (RFC 3986 6.2.2.2). Slashes are
 * not merged (BASE leaves merge_slashes off). istio.io docs/reference/config/security/normalization.
 */
export function normalizePath(path: string): string {
  const decoded = path.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : m.toUpperCase();
  });
  const out: string[] = [];
  const segments = decoded.split('/').slice(1);
  for (const [i, seg] of segments.entries()) {
    const last = i === segments.length - 1;
    if (seg === '.') {
      if (last) out.push('');
    } else if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(seg);
  }
  return `/${out.join('/')}`;
}
