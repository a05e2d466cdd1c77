// Timeouts on every API request, so that a server that accepts the connection and then says nothing
// stops meshprobe with a message instead of hanging it. client-node 1.4 sends each request through the
// configuration's HttpLibrary (gen/http/isomorphic-fetch.js: node-fetch 2 with `signal` and `agent` taken
// from the RequestContext) and sets no timeout of its own; this library wraps that one:
// - a connect timeout from the socket's creation to the end of the TLS handshake, as client-go's
//   TLSHandshakeTimeout (10 s, k8s.io/apimachinery/pkg/util/net/http.go SetTransportDefaults);
// - a request timeout over the whole exchange, body included: kubectl's --request-timeout
//   (k8s.io/client-go/tools/clientcmd), 0 meaning none.
// The agent comes from KubeConfig.applySecurityAuthentication, a new one per request (config.js), so
// hooking its createConnection sees exactly this request's socket. Exec does not come through here: its
// WebSocket has its own deadline (client-node-cluster.ts).
import type { Agent as HttpAgent } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import {
  IsomorphicFetchHttpLibrary,
  ResponseContext,
  type PromiseHttpLibrary,
  type RequestContext,
} from '@kubernetes/client-node';

export interface Timeouts {
  /** From opening the connection to the end of the TLS handshake. */
  connectMs: number;
  /** The whole request, answer included; 0: no limit. */
  requestMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 10_000, requestMs: 30_000 };

/** The server did not answer in time; `phase` is how far the exchange got: TCP, the TLS handshake, or the request. */
export class ApiTimeoutError extends Error {
  override name = 'ApiTimeoutError';
  constructor(
    readonly phase: 'tcp' | 'tls' | 'request',
    readonly ms: number,
    /** Which limit ran out. */
    readonly limit: 'connect' | 'request',
  ) {
    super(`no answer within ${ms} ms (${phase})`);
  }
}

type Creator = (options: object, callback?: (err: Error | null, socket: Socket) => void) => Socket;

export class TimedHttpLibrary implements PromiseHttpLibrary {
  private readonly inner = new IsomorphicFetchHttpLibrary();

  constructor(private readonly timeouts: Timeouts = DEFAULT_TIMEOUTS) {}

  async send(request: RequestContext): Promise<ResponseContext> {
    const controller = new AbortController();
    let state: 'tcp' | 'tls' | 'up' = 'tcp';
    let expired: ApiTimeoutError | undefined;
    const expire = (limit: 'connect' | 'request', ms: number) => {
      expired ??= new ApiTimeoutError(state === 'up' ? 'request' : state, ms, limit);
      controller.abort();
    };
    const timers: NodeJS.Timeout[] = [];
    const { connectMs, requestMs } = this.timeouts;
    if (requestMs > 0) timers.push(setTimeout(() => expire('request', requestMs), requestMs));

    const agent = request.getAgent() as (HttpAgent & { createConnection?: Creator }) | undefined;
    const create = agent?.createConnection;
    // Proxy agents (agent-base) make their sockets elsewhere: only the request timeout holds for them.
    if (agent && create && connectMs > 0) {
      agent.createConnection = (options, callback) => {
        const socket = create.call(agent, options, callback);
        const timer = setTimeout(() => expire('connect', connectMs), connectMs);
        timers.push(timer);
        const tls = socket instanceof TLSSocket;
        socket.once('connect', () => {
          state = tls ? 'tls' : 'up';
          if (!tls) clearTimeout(timer);
        });
        socket.once('secureConnect', () => {
          state = 'up';
          clearTimeout(timer);
        });
        return socket;
      };
    }
    request.setSignal(controller.signal);
    try {
      const response = await this.inner.send(request).toPromise();
      // The body is read here, inside the timers, and handed on as bytes.
      const body = await response.body.binary();
      return new ResponseContext(response.httpStatusCode, response.headers, {
        text: () => Promise.resolve(body.toString('utf8')),
        binary: () => Promise.resolve(body),
      });
    } catch (e) {
      throw expired ?? e;
    } finally {
      for (const t of timers) clearTimeout(t);
    }
  }
}
