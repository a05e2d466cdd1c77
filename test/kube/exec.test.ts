// meshprobe's exec (ClientNodeCluster over client-node 1.4) against the emulated API server's real failure
// modes: a Status on channel 3 after the 101 (Kubernetes 1.30+, v5), the 400 a container the pod lacks gets
// before the upgrade (whose body client-node drops), a stream that dies without a Status.
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { ExecError } from '../../src/kube/errors.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createPlainRuntime } from '../emulator/runtime/plain.js';
import { eventually } from '../emulator/testing.js';

let emu: Emulator;
let cluster: ClientNodeCluster;
const pod = { namespace: 'status', name: 'sleep-7d4b9c8f5-x2kqp' };

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 20, runtime: createPlainRuntime });
  const kc = new KubeConfig();
  kc.loadFromFile(emu.kubeconfigPath);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'status' } });
  await objects.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: pod,
    spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
  } as KubernetesObject);
  await eventually(
    () =>
      (emu.store.get('', 'pods', 'status', pod.name)?.status as { phase?: string } | undefined)?.phase === 'Running'
        ? true
        : undefined,
    5000,
    'pod running',
  );
  cluster = new ClientNodeCluster(kc);
});
afterEach(() => emu.faults.clear());
afterAll(async () => emu?.stop());

const failure = async (p: Promise<unknown>): Promise<ExecError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ExecError);
  return e as ExecError;
};
const run = (container = 'main', command = ['sh', '-c', 'echo out; echo err >&2; exit 3']) =>
  cluster.exec(pod, container, command, { timeoutMs: 10_000 });

describe('ClientNodeCluster.exec', () => {
  it('returns stdout, stderr and the exit code from the Status', async () => {
    expect(await run()).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  });

  it('a kubelet out of reach after the upgrade (InternalError on channel 3) is transient, with the message', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'backend-refused' }]);
    const e = await failure(run());
    expect(e.kind).toBe('transient');
    expect(e.message).toMatch(
      /failed: Internal error occurred: error sending request: Post "https:\/\/172\.18\.0\.2:10250/,
    );
  });

  it('a restarting container is transient; a pod that no longer exists is gone', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'container-not-found' }]);
    expect((await failure(run())).kind).toBe('transient');
    emu.faults.set([{ kind: 'exec-status', preset: 'pod-not-found' }]);
    expect((await failure(run())).kind).toBe('gone');
  });

  it('a command the container cannot start is a command error', async () => {
    const e = await failure(run('main', ['no-such-tool']));
    expect(e.kind).toBe('command');
    expect(e.message).toMatch(/executable file not found/);
  });

  it('a container the pod lacks: the 400 is read with its body, which names container and pod', async () => {
    const e = await failure(run('curl'));
    expect(e.kind).toBe('config');
    expect(e.status).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(e.status?.message).toBe(`container curl is not valid for pod ${pod.name}`);
  });

  it('a stream that dies without a Status is transient and keeps what was written', async () => {
    emu.faults.set([{ kind: 'exec-drop', afterMs: 300 }]);
    const e = await failure(run('main', ['sh', '-c', 'echo early; sleep 5']));
    expect(e.kind).toBe('transient');
    expect(e.output?.stdout).toBe('early\n');
  });
});
