// The services/proxy subresource: /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH, as
// kubernetes v1.32 serves it. The location is one ready endpoint address of the service port
// (pkg/registry/core/service/storage/storage.go ResourceLocation); the request goes there with the caller's
// Authorization header already removed (apiserver pkg/endpoints/filters/authentication.go) and the
// X-Forwarded-* headers set; a failed dial is a 503 "error trying to reach service: ..."
// (apimachinery pkg/util/proxy/transport.go RoundTrip). The answer, whatever its status, is relayed as is.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ContainerRuntime, KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import { ApiError, badRequest, notFound, serviceUnavailable } from './status.js';

interface EndpointSubset {
  addresses?: Array<{ ip: string }>;
  ports?: Array<{ name?: string; port: number }>;
}

/** apimachinery pkg/util/net/port_split.go SplitSchemeNamePort. */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  if (parts.length > 3) return undefined;
  const [scheme, name, port] = parts.length === 3 ? parts : ['', parts[0] ?? '', parts[1] ?? ''];
  if (!name || !['', 'http', 'https'].includes(scheme ?? '')) return undefined;
  return { scheme: scheme ?? '', name, port: port ?? '' };
}

export interface ServiceLocation {
  scheme: 'http' | 'https';
  ip: string;
  port: number;
}

/** ResourceLocation for a service id; throws the API server's errors. */
export function resolveServiceLocation(store: MemoryStore, namespace: string, id: string): ServiceLocation {
  const parsed = splitSchemeNamePort(id);
  if (!parsed) throw badRequest(`invalid service request "${id}"`);
  let portName = parsed.port;
  if (/^\d+$/.test(portName)) {
    const svc = store.get('', 'services', namespace, parsed.name);
    if (!svc) throw notFound({ group: '', resource: 'services' }, parsed.name);
    const ports = ((svc.spec ?? {}) as { ports?: Array<{ name?: string; port: number }> }).ports ?? [];
    const found = ports.find((p) => p.port === Number(portName));
    if (!found) throw serviceUnavailable(`no service port ${Number(portName)} found for service "${parsed.name}"`);
    portName = found.name ?? '';
  }
  const eps = store.get('', 'endpoints', namespace, parsed.name) as
    (KubeObject & { subsets?: EndpointSubset[] }) | undefined;
  if (!eps) throw notFound({ group: '', resource: 'endpoints' }, parsed.name);
  const subsets = eps.subsets ?? [];
  if (subsets.length === 0) throw serviceUnavailable(`no endpoints available for service "${parsed.name}"`);
  // The API server starts at a random subset and address; the first is as good for one-replica services.
  for (const ss of subsets) {
    if ((ss.addresses ?? []).length === 0) continue;
    const port = (ss.ports ?? []).find((p) => (p.name ?? '') === portName);
    if (port)
      return { scheme: parsed.scheme === 'https' ? 'https' : 'http', ip: ss.addresses![0]!.ip, port: port.port };
  }
  throw serviceUnavailable(`no endpoints available for service "${id}"`);
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ProxyTarget {
  location: ServiceLocation;
  /** The path after `/proxy` (with its leading slash, or empty). */
  path: string;
  search: string;
  /** The request path up to and including `/proxy`, for X-Forwarded-Uri. */
  prefix: string;
}

/** Relays the request to the location through the runtime's pod network. */
export async function proxyToService(
  req: IncomingMessage,
  res: ServerResponse,
  runtime: ContainerRuntime,
  target: ProxyTarget,
): Promise<void> {
  const { location } = target;
  const hostPort = `${location.ip}:${location.port}`;
  const local = runtime.dial ? await runtime.dial(location.ip, location.port) : undefined;
  if (local === undefined) throw unreachable(`dial tcp ${hostPort}: connect: connection refused`);
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'authorization' || k === 'host') continue;
    headers[k] = v;
  }
  headers.host = hostPort;
  headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-uri'] = `${target.prefix}${target.path}`;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-proto'] = 'https';
  const send = location.scheme === 'https' ? httpsRequest : httpRequest;
  await new Promise<void>((resolve, reject) => {
    const upstream = send(
      {
        host: '127.0.0.1',
        port: local,
        method: req.method,
        path: `${target.path || '/'}${target.search}`,
        headers,
        // The API server's proxy transport does not verify pod certificates (they name no IP it dials).
        rejectUnauthorized: false,
      },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(answer.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.once('end', resolve);
        answer.once('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    let sourcePort = 0;
    upstream.once('socket', (s) => s.once('connect', () => (sourcePort = s.localPort ?? 0)));
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
        return;
      }
      const why =
        error.code === 'ECONNREFUSED'
          ? `dial tcp ${hostPort}: connect: connection refused`
          : error.code === 'ECONNRESET'
            ? `read tcp 172.18.0.2:${sourcePort}->${hostPort}: read: connection reset by peer`
            : 'EOF';
      reject(unreachable(why));
    });
    req.pipe(upstream);
  });
}

function unreachable(why: string): ApiError {
  return serviceUnavailable(`error trying to reach service: ${why}`);
}
