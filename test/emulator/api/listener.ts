// The TCP listener in front of the HTTPS server. It hands every accepted connection to TLS, except those an
// api-stall fault holds: accepted and then left silent, as an API server behind a dead load balancer, a
// hung process or a half-open tunnel behaves. Phase `tls`: no ServerHello ever comes (client-go's transport
// gives up after its TLSHandshakeTimeout, 10 s: k8s.io/apimachinery/pkg/util/net/http.go
// SetTransportDefaults). Phase `request`: the handshake completes, the request is read, no response comes
// (only a client-side timeout ends it: kubectl's --request-timeout, 0 = none, by default).
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Faults, RequestFaultTarget } from './faults.js';

export class Listener {
  private readonly tcp: TcpServer;
  private readonly sockets = new Set<Socket>();
  private readonly stalled = new Set<Duplex>();

  constructor(
    private readonly https: Server,
    private readonly faults: Faults,
  ) {
    this.tcp = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      if (this.faults.apiStall('tls')) {
        socket.on('error', () => socket.destroy());
        // Never read: the ClientHello sits in the kernel's buffer, unanswered.
        socket.pause();
        this.hold(socket);
        return;
      }
      this.https.emit('connection', socket);
    });
  }

  async listen(port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, '127.0.0.1', () => {
        this.tcp.off('error', reject);
        resolve();
      });
    });
    return this.tcp.address() as AddressInfo;
  }

  /** Whether an api-stall fault (phase request) holds this request: then it is never answered. */
  stallRequest(target: RequestFaultTarget | undefined, req: IncomingMessage, res: ServerResponse | Duplex): boolean {
    if (!this.faults.apiStall('request', target)) return false;
    // Read the body (a client waits for its upload to finish before it waits for the answer).
    req.resume();
    this.hold('socket' in res && res.socket ? res.socket : (res as Duplex));
    return true;
  }

  /** Connections accepted and not yet closed (stalled ones included). */
  get connections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const socket of this.stalled) socket.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.https.closeAllConnections();
    await closed;
  }

  private hold(socket: Duplex): void {
    this.stalled.add(socket);
    socket.once('close', () => this.stalled.delete(socket));
  }
}
