import { ClusterError } from '../errors.js';
import { ApiTimeoutError } from './http-timeouts.js';

/** The exec itself failed (upgrade refused, stream dropped, timeout, container cannot run the command): a probe error, never "blocked". */
export class ExecError extends Error {
  override name = 'ExecError';
  constructor(
    message: string,
    /**
     * `transient`: a dropped stream, a refused upgrade, a timeout, the kubelet out of reach, a restarting
     * container: worth trying again, on the client's pod looked up afresh.
     * `gone`: the pod is not there any more (404, "pod does not exist"): find the client's pod again.
     * `command`: the container could not run the command, or exec is forbidden: trying again will not help.
     * `config`: the request names a container the pod does not have (400 before the upgrade).
     */
    readonly kind: 'transient' | 'gone' | 'command' | 'config',
    /** The API server's Status (channel 3 or the refused upgrade's body), when there was one. */
    readonly status?: { code?: number; reason?: string; message?: string },
    /** What the command wrote before the stream ended without a Status. */
    readonly output?: { stdout: string; stderr: string },
  ) {
    super(message);
  }
}

interface Status {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

/** The API server's Status from a client-node ApiException, whose body is the raw response text. */
export function statusOf(e: unknown): Status | undefined {
  const x = e as { code?: unknown; body?: unknown };
  if (typeof x?.code !== 'number') return undefined;
  let body: Status = {};
  if (typeof x.body === 'string') {
    try {
      body = JSON.parse(x.body) as Status;
    } catch {
      body = { message: x.body.slice(0, 200) };
    }
  } else if (x.body && typeof x.body === 'object') body = x.body as Status;
  return {
    code: x.code,
    reason: body.reason,
    message: body.message,
    ...(body.details ? { details: body.details } : {}),
  };
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** A low-level network error code (node-fetch wraps it), if that is what `e` is. */
export function networkCode(e: unknown): string | undefined {
  for (
    let cur = e as { code?: unknown; errno?: unknown; cause?: unknown } | undefined, depth = 0;
    cur && depth < 4;
    cur = cur.cause as typeof cur, depth++
  ) {
    for (const c of [cur.code, cur.errno])
      if (
        typeof c === 'string' &&
        (NETWORK_CODES.has(c) || c.startsWith('ERR_TLS') || c.includes('CERT') || c === 'DEPTH_ZERO_SELF_SIGNED_CERT')
      )
        return c;
  }
  return undefined;
}

/** The innermost error in `e`'s cause chain that carries `code` (node-fetch wraps Node's, and its message). */
function withCode(e: unknown, code: string): { message?: string; reason?: string } | undefined {
  let found: { message?: string; reason?: string } | undefined;
  for (
    let cur = e as { code?: unknown; errno?: unknown; cause?: unknown; message?: string; reason?: string } | undefined,
      depth = 0;
    cur && depth < 4;
    cur = cur.cause as typeof cur, depth++
  )
    if (cur.code === code || cur.errno === code) found = cur;
  return found;
}

/** Turns what client-node throws into one ClusterError that names the cause and the fix. */
export function clusterError(e: unknown, doing: string, where: { context: string; server: string }): ClusterError {
  if (e instanceof ClusterError) return e;
  if (e instanceof ApiTimeoutError) return timeoutError(e, doing, where);
  const status = statusOf(e);
  if (status?.code === 401) {
    return new ClusterError(
      `the API server at ${where.server} rejected meshprobe's credentials (401 Unauthorized) while trying to ${doing}`,
      `refresh the credentials of context "${where.context}" (kubectl get --raw /version should work)`,
      status,
    );
  }
  // NamespaceLifecycle admission refuses new content in a namespace being deleted with a 403 and the cause
  // NamespaceTerminating (kubernetes plugin/pkg/admission/namespace/lifecycle/admission.go): not RBAC.
  if (
    status?.code === 403 &&
    (status.details?.causes?.some((c) => c.reason === 'NamespaceTerminating') ||
      /because it is being terminated/.test(status.message ?? ''))
  ) {
    const ns = /in namespace (\S+) because/.exec(status.message ?? '')?.[1];
    return new ClusterError(
      `could not ${doing}: ${status.message ?? 'the namespace is being terminated'}`,
      `wait until namespace ${ns ?? '(the namespace)'} is gone (kubectl get namespace ${ns ?? 'NAME'}) and run again; if it stays Terminating, look for finalizers that hold it (kubectl get namespace ${ns ?? 'NAME'} -o yaml)`,
      { code: status.code, reason: status.reason, message: status.message },
    );
  }
  if (status?.code === 403) {
    return new ClusterError(
      `forbidden to ${doing}: ${status.message ?? 'Forbidden'}`,
      'grant the permissions in manifests/rbac/ to the identity of this context',
      status,
    );
  }
  if (status)
    return new ClusterError(
      `the API server refused to ${doing}: ${status.code} ${status.reason ?? ''} ${status.message ?? ''}`.trim(),
      undefined,
      status,
    );
  const net = networkCode(e);
  // The server's certificate does not name the host (or tls-server-name) connected to: Node's
  // checkServerIdentity (lib/tls.js) says which name and which names the certificate holds, as kubectl
  // says "x509: certificate is valid for ..., not ..." (Go crypto/x509 HostnameError).
  if (net === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const cause = withCode(e, net);
    // node-fetch (under client-node) keeps only Node's message, after "reason: ".
    const why = (cause?.reason ?? cause?.message ?? net)
      .replace(/^.*reason: /, '')
      .replace(/^Hostname\/IP does not match certificate's altnames: /, '');
    return new ClusterError(
      `cannot reach the Kubernetes API at ${where.server}: its certificate is not valid for the name meshprobe connected to (${why}) while trying to ${doing}`,
      `use a server address the certificate names in context "${where.context}", or set the cluster's tls-server-name to one of them (kubectl config view --minify shows both)`,
    );
  }
  if (net) {
    const tls = net.startsWith('ERR_TLS') || net.includes('CERT');
    const detail = tls ? `TLS verification failed: ${withCode(e, net)?.message ?? net}` : net;
    return new ClusterError(
      `cannot reach the Kubernetes API at ${where.server} (${detail}) while trying to ${doing}`,
      tls
        ? `check the certificate-authority of context "${where.context}"`
        : `check that the cluster is running and that "${where.context}" is the context you want (kubectl cluster-info)`,
    );
  }
  return new ClusterError(`failed to ${doing}: ${(e as Error)?.message ?? String(e)}`);
}

/**
 * A server that says nothing. Not retried: kubectl does not retry it either, and a retry would double
 * the wait before the user learns anything.
 */
function timeoutError(e: ApiTimeoutError, doing: string, where: { context: string; server: string }): ClusterError {
  const s = `${e.ms / 1000} s`;
  const what =
    e.phase === 'tcp'
      ? `did not accept the connection within ${s}`
      : e.phase === 'tls'
        ? `accepted the connection but did not complete the TLS handshake within ${s}`
        : `did not answer within ${s}`;
  const limit = e.limit === 'request' ? ' (--request-timeout)' : '';
  return new ClusterError(
    `the Kubernetes API at ${where.server} ${what}${limit} while trying to ${doing}`,
    `check that the cluster is up and that "${where.context}" points at it (kubectl cluster-info)${e.phase === 'request' ? '; a slow API server may need a longer --request-timeout' : ''}`,
  );
}

/** API answers worth retrying: overload, throttling, transient server errors, dropped connections. */
export function isTransient(e: unknown): boolean {
  const s = statusOf(e);
  if (s) return s.code === 429 || s.code === 500 || s.code === 502 || s.code === 503 || s.code === 504;
  const net = networkCode(e);
  return net === 'ECONNRESET' || net === 'EPIPE' || net === 'UND_ERR_SOCKET' || net === 'ETIMEDOUT';
}

/** Seconds from a Retry-After header, if the API server sent one. */
export function retryAfterSeconds(e: unknown): number | undefined {
  const h = (e as { headers?: Record<string, string> })?.headers;
  const v = h?.['retry-after'] ?? h?.['Retry-After'];
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : undefined;
}
