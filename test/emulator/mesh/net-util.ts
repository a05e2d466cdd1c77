// Small socket helpers shared by the proxies and apps: everything listens on 127.0.0.1 with an OS-chosen port,
// and every server and socket is tracked so that stop() leaves nothing behind.
import { connect as netConnect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export const LOOPBACK = '127.0.0.1';

export class Tracker {
  private readonly servers = new Set<Server>();
  private readonly sockets = new Set<Duplex>();

  server<T extends Server>(s: T): T {
    this.servers.add(s);
    s.on('connection', (sock: Socket) => this.socket(sock));
    return s;
  }

  socket<T extends Duplex>(s: T): T {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all([...this.servers].map((s) => closeServer(s)));
    this.servers.clear();
  }
}

export function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

export function connectLoopback(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: LOOPBACK, port, noDelay: true });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Two-way pipe; either side closing or failing tears both down (as a TCP proxy does). */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const kill = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', kill);
  b.on('error', kill);
  a.on('close', () => endSoon(b));
  b.on('close', () => endSoon(a));
}

function endSoon(s: Duplex): void {
  if (s.destroyed) return;
  const soon = (s as Duplex & { destroySoon?: () => void }).destroySoon;
  if (soon) soon.call(s);
  else s.end();
}
