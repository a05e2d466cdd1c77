// pods/exec over WebSocket, as a 1.30+ API server serves it: v5.channel.k8s.io through the stream
// translator (kubectl), v4.channel.k8s.io as the kubelet serves it (older client-node fallbacks).
// Wire sequence: 101, an empty frame on the lowest requested output channel, stdout/stderr frames,
// one Status on channel 3, then a close frame with code 1000 (kubectl reads EOF only from 1000).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ContainerRuntime, ExecResult, KubeObject } from '../contracts.js';
import type { Faults } from './faults.js';
import { ApiError, badRequest, internalError, notFound, type Status } from './status.js';

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface ExecParams {
  command: string[];
  container: string | undefined;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function parseExecQuery(query: URLSearchParams): ExecParams {
  const flag = (name: string): boolean => ['true', '1'].includes((query.get(name) ?? '').toLowerCase());
  return {
    command: query.getAll('command'),
    container: query.get('container') ?? undefined,
    stdin: flag('stdin'),
    stdout: flag('stdout'),
    stderr: flag('stderr'),
    tty: flag('tty'),
  };
}

function containerNames(pod: KubeObject, list: 'containers' | 'initContainers' | 'ephemeralContainers'): string[] {
  const spec = (pod.spec ?? {}) as Record<string, Array<{ name: string }> | undefined>;
  return (spec[list] ?? []).map((c) => c.name);
}

/**
 * The checks the pods/exec REST handler makes before any upgrade (registry/core/pod/strategy.go
 * streamLocation): the pod exists, the container is named or unambiguous, the pod is on a node.
 * Returns the container to run in.
 */
export function resolveExecTarget(pod: KubeObject | undefined, podName: string, container: string | undefined): string {
  if (!pod) throw notFound({ group: '', resource: 'pods' }, podName);
  const name = pod.metadata.name;
  const containers = containerNames(pod, 'containers');
  let chosen = container;
  if (!chosen) {
    if (containers.length === 1) chosen = containers[0];
    else if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    else {
      // validateContainer: every container podutil.VisitContainers yields (init, app, ephemeral), Go's %s of the slice.
      const all = [
        ...containerNames(pod, 'initContainers'),
        ...containers,
        ...containerNames(pod, 'ephemeralContainers'),
      ];
      throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
    }
  } else if (
    ![...containers, ...containerNames(pod, 'initContainers'), ...containerNames(pod, 'ephemeralContainers')].includes(
      chosen,
    )
  ) {
    throw badRequest(`container ${chosen} is not valid for pod ${name}`);
  }
  if (!(pod.spec as { nodeName?: string } | undefined)?.nodeName)
    throw badRequest(`pod ${name} does not have a host assigned`);
  return chosen ?? '';
}

/** Whether the kubelet would find the container running (it looks among running containers only). */
export function containerRunning(pod: KubeObject, container: string): boolean {
  const status = (pod.status ?? {}) as {
    phase?: string;
    containerStatuses?: Array<{ name: string; state?: { running?: object } }>;
    initContainerStatuses?: Array<{ name: string; state?: { running?: object } }>;
  };
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return false;
  const all = [...(status.containerStatuses ?? []), ...(status.initContainerStatuses ?? [])];
  return all.some((s) => s.name === container && s.state?.running !== undefined);
}

export function chooseProtocol(header: string | undefined): typeof V5 | typeof V4 | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim());
  if (offered.includes(V5)) return V5;
  if (offered.includes(V4)) return V4;
  return undefined;
}

/** Writes an HTTP error response on a raw socket that asked to upgrade. */
export function rejectUpgrade(socket: Duplex, error: ApiError): void {
  const body = JSON.stringify(error.status);
  const code = error.code;
  const headers = [
    `HTTP/1.1 ${code} ${httpReason(code)}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(error.headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}

export function rejectUpgradePlain(socket: Duplex, code: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${code} ${httpReason(code)}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

function httpReason(code: number): string {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return reasons[code] ?? 'Error';
}

/** The Status a stream ends with (no kind/apiVersion: the server marshals status.Status() directly). */
function streamStatus(protocol: string, command: string[], result: ExecResult): object {
  if (result.kind === 'exited') {
    if (result.code === 0) return { metadata: {}, status: 'Success' };
    // v5 goes through the API server's stream translator, which re-wraps the kubelet's exit error;
    // v4 is the kubelet's own (containerd's) message.
    const inner =
      protocol === V5
        ? `command terminated with exit code ${result.code}`
        : `error executing command [${command.join(' ')}], exit code ${result.code}`;
    return {
      metadata: {},
      status: 'Failure',
      message: `command terminated with non-zero exit code: ${inner}`,
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: String(result.code) }] },
    };
  }
  const execId = randomBytes(32).toString('hex');
  const kubelet = `error executing command in container: failed to exec in container: failed to start exec "${execId}": ${result.message}`;
  // The translator decodes the kubelet's InternalError Status into a plain error and wraps it again.
  const cause = protocol === V5 ? `Internal error occurred: ${kubelet}` : kubelet;
  return streamStatusOf(internalError(cause).status);
}

function streamStatusOf(status: Status): object {
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = status;
  return rest;
}

function drained(stream: Writable): Promise<void> {
  if (stream.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('finish', () => resolve());
    stream.once('error', () => resolve());
    if (!stream.writableEnded) stream.end();
  });
}

export interface ExecSession {
  pod: KubeObject;
  container: string;
  params: ExecParams;
  protocol: typeof V5 | typeof V4;
  runtime: ContainerRuntime;
  faults: Faults;
  /** Looks the pod up again at stream start (it may have stopped since the upgrade was accepted). */
  currentPod: () => KubeObject | undefined;
  /** A kubelet-side failure (an exec-status fault): this Status ends the stream after `delayMs`. */
  failure?: { status: object; delayMs: number };
}

/** Owns the WebSocket side of every exec: upgrades, the frame protocol, and teardown on stop(). */
export class ExecStreams {
  private readonly wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    clientTracking: true,
    handleProtocols: (protocols) => chooseProtocol([...protocols].join(',')) ?? false,
  });
  private readonly aborts = new Set<AbortController>();

  get activeCount(): number {
    return this.wss.clients.size;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: ExecSession): void {
    // A client killed mid-stream resets the TLS socket; ws handles the first error and then leaves a
    // later write's ECONNRESET to the socket itself, where it must not become an uncaught exception.
    socket.on('error', () => {});
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      void this.run(ws, session);
    });
  }

  private async run(ws: WebSocket, session: ExecSession): Promise<void> {
    const { params, protocol, container } = session;
    const abort = new AbortController();
    this.aborts.add(abort);
    let dropped = false;
    let bytesOut = 0;
    const drop = session.faults.execDrop(session.pod);
    const timers: NodeJS.Timeout[] = [];
    const cut = (): void => {
      if (dropped) return;
      dropped = true;
      abort.abort();
      // No close frame: the client sees the connection die (1006), as when a node or proxy fails.
      ws.terminate();
    };

    const sendFrame = (channel: number, data: Buffer, callback?: (err?: Error) => void): void => {
      if (dropped || ws.readyState !== ws.OPEN) {
        callback?.();
        return;
      }
      ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, callback);
    };
    const output = (channel: number, enabled: boolean): Writable =>
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (!enabled || dropped) return callback();
          bytesOut += chunk.length;
          if (drop?.afterBytes !== undefined && bytesOut >= drop.afterBytes) {
            const room = chunk.length - (bytesOut - drop.afterBytes);
            if (room > 0) sendFrame(channel, chunk.subarray(0, room));
            cut();
            return callback();
          }
          // A send that fails means the client is gone; its output has nowhere to go and is dropped.
          sendFrame(channel, chunk, () => callback());
        },
      });

    const stdin = params.stdin ? new PassThrough() : null;
    // A client that dies mid-stream (ECONNRESET) must not become an unhandled 'error' in the server.
    ws.on('error', () => abort.abort());
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length === 0) return;
      const channel = data[0];
      if (channel === STDIN && stdin && !stdin.writableEnded) stdin.write(data.subarray(1));
      else if (channel === CLOSE && protocol === V5 && data[1] === STDIN && stdin && !stdin.writableEnded) stdin.end();
      else if (channel === RESIZE) return;
    });
    const clientGone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    void clientGone.then(() => {
      abort.abort();
      if (stdin && !stdin.writableEnded) stdin.end();
    });

    // The connection is established: an empty frame on the lowest output channel the client asked for.
    sendFrame(params.stdout ? STDOUT : params.stderr ? STDERR : ERROR, Buffer.alloc(0));
    if (drop?.afterMs !== undefined) timers.push(setTimeout(cut, drop.afterMs));

    let status: object;
    const pod = session.currentPod();
    if (session.failure) {
      // The API server is still dialling the kubelet; nothing but the Status comes.
      if (session.failure.delayMs > 0)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, session.failure?.delayMs);
          abort.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      status = session.failure.status;
    } else if (!pod || !containerRunning(pod, container)) {
      status = streamStatusOf(
        internalError(`unable to upgrade connection: container not found ("${container}")`).status,
      );
    } else {
      let result: ExecResult;
      const stdout = output(STDOUT, params.stdout);
      const stderr = output(STDERR, params.stderr);
      try {
        result = await session.runtime.exec({
          pod,
          container,
          command: params.command,
          stdin,
          stdout,
          stderr,
          tty: params.tty,
          signal: abort.signal,
        });
      } catch (error) {
        result = { kind: 'runtime-error', message: error instanceof Error ? error.message : String(error) };
      }
      // Everything the command wrote must be on the wire before the Status that ends the stream.
      await Promise.all([drained(stdout), drained(stderr)]);
      status = streamStatus(protocol, params.command, result);
    }
    for (const t of timers) clearTimeout(t);
    if (!dropped && ws.readyState === ws.OPEN) {
      sendFrame(ERROR, Buffer.from(JSON.stringify(status)));
      ws.close(1000);
      // The client answers the close; if it does not, do not keep the socket forever.
      const linger = setTimeout(() => ws.terminate(), 5000);
      await clientGone;
      clearTimeout(linger);
    }
    this.aborts.delete(abort);
  }

  /** Aborts every running command and drops every exec connection. */
  close(): void {
    for (const abort of this.aborts) abort.abort();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
