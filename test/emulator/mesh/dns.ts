// Cluster DNS for exec'd processes, as DNS-over-HTTPS (RFC 8484 wire format) because curl can be pointed at
// it without touching the host's resolver. Names that the pod's connect-to table covers never get here;
// what does get here is either a service name on a port the service lacks (answered with its ClusterIP,
// which the curl config then cannot reach, as a missing port on a ClusterIP fails) or an unknown name,
// answered NXDOMAIN so curl fails exactly as on a cluster: exit 6, "Could not resolve host".
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MeshCA } from './ca.js';
import { clusterIP, type Mesh } from './mesh.js';
import { listen, Tracker } from './net-util.js';

interface Question {
  name: string;
  type: number;
  end: number;
}

export function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let p = 12;
  while (p < msg.length) {
    const len = msg[p]!;
    if (len === 0) {
      p += 1;
      break;
    }
    if (len > 63) return undefined;
    labels.push(msg.subarray(p + 1, p + 1 + len).toString('latin1'));
    p += 1 + len;
  }
  if (p + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(p), end: p + 4 };
}

export function answer(query: Buffer, q: Question, ipv4: string | undefined): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  const rd = query.readUInt16BE(2) & 0x0100;
  const rcode = ipv4 === undefined ? 3 : 0; // NXDOMAIN : NOERROR
  header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  const records: Buffer[] = [];
  if (ipv4 && q.type === 1) {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(30, 6);
    rr.writeUInt16BE(4, 10);
    ipv4.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    records.push(rr);
  }
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, q.end), ...records]);
}

export class DohServer {
  private readonly tracker = new Tracker();
  port = 0;

  constructor(
    private readonly mesh: Mesh,
    private readonly ca: MeshCA,
  ) {}

  async start(): Promise<void> {
    const cert = this.ca.issueWorkload(`spiffe://${this.mesh.trustDomain}/ns/kube-system/sa/coredns`);
    const server = createHttpsServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => this.handle(req, res));
    this.port = await listen(this.tracker.server(server));
  }

  url(clientNs: string): string {
    return `https://127.0.0.1:${this.port}/dns-query/${encodeURIComponent(clientNs)}`;
  }

  resolve(clientNs: string, name: string): string | undefined {
    const svc = this.mesh.lookupService(clientNs, name);
    return svc ? clusterIP(svc) : undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'https://doh');
    const clientNs = decodeURIComponent(url.pathname.replace(/^\/dns-query\/?/, '')) || 'default';
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg = Buffer.concat(chunks);
      const dnsParam = url.searchParams.get('dns');
      if (req.method === 'GET' && dnsParam) msg = Buffer.from(dnsParam, 'base64url');
      const q = parseQuestion(msg);
      if (!q) {
        res.writeHead(400);
        return void res.end();
      }
      const body = answer(msg, q, this.resolve(clientNs, q.name));
      res.writeHead(200, {
        'content-type': 'application/dns-message',
        'content-length': body.length,
        'cache-control': 'max-age=0',
      });
      res.end(body);
    });
  }

  close(): Promise<void> {
    return this.tracker.close();
  }
}
