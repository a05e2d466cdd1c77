// How much one topology and one run may ask for. Each limit is far above real use and well below what
// breaks: past it, meshprobe says so when the files are loaded instead of failing (or running for
// days) once the cluster is involved.
import type { Topology } from './topology.js';

/**
 * Cells of one matrix (clients × probed ports). The article's topology has 28. Every cell is one curl
 * per round, a client's curls run one after another in one exec, and a scenario takes at least two
 * rounds: at 10,000 cells a round in which the probes time out (5 s each, 8 clients at a time) lasts
 * hours, and each report table has 10,000 cells. A matrix that big is a generated topology gone wrong.
 */
export const MAX_MATRIX_CELLS = 10_000;

/**
 * Bytes of the one exec request per client that carries every probe URL. The exec API takes the
 * command as `command=` query parameters, percent-encoded, in the request line, and kube-apiserver
 * reads at most 1 MiB of request line and headers; the same words become the argv of sh in the pod,
 * where Linux allows 2 MiB of argv and environment in all (with the default 8 MiB stack). A quarter of
 * the smaller is a margin for proxies in between. The article's topology uses about 1.5 KiB.
 */
export const MAX_PROBE_REQUEST_BYTES = 256 * 1024;

/**
 * Scenarios loaded for one run. The shipped set has 11; each scenario is applied, converged (two
 * rounds and the settle time at least) and removed, so 200 already make a run of an hour or more,
 * and files beyond that are not read at all.
 */
export const MAX_SCENARIOS = 200;

/**
 * `--curl-timeout`: two minutes is already a probe that tells nothing. The limit also keeps the exec
 * timeout (targets × (curl timeout + 1) s) of the largest matrix below Node's 2^31 - 1 ms, past which
 * a timer fires at once.
 */
export const MAX_CURL_TIMEOUT_SECONDS = 120;

/** The other durations (--converge-timeout, --interval, --settle, --ready-timeout, --timeout): one day. */
export const MAX_SECONDS = 86_400;

/**
 * Bytes of the exec request that probes every target of a topology from one client. The probe builds
 * that request, so it measures it (src/probe/command.ts `probeRequestBytes`); the loaders are handed
 * the measure rather than depend on the probe.
 */
export type RequestSize = (topology: Topology) => number;

/** Why this topology is too large to probe, or undefined; the request size is checked when `requestBytes` is given. */
export function topologySizeProblem(topology: Topology, requestBytes?: RequestSize): string | undefined {
  const cells = topology.clients.length * topology.targets.length;
  if (cells > MAX_MATRIX_CELLS) {
    return `the matrix would have ${cells} cells (${topology.clients.length} clients × ${topology.targets.length} probed ports), more than the limit of ${MAX_MATRIX_CELLS}`;
  }
  const bytes = requestBytes?.(topology) ?? 0;
  if (bytes > MAX_PROBE_REQUEST_BYTES) {
    return `probing all ${topology.targets.length} ports from one client takes an exec request of ${bytes} bytes, more than the limit of ${MAX_PROBE_REQUEST_BYTES} (the exec API carries the command in the request URL); shorten the paths or probe fewer ports`;
  }
  return undefined;
}
