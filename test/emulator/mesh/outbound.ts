// The sidecar's outbound side for one client pod. HTTP service ports are one listener per port that routes
// on the Host header, as Envoy's 0.0.0.0:<port> listener with one virtual host per service does; opaque
// ports (https, tls, tcp) and sniffed ones are one listener per destination, proxied at L4 (bytes piped,
// wrapped in Istio mTLS when the cluster says so: TLS in TLS for an HTTPS app). Failures surface as Envoy
// shows them: a 503 with the reset reason on HTTP, a closed connection on TCP.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  Agent,
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { uriSans } from './ca.js';
import type { Endpoint, OutboundCluster } from './control-plane.js';
import { resetBody, sendEnvoyError, transportFailure, type ResetReason } from './envoy.js';
import { accessLog, type Destination, type Mesh, type PodNet } from './mesh.js';
import { connectLoopback, listen, splice } from './net-util.js';
import { looksLikeHttp } from './protocol.js';
import { peek, Replayed } from './tls-peek.js';

// Istio's default retry policy: 2 retries on connect-failure,refused-stream,unavailable,cancelled,
// retriable-status-codes (pilot/pkg/networking/core/route/retry/retry.go); a reset after connect is not retried.
const RETRIES = 2;

export type OutboundListenerSpec =
  { kind: 'http-host'; port: number } | { kind: 'fixed'; dest: Destination; sniff: boolean };

class UpstreamError extends Error {
  constructor(readonly reason: ResetReason) {
    super(resetBody(reason, false));
  }
}

export async function createOutboundListener(mesh: Mesh, client: PodNet, spec: OutboundListenerSpec): Promise<number> {
  const fixed = spec.kind === 'fixed' ? spec.dest : undefined;
  const listenerPort = spec.kind === 'http-host' ? spec.port : spec.dest.port;
  const http = client.tracker.server(
    createHttpServer(
      (req, res) =>
        void proxyHttp(mesh, client, req, res, fixed ?? mesh.resolveHost(client.ns, req.headers.host, listenerPort)),
    ),
  );
  http.keepAliveTimeout = 5_000;
  if (spec.kind === 'http-host') return listen(http);

  const server = client.tracker.server(
    createNetServer({ noDelay: true }, (socket) => {
      socket.on('error', () => socket.destroy());
      void (async () => {
        let head: Buffer = Buffer.alloc(0);
        if (spec.sniff) {
          const first = await peek(socket);
          if (!first) return void socket.destroy();
          head = first.head;
          if (looksLikeHttp(head))
            return void http.emit('connection', client.tracker.socket(new Replayed(socket, head)));
        }
        socket.pause();
        await proxyTcp(mesh, client, socket, head, spec.dest);
      })();
    }),
  );
  return listen(server);
}

function pickEndpoints(
  mesh: Mesh,
  client: PodNet,
  dest: Destination,
): { cluster?: OutboundCluster; endpoints: Endpoint[] } | undefined {
  if (dest.kind === 'pod') {
    // A pod IP that no service fronts: Envoy's PassthroughCluster, plaintext to the original destination.
    const target = mesh.podByIp(dest.ip);
    if (!target) return { endpoints: [] };
    return {
      endpoints: [
        {
          pod: target.pod,
          ip: dest.ip,
          targetPort: dest.port,
          origination: 'plaintext',
          identity: target.identity,
          by: 'PassthroughCluster',
        },
      ],
    };
  }
  const cluster = mesh.cp.configFor(client.pod).outbound(client.ns, dest.ns, dest.name, dest.port);
  if (!cluster) return undefined;
  let endpoints = cluster.endpoints.filter((e) => mesh.podByIp(e.ip) !== undefined);
  if (dest.pinnedIp) endpoints = endpoints.filter((e) => e.ip === dest.pinnedIp);
  return { cluster, endpoints: rotate(endpoints) };
}

let rr = 0;
function rotate<T>(xs: T[]): T[] {
  if (xs.length < 2) return xs;
  const k = rr++ % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/**
 * Envoy keeps upstream connections and reuses them. A pool is keyed by all that decides what a
 * connection is: client, endpoint, TLS origination, expected identity, SNI, and the server sidecar's
 * mode for the port as it stands now. Envoy drains the connections of a listener or cluster whose
 * configuration changed, so a change here means fresh connections (the old pool is closed).
 */
const poolsByMesh = new WeakMap<Mesh, Map<string, { key: string; agent: Agent }>>();

function agentFor(mesh: Mesh, client: PodNet, ep: Endpoint, cluster: OutboundCluster | undefined): Agent {
  const target = mesh.podByIp(ep.ip);
  const serverMode = target?.sidecar
    ? mesh.cp.configFor(target.pod).inbound(target.pod, ep.targetPort).value
    : 'no-sidecar';
  const base = `${client.key}|${ep.ip}:${ep.targetPort}|${cluster?.fqdn ?? ''}:${cluster?.port.port ?? ''}`;
  const key = `${ep.origination}|${ep.identity}|${ep.sni ?? ''}|${serverMode}`;
  let pools = poolsByMesh.get(mesh);
  if (!pools) poolsByMesh.set(mesh, (pools = new Map()));
  const pool = pools.get(base);
  if (pool?.key === key) return pool.agent;
  pool?.agent.destroy();
  // Idle connections close before the upstream sidecar's keep-alive timeout (60 s, see inbound.ts), so a
  // reused one is alive; Envoy's own idle timeout is an hour.
  const agent = new Agent({ keepAlive: true, timeout: 30_000, maxFreeSockets: 4 });
  (
    agent as unknown as { createConnection: (o: unknown, cb: (e: Error | null, s?: Duplex) => void) => undefined }
  ).createConnection = (_o, cb) => {
    connectUpstream(mesh, client, ep, cluster).then(
      (sock) => cb(null, sock),
      (e: Error) => cb(e),
    );
    return undefined;
  };
  pools.set(base, { key, agent });
  return agent;
}

function dropPool(mesh: Mesh, client: PodNet, ep: Endpoint, cluster: OutboundCluster | undefined): void {
  const base = `${client.key}|${ep.ip}:${ep.targetPort}|${cluster?.fqdn ?? ''}:${cluster?.port.port ?? ''}`;
  poolsByMesh.get(mesh)?.get(base)?.agent.destroy();
  poolsByMesh.get(mesh)?.delete(base);
}

/** Connects to an endpoint and originates TLS as the cluster says; rejects with Envoy's reset reason. */
async function connectUpstream(
  mesh: Mesh,
  client: PodNet,
  ep: Endpoint,
  cluster: OutboundCluster | undefined,
): Promise<Duplex> {
  const target = mesh.podByIp(ep.ip);
  const port = target ? await mesh.podPort(target, ep.targetPort) : undefined;
  if (port === undefined)
    throw new UpstreamError({ kind: 'connection-failure', transport: 'delayed connect error: 111' });
  let raw: Socket;
  try {
    raw = client.tracker.socket(await connectLoopback(port));
  } catch (e) {
    throw new UpstreamError({ kind: 'connection-failure', transport: transportFailure(e as NodeJS.ErrnoException) });
  }
  // The server sidecar (authorization's source.ip) or the app (httpbin /ip) sees the client pod's address.
  mesh.noteSource(raw, client.ip);
  if (ep.origination === 'plaintext') return raw;
  const cert = client.cert!;
  const svcPort = cluster?.port.port ?? ep.targetPort;
  const fqdn = cluster?.fqdn ?? ep.ip;
  const istio = ep.origination === 'istio-mutual';
  const tls: TLSSocket = client.tracker.socket(
    tlsConnect({
      socket: raw,
      ...(istio
        ? {
            secureContext: cert.context,
            // Istio's upstream SNI and ALPN for mTLS (cluster_tls.go: "outbound_.PORT_._.HOST", istio-peer-exchange/istio).
            servername: `outbound_.${svcPort}_._.${fqdn}`,
            ALPNProtocols: ['istio-peer-exchange', 'istio'],
            rejectUnauthorized: true,
            checkServerIdentity: (_host: string, peer: { subjectaltname?: string }) =>
              uriSans(peer.subjectaltname).includes(ep.identity)
                ? undefined
                : Object.assign(new Error(`SAN mismatch: want ${ep.identity}`), {
                    code: 'ERR_SSL_CERTIFICATE_VERIFY_FAILED',
                  }),
          }
        : { servername: ep.sni ?? fqdn, rejectUnauthorized: false }),
    }),
  );
  return new Promise((resolve, reject) => {
    tls.once('secureConnect', () => {
      tls.off('error', onError);
      resolve(tls);
    });
    const onError = (e: NodeJS.ErrnoException) => {
      tls.destroy();
      reject(new UpstreamError({ kind: 'connection-failure', transport: transportFailure(e) }));
    };
    tls.once('error', onError);
    tls.once('close', () => onError(Object.assign(new Error('closed during handshake'), { code: 'ECONNRESET' })));
  });
}

async function proxyHttp(
  mesh: Mesh,
  client: PodNet,
  req: IncomingMessage,
  res: ServerResponse,
  dest: Destination | undefined,
): Promise<void> {
  const picked = dest ? pickEndpoints(mesh, client, dest) : undefined;
  const log = { flags: '-', details: 'via_upstream', upstream: '-', started: Date.now() };
  const cluster = picked?.cluster
    ? `outbound|${picked.cluster.port.port}||${picked.cluster.fqdn}`
    : dest?.kind === 'pod'
      ? 'PassthroughCluster'
      : '-';
  res.once('finish', () =>
    client.appendLog(
      'istio-proxy',
      accessLog({
        method: req.method,
        path: req.url,
        status: res.statusCode,
        authority: req.headers.host,
        cluster,
        ...log,
      }),
    ),
  );
  if (!picked) {
    Object.assign(log, { flags: 'NR', details: 'route_not_found' });
    // No route for this Host: Envoy answers 404 with an empty body (response flag NR).
    res.writeHead(404, { date: new Date().toUTCString(), server: 'envoy', 'content-length': 0 });
    return void res.end();
  }
  if (picked.endpoints.length === 0) {
    Object.assign(log, { flags: 'UH', details: 'no_healthy_upstream' });
    return sendEnvoyError(res, 503, resetBody({ kind: 'no-healthy-upstream' }, false));
  }

  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'proxy-connection') headers[k] = v;
  // The sidecar's outbound HCM sanitizes a client-supplied XFCC and adds the usual Envoy request headers.
  delete headers['x-forwarded-client-cert'];
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-request-id'] ??= randomUUID();
  if (!headers['x-b3-traceid']) {
    headers['x-b3-traceid'] = randomBytes(16).toString('hex');
    headers['x-b3-spanid'] = randomBytes(8).toString('hex');
    headers['x-b3-sampled'] = '0';
  }
  const body: Buffer[] = [];
  for await (const chunk of req) body.push(chunk as Buffer);

  const started = Date.now();
  let last: ResetReason = { kind: 'connection-termination' };
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    const ep = picked.endpoints[attempt % picked.endpoints.length]!;
    log.upstream = `${ep.ip}:${ep.targetPort} ${ep.origination} (${ep.by})`;
    headers['x-envoy-attempt-count'] = String(attempt + 1);
    let outcome = await forward(
      agentFor(mesh, client, ep, picked.cluster),
      ep,
      req,
      res,
      headers,
      Buffer.concat(body),
      started,
    );
    if (outcome.kind === 'reset' && outcome.reused) {
      // A pooled connection the upstream had already closed: Envoy tries a fresh one, as do we.
      dropPool(mesh, client, ep, picked.cluster);
      outcome = await forward(
        agentFor(mesh, client, ep, picked.cluster),
        ep,
        req,
        res,
        headers,
        Buffer.concat(body),
        started,
      );
    }
    if (outcome.kind === 'done') return;
    if (outcome.kind === 'connect') {
      last = outcome.reason;
      mesh.log(
        `outbound ${client.key} -> ${ep.ip}:${ep.targetPort} (${ep.origination}, ${ep.by}): ${resetBody(last, false)}`,
      );
      continue;
    }
    Object.assign(log, {
      flags: attempt > 0 ? 'UC,URX' : 'UC',
      details: 'upstream_reset_before_response_started{connection_termination}',
    });
    return sendEnvoyError(res, 503, resetBody({ kind: 'connection-termination' }, attempt > 0));
  }
  Object.assign(log, {
    flags: 'UF,URX',
    details: `upstream_reset_before_response_started{${resetBody(last, false).replace(/^.*reset reason: /, '')}}`,
  });
  sendEnvoyError(res, 503, resetBody(last, true));
}

type Forwarded = { kind: 'done' } | { kind: 'reset'; reused: boolean } | { kind: 'connect'; reason: ResetReason };

function forward(
  agent: Agent,
  ep: Endpoint,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string | string[]>,
  body: Buffer,
  started: number,
): Promise<Forwarded> {
  return new Promise((resolve) => {
    let responded = false;
    const withBody = body.length > 0 || (req.method !== 'GET' && req.method !== 'HEAD');
    const up = httpRequest(
      {
        agent,
        host: ep.ip,
        port: ep.targetPort,
        method: req.method,
        path: req.url,
        headers: withBody ? { ...headers, 'content-length': String(body.length) } : headers,
      },
      (upRes) => {
        responded = true;
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers))
          if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
        out.server = 'envoy';
        out['x-envoy-upstream-service-time'] = String(Date.now() - started);
        // Envoy writes no Connection or Keep-Alive header of its own on an HTTP/1.1 keep-alive response.
        res.removeHeader('connection');
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
        resolve({ kind: 'done' });
      },
    );
    // Envoy sends no Connection header upstream: keep-alive is HTTP/1.1's default.
    up.removeHeader('connection');
    up.on('error', (e) => {
      if (responded) return void res.destroy();
      if (e instanceof UpstreamError) resolve({ kind: 'connect', reason: e.reason });
      else resolve({ kind: 'reset', reused: up.reusedSocket });
    });
    up.end(body);
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
  });
}

async function proxyTcp(
  mesh: Mesh,
  client: PodNet,
  downstream: Socket,
  head: Buffer,
  dest: Destination,
): Promise<void> {
  const picked = pickEndpoints(mesh, client, dest);
  const ep = picked?.endpoints[0];
  if (!ep) {
    mesh.log(`outbound tcp ${client.key} -> ${JSON.stringify(dest)}: no healthy upstream`);
    return void downstream.destroy();
  }
  try {
    const up = await connectUpstream(mesh, client, ep, picked.cluster);
    if (head.length > 0) up.write(head);
    splice(downstream, up);
    downstream.resume();
  } catch (e) {
    const line = `outbound tcp ${client.key} -> ${ep.ip}:${ep.targetPort} (${ep.origination}, ${ep.by}): ${(e as Error).message}`;
    mesh.log(line);
    client.appendLog('istio-proxy', `[${new Date().toISOString()}] "- - -" 0 UF,URX ${line}`);
    downstream.destroy();
  }
}
