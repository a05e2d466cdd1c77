// Istio's protocol selection: appProtocol first, else the service port name's prefix before '-'
// (pilot/pkg/model protocol.Parse / kube.ConvertProtocol). Unnamed or unknown ports are sniffed.
import type { ServicePortSpec } from './k8s.js';

export type PortProtocol = 'http' | 'tcp' | 'sniff';

const HTTP = new Set(['http', 'http2', 'h2c', 'grpc', 'grpc-web']);
// HTTPS and TLS are opaque to the sidecar: "the proxy automatically downgrades from L7 to L4" (https-overlay task).
const OPAQUE = new Set(['https', 'tls', 'tcp', 'mongo', 'mysql', 'redis', 'udp']);

export function portProtocol(sp: Pick<ServicePortSpec, 'name' | 'appProtocol' | 'protocol'>): PortProtocol {
  if (sp.protocol && sp.protocol.toUpperCase() === 'UDP') return 'tcp';
  const candidates = [sp.appProtocol, sp.name?.split('-')[0]];
  for (const raw of candidates) {
    if (!raw) continue;
    const p = raw.toLowerCase();
    if (HTTP.has(p)) return 'http';
    if (OPAQUE.has(p)) return 'tcp';
  }
  return 'sniff';
}

const METHODS = ['GET ', 'POST ', 'PUT ', 'HEAD ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE ', 'PRI * '];

/** Envoy's http_inspector, reduced to what matters here: does the first chunk start an HTTP/1 request line. */
export function looksLikeHttp(head: Buffer): boolean {
  const s = head.subarray(0, 8).toString('latin1');
  return METHODS.some((m) => m.startsWith(s) || s.startsWith(m));
}
