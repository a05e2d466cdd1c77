// What an exec-status fault makes the API server answer: a kubelet-side failure reported the way a
// 1.30+ API server and its kubelet report it, which depends on the exec protocol.
//
// v5.channel.k8s.io goes through the API server's stream translator
// (kubernetes/kubernetes v1.32, staging/src/k8s.io/apiserver/pkg/util/proxy/streamtranslator.go): it accepts
// the WebSocket (101) and sends the empty "connected" frame BEFORE it dials the kubelet over SPDY, so every
// kubelet-side failure arrives afterwards as a Status on channel 3, then the close frame (1000). A StatusError
// is sent as it is (`websocketStreams.writeStatus(statusErr)`); anything else is wrapped in
// `apierrors.NewInternalError(err)`. client-go's SPDY client builds those errors:
// `spdy.Negotiate` (client-go/transport/spdy/spdy.go) says "error sending request: %v" when the kubelet
// cannot be dialled, and `SpdyRoundTripper.NewConnection`
// (apimachinery/pkg/util/httpstream/spdy/roundtripper.go) says "unable to upgrade connection: %s" with the
// kubelet's plain-text refusal.
//
// v4.channel.k8s.io is proxied to the kubelet as it is (pkg/registry/core/pod/rest/subresources.go wraps only
// v5 in the translator; apimachinery/pkg/util/proxy/upgradeaware.go proxies the rest), so the same failures
// come BEFORE the upgrade: the API server's own 500 "error dialing backend: ..." (a plain error, hence a
// Status without a reason, apiserver/pkg/endpoints/handlers/responsewriters/status.go), or the kubelet's
// refusal forwarded byte for byte (pkg/kubelet/server/server.go getExec: 404 "pod does not exist";
// pkg/kubelet/kubelet_pods.go GetExec: `container not found (%q)`, written by
// pkg/kubelet/cri/streaming/errors.go WriteError as a plain-text 500).
// A Status given explicitly (code, reason, message) is sent after the upgrade in both protocols, as the
// kubelet's streaming server frames one in v4 (pkg/kubelet/cri/streaming/remotecommand/websocket.go,
// v4WriteStatusFunc: the Status as JSON on channel 3).
import type { KubeObject } from '../contracts.js';
import type { ExecParams } from './exec.js';
import { ApiError, type Status } from './status.js';

export const EXEC_STATUS_PRESETS = [
  'backend-refused',
  'backend-timeout',
  'container-not-found',
  'pod-not-found',
] as const;
export type ExecStatusPreset = (typeof EXEC_STATUS_PRESETS)[number];

export interface ExecStatusFault {
  preset?: ExecStatusPreset;
  code?: number;
  reason?: string;
  message?: string;
  /** How long after the upgrade the Status comes (the API server dialling the kubelet). */
  delayMs?: number;
}

/** How long the API server's kubelet transport waits for a TCP connection (utilnet.SetTransportDefaults). */
const KUBELET_DIAL_TIMEOUT_MS = 30_000;
const KUBELET_PORT = 10250;

/** `delayMs`: how long the API server takes to fail (the dial, for a kubelet that does not answer). */
export type ExecFailure = { delayMs: number } & (
  | { when: 'after-upgrade'; status: object }
  | { when: 'before-upgrade'; error: ApiError }
  | { when: 'before-upgrade'; code: number; text: string }
);

export interface ExecFailureContext {
  protocol: 'v5.channel.k8s.io' | 'v4.channel.k8s.io';
  pod: KubeObject;
  container: string;
  params: ExecParams;
}

export function execFailure(fault: ExecStatusFault, ctx: ExecFailureContext): ExecFailure {
  const v5 = ctx.protocol === 'v5.channel.k8s.io';
  const delayMs = fault.delayMs ?? (fault.preset === 'backend-timeout' ? KUBELET_DIAL_TIMEOUT_MS : 0);
  if (!fault.preset) {
    const status: Record<string, unknown> = { metadata: {}, status: 'Failure' };
    if (fault.message !== undefined) status.message = fault.message;
    if (fault.reason !== undefined) status.reason = fault.reason;
    status.code = fault.code ?? 500;
    return { when: 'after-upgrade', status, delayMs };
  }
  const host = String((ctx.pod.status as { hostIP?: string } | undefined)?.hostIP ?? '172.18.0.2');
  const dial = `dial tcp ${host}:${KUBELET_PORT}: ${fault.preset === 'backend-timeout' ? 'i/o timeout' : 'connect: connection refused'}`;
  switch (fault.preset) {
    case 'backend-refused':
    case 'backend-timeout':
      if (!v5) return { when: 'before-upgrade', error: reasonless(`error dialing backend: ${dial}`), delayMs };
      // Go's *url.Error: `Post "URL": err`.
      return after(`error sending request: Post "${kubeletExecUrl(host, ctx)}": ${dial}`, delayMs);
    case 'container-not-found': {
      const refusal = `container not found (${goQuote(ctx.container)})`;
      if (!v5) return { when: 'before-upgrade', code: 500, text: refusal, delayMs };
      return after(`unable to upgrade connection: ${refusal}`, delayMs);
    }
    case 'pod-not-found':
      if (!v5) return { when: 'before-upgrade', code: 404, text: 'pod does not exist', delayMs };
      return after('unable to upgrade connection: pod does not exist', delayMs);
  }
}

/** `apierrors.NewInternalError(err)` as the translator writes it (status.Status(): no kind or apiVersion). */
function after(cause: string, delayMs: number): ExecFailure {
  return {
    when: 'after-upgrade',
    status: {
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${cause}`,
      reason: 'InternalError',
      details: { causes: [{ message: cause }] },
      code: 500,
    },
    delayMs,
  };
}

/** What ErrorToAPIStatus makes of an error that is not a Status: code 500, StatusReasonUnknown (""). */
export function reasonless(message: string): ApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: 500 };
  return new ApiError(status);
}

/**
 * The kubelet URL the API server dials (pkg/registry/core/pod/strategy.go streamLocation and streamParams):
 * /exec/NS/POD/CONTAINER with input/output/error/tty=1 and the command, encoded by url.Values.Encode
 * (keys sorted, values in order).
 */
function kubeletExecUrl(host: string, ctx: ExecFailureContext): string {
  const params: Array<[string, string]> = ctx.params.command.map((c) => ['command', c]);
  if (ctx.params.stderr) params.push(['error', '1']);
  if (ctx.params.stdin) params.push(['input', '1']);
  if (ctx.params.stdout) params.push(['output', '1']);
  if (ctx.params.tty) params.push(['tty', '1']);
  const query = params.map(([k, v]) => `${k}=${goQueryEscape(v)}`).join('&');
  const { namespace, name } = ctx.pod.metadata;
  return `https://${host}:${KUBELET_PORT}/exec/${namespace ?? ''}/${name}/${ctx.container}?${query}`;
}

/** Go's url.QueryEscape: only [A-Za-z0-9-_.~] stay, a space becomes '+'. */
export function goQueryEscape(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
      if (c === ' ') return '+';
      return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** Go's %q for a plain string. */
function goQuote(value: string): string {
  return JSON.stringify(value);
}
