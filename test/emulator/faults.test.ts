// Fault injection, each fault observed the way a client of a real cluster would see it.
import { PassThrough, Writable } from 'node:stream';
import {
  ApiException,
  CoreV1Api,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Status,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Faults, parseFaultSpec, parsePodFaultAnnotation } from './api/faults.js';
import { startEmulator, type Emulator } from './index.js';
// These tests are about the API server; the plain runtime keeps exec results free of mesh behaviour.
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, raw } from './testing.js';

let emu: Emulator;
let kc: KubeConfig;
let objects: KubernetesObjectApi;

type Any = Record<string, any>;

function deployment(name: string, namespace: string, annotations: Record<string, string> = {}): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox:1.36' }] },
      },
    },
  } as KubernetesObject;
}

function podOf(namespace: string, app: string): Any | undefined {
  return emu.store
    .list('', 'pods', namespace)
    .find((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp) as Any | undefined;
}

function condition(pod: Any | undefined, type: string): string | undefined {
  return (pod?.status?.conditions as Any[] | undefined)?.find((c) => c.type === type)?.status;
}

async function execStatus(
  pod: string,
  command: string[],
): Promise<{ status?: V1Status; closeCode?: number; stdout: string; error?: string }> {
  let stdout = '';
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      stdout += c.toString();
      cb();
    },
  });
  return new Promise((resolve) => {
    let status: V1Status | undefined;
    new Exec(kc)
      .exec('faults', pod, 'main', command, out, new PassThrough(), null, false, (s) => (status = s))
      .then((ws) =>
        ws.on('close', (code: number) =>
          setTimeout(() => resolve({ ...(status ? { status } : {}), closeCode: code, stdout }), 20),
        ),
      )
      .catch((e: Error) => resolve({ error: e.message, stdout }));
  });
}

beforeAll(async () => {
  emu = await startEmulator({ podReadyDelayMs: 50, crashLoopIntervalMs: 100, seed: 7, runtime: createPlainRuntime });
  kc = new KubeConfig();
  kc.loadFromFile(emu.kubeconfigPath);
  objects = KubernetesObjectApi.makeApiClient(kc);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'faults' } });
  await objects.create(deployment('target', 'faults'));
  await eventually(
    () => (condition(podOf('faults', 'target'), 'Ready') === 'True' ? true : undefined),
    5000,
    'target Ready',
  );
});

afterEach(() => {
  emu.faults.clear();
});

afterAll(async () => {
  await emu?.stop();
});

describe('API faults', () => {
  it('answers matching requests with a 500 InternalError Status, and only those', async () => {
    emu.faults.set([{ kind: 'api-error', code: 500, verbs: ['list'], resources: ['pods'], namespaces: ['faults'] }]);
    const listed = await raw(emu, 'GET', '/api/v1/namespaces/faults/pods');
    expect(listed.status).toBe(500);
    expect(listed.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: injected fault',
      reason: 'InternalError',
      details: { causes: [{ message: 'injected fault' }] },
      code: 500,
    });
    expect((await raw(emu, 'GET', '/api/v1/namespaces/default/pods')).status).toBe(200);
    expect((await raw(emu, 'GET', '/api/v1/namespaces/faults/services')).status).toBe(200);
    const r = await kubectl(emu.kubeconfigPath, ['get', 'pods', '-n', 'faults']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (InternalError): Internal error occurred: injected fault');
    emu.faults.clear();
    expect((await raw(emu, 'GET', '/api/v1/namespaces/faults/pods')).status).toBe(200);
  });

  it('answers 429 with Retry-After, which kubectl honours and then succeeds', async () => {
    emu.faults.set([{ kind: 'api-error', code: 429, retryAfterSeconds: 1, resources: ['configmaps'], times: 2 }]);
    const first = await raw(emu, 'GET', '/api/v1/namespaces/faults/configmaps');
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect(first.json()).toMatchObject({
      reason: 'TooManyRequests',
      message: 'Too many requests, please try again later.',
      details: { retryAfterSeconds: 1 },
      code: 429,
    });
    const started = Date.now();
    const r = await kubectl(emu.kubeconfigPath, ['get', 'configmaps', '-n', 'faults', '-o', 'name']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configmap/kube-root-ca.crt');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(emu.faults.hits()).toEqual([2]);
  });

  it('surfaces in client-node as an ApiException with the Status body and headers', async () => {
    emu.faults.set([{ kind: 'api-error', code: 503, verbs: ['get'], resources: ['namespaces'], retryAfterSeconds: 3 }]);
    const core = kc.makeApiClient(CoreV1Api);
    const error = await core.readNamespace({ name: 'faults' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    const e = error as ApiException<string>;
    expect(e.code).toBe(503);
    expect(e.headers['retry-after']).toBe('3');
    expect(JSON.parse(e.body)).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
  });

  it('fires at the given rate, the same way for the same seed', async () => {
    const pattern = async (): Promise<string> => {
      let out = '';
      for (let i = 0; i < 24; i++)
        out += (await raw(emu, 'GET', '/api/v1/namespaces/faults/secrets')).status === 500 ? 'x' : '.';
      return out;
    };
    const spec = { kind: 'api-error' as const, code: 500, rate: 0.5, resources: ['secrets'] };
    emu.faults.set([spec]);
    const first = await pattern();
    emu.faults.set([spec]);
    expect(await pattern()).toBe(first);
    expect(first).toMatch(/x/);
    expect(first).toMatch(/\./);
    const other = new Faults(8, [spec]);
    const target = { verb: 'list', apiGroup: '', resource: 'secrets', subresource: '', namespace: 'faults', name: '' };
    const otherPattern = Array.from({ length: 24 }, () => (other.apiError(target) ? 'x' : '.')).join('');
    expect(otherPattern).not.toBe(first);
  });
});

describe('exec faults', () => {
  it('rejects the exec upgrade: client-node gets the HTTP status, kubectl the Status message', async () => {
    const pod = podOf('faults', 'target')!.metadata.name as string;
    emu.faults.set([{ kind: 'exec-reject', namespaces: ['faults'] }]);
    expect(await execStatus(pod, ['true'])).toEqual({ error: 'Unexpected server response: 500', stdout: '' });
    const r = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'faults', pod, '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'Error from server: error dialing backend: dial tcp 172.18.0.2:10250: connect: connection refused',
    );
    emu.faults.clear();
    expect((await execStatus(pod, ['true'])).status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('drops the stream mid-way: output so far, no Status, an abnormal close', async () => {
    const pod = podOf('faults', 'target')!.metadata.name as string;
    emu.faults.set([{ kind: 'exec-drop', afterBytes: 6 }]);
    const dropped = await execStatus(pod, ['sh', '-c', 'echo first; sleep 0.2; echo second']);
    expect(dropped).toEqual({ closeCode: 1006, stdout: 'first\n' });
    emu.faults.set([{ kind: 'exec-drop', afterMs: 100 }]);
    const started = Date.now();
    expect(await execStatus(pod, ['sh', '-c', 'sleep 3; echo late'])).toEqual({ closeCode: 1006, stdout: '' });
    expect(Date.now() - started).toBeLessThan(2500);
    emu.faults.set([{ kind: 'exec-drop', afterBytes: 7 }]);
    const r = await kubectl(emu.kubeconfigPath, [
      'exec',
      '-n',
      'faults',
      pod,
      '--',
      'sh',
      '-c',
      'echo before; sleep 5; echo after',
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('before\n');
    expect(r.stderr).toContain(
      'error: error reading from error stream: next reader: websocket: close 1006 (abnormal closure): unexpected EOF',
    );
  });
});

describe('pod faults', () => {
  it('slow-ready (annotation on the template): Running at once, Ready only after the delay', async () => {
    const created = Date.now();
    await objects.create(deployment('slow', 'faults', { 'emulator.meshprobe.dev/fault': 'slow-ready=800ms' }));
    await eventually(
      () => (podOf('faults', 'slow')?.status?.phase === 'Running' ? true : undefined),
      5000,
      'slow Running',
    );
    expect(condition(podOf('faults', 'slow'), 'Ready')).toBe('False');
    await eventually(
      () => (condition(podOf('faults', 'slow'), 'Ready') === 'True' ? true : undefined),
      5000,
      'slow Ready',
    );
    expect(Date.now() - created).toBeGreaterThanOrEqual(800);
  });

  it('never-ready (set at runtime, by selector): Running but never Ready; kubectl wait times out', async () => {
    emu.faults.set([{ kind: 'never-ready', namespaces: ['faults'], labelSelector: 'app=stuck' }]);
    await objects.create(deployment('stuck', 'faults'));
    await eventually(
      () => (podOf('faults', 'stuck')?.status?.phase === 'Running' ? true : undefined),
      5000,
      'stuck Running',
    );
    const r = await kubectl(emu.kubeconfigPath, [
      'wait',
      '--for=condition=Ready',
      'pod',
      '-l',
      'app=stuck',
      '-n',
      'faults',
      '--timeout=1s',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('timed out waiting for the condition');
    const pod = podOf('faults', 'stuck')!;
    expect(pod.status.containerStatuses[0]).toMatchObject({ ready: false, started: true, state: { running: {} } });
    const d = emu.store.get('apps', 'deployments', 'faults', 'stuck') as Any;
    expect(d.status.conditions.find((c: Any) => c.type === 'Available')).toMatchObject({
      status: 'False',
      reason: 'MinimumReplicasUnavailable',
    });
  });

  it('crash-loop: CrashLoopBackOff, a growing restartCount, the last exit code, as kubectl shows it', async () => {
    await objects.create(deployment('crashy', 'faults', { 'emulator.meshprobe.dev/fault': 'crash-loop=2' }));
    const pod = await eventually(
      () => {
        const p = podOf('faults', 'crashy');
        return p && p.status?.containerStatuses?.[0]?.restartCount >= 3 ? p : undefined;
      },
      5000,
      'three restarts',
    );
    const status = pod.status.containerStatuses[0];
    expect(status).toMatchObject({
      ready: false,
      started: false,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
    });
    expect(condition(pod, 'Ready')).toBe('False');
    const backOff = emu.store
      .list('', 'events', 'faults')
      .find((e) => (e as Any).involvedObject.name === pod.metadata.name && (e as Any).reason === 'BackOff') as Any;
    expect(backOff).toMatchObject({
      type: 'Warning',
      message: 'Back-off restarting failed container',
      source: { component: 'kubelet' },
    });
    expect(backOff.count).toBeGreaterThanOrEqual(2);
    const r = await kubectl(emu.kubeconfigPath, ['get', 'pod', '-n', 'faults', pod.metadata.name]);
    expect(r.stdout).toMatch(/crashy-\S+\s+0\/1\s+CrashLoopBackOff\s+\d+ \(\d+s ago\)\s+\d+s/);
    const exec = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'faults', pod.metadata.name, '--', 'true']);
    expect(exec.stderr.trim()).toBe(
      'error: Internal error occurred: unable to upgrade connection: container not found ("main")',
    );
  });
});

describe('fault specs', () => {
  it('parses the CLI form', () => {
    expect(
      parseFaultSpec(
        'api-error code=429 rate=0.3 retry-after=2 verbs=get,list resources=pods namespaces=test1 times=5',
      ),
    ).toEqual({
      kind: 'api-error',
      code: 429,
      rate: 0.3,
      retryAfterSeconds: 2,
      verbs: ['get', 'list'],
      resources: ['pods'],
      namespaces: ['test1'],
      times: 5,
    });
    expect(parseFaultSpec('exec-drop after=200ms')).toEqual({ kind: 'exec-drop', afterMs: 200 });
    expect(parseFaultSpec('slow-ready delay=5s namespaces=test1 selector=app=httpbin')).toEqual({
      kind: 'slow-ready',
      delayMs: 5000,
      namespaces: ['test1'],
      labelSelector: 'app=httpbin',
    });
    expect(parseFaultSpec('crash-loop exit-code=3')).toEqual({ kind: 'crash-loop', exitCode: 3 });
    expect(() => parseFaultSpec('api-error rate=2')).toThrow('rate must be between 0 and 1');
    expect(() => parseFaultSpec('explode')).toThrow('unknown fault kind "explode"');
    expect(() => parseFaultSpec('api-error colour=red')).toThrow('unknown option "colour"');
  });

  it('parses the pod annotation', () => {
    expect(parsePodFaultAnnotation('never-ready')).toEqual({ kind: 'never-ready' });
    expect(parsePodFaultAnnotation('slow-ready=5s')).toEqual({ kind: 'slow-ready', delayMs: 5000 });
    expect(parsePodFaultAnnotation('crash-loop')).toEqual({ kind: 'crash-loop', exitCode: 1 });
    expect(() => parsePodFaultAnnotation('flaky')).toThrow('unknown emulator.meshprobe.dev/fault value "flaky"');
  });
});
