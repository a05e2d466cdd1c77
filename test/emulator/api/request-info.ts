// Request paths taken apart the way the API server's RequestInfoFactory does it
// (apiserver/pkg/endpoints/request/requestinfo.go), and the authorization attributes built from them.
import type { RequestAttributes } from './auth.js';
import type { ResourceType } from './resources.js';
import { pathNotFound } from './status.js';

/**
 * A REST path taken apart as the API server's RequestInfoFactory does it, before anything is looked up
 * (authorization runs on this, so a forbidden user gets 403 even for a resource that is not served).
 */
export interface RequestInfo {
  group: string;
  version: string;
  resource: string;
  /** For /api/v1/namespaces/NAME the namespace is NAME too, as in the API server. */
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  /** The deprecated /watch/ path prefix. */
  watchPrefix: boolean;
}

/** A request path resolved to a served type. */
export interface ResourcePath extends RequestInfo {
  type: ResourceType;
}

export function parseRequestInfo(pathname: string): RequestInfo | undefined {
  const segments = pathname
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    version = segments[1] ?? '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    version = segments[2] ?? '';
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    namespace = rest[1];
    if (rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  // requestinfo.go: what follows a subresource is not interpreted (the proxy subresource's path).
  if (!resource || (extra.length > 0 && subresource !== 'proxy')) throw pathNotFound();
  return { group, version, resource, namespace, name, subresource, watchPrefix };
}

/** The authorization attributes of a resource request (the verb from the method, as the RequestInfoFactory does). */
export function resourceAttributes(method: string, url: URL, p: RequestInfo): RequestAttributes {
  const watching = p.watchPrefix || ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  let verb: string;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = p.name === undefined ? (watching ? 'watch' : 'list') : watching ? 'watch' : 'get';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = p.name === undefined ? 'deletecollection' : 'delete';
      break;
    default:
      verb = method.toLowerCase();
  }
  return {
    verb,
    resourceRequest: true,
    apiGroup: p.group,
    apiVersion: p.version,
    resource: p.resource,
    subresource: p.subresource ?? '',
    namespace: p.namespace ?? '',
    name: p.name ?? '',
    path: url.pathname,
  };
}
