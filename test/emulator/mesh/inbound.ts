// The sidecar's inbound side for one workload port. Like Envoy's virtualInbound filter chains (Istio
// pilot/pkg/networking/core/filterchain_options.go): STRICT has only the mTLS chain (plaintext is reset),
// PERMISSIVE has an mTLS chain for TLS offering Istio's ALPN and passes everything else to the app,
// DISABLE has only plaintext chains (so an Istio mTLS handshake reaches the app as garbage). After mTLS,
// HTTP ports are proxied at L7 with X-Forwarded-Client-Cert (APPEND_FORWARD, with the peer's URI and the
// SHA-256 of its certificate: listener_inbound.go buildSidecarInboundHTTPOpts); other ports are piped.
// AuthorizationPolicy runs where Istio puts its RBAC filters (listener_builder.go, networkfilter.go): in the
// HTTP connection manager of HTTP chains, as a network filter on TCP chains (authz.ts, policy/authorization.ts).
import { randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  connectionAttributes,
  logShadow,
  normalizePath,
  rbacDetail,
  requestAttributes,
  sendRbacDenied,
} from './authz.js';
import type { ConnInfo } from './authz.js';
import { sha256Hex, uriSans } from './ca.js';
import { resetBody, sendEnvoyError } from './envoy.js';
import { accessLog, type Mesh, type PodNet } from './mesh.js';
import { connectLoopback, listen, LOOPBACK, splice } from './net-util.js';
import { authorize } from './policy/authorization.js';
import { peek, Replayed } from './tls-peek.js';

/** The address an Envoy inbound passthrough connects to the app from (Istio >= 1.10). */
export const INBOUND_PASSTHROUGH_IP = '127.0.0.6';

interface PeerInfo {
  uri: string | undefined;
  hash: string;
}

export async function createInboundListener(mesh: Mesh, pod: PodNet, port: number): Promise<number> {
  const peers = new WeakMap<object, PeerInfo>();
  const conns = new WeakMap<object, ConnInfo>();
  const http = pod.tracker.server(
    createHttpServer((req, res) => proxyToApp(mesh, pod, port, req, res, peers.get(req.socket), conns.get(req.socket))),
  );
  // Longer than the client sidecars' pooled-connection idle timeout (outbound.ts), as Envoy's hour is.
  http.keepAliveTimeout = 60_000;

  const server = pod.tracker.server(
    createNetServer({ noDelay: true }, (socket) => {
      socket.on('error', () => socket.destroy());
      void handle(socket);
    }),
  );

  async function handle(socket: Socket): Promise<void> {
    const first = await peek(socket);
    if (!first || socket.destroyed) return void socket.destroy();
    const mode = mesh.cp.configFor(pod.pod).inbound(pod.pod, port).value;
    const istioAlpn = first.tls && first.alpn.some((a) => a.startsWith('istio'));
    const l7 = mesh.inboundProtocol(pod, port) !== 'tcp';
    if (mode === 'STRICT' && !first.tls) {
      mesh.log(`inbound ${pod.key}:${port} STRICT: plaintext connection reset`);
      pod.appendLog(
        'istio-proxy',
        `[${new Date().toISOString()}] "- - -" 0 NR filter_chain_not_found - "-" inbound|${port}|| STRICT: plaintext connection reset`,
      );
      return void socket.resetAndDestroy();
    }
    const conn: ConnInfo = { sourceIp: sourceIp(mesh, socket), sni: first.sni ?? '' };
    if (mode === 'STRICT' || (mode === 'PERMISSIVE' && istioAlpn)) {
      return terminateMtls(socket, first.head, conn);
    }
    // Plaintext, non-Istio TLS under PERMISSIVE, anything under DISABLE: the app gets the bytes as they came.
    if (l7 && !first.tls) {
      const replayed = pod.tracker.socket(new Replayed(socket, first.head));
      conns.set(replayed, conn);
      return void http.emit('connection', replayed);
    }
    return guardedPassthrough(socket, first.head, conn);
  }

  function terminateMtls(socket: Socket, head: Buffer, conn: ConnInfo): void {
    const cert = pod.cert!;
    // The peeked bytes go back into the socket itself, so TLS runs on the native handle rather than on a
    // JavaScript stream (which cost the mesh most of its CPU under load).
    if (head.length > 0) socket.unshift(head);
    const tls = pod.tracker.socket(
      new TLSSocket(socket, {
        isServer: true,
        secureContext: cert.context,
        requestCert: true,
        rejectUnauthorized: true,
      }),
    );
    tls.on('error', (e) => {
      mesh.log(`inbound ${pod.key}:${port} TLS: ${e.message}`);
      pod.appendLog(
        'istio-proxy',
        `[${new Date().toISOString()}] "- - -" 0 - - "-" inbound|${port}|| TLS error: ${e.message}`,
      );
      tls.destroy();
    });
    tls.once('secure', () => {
      // The X509Certificate view: getPeerCertificate() parses every field into an object, which shows in profiles.
      const peer = tls.getPeerX509Certificate();
      const info: PeerInfo = { uri: uriSans(peer?.subjectAltName)[0], hash: peer ? sha256Hex(peer.raw) : '' };
      const authenticated: ConnInfo = { ...conn, peerUris: uriSans(peer?.subjectAltName) };
      if (mesh.inboundProtocol(pod, port) === 'tcp') {
        void guardedPassthrough(tls, Buffer.alloc(0), authenticated);
        return;
      }
      peers.set(tls, info);
      conns.set(tls, authenticated);
      http.emit('connection', tls);
    });
  }

  /**
   * A TCP filter chain: Envoy's network RBAC filter decides on the client's first bytes (onData) with the
   * filter chain the connection was accepted on, and a denial closes the connection without a reply.
   */
  async function guardedPassthrough(downstream: Duplex, head: Buffer, conn: ConnInfo): Promise<void> {
    const filters = mesh.cp.configFor(pod.pod).authz(pod.pod).tcp;
    if (filters.length === 0) return passthrough(downstream, head);
    const first = head.length > 0 ? head : await firstBytes(downstream);
    if (!first) return void downstream.destroy();
    const decision = authorize(filters, connectionAttributes(pod, port, conn));
    logShadow(pod, decision);
    if (decision.allowed) return passthrough(downstream, first);
    const detail = rbacDetail(decision.deniedBy!.policy);
    mesh.log(`inbound ${pod.key}:${port} TCP ${decision.deniedBy!.stage} denied: ${detail}`);
    pod.appendLog(
      'istio-proxy',
      `[${new Date().toISOString()}] "- - -" 0 - - ${detail} "-" inbound|${port}|| ${peerDetails(conn)}`,
    );
    closeNoFlush(downstream);
  }

  async function passthrough(downstream: Duplex, head: Buffer): Promise<void> {
    const appPort = pod.apps.get(port);
    if (appPort === undefined) return void downstream.destroy();
    try {
      const up = pod.tracker.socket(await connectLoopback(appPort));
      mesh.noteSource(up, INBOUND_PASSTHROUGH_IP);
      if (head.length > 0) up.write(head);
      splice(downstream, up);
    } catch {
      downstream.destroy();
    }
  }

  return listen(server);
}

/** The client pod's IP: noted by its sidecar (mesh.noteSource) or from its loopback alias (a pod's own curl). */
function sourceIp(mesh: Mesh, socket: Socket): string {
  return (
    mesh.sourceOf(socket.remotePort) ??
    mesh.podIpOfLoopback(socket.remoteAddress) ??
    socket.remoteAddress?.replace(/^::ffff:/, '') ??
    LOOPBACK
  );
}

function peerDetails(conn: ConnInfo | undefined): string {
  return conn?.peerUris ? `mtls peer=${conn.peerUris[0] ?? '-'}` : 'plaintext';
}

/** The first chunk a client sends, the stream left paused with nothing lost; undefined if it closes first. */
function firstBytes(stream: Duplex): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (b: Buffer | undefined) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onEnd);
      resolve(b);
    };
    const onData = (b: Buffer) => {
      stream.pause();
      done(b);
    };
    const onEnd = () => done(undefined);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('close', onEnd);
    stream.once('error', onEnd);
  });
}

/** ConnectionCloseType::NoFlush: FIN (and TLS close_notify), nothing else written; the peer reads EOF. */
function closeNoFlush(stream: Duplex): void {
  stream.end();
  setTimeout(() => stream.destroy(), 1000).unref();
}

function proxyToApp(
  mesh: Mesh,
  pod: PodNet,
  port: number,
  req: IncomingMessage,
  res: ServerResponse,
  peer: PeerInfo | undefined,
  conn: ConnInfo | undefined,
): void {
  const path = normalizePath(req.url ?? '/');
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined && k !== 'connection' && k !== 'keep-alive') headers[k] = v;
  if (peer) {
    const current = `By=${pod.identity};Hash=${peer.hash};Subject="";URI=${peer.uri ?? ''}`;
    const prior = headers['x-forwarded-client-cert'];
    headers['x-forwarded-client-cert'] = prior ? `${String(prior)},${current}` : current;
  } else {
    delete headers['x-forwarded-client-cert'];
  }
  headers['x-forwarded-proto'] ??= peer ? 'https' : 'http';
  headers['x-request-id'] ??= randomUUID();
  const started = Date.now();
  let denied: string | undefined;
  res.once('finish', () =>
    pod.appendLog(
      'istio-proxy',
      accessLog({
        method: req.method,
        path: req.url,
        status: res.statusCode,
        flags: res.statusCode === 503 && !upstreamAnswered ? 'UF' : '-',
        details: `${denied ? `${denied} ` : ''}${peer ? `mtls peer=${peer.uri ?? '-'}` : 'plaintext'}`,
        authority: req.headers.host,
        upstream: denied ? '-' : `127.0.0.1:${port}`,
        cluster: `inbound|${port}||`,
        started,
      }),
    ),
  );
  let upstreamAnswered = false;
  const filters = mesh.cp.configFor(pod.pod).authz(pod.pod).http;
  if (filters.length > 0) {
    const forwarded = ['x-forwarded-client-cert', 'x-forwarded-proto', 'x-request-id'];
    const overrides = Object.fromEntries(forwarded.map((k) => [k, headers[k]]));
    const decision = authorize(
      filters,
      requestAttributes(pod, port, conn ?? { sourceIp: LOOPBACK, sni: '' }, req, path, overrides),
    );
    logShadow(pod, decision);
    if (!decision.allowed) {
      denied = rbacDetail(decision.deniedBy!.policy);
      mesh.log(`inbound ${pod.key}:${port} ${req.method} ${path} ${decision.deniedBy!.stage} denied: ${denied}`);
      return sendRbacDenied(res);
    }
  }
  const appPort = pod.apps.get(port);
  if (appPort === undefined) {
    return sendEnvoyError(
      res,
      503,
      resetBody({ kind: 'connection-failure', transport: 'delayed connect error: 111' }, false),
    );
  }
  const up = httpRequest(
    { host: LOOPBACK, port: appPort, method: req.method, path, headers, agent: false },
    (upRes) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers))
        if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      upstreamAnswered = true;
      out.server = 'istio-envoy';
      out['x-envoy-upstream-service-time'] = String(Date.now() - started);
      res.removeHeader('connection');
      res.writeHead(upRes.statusCode ?? 502, out);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
    },
  );
  // Envoy sends no Connection header upstream; Node would add "Connection: close" without this.
  up.removeHeader('connection');
  up.on('socket', (s: Socket) => s.once('connect', () => mesh.noteSource(s, INBOUND_PASSTHROUGH_IP)));
  up.on('error', (e: NodeJS.ErrnoException) => {
    const reason =
      e.code === 'ECONNREFUSED'
        ? resetBody({ kind: 'connection-failure', transport: 'delayed connect error: 111' }, false)
        : resetBody({ kind: 'connection-termination' }, false);
    sendEnvoyError(res, 503, reason);
  });
  req.pipe(up);
  res.on('close', () => up.destroy());
}
