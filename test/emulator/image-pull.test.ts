// The image-pull fault, seen as a client of a real cluster sees a kubelet that cannot pull: container
// states, the kubelet's events and back-off timing (through the store, client-node-free, and kubectl).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Faults, parseFaultSpec } from './api/faults.js';
import type { KubeObject } from './contracts.js';
import { ImageManager, criPullError } from './controllers/image-pull.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, NAMESPACE_YAML } from './testing.js';

type Any = Record<string, any>;

const HTTPBIN = 'docker.io/mccutchen/go-httpbin:v2.15.0';
const MISSING = 'docker.io/mccutchen/go-httpbin:v9.9.9';
let emu: Emulator;
let dir: string;

function deploymentYaml(name: string, annotation?: string, image = HTTPBIN): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
${annotation ? `      annotations:\n        emulator.meshprobe.dev/fault: "${annotation}"\n` : ''}    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: ${name}
          image: ${image}
`;
}

async function apply(namespace: string, yaml: string): Promise<void> {
  const file = join(dir, `${namespace}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const r = await kubectl(emu.kubeconfigPath, ['apply', '-n', namespace, '-f', file]);
  expect(r.code, r.stderr).toBe(0);
}

function podOf(namespace: string, app: string): Any | undefined {
  return emu.store.list('', 'pods', namespace).find((p) => p.metadata.labels?.app === app) as Any | undefined;
}

const isReady = (p: Any | undefined): boolean =>
  (p?.status?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');

async function events(namespace: string, pod: string): Promise<string[]> {
  const r = await kubectl(emu.kubeconfigPath, [
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.name=${pod}`,
    '-o',
    'jsonpath={range .items[*]}{.type}|{.reason}|{.count}|{.message}{"\\n"}{end}',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-pull-test-'));
  // The kubelet's durations at 1/100: back-off 100 ms doubling to 3 s, sync retries 10 ms then 100-150 ms.
  emu = await startEmulator({ podReadyDelayMs: 50, kubeletTimeScale: 0.01, runtime: createPlainRuntime });
  for (const [ns, labels] of [
    ['pull', {}],
    ['pull-mesh', { 'istio-injection': 'enabled' }],
  ] as const) {
    const file = join(dir, `${ns}.yaml`);
    writeFileSync(file, NAMESPACE_YAML(ns, labels));
    expect((await kubectl(emu.kubeconfigPath, ['apply', '-f', file])).code).toBe(0);
  }
});

afterEach(() => emu.faults.clear());

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('image-pull fault', () => {
  it('transient (a Docker Hub 429 twice): ErrImagePull, ImagePullBackOff with a doubling back-off, then Running', async () => {
    emu.faults.set([{ kind: 'image-pull', times: 2, namespaces: ['pull'], images: ['*go-httpbin*'] }]);
    const states: Array<{ at: number; reason: string; message?: string }> = [];
    const stop = emu.store.subscribe((e) => {
      if (e.resource !== 'pods' || e.object.metadata.labels?.app !== 'flaky') return;
      const s = (e.object.status as Any | undefined)?.containerStatuses?.[0]?.state;
      const reason = s?.waiting?.reason ?? (s?.running ? 'Running' : undefined);
      if (reason && states.at(-1)?.reason !== reason)
        states.push({ at: Date.now(), reason, message: s?.waiting?.message });
    });
    await apply('pull', deploymentYaml('flaky'));
    await eventually(() => (isReady(podOf('pull', 'flaky')) ? true : undefined), 10_000, 'flaky Ready');
    stop();
    expect(states.map((s) => s.reason)).toEqual([
      'ContainerCreating',
      'ErrImagePull',
      'ImagePullBackOff',
      'ErrImagePull',
      'ImagePullBackOff',
      'Running',
    ]);
    const pulls = states.filter((s) => s.reason === 'ErrImagePull' || s.reason === 'Running').map((s) => s.at);
    // flowcontrol back-off: 10 s, then 20 s (here / 100) before the next pull may start.
    expect(pulls[1]! - pulls[0]!).toBeGreaterThanOrEqual(100);
    expect(pulls[2]! - pulls[1]!).toBeGreaterThanOrEqual(200);
    expect(states[1]!.message).toBe(
      `failed to pull and unpack image "${HTTPBIN}": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/mccutchen/go-httpbin/manifests/${criPullError(HTTPBIN, { permanent: false, message: 'toomanyrequests' }).match(/sha256:[0-9a-f]{64}/)![0]}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`,
    );
    expect(states[2]!.message).toBe(`Back-off pulling image "${HTTPBIN}"`);

    const pod = podOf('pull', 'flaky')!;
    const lines = await events('pull', pod.metadata.name);
    const reasons = lines.map((l) => l.split('|').slice(0, 3).join('|'));
    expect(reasons).toEqual(
      expect.arrayContaining([
        'Normal|Scheduled|1',
        'Normal|Pulling|3',
        'Warning|Failed|2',
        'Normal|BackOff|2',
        'Normal|Pulled|1',
        'Normal|Created|1',
        'Normal|Started|1',
      ]),
    );
    expect(lines).toContain(`Warning|Failed|2|Error: ErrImagePull`);
    expect(lines).toContain(`Warning|Failed|2|Error: ImagePullBackOff`);
    expect(lines.find((l) => l.includes('|Pulled|'))).toMatch(
      new RegExp(
        `^Normal\\|Pulled\\|1\\|Successfully pulled image "${HTTPBIN.replace(/[.]/g, '\\.')}" in \\d+m?s \\(\\d+m?s including waiting\\)\\. Image size: \\d+ bytes\\.$`,
      ),
    );
    expect(emu.faults.hits()).toEqual([2]);

    // The image is on the node now: the next pod finds it there.
    await apply('pull', deploymentYaml('again'));
    await eventually(() => (isReady(podOf('pull', 'again')) ? true : undefined), 5000, 'again Ready');
    expect(await events('pull', podOf('pull', 'again')!.metadata.name)).toContain(
      `Normal|Pulled|1|Container image "${HTTPBIN}" already present on machine`,
    );
  });

  it('permanent, from the template annotation: never Ready; kubectl shows ImagePullBackOff and the reason', async () => {
    // A tag the node has not pulled yet (go-httpbin:v2.15.0 is there since the first test).
    await apply('pull', deploymentYaml('gone', 'image-pull permanent', MISSING));
    await eventually(
      () => {
        const s = podOf('pull', 'gone')?.status?.containerStatuses?.[0];
        return s?.state?.waiting?.reason === 'ImagePullBackOff' ? s : undefined;
      },
      5000,
      'ImagePullBackOff',
    );
    const pod = podOf('pull', 'gone')!;
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.containerStatuses[0]).toMatchObject({
      image: MISSING,
      imageID: '',
      ready: false,
      started: false,
    });
    expect(pod.status.conditions.find((c: Any) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [gone]',
    });
    const get = await kubectl(emu.kubeconfigPath, ['get', 'pod', '-n', 'pull', pod.metadata.name, '--no-headers']);
    expect(get.stdout).toMatch(/\s0\/1\s+(ImagePullBackOff|ErrImagePull)\s+0\s/);
    const describe = await kubectl(emu.kubeconfigPath, ['describe', 'pod', '-n', 'pull', pod.metadata.name]);
    expect(describe.stdout).toMatch(/State:\s+Waiting\n\s+Reason:\s+(ImagePullBackOff|ErrImagePull)/);
    expect(describe.stdout).toContain(
      `Failed to pull image "${MISSING}": rpc error: code = NotFound desc = failed to pull and unpack image "${MISSING}": failed to resolve reference "${MISSING}": ${MISSING}: not found`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(isReady(podOf('pull', 'gone'))).toBe(false);
  });

  it('on the sidecar image of an injected pod: istio-init cannot start, kubectl shows Init:ErrImagePull', async () => {
    emu.faults.set([
      {
        kind: 'image-pull',
        permanent: true,
        message: 'unauthorized',
        namespaces: ['pull-mesh'],
        images: ['*proxyv2*'],
      },
    ]);
    await apply('pull-mesh', deploymentYaml('meshed'));
    const pod = await eventually(
      () => {
        const p = podOf('pull-mesh', 'meshed');
        return p?.status?.initContainerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
      },
      5000,
      'Init:ImagePullBackOff',
    );
    expect(pod.status.initContainerStatuses[0].name).toBe('istio-init');
    expect(pod.status.containerStatuses.map((s: Any) => s.state.waiting.reason)).toEqual([
      'PodInitializing',
      'PodInitializing',
    ]);
    expect(pod.status.conditions.find((c: Any) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      message: 'containers with incomplete status: [istio-init]',
    });
    const get = await kubectl(emu.kubeconfigPath, ['get', 'pod', '-n', 'pull-mesh', pod.metadata.name, '--no-headers']);
    expect(get.stdout).toMatch(/\s0\/2\s+Init:(ImagePullBackOff|ErrImagePull)\s/);
    const image = 'docker.io/istio/proxyv2:1.24.2';
    expect((await events('pull-mesh', pod.metadata.name)).map((l) => l.replace(/\|\d+\|/, '|n|'))).toContain(
      `Warning|Failed|n|Failed to pull image "${image}": failed to pull and unpack image "${image}": failed to resolve reference "${image}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    );
  });
});

describe('image back-off, unscaled', () => {
  it('uses the kubelet constants: 10 s, doubling, at most 300 s', () => {
    let now = 1_000_000;
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const faults = new Faults(1, [{ kind: 'image-pull' }]);
      const images = new ImageManager(faults, 1);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'x', uid: 'u' } } as KubeObject;
      const container = { name: 'c', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' };
      const quiet = { normal: () => undefined, warning: () => undefined };
      const gaps: number[] = [];
      let last = now;
      expect(images.ensure(pod, container, quiet)).toMatchObject({ ok: false, reason: 'ErrImagePull' });
      while (gaps.length < 7) {
        now += 1000;
        const r = images.ensure(pod, container, quiet);
        if (r.ok === false && r.reason === 'ErrImagePull') {
          gaps.push(now - last);
          last = now;
        }
      }
      expect(gaps).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    } finally {
      spy.mockRestore();
    }
  });

  it('parses the fault from the command line', () => {
    expect(parseFaultSpec('image-pull times=3 images=nginx*,busybox')).toEqual({
      kind: 'image-pull',
      times: 3,
      images: ['nginx*', 'busybox'],
    });
    expect(parseFaultSpec('image-pull permanent message="manifest for x not found" namespaces=test1')).toEqual({
      kind: 'image-pull',
      permanent: true,
      message: 'manifest for x not found',
      namespaces: ['test1'],
    });
    expect(() => parseFaultSpec('image-pull permanent times=2')).toThrow('a permanent failure has no times=N');
  });
});
