// One probe round: one exec per client pod, in parallel up to a limit, every target of that client in it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Cluster } from '../kube/cluster.js';
import { ExecError } from '../kube/errors.js';
import { ClusterError, ConfigError } from '../errors.js';
import type { ObservedCell } from '../model/cell.js';
import { Matrix } from '../model/matrix.js';
import type { Client, Topology } from '../model/topology.js';
import { classify } from './classify.js';
import {
  curlRelease,
  hasTransferVariables,
  kubectlFlags,
  probeCommand,
  reproduceCommand,
  requestFor,
  shellQuote,
  trailerIndices,
  type KubectlTarget,
  type ProbeRequest,
} from './command.js';
import { hasTrailers, parseProbeOutput } from './parse.js';
import type { ClientPods, PodRef } from './pods.js';

export interface ProbeSettings {
  /** curl --max-time per request. */
  curlTimeoutSeconds: number;
  /** Client pods probed at once. */
  concurrency: number;
  /** Exec attempts per client pod before its cells are reported as probe errors. */
  execAttempts: number;
  /** The cluster the reproduce lines name. */
  kubectl?: KubectlTarget;
}

export const DEFAULT_PROBE: ProbeSettings = { curlTimeoutSeconds: 5, concurrency: 8, execAttempts: 3 };

export interface RoundResult {
  cells: Matrix<ObservedCell>;
  execs: number;
  seconds: number;
}

/** Told of each cell as soon as its client's exec has returned, before the round is over. */
export type CellSink = (from: string, to: string, cell: ObservedCell) => void;

export async function probeRound(
  cluster: Cluster,
  topology: Topology,
  pods: ClientPods,
  settings: ProbeSettings,
  onCell: CellSink = () => {},
): Promise<RoundResult> {
  const started = performance.now();
  const limit = pLimit(settings.concurrency);
  const rows = new Map<string, ObservedCell[]>();
  let execs = 0;
  await Promise.all(
    topology.clients.map((client) =>
      limit(async () => {
        const row = await probeClient(cluster, topology, pods, client, settings, () => execs++);
        rows.set(client.id, row);
        for (const [i, cell] of row.entries()) onCell(client.id, topology.targets[i]!.id, cell);
      }),
    ),
  );
  const targetIndex = new Map(topology.targets.map((t, i) => [t.id, i]));
  return {
    cells: Matrix.of(topology, (c, t) => rows.get(c.id)![targetIndex.get(t.id)!]!),
    execs,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The client's cells, one per target in the topology's order. */
async function probeClient(
  cluster: Cluster,
  topology: Topology,
  pods: ClientPods,
  client: Client,
  s: ProbeSettings,
  countExec: () => void,
): Promise<ObservedCell[]> {
  const requests = topology.targets.map(requestFor);
  const command = (i: number) =>
    reproduceCommand({
      kubectl: s.kubectl,
      namespace: client.namespace,
      deployment: client.workload,
      container: client.container,
      request: requests[i]!,
      timeoutSeconds: s.curlTimeoutSeconds,
    });
  const fail = (error: string, attempts: number, pod?: PodRef): ObservedCell[] =>
    topology.targets.map((_, i) => ({
      outcome: 'error',
      attempts,
      error,
      command: pod
        ? command(i)
        : ['kubectl', ...kubectlFlags(s.kubectl), 'get', 'pods', '-n', client.namespace].map(shellQuote).join(' '),
    }));
  const cells = (res: ProbeOutput, nonce: string, attempt: number): ObservedCell[] => {
    const records = parseProbeOutput(res.stdout, nonce, requests.length);
    // Which trailer belongs to which target: the one-exec script sends the GET requests in one curl.
    const index = trailerIndices(requests, res.perUrl ?? pods.curl(client)?.old ?? false);
    return topology.targets.map((t, i) => ({
      ...classify(records[index[i]!], t, res),
      attempts: attempt,
      command: command(i),
    }));
  };

  let lastError = '';
  let pod: PodRef | undefined;
  for (let attempt = 1; attempt <= s.execAttempts; attempt++) {
    let found: PodRef | { error: string };
    try {
      found = await pods.get(client);
    } catch (e) {
      if (e instanceof ClusterError) {
        lastError = e.message;
        await sleep(200 * attempt);
        continue;
      }
      throw e;
    }
    if ('error' in found) {
      lastError = found.error;
      await sleep(200 * attempt);
      continue;
    }
    pod = found;
    const nonce = randomBytes(6).toString('hex');
    try {
      return cells(await runProbe(cluster, pods, client, pod, nonce, requests, s, countExec), nonce, attempt);
    } catch (e) {
      if (!(e instanceof ExecError || e instanceof ClusterError)) throw e;
      lastError = e.message;
      if (e instanceof ExecError) {
        if (e.kind === 'config') throw await containerError(cluster, client, pod, e);
        if (e.kind === 'command') return fail(lastError, attempt, pod);
        // No Status came, but every target's trailer did: that is the probe's whole answer (the script
        // always exits 0). An authenticating proxy that drops channel 3 ends every exec so (audit §15).
        if (e.output && parseProbeOutput(e.output.stdout, nonce, requests.length).every((r) => r !== undefined))
          return cells({ ...e.output, exitCode: 0 }, nonce, attempt);
      }
      // A restarting container, a kubelet out of reach, a pod being replaced: look the pod up again.
      pods.forget(client);
      await sleep(200 * attempt);
    }
  }
  return fail(lastError, s.execAttempts, pod);
}

interface ProbeOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** The probe ran one curl per target (an old curl). */
  perUrl?: boolean;
}

/**
 * One probe exec. A probe that wrote no trailer at all may be an old curl (no per-transfer write-out
 * variables), or a curl that could not run or was killed: `curl --version`, asked once per client, tells
 * which, and only a curl older than 7.75 is probed again, one curl per target, from then on.
 */
async function runProbe(
  cluster: Cluster,
  pods: ClientPods,
  client: Client,
  pod: PodRef,
  nonce: string,
  requests: ProbeRequest[],
  s: ProbeSettings,
  countExec: () => void,
): Promise<ProbeOutput> {
  const timeoutMs = requests.length * (s.curlTimeoutSeconds + 1) * 1000 + 10_000;
  const probe = async (perUrl: boolean): Promise<ProbeOutput> => {
    countExec();
    const res = await cluster.exec(pod, client.container, probeCommand(nonce, s.curlTimeoutSeconds, requests, perUrl), {
      timeoutMs,
    });
    return { ...res, perUrl };
  };
  const known = pods.curl(client);
  const res = await probe(known?.old ?? false);
  if (known || hasTrailers(res.stdout, nonce)) return res;
  countExec();
  const version = await cluster
    .exec(pod, client.container, ['curl', '--version'], { timeoutMs: 15_000 })
    .catch(() => undefined);
  const release = version?.exitCode === 0 ? curlRelease(version.stdout) : undefined;
  // A curl that cannot say its version is not remembered: the probe's own exit code and stderr say why.
  if (!release) return res;
  const old = !hasTransferVariables(release);
  pods.rememberCurl(client, { version: release.join('.'), old });
  return old ? probe(true) : res;
}

/** A 400 before the upgrade: the pod has no such container. Which ones it has, from the pod itself. */
async function containerError(cluster: Cluster, client: Client, pod: PodRef, e: ExecError): Promise<ConfigError> {
  let has = '';
  try {
    const obj = await cluster.get({ apiVersion: 'v1', kind: 'Pod', namespace: pod.namespace, name: pod.name });
    const names = ((obj?.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map(
      (c) => c.name,
    );
    if (names.length) has = ` (its containers: ${names.join(', ')})`;
  } catch {
    // The server's message stands on its own.
  }
  return new ConfigError(
    `client ${client.id}: pod ${pod.namespace}/${pod.name} has no container "${client.container}"${has}; the API server said: ${e.status?.message ?? e.message}`,
    "name one of the pod's containers in the topology's `client: {container: ...}`, or let `meshprobe setup` put back the workload from the topology's manifest",
  );
}
