// How one field of a rule matches one request, as Istio 1.24 generates the Envoy RBAC matcher for it
// (pilot/pkg/security/authz/model/generator.go, matcher/*.go) and Envoy evaluates it
// (source/extensions/filters/common/rbac/matchers.cc). Each value is matched on its own; a field matches
// when one of its values does, a not- field when none does.
import type { RequestAttributes } from './request.js';
import type { Tri } from './tri.js';

export type Attribute =
  | 'principal'
  | 'namespace'
  | 'requestPrincipal'
  | 'jwt'
  | 'ip'
  | 'host'
  | 'method'
  | 'path'
  | 'port'
  | 'header'
  | 'sni'
  | 'metadata';

/** What a field can be matched against, and how it reads in an explanation. */
export interface Observed {
  /** The request's value: undefined when it has none (plaintext has no principal), or unknown. */
  value: string | undefined;
  /** True when meshprobe cannot know it: the field's match is unknown. */
  unknown?: boolean;
  /** Why there is no value, or why it is unknown: `plaintext has no principal`. */
  why?: string;
  /** How the value reads: `cluster.local/ns/test1/sa/sleep`, `GET`, `8080 (the container port)`. */
  shown?: string;
}

/**
 * Fields that only an HTTP request has (generator.go returns "is HTTP only" for them on a TCP filter
 * chain): hosts, methods, paths, requestPrincipals, and the request.headers and request.auth.* conditions.
 */
export function httpOnly(attribute: Attribute): boolean {
  return ['host', 'method', 'path', 'requestPrincipal', 'jwt', 'header'].includes(attribute);
}

/** Headers a probe's request may or may not carry by the time it reaches the server's RBAC filter. */
const VARIABLE_HEADERS =
  /^(user-agent|content-length|content-type|x-forwarded-.*|x-request-id|x-envoy-.*|x-b3-.*|b3|traceparent|tracestate|x-ot-span-context|x-cloud-trace-context|grpc-trace-bin|x-datadog-.*|x-istio-.*|forwarded|via|te|connection|transfer-encoding|x-client-trace-id)$/;

export function observe(attribute: Attribute, req: RequestAttributes, header?: string): Observed {
  switch (attribute) {
    case 'principal':
      return req.principal
        ? { value: req.principal }
        : { value: undefined, why: 'plaintext has no principal (only mutual TLS carries one)' };
    case 'namespace': {
      const ns = /\/ns\/([^/]+)\//.exec(req.principal ?? '')?.[1];
      return ns ? { value: ns } : { value: undefined, why: 'plaintext has no namespace (only mutual TLS carries one)' };
    }
    case 'requestPrincipal':
    case 'jwt':
      return {
        value: undefined,
        why: 'meshprobe sends no JWT, so the request has no request principal or claims',
      };
    case 'ip':
      return {
        value: undefined,
        unknown: true,
        why: "it depends on a pod's IP address, which meshprobe does not know",
      };
    case 'sni':
      return { value: undefined, unknown: true, why: 'it depends on the SNI the client sidecar sends' };
    case 'metadata':
      return { value: undefined, unknown: true, why: "it depends on Envoy's dynamic metadata" };
    case 'host':
      return { value: req.host };
    case 'method':
      return { value: req.method };
    case 'path':
      return { value: req.path };
    case 'port':
      return { value: String(req.port), shown: `${req.port} (the container port)` };
    case 'header': {
      const name = (header ?? '').toLowerCase();
      if (name === ':authority' || name === 'host') return { value: req.host };
      if (name === ':method') return { value: req.method };
      if (name === ':path') return { value: req.path };
      if (name === 'accept') return { value: '*/*' };
      if (VARIABLE_HEADERS.test(name))
        return {
          value: undefined,
          unknown: true,
          why: `whether the request carries ${name}, and its value, depends on curl and the sidecars`,
        };
      return { value: undefined, why: `the probe's request carries no ${name} header` };
    }
  }
}

/** Envoy StringMatcher as matcher.StringMatcherWithPrefix builds it: `*` presence, `x*` prefix, `*x` suffix. */
export function stringMatch(
  pattern: string,
  value: string,
  o: { prefix?: string; ignoreCase?: boolean } = {},
): boolean {
  const prefix = o.prefix ?? '';
  const fold = (s: string) => (o.ignoreCase ? s.toLowerCase() : s);
  const v = fold(value);
  if (pattern === '*') return value.length > 0;
  if (pattern.startsWith('*')) {
    // With a prefix, istiod writes a regex `prefix.*rest`, the rest unescaped.
    if (prefix) return safeRegex(`${prefix}.*${pattern.slice(1)}`, value);
    return v.endsWith(fold(pattern.slice(1)));
  }
  if (pattern.endsWith('*')) return v.startsWith(fold(prefix + pattern.slice(0, -1)));
  return v === fold(prefix + pattern);
}

/** Envoy's safe_regex matches the whole string. */
export function safeRegex(regex: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${regex})$`).test(value);
  } catch {
    return false;
  }
}

const LITERAL = "A-Za-z0-9\\-._~%!$&'()+,;:@=";

/**
 * A path template (`{*}`, `{**}`) as Envoy's uri_template matcher compiles it
 * (source/extensions/path/uri_template_lib/uri_template_internal.cc): `{*}` one or more literal
 * characters within a segment, `{**}` any run of them and slashes.
 */
export function templateMatch(template: string, path: string): boolean {
  const re = template
    .split(/(\{\*\*\}|\{\*\})/)
    .map((part) =>
      part === '{**}'
        ? `[${LITERAL}/]*`
        : part === '{*}'
          ? `[${LITERAL}]+`
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${re}$`).test(path);
}

/** One value of a field against the request: true, false, or unknown. */
export function matchValue(attribute: Attribute, pattern: string, seen: Observed): Tri {
  if (seen.unknown) return undefined;
  if (seen.value === undefined) return false;
  const v = seen.value;
  switch (attribute) {
    case 'principal':
      // `spiffe://` + value; `*` alone is regex `.+` on the URI SAN.
      return stringMatch(pattern, `spiffe://${v}`, { prefix: 'spiffe://' });
    case 'namespace':
      return safeRegex(`.*/ns/${pattern.replace(/\*/g, '.*')}/.*`, `spiffe://x/ns/${v}/sa/x`);
    case 'host':
      return stringMatch(pattern, v, { ignoreCase: true });
    case 'method':
    case 'header':
      return stringMatch(pattern, v);
    case 'path':
      return pattern.includes('{*}') || pattern.includes('{**}') ? templateMatch(pattern, v) : stringMatch(pattern, v);
    case 'port':
      return Number(pattern) === Number(v);
    default:
      return false;
  }
}
