// One probe round on the in-memory cluster: what each kind of exec failure does to a client's row (retry on
// a pod looked up again, give up at once, stop the run with a configuration error), when the per-URL script
// is used, and that the script's exit code and stderr reach the cells it could not fill.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { ExecResult } from '../../src/kube/cluster.js';
import { ExecError } from '../../src/kube/errors.js';
import type { ObservedCell } from '../../src/model/cell.js';
import { ClientPods } from '../../src/probe/pods.js';
import { probeRound, type ProbeSettings } from '../../src/probe/round.js';
import { FakeCluster, probeAnswers, type ExecCall } from '../helpers/fake-cluster.js';
import { TOPOLOGY } from '../helpers/fake-run.js';

const settings: ProbeSettings = { curlTimeoutSeconds: 1, concurrency: 2, execAttempts: 3 };
const ok = probeAnswers(() => ({ httpCode: 200, body: '{"headers":{}}' }));
const isProbe = (c: ExecCall) => c.command[0] === 'sh';
const isVersion = (c: ExecCall) => c.command.join(' ') === 'curl --version';

/** The topology's cluster with its pods, an exec script, and a log of execs and pod lookups. */
async function setup(script: (call: ExecCall, n: number) => ExecResult | Promise<ExecResult>) {
  const cluster = new FakeCluster();
  for (const ns of TOPOLOGY.namespaces) {
    const labels = { 'istio-injection': ns.injection ? 'enabled' : 'disabled' };
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels } });
    for (const o of ns.objects) await cluster.apply({ ...o, metadata: { ...o.metadata, namespace: ns.name } });
  }
  const calls: ExecCall[] = [];
  let lists = 0;
  const list = cluster.list.bind(cluster);
  cluster.list = async (...args) => {
    if (args[1] === 'Pod') lists++;
    return list(...args);
  };
  cluster.exec = async (pod, container, command) => {
    const call = { pod, container, command };
    calls.push(call);
    return script(call, calls.length);
  };
  const pods = new ClientPods(cluster, TOPOLOGY);
  return {
    calls,
    lists: () => lists,
    pods,
    round: () => probeRound(cluster, TOPOLOGY, pods, settings),
  };
}

const row = (cells: { get(from: string, to: string): ObservedCell }, from: string) =>
  TOPOLOGY.targets.map((t) => cells.get(from, t.id));

describe('probeRound', () => {
  it('retries a transient exec failure on the pod looked up again', async () => {
    const f = await setup((call) => {
      if (call.pod.namespace === 'a' && f.calls.filter((c) => c.pod.namespace === 'a').length === 1)
        throw new ExecError('exec in a/sleep-0 failed: Internal error occurred: error sending request', 'transient');
      return ok(call);
    });
    const r = await f.round();
    expect(row(r.cells, 'a/sleep').map((c) => [c.outcome, c.attempts])).toEqual([
      ['plaintext', 2],
      ['plaintext', 2],
    ]);
    // Two clients found once each, and a/sleep found again after its failure.
    expect(f.lists()).toBe(3);
  });

  it('a command the container cannot run fails the row at once, with the message', async () => {
    const f = await setup((call) => {
      if (call.pod.namespace === 'b') throw new ExecError('exec: "sh": executable file not found', 'command');
      return ok(call);
    });
    const cells = row((await f.round()).cells, 'b/sleep');
    expect(cells.map((c) => [c.outcome, c.attempts])).toEqual([
      ['error', 1],
      ['error', 1],
    ]);
    expect(cells[0]).toMatchObject({ error: 'exec: "sh": executable file not found' });
    expect(f.calls.filter((c) => c.pod.namespace === 'b')).toHaveLength(1);
  });

  it("a container the pod lacks stops the run with a configuration error naming it and the pod's containers", async () => {
    const f = await setup((call) => {
      if (call.pod.namespace === 'a')
        throw new ExecError('refused (400)', 'config', {
          code: 400,
          reason: 'BadRequest',
          message: 'container sleep is not valid for pod sleep-0',
        });
      return ok(call);
    });
    const e = await f.round().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toBe(
      'client a/sleep: pod a/sleep-0 has no container "sleep" (its containers: sleep, istio-proxy); the API server said: container sleep is not valid for pod sleep-0',
    );
  });

  it('complete trailers without an exit Status are the answer (a proxy that drops channel 3)', async () => {
    const f = await setup((call) => {
      const out = ok(call) as ExecResult;
      throw new ExecError('closed (1000) before the exit status', 'transient', undefined, {
        stdout: out.stdout,
        stderr: '',
      });
    });
    const r = await f.round();
    expect(r.cells.values().map((c) => [c.outcome, c.attempts])).toEqual(Array(4).fill(['plaintext', 1]));
  });

  it('incomplete trailers without a Status are retried', async () => {
    const f = await setup((call, n) => {
      const out = ok(call) as ExecResult;
      if (n <= 2)
        throw new ExecError('closed (1006)', 'transient', undefined, {
          stdout: out.stdout.slice(0, out.stdout.indexOf('\n@@') + 5),
          stderr: '',
        });
      return out;
    });
    const r = await f.round();
    expect(r.cells.values().map((c) => [c.outcome, c.attempts])).toEqual(Array(4).fill(['plaintext', 2]));
  });

  it('asks curl --version once when a probe writes no trailer, and probes an old curl per URL from then on', async () => {
    const f = await setup((call) => {
      if (isVersion(call))
        return { stdout: 'curl 7.68.0 (x86_64-pc-linux-gnu) libcurl/7.68.0\n', stderr: '', exitCode: 0 };
      // The per-URL script is the one that reads METHOD URL pairs; the other writes trailers an old curl cannot fill.
      if (call.command[2]!.includes('m=$1; u=$2')) return ok(call);
      return {
        stdout: '{}\n@@x  http 200 exit  err \n',
        stderr: "curl: unknown --write-out variable: 'urlnum'\n",
        exitCode: 0,
      };
    });
    await f.round();
    await f.round();
    const a = f.calls.filter((c) => c.pod.namespace === 'a');
    expect(
      a.map((c) => (isVersion(c) ? 'version' : c.command[2]!.includes('m=$1; u=$2') ? 'per-url' : 'one-exec')),
    ).toEqual(['one-exec', 'version', 'per-url', 'per-url']);
  });

  it('a current curl that wrote no trailer stays on the one-exec script; its exit code and stderr are in the cells', async () => {
    const f = await setup((call) => {
      if (isVersion(call)) return { stdout: 'curl 8.16.0 (x86_64-pc-linux-musl)\n', stderr: '', exitCode: 0 };
      return { stdout: '', stderr: 'Killed\n', exitCode: 137 };
    });
    const first = await f.round();
    await f.round();
    expect(first.cells.get('a/sleep', 'a/httpbin:8000')).toMatchObject({
      outcome: 'error',
      error: 'no result for this target: the probe script stopped early (exit 137; stderr: Killed)',
    });
    const a = f.calls.filter((c) => c.pod.namespace === 'a');
    expect(a.filter(isVersion)).toHaveLength(1);
    expect(a.filter(isProbe).every((c) => !c.command[2]!.includes('m=$1; u=$2'))).toBe(true);
  });

  it('no curl at all: the shell says so in the cells, and the version check is asked again next time', async () => {
    const f = await setup((call) => {
      if (isVersion(call)) throw new ExecError('exec: "curl": executable file not found in $PATH', 'command');
      return { stdout: '', stderr: 'meshprobe-probe: 3: curl: not found\n', exitCode: 127 };
    });
    const r = await f.round();
    expect(r.cells.get('b/sleep', 'b/httpbin:8000')).toMatchObject({
      outcome: 'error',
      error:
        'no result for this target: the probe script stopped early (exit 127; stderr: meshprobe-probe: 3: curl: not found)',
    });
    await f.round();
    expect(f.calls.filter((c) => c.pod.namespace === 'b').filter(isVersion)).toHaveLength(2);
  });
});
