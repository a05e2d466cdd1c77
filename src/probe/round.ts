// One probe round: one exec per client pod, in parallel up to a limit, every target of that client in it.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import type { Cluster } from '../kube/cluster.js';
import { ExecError } from '../kube/errors.js';
import { ClusterError } from '../errors.js';
import type { ObservedCell } from '../model/cell.js';
import { Matrix } from '../model/matrix.js';
import type { Client, Topology } from '../model/topology.js';
import { classify } from './classify.js';
import { probeCommand, reproduceCommand, requestFor } from './command.js';
import { hasTrailers, parseProbeOutput } from './parse.js';
import type { ClientPods, PodRef } from './pods.js';

export interface ProbeSettings {
  /** curl --max-time per request. */
  curlTimeoutSeconds: number;
  /** Client pods probed at once. */
  concurrency: number;
  /** Exec attempts per client pod before its cells are reported as probe errors. */
  execAttempts: number;
  /** For the reproduce lines. */
  context?: string;
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
  const command = (i: number, pod: PodRef) =>
    reproduceCommand({
      context: s.context,
      namespace: pod.namespace,
      pod: pod.name,
      container: client.container,
      request: requests[i]!,
      timeoutSeconds: s.curlTimeoutSeconds,
    });
  const fail = (error: string, attempts: number, pod?: PodRef): ObservedCell[] =>
    topology.targets.map((_, i) => ({
      outcome: 'error',
      attempts,
      error,
      command: pod ? command(i, pod) : `kubectl get pods -n ${client.namespace}`,
    }));

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
      const timeoutMs = requests.length * (s.curlTimeoutSeconds + 1) * 1000 + 10_000;
      countExec();
      let res = await cluster.exec(
        pod,
        client.container,
        probeCommand(nonce, s.curlTimeoutSeconds, requests, pods.hasOldCurl(client)),
        { timeoutMs },
      );
      if (!hasTrailers(res.stdout, nonce) && !pods.hasOldCurl(client)) {
        pods.markOldCurl(client);
        countExec();
        res = await cluster.exec(pod, client.container, probeCommand(nonce, s.curlTimeoutSeconds, requests, true), {
          timeoutMs,
        });
      }
      const records = parseProbeOutput(res.stdout, nonce, requests.length);
      const found = pod;
      return topology.targets.map((t, i) => ({
        ...classify(records[i], t),
        attempts: attempt,
        command: command(i, found),
      }));
    } catch (e) {
      if (!(e instanceof ExecError || e instanceof ClusterError)) throw e;
      lastError = e.message;
      if (e instanceof ExecError && e.kind === 'gone') pods.forget(client);
      if (e instanceof ExecError && e.kind === 'command') return fail(lastError, attempt, pod);
      await sleep(200 * attempt);
    }
  }
  return fail(lastError, s.execAttempts, pod);
}
