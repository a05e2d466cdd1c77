// The exec wire protocol frame by frame (v5 and v4), and the runtime seam: what the API server asks of a
// ContainerRuntime and when.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ContainerRuntime, ExecRequest, KubeObject, RuntimeContext } from './contracts.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, raw } from './testing.js';

type Any = Record<string, any>;

interface Frames {
  protocol: string;
  frames: Array<{ channel: number; text: string }>;
  closeCode: number;
}

let emu: Emulator;
const calls: string[] = [];
let lastExec: ExecRequest | undefined;
let runtimeContext: RuntimeContext | undefined;

/** The plain runtime, with every call the API server makes recorded. */
function recordingRuntime(ctx: RuntimeContext): ContainerRuntime {
  runtimeContext = ctx;
  const plain = createPlainRuntime(ctx);
  const describe = (pod: KubeObject): string =>
    `${pod.metadata.namespace}/${pod.metadata.name} ip=${String((pod.status as Any | undefined)?.podIP)}`;
  return {
    async startPod(pod) {
      calls.push(`start ${describe(pod)}`);
      await plain.startPod(pod);
    },
    async stopPod(pod) {
      calls.push(`stop ${describe(pod)} deleting=${Boolean(pod.metadata.deletionTimestamp)}`);
      await plain.stopPod(pod);
    },
    exec(req) {
      lastExec = req;
      return plain.exec(req);
    },
    close: () => plain.close(),
  };
}

function execWs(path: string, protocols: string[], send: (ws: WebSocket) => void = () => undefined): Promise<Frames> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${emu.port}${path}`, protocols, {
      ca: emu.caPem,
      headers: { Authorization: `Bearer ${emu.token}` },
    });
    const frames: Frames['frames'] = [];
    ws.on('open', () => send(ws));
    ws.on('message', (data: Buffer) =>
      frames.push({ channel: data[0] ?? -1, text: data.subarray(1).toString('utf8') }),
    );
    ws.on('close', (code) => resolve({ protocol: ws.protocol, frames, closeCode: code }));
    ws.on('error', reject);
  });
}

const query = (command: string[], extra = 'stdout=true&stderr=true'): string =>
  `${extra}&${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&container=c`;

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 10, podTerminationMs: 50, runtime: recordingRuntime });
  const r = await raw(emu, 'POST', '/api/v1/namespaces/default/pods', {
    body: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: wire\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n    env:\n    - name: MY_IP\n      valueFrom:\n        fieldRef:\n          fieldPath: status.podIP\n',
    headers: { 'Content-Type': 'application/yaml' },
  });
  expect(r.status).toBe(201);
  await eventually(
    () => ((emu.store.get('', 'pods', 'default', 'wire')?.status as Any)?.phase === 'Running' ? true : undefined),
    5000,
    'wire running',
  );
});

afterAll(async () => {
  await emu?.stop();
});

describe('exec over v5.channel.k8s.io', () => {
  it('sends an empty stdout frame, the output, one Status on channel 3, then closes with 1000', async () => {
    const out = await execWs(
      `/api/v1/namespaces/default/pods/wire/exec?${query(['sh', '-c', 'echo out; echo err >&2; echo "ip=$MY_IP"; exit 3'])}`,
      ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    );
    expect(out.protocol).toBe('v5.channel.k8s.io');
    expect(out.frames[0]).toEqual({ channel: 1, text: '' });
    const text = (ch: number): string =>
      out.frames
        .filter((f) => f.channel === ch)
        .map((f) => f.text)
        .join('');
    const ip = (emu.store.get('', 'pods', 'default', 'wire')?.status as Any).podIP as string;
    expect(text(1)).toBe(`out\nip=${ip}\n`);
    expect(text(2)).toBe('err\n');
    const statuses = out.frames.filter((f) => f.channel === 3);
    expect(statuses).toHaveLength(1);
    expect(out.frames.at(-1)?.channel).toBe(3);
    expect(JSON.parse(statuses[0]!.text)).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: command terminated with exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(out.frames.some((f) => f.channel === 255)).toBe(false);
    expect(out.closeCode).toBe(1000);
  });

  it('takes stdin on channel 0 and ends it on the [255, 0] close signal', async () => {
    const out = await execWs(
      `/api/v1/namespaces/default/pods/wire/exec?${query(['sh', '-c', 'cat; echo done'], 'stdin=true&stdout=true&stderr=true')}`,
      ['v5.channel.k8s.io'],
      (ws) => {
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('from stdin\n')]));
        ws.send(Buffer.from([255, 0]));
      },
    );
    expect(
      out.frames
        .filter((f) => f.channel === 1)
        .map((f) => f.text)
        .join(''),
    ).toBe('from stdin\ndone\n');
    expect(JSON.parse(out.frames.at(-1)!.text)).toEqual({ metadata: {}, status: 'Success' });
    expect(lastExec?.container).toBe('c');
    expect(lastExec?.command).toEqual(['sh', '-c', 'cat; echo done']);
  });

  it('opens with an empty stderr frame when stdout is not requested', async () => {
    const out = await execWs(`/api/v1/namespaces/default/pods/wire/exec?${query(['true'], 'stderr=true')}`, [
      'v5.channel.k8s.io',
    ]);
    expect(out.frames[0]).toEqual({ channel: 2, text: '' });
  });
});

describe('a client that dies mid-exec', () => {
  // A client killed while its receive buffer is full makes the kernel answer the server's next write
  // with a reset: the server must take that as the client leaving (kill the command), not crash.
  const CLIENT = [
    "import WebSocket from 'ws';",
    'const [url, token, ca] = process.argv.slice(1);',
    "const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: Buffer.from(ca, 'base64').toString(), headers: { Authorization: 'Bearer ' + token } });",
    "ws.on('error', () => undefined);",
    "ws.once('message', () => { ws._socket.pause(); console.log('paused'); });",
  ].join('\n');

  it('kills the command and keeps serving, with no unhandled error', async () => {
    const { spawn } = await import('node:child_process');
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => {
      uncaught.push(e);
    };
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 3; i++) {
        const command = ['sh', '-c', 'while true; do echo floodfloodfloodflood; done'];
        const url = `wss://127.0.0.1:${emu.port}/api/v1/namespaces/default/pods/wire/exec?${query(command, 'stdout=true')}`;
        const child = spawn(
          process.execPath,
          ['--input-type=module', '-e', CLIENT, url, emu.token, Buffer.from(emu.caPem).toString('base64')],
          { cwd: import.meta.dirname },
        );
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
        await new Promise((r) => setTimeout(r, 200));
        child.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 200));
      }
      const shells = () => Number(floodingChildren().trim() || 0);
      await eventually(() => (shells() === 0 ? true : undefined), 5000, 'the flooding shells to be killed');
      const after = await execWs(`/api/v1/namespaces/default/pods/wire/exec?${query(['echo', 'still here'])}`, [
        'v5.channel.k8s.io',
      ]);
      expect(
        after.frames
          .filter((f) => f.channel === 1)
          .map((f) => f.text)
          .join(''),
      ).toBe('still here\n');
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

/** How many of this process's children run the flooding loop. */
function floodingChildren(): string {
  return spawnSync('sh', [
    '-c',
    `ps -o args= --ppid ${process.pid} | grep -c '^sh -c while true; do echo [f]lood' || true`,
  ]).stdout.toString();
}

describe('exec over v4.channel.k8s.io', () => {
  it('ends with the kubelet-worded Status and a normal close', async () => {
    const out = await execWs(`/api/v1/namespaces/default/pods/wire/exec?${query(['sh', '-c', 'echo v4; exit 5'])}`, [
      'v4.channel.k8s.io',
      'channel.k8s.io',
    ]);
    expect(out.protocol).toBe('v4.channel.k8s.io');
    expect(
      out.frames
        .filter((f) => f.channel === 1)
        .map((f) => f.text)
        .join(''),
    ).toBe('v4\n');
    expect(JSON.parse(out.frames.at(-1)!.text)).toMatchObject({
      reason: 'NonZeroExitCode',
      message:
        'command terminated with non-zero exit code: error executing command [sh -c echo v4; exit 5], exit code 5',
    });
    expect(out.closeCode).toBe(1000);
  });

  it('refuses subprotocols it does not serve before upgrading', async () => {
    await expect(
      execWs(`/api/v1/namespaces/default/pods/wire/exec?${query(['true'])}`, ['base64.channel.k8s.io']),
    ).rejects.toThrow('Unexpected server response: 400');
  });
});

describe('the runtime seam', () => {
  it('hands the runtime the store, flavor, mesh CA and a work directory', () => {
    expect(runtimeContext?.store).toBe(emu.store);
    expect(runtimeContext?.istio).toBe('none');
    expect(runtimeContext?.meshCA.certPem).toContain('BEGIN CERTIFICATE');
    expect(runtimeContext?.clusterDomain).toBe('cluster.local');
    expect(runtimeContext?.workDir).toMatch(/meshprobe-emulator-/);
  });

  it('starts a pod once it has its IP, and stops it on delete (graceful: while Terminating; grace 0: at once)', async () => {
    calls.length = 0;
    for (const [name, grace] of [
      ['graceful', 30],
      ['immediate', 0],
    ] as const) {
      const r = await raw(emu, 'POST', '/api/v1/namespaces/default/pods', {
        body: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name },
          spec: { terminationGracePeriodSeconds: grace, containers: [{ name: 'c', image: 'busybox:1.36' }] },
        }),
      });
      expect(r.status).toBe(201);
    }
    await eventually(() => (calls.length === 2 ? true : undefined), 5000, 'two pods started');
    expect(calls.every((c) => /^start default\/(graceful|immediate) ip=10\.244\.\d+\.\d+$/.test(c))).toBe(true);

    const graceful = await raw(emu, 'DELETE', '/api/v1/namespaces/default/pods/graceful');
    expect(graceful.json().metadata.deletionTimestamp).toBeDefined();
    expect(emu.store.get('', 'pods', 'default', 'graceful')?.metadata.deletionTimestamp).toBeDefined();
    const immediate = await raw(emu, 'DELETE', '/api/v1/namespaces/default/pods/immediate');
    expect(immediate.json()).toMatchObject({ kind: 'Pod', metadata: { name: 'immediate' } });
    expect(emu.store.get('', 'pods', 'default', 'immediate')).toBeUndefined();
    await eventually(
      () => (emu.store.get('', 'pods', 'default', 'graceful') ? undefined : true),
      5000,
      'graceful gone',
    );
    expect(calls.slice(2).sort()).toEqual([
      expect.stringMatching(/^stop default\/graceful .* deleting=true$/),
      expect.stringMatching(/^stop default\/immediate .* deleting=false$/),
    ]);
  });
});
