// The sidecar's inbound side for one workload port. Like Envoy's virtualInbound filter chains (Istio
// pilot/pkg/networking/core/filterchain_options.go): STRICT has only the mTLS chain (plaintext is reset),
// PERMISSIVE has an mTLS chain for TLS offering Istio's ALPN and passes everything else to the app,
// DISABLE has only plaintext chains (so an Istio mTLS handshake reaches the app as garbage). After mTLS,
// HTTP ports are proxied at L7 with X-Forwarded-Client-Cert (APPEND_FORWARD, with the peer's URI and the
// SHA-256 of its certificate: listener_inbound.go buildSidecarInboundHTTPOpts); other ports are piped.
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
import { sha256Hex, uriSans } from './ca.js';
import { resetBody, sendEnvoyError } from './envoy.js';
import { accessLog, type Mesh, type PodNet } from './mesh.js';
import { connectLoopback, listen, LOOPBACK, splice } from './net-util.js';
import { peek, Replayed } from './tls-peek.js';

/** The address an Envoy inbound passthrough connects to the app from (Istio >= 1.10). */
export const INBOUND_PASSTHROUGH_IP = '127.0.0.6';

interface PeerInfo {
  uri: string | undefined;
  hash: string;
}

export async function createInboundListener(mesh: Mesh, pod: PodNet, port: number): Promise<number> {
  const peers = new WeakMap<object, PeerInfo>();
  const http = pod.tracker.server(
    createHttpServer((req, res) => proxyToApp(mesh, pod, port, req, res, peers.get(req.socket))),
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
    if (mode === 'STRICT' || (mode === 'PERMISSIVE' && istioAlpn)) {
      return terminateMtls(socket, first.head);
    }
    // Plaintext, non-Istio TLS under PERMISSIVE, anything under DISABLE: the app gets the bytes as they came.
    if (l7 && !first.tls) return void http.emit('connection', pod.tracker.socket(new Replayed(socket, first.head)));
    return passthrough(socket, first.head);
  }

  function terminateMtls(socket: Socket, head: Buffer): void {
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
      if (mesh.inboundProtocol(pod, port) === 'tcp') {
        void passthrough(tls, Buffer.alloc(0));
        return;
      }
      peers.set(tls, info);
      http.emit('connection', tls);
    });
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

function proxyToApp(
  mesh: Mesh,
  pod: PodNet,
  port: number,
  req: IncomingMessage,
  res: ServerResponse,
  peer: PeerInfo | undefined,
): void {
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
  res.once('finish', () =>
    pod.appendLog(
      'istio-proxy',
      accessLog({
        method: req.method,
        path: req.url,
        status: res.statusCode,
        flags: res.statusCode === 503 && !upstreamAnswered ? 'UF' : '-',
        details: peer ? `mtls peer=${peer.uri ?? '-'}` : 'plaintext',
        authority: req.headers.host,
        upstream: `127.0.0.1:${port}`,
        cluster: `inbound|${port}||`,
        started,
      }),
    ),
  );
  let upstreamAnswered = false;
  const appPort = pod.apps.get(port);
  if (appPort === undefined) {
    return sendEnvoyError(
      res,
      503,
      resetBody({ kind: 'connection-failure', transport: 'delayed connect error: 111' }, false),
    );
  }
  const up = httpRequest(
    { host: LOOPBACK, port: appPort, method: req.method, path: req.url, headers, agent: false },
    (upRes) => {
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers))
        if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
      upstreamAnswered = true;
      out.server = 'istio-envoy';
      out['x-envoy-upstream-service-time'] = String(Date.now() - started);
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
