// The upgrade request of pods/exec, up to the point where ExecStreams takes the WebSocket over:
// authentication, authorization (`create` on pods/exec), the checks the REST handler makes before any
// upgrade, the exec faults, and the audit entry.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ContainerRuntime } from '../contracts.js';
import type { AuditLog } from './audit.js';
import type { RequestAttributes, UserInfo } from './auth.js';
import {
  chooseProtocol,
  containerRunning,
  ExecStreams,
  parseExecQuery,
  rejectUpgrade,
  rejectUpgradePlain,
  resolveExecTarget,
  V4,
} from './exec.js';
import { execFailure } from './exec-status.js';
import type { Faults, RequestFaultTarget } from './faults.js';
import type { ObjectService } from './objects.js';
import { parseRequestInfo, resourceAttributes, type RequestInfo, type ResourcePath } from './request-info.js';
import { ApiError, badRequest, pathNotFound } from './status.js';

export interface ExecUpgradeDeps {
  /** Whether an api-stall fault holds this request (it is then never answered). */
  stall(target: RequestFaultTarget, req: IncomingMessage, socket: Duplex): boolean;
  authenticate(req: IncomingMessage, method: string, path: string): UserInfo;
  authorize(user: UserInfo, attributes: RequestAttributes): void;
  resolve(info: RequestInfo): ResourcePath;
  objects: ObjectService;
  faults: Faults;
  runtime: () => ContainerRuntime;
  audit: AuditLog;
}

/** An exec upgrade refused by a fault, kept so kubectl's SPDY retry of the same exec gets the same answer. */
interface RecentRejection {
  error: ApiError;
  at: number;
}

export class ExecUpgrades {
  private readonly execs = new ExecStreams();
  private readonly recentRejections = new Map<string, RecentRejection>();
  private readonly pending = new Set<{ timer: NodeJS.Timeout; socket: Duplex }>();

  constructor(private readonly o: ExecUpgradeDeps) {}

  close(): void {
    for (const p of this.pending) {
      clearTimeout(p.timer);
      p.socket.destroy();
    }
    this.pending.clear();
    this.execs.close();
  }

  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const websocket = (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    let audit: { attributes: RequestAttributes; user: UserInfo; code: number } | undefined;
    try {
      const info = parseRequestInfo(url.pathname);
      const target: RequestFaultTarget = {
        verb: 'create',
        apiGroup: info?.group ?? '',
        resource: info?.resource ?? '',
        subresource: info?.subresource ?? '',
        namespace: info?.namespace ?? '',
        name: info?.name ?? '',
      };
      if (this.o.stall(target, req, socket)) return;
      const user = this.o.authenticate(req, method, url.pathname);
      if (
        !info ||
        info.group !== '' ||
        info.resource !== 'pods' ||
        info.subresource !== 'exec' ||
        !info.namespace ||
        !info.name
      ) {
        throw badRequest(
          `upgrade is only served for pods/exec; the emulator does not serve ${url.pathname} over ${req.headers.upgrade ?? '?'}`,
        );
      }
      // Since 1.31 a WebSocket exec (a GET) needs `create` on pods/exec too, like the SPDY POST.
      const attributes: RequestAttributes = { ...resourceAttributes('POST', url, info), verb: 'create' };
      audit = { attributes, user, code: 0 };
      const injected = this.o.faults.apiError({
        verb: 'create',
        apiGroup: '',
        resource: 'pods',
        subresource: 'exec',
        namespace: info.namespace,
        name: info.name,
      });
      if (injected) throw injected;
      this.o.authorize(user, attributes);
      const p = this.o.resolve(info);
      if (!p.namespace || !p.name) throw pathNotFound();
      const params = parseExecQuery(url.searchParams);
      const pod = this.o.objects.find(p.type, p.namespace, p.name);
      // pkg/registry/core/pod/strategy.go streamLocation: a 400 before any upgrade for a container the
      // pod lacks ("container X is not valid for pod Y"), as for a pod without a node.
      const container = resolveExecTarget(pod, p.name, params.container);
      if (!pod) throw new Error('unreachable: resolveExecTarget checks the pod');
      const rejectionKey = `${p.namespace}/${p.name}/${container}/${params.command.join('\u0000')}`;
      if (!websocket) {
        // kubectl retries over SPDY after a refused WebSocket upgrade; answer it as the first attempt was answered.
        const recent = this.recentRejections.get(rejectionKey);
        if (recent && Date.now() - recent.at < 10_000) {
          this.recentRejections.delete(rejectionKey);
          throw recent.error;
        }
        throw badRequest(
          'the emulated API server serves exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); SPDY is not emulated',
        );
      }
      const protocol = chooseProtocol(req.headers['sec-websocket-protocol']);
      if (!protocol)
        throw badRequest(
          'unable to upgrade: unsupported subprotocol, the emulator serves v5.channel.k8s.io and v4.channel.k8s.io',
        );
      if (params.command.length === 0) throw badRequest('you must specify at least one command for the container');
      if (!params.stdout && !params.stderr && !params.stdin)
        throw badRequest('you must specify at least one of stdin, stdout, stderr');
      const rejected = this.o.faults.execReject(pod);
      if (rejected) {
        this.recentRejections.set(rejectionKey, { error: rejected, at: Date.now() });
        throw rejected;
      }
      const statusFault = this.o.faults.execStatus(pod);
      const failure = statusFault ? execFailure(statusFault, { protocol, pod, container, params }) : undefined;
      if (failure?.when === 'before-upgrade') {
        const code = 'error' in failure ? failure.error.code : failure.code;
        audit.code = code;
        if ('error' in failure) this.recentRejections.set(rejectionKey, { error: failure.error, at: Date.now() });
        this.later(socket, failure.delayMs, () =>
          'error' in failure
            ? rejectUpgrade(socket, failure.error)
            : rejectUpgradePlain(socket, failure.code, failure.text),
        );
        return;
      }
      if (!failure && protocol === V4 && !containerRunning(pod, container)) {
        // The v4 path is proxied to the kubelet, whose refusal comes back as its plain-text 500.
        audit.code = 500;
        return rejectUpgradePlain(socket, 500, `container not found ("${container}")`);
      }
      audit.code = 101;
      this.execs.upgrade(req, socket, head, {
        pod,
        container,
        params,
        protocol,
        runtime: this.o.runtime(),
        faults: this.o.faults,
        currentPod: () => this.o.objects.find(p.type, p.namespace, p.name ?? ''),
        ...(failure ? { failure: { status: failure.status, delayMs: failure.delayMs } } : {}),
      });
    } catch (error) {
      const apiError = error instanceof ApiError ? error : undefined;
      if (!apiError) console.error('emulator: unexpected error during an upgrade:', error);
      const e = apiError ?? badRequest(String(error));
      if (audit) audit.code = e.code;
      rejectUpgrade(socket, e);
    } finally {
      if (audit) {
        const entry: Parameters<AuditLog['record']>[0] = {
          time: new Date().toISOString(),
          verb: 'create',
          user: audit.user.name,
          apiGroup: '',
          apiVersion: 'v1',
          resource: 'pods',
          subresource: 'exec',
          namespace: audit.attributes.namespace,
          name: audit.attributes.name,
          code: audit.code,
          requestURI: req.url ?? '',
        };
        if (req.headers['user-agent']) entry.userAgent = req.headers['user-agent'];
        this.o.audit.record(entry);
      }
    }
  }

  /** Answers after `delayMs` (at once for 0); a client that gives up first just closes its socket. */
  private later(socket: Duplex, delayMs: number, answer: () => void): void {
    if (delayMs <= 0) return answer();
    const entry = {
      socket,
      timer: setTimeout(() => {
        this.pending.delete(entry);
        if (!socket.destroyed) answer();
      }, delayMs),
    };
    this.pending.add(entry);
    socket.once('close', () => {
      clearTimeout(entry.timer);
      this.pending.delete(entry);
    });
  }
}
