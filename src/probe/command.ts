// The one exec per client pod per round: a constant POSIX sh script (busybox ash in the curl image
// runs it) that curls each target in turn and frames each result with a per-run nonce. Targets reach
// it as separate argv elements through the exec API, never through a shell line, so no name, host or
// path can inject anything; `-g` stops curl from globbing `[]{}` in URLs.
import type { Target } from '../model/topology.js';

export const PROBE_SCRIPT = [
  'n=$1; t=$2; shift 2; i=0',
  'while [ "$#" -ge 2 ]; do',
  '  u=$1; k=$2; shift 2',
  `  printf '@@%s %s begin\\n' "$n" "$i"`,
  '  if [ "$k" = 1 ]; then',
  '    curl -sSgk --max-time "$t" -w "\\n@@$n $i http %{http_code}\\n" "$u" 2>&1',
  '  else',
  '    curl -sSg --max-time "$t" -w "\\n@@$n $i http %{http_code}\\n" "$u" 2>&1',
  '  fi',
  `  printf '\\n@@%s %s exit %s\\n' "$n" "$i" "$?"`,
  '  i=$((i+1))',
  'done',
].join('\n');

export interface ProbeRequest {
  url: string;
  /** `-k`: the HTTPS apps of a test topology use self-signed certificates. */
  insecure: boolean;
}

export function requestFor(target: Target): ProbeRequest {
  return { url: `${target.scheme}://${target.service}.${target.namespace}:${target.port.port}${target.path}`, insecure: target.scheme === 'https' };
}

export function probeCommand(nonce: string, timeoutSeconds: number, requests: ProbeRequest[]): string[] {
  if (!/^[0-9a-f]{8,32}$/.test(nonce)) throw new Error('nonce must be hex');
  return ['sh', '-c', PROBE_SCRIPT, 'meshprobe-probe', nonce, String(timeoutSeconds), ...requests.flatMap((r) => [r.url, r.insecure ? '1' : '0'])];
}

/** POSIX single-quoting, for commands shown to people. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A `kubectl exec` line that reproduces one probe by hand. */
export function reproduceCommand(o: { context?: string; namespace: string; pod: string; container: string; request: ProbeRequest; timeoutSeconds: number }): string {
  const curl = ['curl', '-sS', ...(o.request.insecure ? ['-k'] : []), '--max-time', String(o.timeoutSeconds), '-w', '\\nHTTP %{http_code}\\n', o.request.url];
  const kubectl = ['kubectl', ...(o.context ? ['--context', o.context] : []), 'exec', '-n', o.namespace, o.pod, '-c', o.container, '--', ...curl];
  return kubectl.map(shellQuote).join(' ');
}
