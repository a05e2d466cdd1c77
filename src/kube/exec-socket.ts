// The WebSocket under client-node's Exec, opened by meshprobe so that a refused upgrade keeps the API
// server's answer. client-node 1.4's WebSocketHandler.connect (dist/web-socket-handler.js) rejects with
// ws's ErrorEvent "Unexpected server response: 400" and drops the body, which says why: "container X is
// not valid for pod Y" (kubernetes pkg/registry/core/pod/strategy.go streamLocation), "pods "x" not
// found", the kubelet's plain-text "container not found ("sleep")". ws hands the response to an
// 'unexpected-response' listener instead of failing (ws 8 lib/websocket.js initAsClient); the body is
// read, then the handshake aborted. Everything else is what client-node's connect does: the same
// subprotocols in the same order, the kubeconfig's TLS options and credentials, one frame per channel.
import type { KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';

// client-node's list: v5 goes through the 1.30+ API server's stream translator, v4 and older to the kubelet.
const PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
/** Enough for any Status; a proxy's HTML error page is cut. */
const MAX_BODY_BYTES = 16 * 1024;

/** The API server (or a proxy in front of it) answered the upgrade with an HTTP error. */
export class UpgradeRefused extends Error {
  override name = 'UpgradeRefused';
  constructor(
    readonly code: number,
    readonly contentType: string | undefined,
    readonly body: string,
  ) {
    super(`Unexpected server response: ${code}`);
  }
}

type BinaryHandler = ((stream: number, buff: Buffer) => boolean) | null;

/** A client-node WebSocketInterface (what `new Exec(kc, handler)` takes). */
export function execSocket(kc: KubeConfig) {
  return {
    async connect(path: string, _text: unknown, onBinary: BinaryHandler): Promise<WebSocket> {
      const server = kc.getCurrentCluster()?.server;
      if (!server) throw new Error('No cluster is defined.');
      const uri = `${server.replace(/^http/, 'ws')}${path}`;
      const opts: WebSocket.ClientOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(uri, PROTOCOLS, opts);
        let refused: UpgradeRefused | undefined;
        ws.on('unexpected-response', (_req, res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_BODY_BYTES) chunks.push(c);
            size += c.length;
          });
          const done = () => {
            refused ??= new UpgradeRefused(
              res.statusCode ?? 0,
              res.headers['content-type'],
              Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES),
            );
            ws.terminate();
          };
          res.on('end', done);
          res.on('error', done);
        });
        ws.on('open', () => resolve(ws));
        ws.on('error', (e) => reject(refused ?? e));
        ws.on('message', (data, isBinary) => {
          if (!isBinary || !Buffer.isBuffer(data) || data.length < 1) return;
          if (onBinary && !onBinary(data[0]!, data.subarray(1))) ws.close();
        });
      });
    },
  };
}
