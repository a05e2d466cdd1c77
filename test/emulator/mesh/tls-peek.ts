// Looking at the first bytes of a connection without losing them, as Envoy's tls_inspector does: is it TLS,
// and which ALPN protocols does the ClientHello offer (Istio's own mTLS offers "istio-*").
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export interface Peeked {
  head: Buffer;
  tls: boolean;
  alpn: string[];
  sni?: string;
}

const MAX_PEEK = 16 * 1024 + 5;

/** Resolves with the first bytes (a whole ClientHello record when it is TLS), or undefined if the peer closed first. */
export function peek(socket: Socket, timeoutMs = 10_000): Promise<Peeked | undefined> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (result: Peeked | undefined) => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      socket.off('close', onEnd);
      clearTimeout(timer);
      socket.pause();
      resolve(result);
    };
    const onEnd = () => done(buf.length > 0 ? classify(buf) : undefined);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf[0] !== 0x16) return done(classify(buf));
      if (buf.length >= 5) {
        const want = 5 + buf.readUInt16BE(3);
        if (buf.length >= want || buf.length >= MAX_PEEK) done(classify(buf));
      }
    };
    const timer = setTimeout(onEnd, timeoutMs);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
    socket.on('close', onEnd);
  });
}

export function classify(head: Buffer): Peeked {
  if (head[0] !== 0x16 || head.length < 6 || head[5] !== 0x01) return { head, tls: head[0] === 0x16, alpn: [] };
  const hello = parseClientHello(head.subarray(5));
  return { head, tls: true, alpn: hello.alpn, ...(hello.sni !== undefined ? { sni: hello.sni } : {}) };
}

function parseClientHello(hs: Buffer): { alpn: string[]; sni?: string } {
  const out: { alpn: string[]; sni?: string } = { alpn: [] };
  try {
    let p = 4 + 2 + 32; // handshake header, client_version, random
    p += 1 + hs.readUInt8(p); // session id
    p += 2 + hs.readUInt16BE(p); // cipher suites
    p += 1 + hs.readUInt8(p); // compression methods
    const extEnd = p + 2 + hs.readUInt16BE(p);
    p += 2;
    while (p + 4 <= extEnd && p + 4 <= hs.length) {
      const type = hs.readUInt16BE(p);
      const len = hs.readUInt16BE(p + 2);
      const body = hs.subarray(p + 4, p + 4 + len);
      if (type === 16) {
        let q = 2;
        while (q < body.length) {
          const l = body.readUInt8(q);
          out.alpn.push(body.subarray(q + 1, q + 1 + l).toString('latin1'));
          q += 1 + l;
        }
      } else if (type === 0 && body.length > 5) {
        const l = body.readUInt16BE(3);
        out.sni = body.subarray(5, 5 + l).toString('latin1');
      }
      p += 4 + len;
    }
  } catch {
    // A truncated or odd ClientHello: treat as offering nothing.
  }
  return out;
}

/**
 * A stream that yields `head` and then the socket's bytes. Node's TLSSocket reads a net.Socket through its
 * native handle and would never see bytes already read into JavaScript, so TLS is layered on this instead.
 */
export class Replayed extends Duplex {
  constructor(
    private readonly inner: Socket,
    head: Buffer,
  ) {
    super();
    if (head.length > 0) this.push(head);
    inner.on('data', (d: Buffer) => {
      if (!this.push(d)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (e) => this.destroy(e));
    inner.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }
  override _read(): void {
    this.inner.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.inner.destroyed) return cb();
    this.inner.write(chunk, () => cb());
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.inner.destroyed) this.inner.destroy();
    cb(err);
  }
}
