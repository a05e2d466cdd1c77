// What an exec failure means, from what the API server said: the Status on channel 3 after the upgrade,
// or the HTTP answer that refused it. Pure functions, so every case is specified without a cluster.
//
// On Kubernetes 1.30+ the API server accepts the WebSocket (v5) before it dials the kubelet and reports
// kubelet-side failures as a Status on channel 3 (apiserver pkg/util/proxy/streamtranslator.go: a
// StatusError as it is, anything else as apierrors.NewInternalError). client-go's SPDY client builds those
// errors: "error sending request: ..." when the kubelet cannot be dialled (transport/spdy/spdy.go
// Negotiate), "unable to upgrade connection: <the kubelet's refusal>" (apimachinery
// pkg/util/httpstream/spdy/roundtripper.go NewConnection): "container not found ("c")" while a container
// restarts (pkg/kubelet/kubelet_pods.go GetExec), "pod does not exist" once the pod has gone
// (pkg/kubelet/server/server.go getExec). On v4 the kubelet's answer is proxied before the upgrade, and
// the API server's own failure is "error dialing backend: ..." (apimachinery pkg/util/proxy/upgradeaware.go).
// The kubelet reports a command the runtime cannot start as "error executing command in container: ..."
// (pkg/kubelet/cri/streaming/remotecommand/httpstream.go ServeExec), with the runtime's reason.
import type { V1Status } from '@kubernetes/client-node';
import { ExecError } from './errors.js';

interface Where {
  namespace: string;
  name: string;
  container: string;
}

/** The exit code from the exec Status on channel 3 (`NonZeroExitCode` with an `ExitCode` cause), if it has one. */
export function exitCodeOf(s: V1Status): number | undefined {
  if (s.status === 'Success') return 0;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

// The runtime could not start the command at all (containerd / runc wording): trying again will not help.
const CANNOT_RUN = /executable file not found|no such file or directory|permission denied|exec format error/i;
// The kubelet or the way to it is in trouble, or the container is restarting: worth another try on a fresh pod.
const TRANSIENT =
  /error dialing backend|error sending request|unable to upgrade connection|container not found|i\/o timeout|connection refused|connection reset|context deadline exceeded/i;
const POD_GONE = /pod does not exist|pods? "[^"]*" not found/i;

/** A channel-3 Status that carries no exit code: the exec failed on the way to the container. */
export function statusFailure(s: V1Status, at: Where): ExecError {
  const message = s.message ?? s.reason ?? 'unknown failure';
  const what = `exec in ${at.namespace}/${at.name} failed: ${message}`;
  const status = { code: s.code, reason: s.reason, message: s.message };
  if (s.reason === 'NotFound' || s.code === 404 || POD_GONE.test(message)) return new ExecError(what, 'gone', status);
  if (/error executing command in container/i.test(message) && CANNOT_RUN.test(message))
    return new ExecError(what, 'command', status);
  if (s.reason === 'Forbidden' || s.reason === 'Unauthorized' || s.code === 401 || s.code === 403)
    return new ExecError(`${what}: check pods/exec permissions`, 'command', status);
  if (
    ['InternalError', 'ServiceUnavailable', 'Timeout', 'TooManyRequests'].includes(s.reason ?? '') ||
    [429, 500, 502, 503, 504].includes(s.code ?? 0) ||
    TRANSIENT.test(message)
  )
    return new ExecError(what, 'transient', status);
  return new ExecError(what, 'command', status);
}

/** The body of a refused upgrade: a JSON Status from the API server, or plain text from the kubelet or a proxy. */
function parseBody(body: string): { reason?: string; message?: string } {
  try {
    const s = JSON.parse(body) as { kind?: unknown; reason?: unknown; message?: unknown };
    if (s && typeof s === 'object')
      return {
        ...(typeof s.reason === 'string' ? { reason: s.reason } : {}),
        ...(typeof s.message === 'string' ? { message: s.message } : {}),
      };
  } catch {
    // not JSON
  }
  const text = body.trim().replace(/\s+/g, ' ').slice(0, 300);
  return text ? { message: text } : {};
}

/** The API server (or the kubelet behind it, on v4) refused the upgrade with this HTTP answer. */
export function refusalFailure(code: number, body: string, at: Where): ExecError {
  const { reason, message } = parseBody(body);
  const said = message ? `: ${message}` : '';
  const status = { code, reason, message };
  if (code === 400)
    // pkg/registry/core/pod/strategy.go streamLocation: NewBadRequest("container %s is not valid for pod %s").
    return new ExecError(
      `exec into container ${at.container} of pod ${at.namespace}/${at.name} refused (400${reason ? ` ${reason}` : ''})${said}`,
      'config',
      status,
    );
  if (code === 404)
    return new ExecError(`pod ${at.namespace}/${at.name} is gone (exec upgrade answered 404${said})`, 'gone', status);
  if (code === 401 || code === 403)
    return new ExecError(
      `exec into ${at.namespace}/${at.name} refused (${code})${said}: check pods/exec permissions`,
      'command',
      status,
    );
  return new ExecError(`exec upgrade to ${at.namespace}/${at.name} refused: ${code}${said}`, 'transient', status);
}
