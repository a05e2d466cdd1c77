// Kubelet-side exec failures (the exec-status fault) as a 1.30+ API server reports them: after the 101 on
// v5 (the stream translator), before the upgrade on v4 (the proxied kubelet); and the 400 a container name
// the pod lacks gets before any upgrade.
import { PassThrough, Writable } from 'node:stream';
import { Exec, KubeConfig, KubernetesObjectApi, type KubernetesObject, type V1Status } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseFaultSpec } from './api/faults.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl } from './testing.js';

type Any = Record<string, any>;

interface Frames {
  protocol: string;
  frames: Array<{ channel: number; text: string; at: number }>;
  closeCode: number;
  openedAt: number;
}

type Refusal = { status: number; contentType: string | undefined; body: string };

let emu: Emulator;
let kc: KubeConfig;
let pod: string;
let ran = 0;

/** Opens an exec WebSocket; resolves with the frames, or with the HTTP answer of a refused upgrade. */
function execWs(path: string, protocols: string[]): Promise<Frames | Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${emu.port}${path}`, protocols, {
      ca: emu.caPem,
      headers: { Authorization: `Bearer ${emu.token}` },
    });
    const frames: Frames['frames'] = [];
    let openedAt = 0;
    ws.on('open', () => (openedAt = Date.now()));
    ws.on('message', (data: Buffer) =>
      frames.push({ channel: data[0] ?? -1, text: data.subarray(1).toString('utf8'), at: Date.now() }),
    );
    ws.on('close', (code) => resolve({ protocol: ws.protocol, frames, closeCode: code, openedAt }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body } as Refusal),
      );
    });
    ws.on('error', reject);
  });
}

// The command leaves a mark, so a test can tell whether it ran.
const COMMAND = ['sh', '-c', 'echo ran'];
const execPath = (container = 'main', command = COMMAND): string =>
  `/api/v1/namespaces/status/pods/${pod}/exec?stdout=true&stderr=true&container=${container}&${command
    .map((c) => `command=${encodeURIComponent(c)}`)
    .join('&')}`;

function frames(result: Frames | Refusal): Frames {
  if (!('frames' in result)) throw new Error(`upgrade refused: ${result.status} ${result.body}`);
  ran += result.frames.filter((f) => f.channel === 1 && f.text === 'ran\n').length;
  return result;
}

function refusal(result: Frames | Refusal): Refusal {
  if ('frames' in result) throw new Error(`upgraded (${result.protocol}), expected a refusal`);
  return result;
}

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 20, runtime: createPlainRuntime });
  kc = new KubeConfig();
  kc.loadFromFile(emu.kubeconfigPath);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'status' } });
  await objects.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sleep-7d4b9c8f5-x2kqp', namespace: 'status' },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
  } as KubernetesObject);
  pod = 'sleep-7d4b9c8f5-x2kqp';
  await eventually(
    () =>
      (emu.store.get('', 'pods', 'status', pod)?.status as Any | undefined)?.phase === 'Running' ? true : undefined,
    5000,
    'pod running',
  );
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await emu?.stop();
});

describe('exec-status on v5.channel.k8s.io (the stream translator)', () => {
  it('upgrades, sends the connected frame, then the given Status on channel 3 and a normal close; nothing runs', async () => {
    emu.faults.set([
      {
        kind: 'exec-status',
        code: 503,
        reason: 'ServiceUnavailable',
        message: 'the server is currently unable to handle the request',
        namespaces: ['status'],
      },
    ]);
    const before = ran;
    const out = frames(await execWs(execPath(), ['v5.channel.k8s.io', 'v4.channel.k8s.io']));
    expect(out.protocol).toBe('v5.channel.k8s.io');
    expect(out.frames.map((f) => f.channel)).toEqual([1, 3]);
    expect(out.frames[0]?.text).toBe('');
    expect(JSON.parse(out.frames[1]!.text)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'the server is currently unable to handle the request',
      reason: 'ServiceUnavailable',
      code: 503,
    });
    expect(out.closeCode).toBe(1000);
    expect(ran).toBe(before);
    expect(emu.faults.hits()).toEqual([1]);
  });

  it("backend-refused: the InternalError the translator makes of client-go's dial error, naming the kubelet URL", async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'backend-refused' }]);
    const out = frames(await execWs(execPath('main', ['sh', '-c', 'echo "a b"']), ['v5.channel.k8s.io']));
    const cause = `error sending request: Post "https://172.18.0.2:10250/exec/status/${pod}/main?command=sh&command=-c&command=echo+%22a+b%22&error=1&output=1": dial tcp 172.18.0.2:10250: connect: connection refused`;
    expect(JSON.parse(out.frames.at(-1)!.text)).toEqual({
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${cause}`,
      reason: 'InternalError',
      details: { causes: [{ message: cause }] },
      code: 500,
    });
  });

  it("container-not-found and pod-not-found: the kubelet's plain-text refusal, wrapped twice", async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'container-not-found', times: 1 }]);
    const first = frames(await execWs(execPath(), ['v5.channel.k8s.io']));
    expect(JSON.parse(first.frames.at(-1)!.text)).toMatchObject({
      message: 'Internal error occurred: unable to upgrade connection: container not found ("main")',
      reason: 'InternalError',
      code: 500,
    });
    // times=1: the next exec runs.
    const second = frames(await execWs(execPath(), ['v5.channel.k8s.io']));
    expect(JSON.parse(second.frames.at(-1)!.text)).toEqual({ metadata: {}, status: 'Success' });
    emu.faults.set([{ kind: 'exec-status', preset: 'pod-not-found' }]);
    const gone = frames(await execWs(execPath(), ['v5.channel.k8s.io']));
    expect(JSON.parse(gone.frames.at(-1)!.text)).toMatchObject({
      message: 'Internal error occurred: unable to upgrade connection: pod does not exist',
      reason: 'InternalError',
      code: 500,
    });
  });

  it('backend-timeout: the Status comes only after the dial gave up (delay=), with the i/o timeout', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'backend-timeout', delayMs: 400 }]);
    const out = frames(await execWs(execPath(), ['v5.channel.k8s.io']));
    const status = out.frames.at(-1)!;
    expect(status.at - out.openedAt).toBeGreaterThanOrEqual(380);
    expect(JSON.parse(status.text).message).toMatch(/: dial tcp 172\.18\.0\.2:10250: i\/o timeout$/);
  });

  it('reaches client-node as a Status in the status callback, after a normal open', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'container-not-found' }]);
    const status = await new Promise<V1Status | undefined>((resolve, reject) => {
      let seen: V1Status | undefined;
      new Exec(kc)
        .exec(
          'status',
          pod,
          'main',
          ['true'],
          new Writable({ write: (_c, _e, cb) => cb() }),
          new PassThrough(),
          null,
          false,
          (s) => (seen = s),
        )
        .then((ws) => ws.on('close', () => setTimeout(() => resolve(seen), 20)))
        .catch(reject);
    });
    expect(status).toMatchObject({
      status: 'Failure',
      reason: 'InternalError',
      code: 500,
      message: 'Internal error occurred: unable to upgrade connection: container not found ("main")',
    });
  });

  it('is what kubectl exec prints, with exit code 1', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'container-not-found' }]);
    const r = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'status', pod, '--', 'echo', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(
      'error: Internal error occurred: unable to upgrade connection: container not found ("main")',
    );
    emu.faults.set([
      { kind: 'exec-status', code: 500, reason: 'InternalError', message: 'Internal error occurred: boom' },
    ]);
    const custom = await kubectl(emu.kubeconfigPath, ['exec', '-n', 'status', pod, '--', 'true']);
    expect(custom.stderr.trim()).toBe('error: Internal error occurred: boom');
  });
});

describe('exec-status on v4.channel.k8s.io (proxied to the kubelet)', () => {
  it('presets refuse before the upgrade, as the kubelet or the upgrade-aware proxy answers', async () => {
    emu.faults.set([{ kind: 'exec-status', preset: 'container-not-found' }]);
    expect(refusal(await execWs(execPath(), ['v4.channel.k8s.io']))).toEqual({
      status: 500,
      contentType: 'text/plain; charset=utf-8',
      body: 'container not found ("main")',
    });
    emu.faults.set([{ kind: 'exec-status', preset: 'pod-not-found' }]);
    expect(refusal(await execWs(execPath(), ['v4.channel.k8s.io']))).toMatchObject({
      status: 404,
      body: 'pod does not exist',
    });
    emu.faults.set([{ kind: 'exec-status', preset: 'backend-refused' }]);
    const dial = refusal(await execWs(execPath(), ['v4.channel.k8s.io']));
    expect(dial.status).toBe(500);
    expect(JSON.parse(dial.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'error dialing backend: dial tcp 172.18.0.2:10250: connect: connection refused',
      code: 500,
    });
  });

  it('a given Status comes after the upgrade, on channel 3, as the kubelet frames it', async () => {
    emu.faults.set([
      { kind: 'exec-status', code: 500, reason: 'InternalError', message: 'Internal error occurred: x' },
    ]);
    const out = frames(await execWs(execPath(), ['v4.channel.k8s.io']));
    expect(out.protocol).toBe('v4.channel.k8s.io');
    expect(out.frames.map((f) => f.channel)).toEqual([1, 3]);
    expect(JSON.parse(out.frames[1]!.text)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: x',
      reason: 'InternalError',
      code: 500,
    });
  });
});

describe('a container name the pod lacks', () => {
  it('is refused with 400 before any upgrade, with the Status the API server sends', async () => {
    const r = refusal(await execWs(execPath('nope'), ['v5.channel.k8s.io']));
    expect(r.status).toBe(400);
    expect(r.contentType).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `container nope is not valid for pod ${pod}`,
      reason: 'BadRequest',
      code: 400,
    });
    // The check comes before the faults: an armed exec-status does not change the answer.
    emu.faults.set([{ kind: 'exec-status', preset: 'backend-refused' }]);
    expect(refusal(await execWs(execPath('nope'), ['v5.channel.k8s.io'])).status).toBe(400);
    expect(emu.faults.hits()).toEqual([0]);
  });
});

describe('an exec without a container, in a pod that has several', () => {
  it('is refused with 400, listing init, app and ephemeral containers as validateContainer does', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'two', namespace: 'status' },
      spec: {
        initContainers: [{ name: 'istio-init', image: 'busybox:1.36' }],
        containers: [
          { name: 'sleep', image: 'busybox:1.36' },
          { name: 'istio-proxy', image: 'busybox:1.36' },
        ],
      },
    } as KubernetesObject);
    await eventually(
      () => ((emu.store.get('', 'pods', 'status', 'two')?.spec as Any | undefined)?.nodeName ? true : undefined),
      5000,
      'two scheduled',
    );
    const r = refusal(
      await execWs('/api/v1/namespaces/status/pods/two/exec?stdout=true&command=true', ['v5.channel.k8s.io']),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).message).toBe(
      'a container name must be specified for pod two, choose one of: [istio-init sleep istio-proxy]',
    );
  });
});

describe('the exec-status spec', () => {
  it('parses presets, quoted messages and delays, and refuses contradictions', () => {
    expect(parseFaultSpec('exec-status preset=backend-timeout delay=2s namespaces=test1 rate=0.5')).toEqual({
      kind: 'exec-status',
      preset: 'backend-timeout',
      delayMs: 2000,
      namespaces: ['test1'],
      rate: 0.5,
    });
    expect(
      parseFaultSpec('exec-status code=503 reason=ServiceUnavailable message="the server is unable" names=sleep-*'),
    ).toEqual({
      kind: 'exec-status',
      code: 503,
      reason: 'ServiceUnavailable',
      message: 'the server is unable',
      names: ['sleep-*'],
    });
    expect(() => parseFaultSpec('exec-status preset=flaky')).toThrow('unknown preset "flaky"');
    expect(() => parseFaultSpec('exec-status preset=pod-not-found code=404')).toThrow('not both');
    expect(() => parseFaultSpec('exec-status code=500')).toThrow('give a preset');
    expect(() => parseFaultSpec('exec-status message="open')).toThrow('unclosed');
  });
});
