// The one exec per client pod per round: a constant POSIX sh script (busybox ash in the curl image
// runs it) that curls every target and frames each result with a per-run nonce. Targets reach it as
// separate argv elements through the exec API, never through a shell line, so no name, host or path
// can inject anything; `-g` stops curl from globbing `[]{}` in URLs. A request with another method than
// GET gets a curl of its own, before the one curl of all GET requests. (Not curl's `--next`: options start
// afresh there, .curlrc included, which is how the emulated cluster gives curl its pod's network.)
import { MAX_CURL_TIMEOUT_SECONDS } from '../model/limits.js';
import type { Topology, Target } from '../model/topology.js';

/**
 * One curl process for all of a client's targets: curl runs the URLs one after another, writes each
 * body followed by a trailer with the transfer's index, HTTP code, exit code and error message
 * (write-out variables of curl >= 7.75; the curl image ships 8.x).
 */
export const PROBE_SCRIPT = [
  'n=$1; t=$2; k=$3; shift 3',
  'if [ "$k" = 1 ]; then k=-k; else k=; fi',
  // INDEX METHOD URL triples, up to `--`: one curl each, the trailer's index given.
  'while [ "$1" != -- ]; do',
  `  curl -sg $k -X "$2" --max-time "$t" -w "${trailer('$n', '$1')}" "$3"`,
  '  rc=$?',
  '  if [ "$rc" -ge 126 ]; then exit "$rc"; fi',
  '  shift 3',
  'done',
  'shift',
  // The GET URLs: one curl, each transfer's index its %{urlnum}.
  'if [ $# -gt 0 ]; then',
  `  curl -sg $k --max-time "$t" -w "${trailer('$n', '%{urlnum}')}" "$@"`,
  '  rc=$?',
  // The trailers carry every transfer's exit code; curl's own is the last transfer's, so the script exits
  // 0, unless the shell could not run curl (126, 127) or curl was killed (128 + signal): then that code,
  // which the exec Status carries, says why trailers are missing (the shell's message is on stderr).
  '  if [ "$rc" -ge 126 ]; then exit "$rc"; fi',
  'fi',
  'exit 0',
].join('\n');

/**
 * For a curl older than 7.75 (no %{urlnum}, %{exitcode}, %{errormsg}): one curl per target, the targets as
 * METHOD URL pairs. The shell writes the trailer prefix itself when curl wrote none (it could not run, or was
 * killed), so every target still gets a trailer with the exit code; stderr is left to the exec, which keeps it.
 */
export const PROBE_SCRIPT_PER_URL = [
  'n=$1; t=$2; k=$3; shift 3; i=0',
  'while [ $# -gt 1 ]; do',
  '  m=$1; u=$2; shift 2',
  '  if [ "$k" = 1 ]; then curl -sgk -X "$m" --max-time "$t" -w "\n@@$n $i http %{http_code}" "$u"',
  '  else curl -sg -X "$m" --max-time "$t" -w "\n@@$n $i http %{http_code}" "$u"; fi',
  '  rc=$?',
  `  if [ "$rc" -ge 126 ]; then printf '\\n@@%s %s http 000' "$n" "$i"; fi`,
  `  printf ' exit %s err\\n' "$rc"`,
  '  i=$((i+1))',
  'done',
].join('\n');

/** `curl --version`'s first line, `curl 8.16.0 (x86_64-pc-linux-musl) libcurl/8.16.0 ...`: the release. */
export function curlRelease(versionOutput: string): [number, number, number] | undefined {
  const m = /^curl (\d+)\.(\d+)\.(\d+)/m.exec(versionOutput);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Whether this curl has the per-transfer write-out variables the one-exec script needs (curl >= 7.75.0). */
export function hasTransferVariables(release: [number, number, number]): boolean {
  const [major, minor] = release;
  return major > 7 || (major === 7 && minor >= 75);
}

/** The write-out after each transfer (src/probe/parse.ts reads it). */
function trailer(nonce: string, index: string): string {
  return `\n@@${nonce} ${index} http %{http_code} exit %{exitcode} err %{errormsg}\n`;
}

export interface ProbeRequest {
  url: string;
  /** `-k`: the HTTPS apps of a test topology use self-signed certificates. */
  insecure: boolean;
  /** `-X`: GET unless the topology asks for another method. */
  method: string;
}

export function requestFor(target: Target): ProbeRequest {
  return {
    url: `${target.scheme}://${target.service}.${target.namespace}:${target.port.port}${target.path}`,
    insecure: target.scheme === 'https',
    method: target.method,
  };
}

/**
 * For each request, the index its trailer carries: the GET requests are numbered by the one curl that
 * sends them all (its %{urlnum}, in order), the others follow. One curl per target numbers them in order.
 */
export function trailerIndices(requests: ProbeRequest[], perUrl = false): number[] {
  if (perUrl) return requests.map((_, i) => i);
  const gets = requests.filter((r) => r.method === 'GET').length;
  let get = 0;
  let other = gets;
  return requests.map((r) => (r.method === 'GET' ? get++ : other++));
}

/** The script's arguments: INDEX METHOD URL for each request with another method, `--`, then the GET URLs. */
function scriptArgs(requests: ProbeRequest[]): string[] {
  const index = trailerIndices(requests);
  return [
    ...requests.flatMap((r, i) => (r.method === 'GET' ? [] : [String(index[i]), r.method, r.url])),
    '--',
    ...requests.filter((r) => r.method === 'GET').map((r) => r.url),
  ];
}

/** The exec command for one client: `perUrl` for clients whose curl lacks the write-out variables. */
export function probeCommand(
  nonce: string,
  timeoutSeconds: number,
  requests: ProbeRequest[],
  perUrl = false,
): string[] {
  if (!/^[0-9a-f]{8,32}$/.test(nonce)) throw new Error('nonce must be hex');
  // The topology's HTTPS apps use self-signed certificates; -k changes nothing for http:// URLs.
  const insecure = requests.some((r) => r.insecure);
  return [
    'sh',
    '-c',
    perUrl ? PROBE_SCRIPT_PER_URL : PROBE_SCRIPT,
    'meshprobe-probe',
    nonce,
    String(timeoutSeconds),
    insecure ? '1' : '0',
    ...(perUrl ? requests.flatMap((r) => [r.method, r.url]) : scriptArgs(requests)),
  ];
}

/**
 * Size of the exec request that probes every target from one client, as the exec API sends it: each
 * argv word is a `command=` query parameter, percent-encoded (model/limits.ts MAX_PROBE_REQUEST_BYTES).
 */
export function probeRequestBytes(topology: Topology): number {
  const argv = probeCommand('0'.repeat(12), MAX_CURL_TIMEOUT_SECONDS, topology.targets.map(requestFor));
  return argv.reduce((n, word) => n + '&command='.length + encodeURIComponent(word).length, 0);
}

/** POSIX single-quoting, for commands shown to people. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** kubectl's global flags for the lines meshprobe prints: the cluster the run talked to. */
export interface KubectlTarget {
  /** The --kubeconfig the user gave (absolute), so the line works in another directory or shell. */
  kubeconfig?: string;
  context?: string;
}

export function kubectlFlags(t: KubectlTarget = {}): string[] {
  return [...(t.kubeconfig ? ['--kubeconfig', t.kubeconfig] : []), ...(t.context ? ['--context', t.context] : [])];
}

/**
 * A `kubectl exec` line that reproduces one probe by hand. It names the client's Deployment, not its pod:
 * kubectl picks a running pod of it (`kubectl exec deploy/NAME`), so the line still works after the
 * pod was replaced, or after teardown and a new `meshprobe setup`.
 */
export function reproduceCommand(o: {
  kubectl?: KubectlTarget;
  namespace: string;
  deployment: string;
  container: string;
  request: ProbeRequest;
  timeoutSeconds: number;
}): string {
  const curl = [
    'curl',
    '-sS',
    ...(o.request.insecure ? ['-k'] : []),
    ...(o.request.method !== 'GET' ? ['-X', o.request.method] : []),
    '--max-time',
    String(o.timeoutSeconds),
    '-w',
    '\\nHTTP %{http_code}\\n',
    o.request.url,
  ];
  const kubectl = [
    'kubectl',
    ...kubectlFlags(o.kubectl),
    'exec',
    '-n',
    o.namespace,
    `deploy/${o.deployment}`,
    '-c',
    o.container,
    '--',
    ...curl,
  ];
  return kubectl.map(shellQuote).join(' ');
}
