// The HTTPS front of the emulated API server: authentication, fault injection, authorization, routing
// of discovery / OpenAPI / REST / watch / exec, content negotiation (JSON, YAML, Table) and audit.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ContainerRuntime, KubeObject } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import { WRITE_VERBS, type AuditLog } from './audit.js';
import {
  Authenticator,
  forbiddenFor,
  isAllowed,
  selfSubjectAccessReview,
  selfSubjectReview,
  type RequestAttributes,
  type UserInfo,
} from './auth.js';
import {
  aggregatedDiscovery,
  AGGREGATED_V2,
  AGGREGATED_V2BETA1,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from './discovery.js';
import { resolveExecTarget } from './exec.js';
import { ExecUpgrades } from './exec-upgrade.js';
import type { Faults, RequestFaultTarget } from './faults.js';
import { Listener } from './listener.js';
import { serveLogs } from './logs.js';
import { mediaType, readBody, sendError, sendJson, sendObject } from './negotiation.js';
import { ObjectService, PATCH_CONTENT_TYPES, type DeleteOptions } from './objects.js';
import { OpenApiV3 } from './openapi.js';
import { openApiV2 } from './openapi-v2.js';
import { proxyToService, resolveServiceLocation } from './service-proxy.js';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';
import { parseRequestInfo, resourceAttributes, type RequestInfo, type ResourcePath } from './request-info.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { badRequest, invalid, methodNotSupported, pathNotFound, unauthorized, unsupportedMediaType } from './status.js';
import { jsonMergePatch, jsonPatch } from './patch.js';
import { toTable, wantsTable, type IncludeObject } from './tables.js';
import { WatchHub } from './watch.js';

export interface ApiServerOptions {
  store: MemoryStore;
  registry: ResourceRegistry;
  objects: ObjectService;
  authenticator: Authenticator;
  audit: AuditLog;
  faults: Faults;
  runtime: () => ContainerRuntime;
  tls: { certPem: string; keyPem: string };
  /** e.g. '1.32.4'; /version serves its major and minor. */
  kubeVersion: string;
  bookmarkIntervalMs: number;
}

/** EMULATOR_DEBUG=1 logs every request and its status to stderr. */
const DEBUG = Boolean(process.env.EMULATOR_DEBUG);

const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'], admin: false, rules: [] };

export class ApiServer {
  private readonly server: Server;
  private readonly listener: Listener;
  private readonly sockets = new Set<Socket>();
  private readonly watches: WatchHub;
  private readonly execs: ExecUpgrades;
  private readonly openapi: OpenApiV3;
  private address: AddressInfo | undefined;

  constructor(private readonly o: ApiServerOptions) {
    this.watches = new WatchHub(o.store, o.bookmarkIntervalMs);
    this.openapi = new OpenApiV3(o.registry, `v${o.kubeVersion}`);
    this.server = createServer({ cert: o.tls.certPem, key: o.tls.keyPem }, (req, res) => {
      void this.handle(req, res);
    });
    this.listener = new Listener(this.server, o.faults);
    this.execs = new ExecUpgrades({
      stall: (target, req, socket) => this.listener.stallRequest(target, req, socket),
      authenticate: (req, method, path) => this.authenticate(req, method, path),
      authorize: (user, attributes) => this.authorize(user, attributes),
      resolve: (info) => this.resolve(info),
      objects: o.objects,
      faults: o.faults,
      runtime: o.runtime,
      audit: o.audit,
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.execs.handle(req, socket, head);
    });
    this.server.on('secureConnection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(port: number): Promise<AddressInfo> {
    this.address = await this.listener.listen(port);
    return this.address;
  }

  get url(): string {
    return `https://127.0.0.1:${this.address?.port ?? 0}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.watches.closeAll();
    this.execs.close();
    for (const socket of this.sockets) socket.destroy();
    await this.listener.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Plain requests

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    let audit: { attributes: RequestAttributes; user: UserInfo; name: string | undefined; dryRun: boolean } | undefined;
    try {
      if (this.listener.stallRequest(stallTarget(method, url), req, res)) return;
      const user = this.authenticate(req, method, url.pathname);
      const info = parseRequestInfo(url.pathname);
      if (!info) {
        this.authorize(user, this.nonResourceAttributes(method, url.pathname));
        return this.serveNonResource(req, res, url);
      }
      const attributes = resourceAttributes(method, url, info);
      const injected = this.o.faults.apiError({
        verb: attributes.verb,
        apiGroup: attributes.apiGroup,
        resource: attributes.resource,
        subresource: attributes.subresource,
        namespace: attributes.namespace,
        name: attributes.name,
      });
      if (WRITE_VERBS.has(attributes.verb))
        audit = {
          attributes,
          user,
          name: attributes.name || undefined,
          dryRun: url.searchParams.get('dryRun') === 'All',
        };
      if (injected) throw injected;
      this.authorize(user, attributes);
      const named = await this.serveResource(req, res, url, this.resolve(info), attributes.verb, user);
      if (audit && named) audit.name = named;
    } catch (error) {
      sendError(res, error, req.headers.accept);
    } finally {
      if (audit) this.recordAudit(req, res, audit);
      if (DEBUG)
        process.stderr.write(
          `emulator: ${method} ${req.url ?? ''} -> ${res.statusCode} (${req.headers['user-agent'] ?? ''}; content-type ${req.headers['content-type'] ?? '-'}; accept ${req.headers.accept ?? '-'})\n`,
        );
    }
  }

  private authenticate(req: IncomingMessage, method: string, path: string): UserInfo {
    const result = this.o.authenticator.authenticate(req.headers.authorization);
    if (result === undefined) throw unauthorized();
    if (result === 'anonymous') {
      if (Authenticator.anonymousAllowed(method, path)) return ANONYMOUS;
      throw unauthorized();
    }
    return result;
  }

  private authorize(user: UserInfo, attributes: RequestAttributes): void {
    if (user === ANONYMOUS && !attributes.resourceRequest) return;
    if (!isAllowed(user, attributes)) throw forbiddenFor(user, attributes);
  }

  private nonResourceAttributes(method: string, path: string): RequestAttributes {
    const verb =
      { GET: 'get', HEAD: 'head', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' }[method] ??
      method.toLowerCase();
    return {
      verb,
      resourceRequest: false,
      apiGroup: '',
      apiVersion: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
      path,
    };
  }

  private recordAudit(
    req: IncomingMessage,
    res: ServerResponse,
    a: { attributes: RequestAttributes; user: UserInfo; name: string | undefined; dryRun: boolean },
  ): void {
    const entry: Parameters<AuditLog['record']>[0] = {
      time: new Date().toISOString(),
      verb: a.attributes.verb as 'create',
      user: a.user.name,
      apiGroup: a.attributes.apiGroup,
      apiVersion: a.attributes.apiVersion,
      resource: a.attributes.resource,
      code: res.statusCode,
      requestURI: req.url ?? '',
    };
    if (a.attributes.subresource) entry.subresource = a.attributes.subresource;
    if (a.attributes.namespace) entry.namespace = a.attributes.namespace;
    if (a.name) entry.name = a.name;
    if (a.dryRun) entry.dryRun = true;
    if (req.headers['user-agent']) entry.userAgent = req.headers['user-agent'];
    this.o.audit.record(entry);
  }

  /** Finds the served type for a request, or answers 404 as the API server does for an unknown path. */
  private resolve(info: RequestInfo): ResourcePath {
    const type = this.o.registry.lookup(info.group, info.version, info.resource);
    if (!type) throw pathNotFound();
    const namespaced = info.resource === 'namespaces' ? undefined : info.namespace;
    if (namespaced !== undefined && !type.namespaced) throw pathNotFound();
    if (namespaced === undefined && type.namespaced && info.name !== undefined) throw pathNotFound();
    if (info.subresource !== undefined && !type.subresources.some((s) => s.name === info.subresource))
      throw pathNotFound();
    return { ...info, namespace: namespaced, type };
  }

  private serveNonResource(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const accept = req.headers.accept;
    if (path === '/version') return sendJson(res, 200, this.versionInfo());
    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('ok');
      return;
    }
    if (path === '/api' || path === '/apis') {
      const aggregated = wantsAggregated(accept);
      if (aggregated) {
        const body = aggregatedDiscovery(this.o.registry, path === '/api', aggregated);
        return sendJson(res, 200, body, aggregated === 'v2' ? AGGREGATED_V2 : AGGREGATED_V2BETA1);
      }
      return sendJson(
        res,
        200,
        path === '/api' ? apiVersions(this.url.replace('https://', '')) : apiGroupList(this.o.registry),
      );
    }
    const segments = path.split('/').filter((s) => s.length > 0);
    if (segments[0] === 'api' && segments.length === 2) {
      const list = apiResourceList(this.o.registry, '', segments[1] ?? '');
      if (list) return sendJson(res, 200, list);
    }
    if (segments[0] === 'apis' && segments.length === 2) {
      const group = apiGroup(this.o.registry, segments[1] ?? '');
      if (group) return sendJson(res, 200, group);
    }
    if (segments[0] === 'apis' && segments.length === 3) {
      const list = apiResourceList(this.o.registry, segments[1] ?? '', segments[2] ?? '');
      if (list) return sendJson(res, 200, list);
    }
    if (path === '/openapi/v2') {
      const { contentType, body } = openApiV2(`v${this.o.kubeVersion}`, accept);
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length });
      res.end(body);
      return;
    }
    if (path === '/openapi/v3') return sendJson(res, 200, this.openapi.index());
    if (path.startsWith('/openapi/v3/')) {
      const doc = this.openapi.document(path.slice('/openapi/v3/'.length));
      if (doc) {
        const hashed = url.searchParams.has('hash');
        res.writeHead(200, {
          'Content-Type': 'application/json',
          ...(hashed ? { 'Cache-Control': 'public, immutable' } : {}),
        });
        res.end(doc);
        return;
      }
    }
    throw pathNotFound();
  }

  private versionInfo(): object {
    const [major, minor] = this.o.kubeVersion.split('.');
    return {
      major,
      minor,
      gitVersion: `v${this.o.kubeVersion}`,
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.23.6',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }

  /** Serves a REST request; returns the name of the object written (for the audit log). */
  private async serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    p: ResourcePath,
    verb: string,
    user: UserInfo,
  ): Promise<string | undefined> {
    const { type, namespace, name, subresource, version } = p;
    const q = url.searchParams;
    const accept = req.headers.accept;
    const present = (obj: KubeObject): KubeObject => this.present(type, version, obj);
    const manager = q.get('fieldManager') ?? (req.headers['user-agent'] ?? '').split('/')[0] ?? '';
    const dryRun = q.get('dryRun') === 'All';
    if (q.has('dryRun') && !dryRun) throw badRequest(`Unsupported dryRun value: ${q.get('dryRun') ?? ''}`);

    if (type.virtual) {
      if (verb !== 'create') throw methodNotSupported();
      const body = await readBody(req, 'create', type.kind);
      const review = (body ?? {}) as { spec?: object };
      const result =
        type.resource === 'selfsubjectaccessreviews' ? selfSubjectAccessReview(user, review) : selfSubjectReview(user);
      sendObject(res, 201, result, accept);
      return undefined;
    }

    if (subresource === 'proxy' && type.group === '' && type.resource === 'services') {
      const m = /^(.*?\/services\/[^/]+\/proxy)(\/.*)?$/.exec(url.pathname);
      await proxyToService(req, res, this.o.runtime(), {
        location: resolveServiceLocation(this.o.store, namespace ?? '', name ?? ''),
        prefix: m?.[1] ?? url.pathname,
        path: m?.[2] ?? '',
        search: url.search,
      });
      return undefined;
    }
    if (subresource === 'exec') {
      // A plain (non-upgrade) request to exec: the API server insists on an upgrade.
      throw badRequest('Upgrade request required');
    }
    if (subresource === 'scale') {
      return this.serveScale(req, res, p, verb, manager, dryRun);
    }
    if (subresource === 'log') {
      if (verb !== 'get') throw methodNotSupported();
      const pod = this.o.objects.get(type, namespace, name ?? '');
      const container = resolveExecTarget(pod, name ?? '', q.get('container') ?? undefined);
      await serveLogs(res, q, pod, container, this.o.runtime());
      return undefined;
    }

    switch (verb) {
      case 'get': {
        const obj = this.o.objects.get(type, namespace, name ?? '');
        if (wantsTable(accept))
          sendJson(res, 200, toTable(type, [present(obj)], obj.metadata.resourceVersion ?? '', includeObject(q)));
        else sendObject(res, 200, present(obj), accept);
        return undefined;
      }
      case 'list':
        this.serveList(res, q, p, accept);
        return undefined;
      case 'watch': {
        const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
        const fields = parseFieldSelector(
          name ? `metadata.name=${name}` : (q.get('fieldSelector') ?? undefined),
          type.group,
          type.resource,
          type.custom,
        );
        const table = wantsTable(accept);
        this.watches.serve(
          {
            type,
            namespace,
            matches: (obj) => labels(obj.metadata.labels) && fields(obj),
            resourceVersion: q.get('resourceVersion') ?? undefined,
            timeoutSeconds: q.has('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined,
            allowBookmarks: q.get('allowWatchBookmarks') === 'true',
            sendInitialEvents: q.get('sendInitialEvents') === 'true',
            present: (obj) =>
              table
                ? toTable(type, [present(obj)], obj.metadata.resourceVersion ?? '', includeObject(q))
                : present(obj),
            bookmarkKind: table ? 'Table' : type.kind,
            bookmarkApiVersion: table ? 'meta.k8s.io/v1' : apiVersionOf(type.group, version),
          },
          res,
        );
        return undefined;
      }
      case 'create': {
        if (name !== undefined) throw methodNotSupported();
        const body = await readBody(req, 'create', type.kind);
        const created = this.o.objects.create(type, namespace, body, { manager, dryRun, version });
        sendObject(res, 201, present(created), accept);
        return created.metadata.name;
      }
      case 'update': {
        const body = await readBody(req, 'update', type.kind);
        const updated = this.o.objects.update(type, namespace, name ?? '', body, {
          manager,
          dryRun,
          version,
          subresource,
        });
        sendObject(res, 200, present(updated), accept);
        return name;
      }
      case 'patch': {
        const contentType = mediaType(req.headers['content-type']);
        const patchType = PATCH_CONTENT_TYPES[contentType];
        if (!patchType) throw unsupportedMediaType(contentType);
        const body = await readBody(req, 'patch');
        const force = q.has('force') ? q.get('force') === 'true' : undefined;
        const options = {
          manager: q.get('fieldManager') ?? (patchType === 'apply' ? '' : manager),
          dryRun,
          version,
          subresource,
        };
        const { object, created } = this.o.objects.patch(
          type,
          namespace,
          name ?? '',
          patchType,
          body,
          force === undefined ? options : { ...options, force },
        );
        sendObject(res, created ? 201 : 200, present(object), accept);
        return name;
      }
      case 'delete': {
        const options = await this.deleteOptions(req, q);
        const { body } = this.o.objects.delete(type, namespace, name ?? '', { ...options, dryRun });
        sendObject(res, 200, body.kind === 'Status' ? body : present(body as KubeObject), accept);
        return name;
      }
      case 'deletecollection': {
        const options = await this.deleteOptions(req, q);
        const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
        const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type.group, type.resource, type.custom);
        const deleted: KubeObject[] = [];
        for (const obj of this.o.store.list(type.group, type.resource, namespace)) {
          if (!labels(obj.metadata.labels) || !fields(obj)) continue;
          deleted.push(this.o.objects.delete(type, namespace, obj.metadata.name, { ...options, dryRun }).object);
        }
        sendJson(res, 200, this.listBody(type, version, deleted.map(present), String(this.o.store.resourceVersion)));
        return undefined;
      }
      default:
        throw methodNotSupported();
    }
  }

  /** The scale subresource (autoscaling/v1 Scale) of Deployments and ReplicaSets, for `kubectl scale`. */
  private async serveScale(
    req: IncomingMessage,
    res: ServerResponse,
    p: ResourcePath,
    verb: string,
    manager: string,
    dryRun: boolean,
  ): Promise<string | undefined> {
    const name = p.name ?? '';
    const toScale = (obj: KubeObject): object => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
        creationTimestamp: obj.metadata.creationTimestamp,
      },
      spec: { replicas: Number((obj.spec as { replicas?: number } | undefined)?.replicas ?? 0) },
      status: {
        replicas: Number((obj.status as { replicas?: number } | undefined)?.replicas ?? 0),
        selector: Object.entries(
          (obj.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels ??
            {},
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
    });
    const live = this.o.objects.get(p.type, p.namespace, name);
    if (verb === 'get') {
      sendJson(res, 200, toScale(live));
      return undefined;
    }
    if (verb !== 'patch' && verb !== 'update') throw methodNotSupported();
    const body = await readBody(req, verb);
    let wanted: unknown;
    if (verb === 'update') wanted = body;
    else {
      const patchType = PATCH_CONTENT_TYPES[mediaType(req.headers['content-type'])];
      if (!patchType || patchType === 'apply') throw unsupportedMediaType(mediaType(req.headers['content-type']));
      wanted = patchType === 'json' ? jsonPatch(toScale(live), body) : jsonMergePatch(toScale(live), body);
    }
    const replicas = (wanted as { spec?: { replicas?: unknown } } | undefined)?.spec?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid('autoscaling', 'Scale', name, [
        {
          type: 'FieldValueInvalid',
          field: 'spec.replicas',
          value: String(replicas),
          detail: 'must be greater than or equal to 0',
        },
      ]);
    }
    const next = structuredClone(live) as KubeObject & { spec: { replicas?: number } };
    next.spec.replicas = replicas;
    const updated = this.o.objects.update(p.type, p.namespace, name, next, { manager, dryRun, version: p.version });
    sendJson(res, 200, toScale(updated));
    return name;
  }

  private serveList(res: ServerResponse, q: URLSearchParams, p: ResourcePath, accept: string | undefined): void {
    const { type, namespace, version } = p;
    const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
    const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type.group, type.resource, type.custom);
    const rv = String(this.o.store.resourceVersion);
    let items = this.o.store
      .list(type.group, type.resource, namespace)
      .filter((o) => labels(o.metadata.labels) && fields(o));
    const meta: Record<string, unknown> = {};
    const continueToken = q.get('continue');
    if (continueToken) {
      const after = decodeContinue(continueToken);
      items = items.filter((o) => objectKey(o) > after);
    }
    const limit = Number(q.get('limit') ?? 0);
    if (limit > 0 && items.length > limit) {
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1];
      if (last)
        meta.continue = Buffer.from(
          JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: objectKey(last) }),
        ).toString('base64');
      meta.remainingItemCount = remaining;
    }
    const presented = items.map((o) => this.present(type, version, o));
    if (wantsTable(accept)) return sendJson(res, 200, toTable(type, presented, rv, includeObject(q), meta));
    sendObject(res, 200, this.listBody(type, version, presented, rv, meta), accept);
  }

  private listBody(
    type: ResourceType,
    version: string,
    items: KubeObject[],
    resourceVersion: string,
    meta: Record<string, unknown> = {},
  ): KubeObject {
    return {
      kind: type.listKind,
      apiVersion: apiVersionOf(type.group, version),
      metadata: { resourceVersion, ...meta } as never,
      // Built-in lists carry their items without kind/apiVersion, as the API server encodes them.
      items: type.custom ? items : items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
    };
  }

  /** A stored object as the client's requested version sees it. */
  private present(type: ResourceType, version: string, obj: KubeObject): KubeObject {
    const apiVersion = apiVersionOf(type.group, version);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  private async deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = ((await readBody(req, 'delete')) ?? {}) as DeleteOptions & { orphanDependents?: boolean };
    const options: DeleteOptions = {};
    const grace = q.get('gracePeriodSeconds') ?? body.gracePeriodSeconds;
    if (grace !== undefined && grace !== null) options.gracePeriodSeconds = Number(grace);
    const policy =
      q.get('propagationPolicy') ?? body.propagationPolicy ?? (body.orphanDependents === true ? 'Orphan' : undefined);
    if (policy !== undefined) {
      if (policy !== 'Background' && policy !== 'Foreground' && policy !== 'Orphan') {
        throw badRequest(
          `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
        );
      }
      options.propagationPolicy = policy;
    }
    if (body.preconditions) options.preconditions = body.preconditions;
    return options;
  }
}

function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function objectKey(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start?: string };
    if (typeof parsed.start === 'string') return parsed.start;
  } catch {
    // fall through to the API server's answer for a token it cannot read
  }
  throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
}

/** What an api-stall fault matches a request on, before anything about it is checked. */
function stallTarget(method: string, url: URL): RequestFaultTarget {
  let info;
  try {
    info = parseRequestInfo(url.pathname);
  } catch {
    info = undefined;
  }
  const a = info ? resourceAttributes(method, url, info) : undefined;
  return {
    verb: a?.verb ?? method.toLowerCase(),
    apiGroup: a?.apiGroup ?? '',
    resource: a?.resource ?? '',
    subresource: a?.subresource ?? '',
    namespace: a?.namespace ?? '',
    name: a?.name ?? '',
  };
}
