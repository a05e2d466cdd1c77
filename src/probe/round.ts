// One probe round: one exec per client pod, in parallel up to a limit, every target of that client in it.
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import type { Cluster } from '../kube/cluster.js';
import { ExecError } from '../kube/errors.js';
import { ClusterError } from '../errors.js';
import type { Client, Topology } from '../model/topology.js';
import type { ObservedCell } from '../report/document.js';
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
  /** Keyed by `from to`. */
  cells: Map<string, ObservedCell>;
  execs: number;
  seconds: number;
}

export const key = (from: string, to: string): string => `${from} ${to}`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function probeRound(
  cluster: Cluster,
  topology: Topology,
  pods: ClientPods,
  settings: ProbeSettings,
): Promise<RoundResult> {
  const started = performance.now();
  const limit = pLimit(settings.concurrency);
  const cells = new Map<string, ObservedCell>();
  let execs = 0;
  await Promise.all(
    topology.clients.map((client) =>
      limit(async () => {
        const result = await probeClient(cluster, topology, pods, client, settings, () => execs++);
        for (const [to, cell] of result) cells.set(key(client.id, to), cell);
      }),
    ),
  );
  return { cells, execs, seconds: (performance.now() - started) / 1000 };
}

async function probeClient(
  cluster: Cluster,
  topology: Topology,
  pods: ClientPods,
  client: Client,
  s: ProbeSettings,
  countExec: () => void,
): Promise<Map<string, ObservedCell>> {
  const requests = topology.targets.map(requestFor);
  const out = new Map<string, ObservedCell>();
  const fail = (error: string, attempts: number, pod?: PodRef) => {
    for (const [i, t] of topology.targets.entries()) {
      out.set(t.id, {
        outcome: 'error',
        reachable: false,
        attempts,
        error,
        command: pod
          ? reproduceCommand({
              context: s.context,
              namespace: pod.namespace,
              pod: pod.name,
              container: client.container,
              request: requests[i]!,
              timeoutSeconds: s.curlTimeoutSeconds,
            })
          : `kubectl get pods -n ${client.namespace}`,
      });
    }
    return out;
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
      const timeoutMs = requests.length * (s.curlTimeoutSeconds + 1) * 1000 + 10_000;
      countExec();
      let res = await cluster.exec(
        pod,
        client.container,
        probeCommand(nonce, s.curlTimeoutSeconds, requests, pods.oldCurl.has(client.id)),
        { timeoutMs },
      );
      if (!hasTrailers(res.stdout, nonce) && !pods.oldCurl.has(client.id)) {
        pods.oldCurl.add(client.id);
        countExec();
        res = await cluster.exec(pod, client.container, probeCommand(nonce, s.curlTimeoutSeconds, requests, true), {
          timeoutMs,
        });
      }
      const records = parseProbeOutput(res.stdout, nonce, requests.length);
      for (const [i, t] of topology.targets.entries()) {
        const c = classify(records[i], t);
        out.set(t.id, {
          ...c,
          attempts: attempt,
          command: reproduceCommand({
            context: s.context,
            namespace: pod.namespace,
            pod: pod.name,
            container: client.container,
            request: requests[i]!,
            timeoutSeconds: s.curlTimeoutSeconds,
          }),
        });
      }
      return out;
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
