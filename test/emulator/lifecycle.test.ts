// Starting and stopping the emulator: in-process (nothing left behind), from the command line, at the
// scale meshprobe runs at, and with the overhead an exec adds.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Exec, KubeConfig, KubernetesObjectApi, type KubernetesObject, type V1Status } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl } from './testing.js';

type Any = Record<string, any>;

const ROOT = join(import.meta.dirname, '../..');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function execOnce(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  command: string[],
  onStdout?: (text: string) => void,
): Promise<V1Status> {
  const out = new Writable({
    write(c: Buffer, _e, cb) {
      onStdout?.(c.toString());
      cb();
    },
  });
  return new Promise((resolve, reject) => {
    new Exec(kc).exec(namespace, pod, 'c', command, out, new PassThrough(), null, false, resolve).catch(reject);
  });
}

async function runningPod(emu: Emulator, kc: KubeConfig, namespace: string, name: string): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kc).create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
  } as KubernetesObject);
  await eventually(
    () => ((emu.store.get('', 'pods', namespace, name)?.status as Any)?.phase === 'Running' ? true : undefined),
    5000,
    `${name} running`,
  );
}

describe('in-process lifecycle', () => {
  it('stop() leaves no listening socket, timer, watch, exec or child process behind', async () => {
    const before = activeResources();
    const emu = await startEmulator({ podReadyDelayMs: 10, runtime: createPlainRuntime });
    const kc = new KubeConfig();
    kc.loadFromFile(emu.kubeconfigPath);
    await runningPod(emu, kc, 'default', 'busy');
    let pid = 0;
    void execOnce(
      kc,
      'default',
      'busy',
      ['sh', '-c', 'echo $$; exec sleep 30'],
      (t) => (pid = pid || Number(t.trim())),
    ).catch(() => undefined);
    await eventually(() => (pid > 0 ? true : undefined), 5000, 'the exec to start');
    const watchEnded = new Promise<void>((resolve) => {
      void fetchWatch(emu).then(resolve);
    });
    await eventually(() => (processAlive(pid) ? true : undefined), 2000, 'sleep running');
    const dir = emu.kubeconfigPath.replace(/\/kubeconfig$/, '');
    expect(existsSync(dir)).toBe(true);

    await emu.stop();
    await watchEnded;
    expect(await portOpen(emu.port)).toBe(false);
    await eventually(() => (processAlive(pid) ? undefined : true), 2000, 'the exec process to be gone');
    expect(existsSync(dir)).toBe(false);
    const children = spawnSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)])
      .stdout.toString()
      .split('\n')
      .filter((l) => l.trim() && !l.includes(' ps'));
    expect(children).toEqual([]);
    // Let closed handles unwind before counting what is left.
    await new Promise((r) => setTimeout(r, 50));
    const after = activeResources();
    for (const kind of ['Timeout', 'Immediate', 'TCPServerWrap', 'TCPSocketWrap', 'ProcessWrap']) {
      expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
    }
    await emu.stop();
  });

  it('refuses a port that is taken, cleanly', async () => {
    const first = await startEmulator({ istio: 'none', runtime: createPlainRuntime });
    try {
      await expect(startEmulator({ istio: 'none', port: first.port, runtime: createPlainRuntime })).rejects.toThrow(
        /EADDRINUSE/,
      );
    } finally {
      await first.stop();
    }
  });

  // How long this takes is printed, not asserted: a timed unit test fails on a busy machine, not on a slow
  // emulator (the emulator's speed is measured by test/bench/, against a baseline in the same run).
  it('starts 30 namespaces x 2 pods, all Ready', async () => {
    const emu = await startEmulator({ podReadyDelayMs: 200, runtime: createPlainRuntime });
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(emu.kubeconfigPath);
      const api = KubernetesObjectApi.makeApiClient(kc);
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const ns = `scale-${i}`;
          await api.create({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: ns, labels: { 'istio-injection': 'enabled' } },
          });
          for (const app of ['httpbin', 'sleep']) {
            await api.create({
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              metadata: { name: app, namespace: ns },
              spec: {
                selector: { matchLabels: { app } },
                template: {
                  metadata: { labels: { app } },
                  spec: { containers: [{ name: app, image: 'busybox:1.36' }] },
                },
              },
            } as KubernetesObject);
          }
        }),
      );
      await eventually(
        () => {
          const pods = emu.store.list('', 'pods').filter((p) => p.metadata.namespace?.startsWith('scale-'));
          const ready = pods.filter((p) =>
            ((p.status as Any)?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True'),
          );
          return ready.length === 60 ? true : undefined;
        },
        15_000,
        '60 Ready pods',
      );
      const elapsed = Date.now() - started;
      console.log(`emulator scale: 30 namespaces x 2 pods created and Ready in ${elapsed} ms (200 ms ready delay)`);
    } finally {
      await emu.stop();
    }
  });

  it('answers 21 execs in a row through client-node, each a Success', async () => {
    const emu = await startEmulator({ istio: 'none', podReadyDelayMs: 10, runtime: createPlainRuntime });
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(emu.kubeconfigPath);
      await runningPod(emu, kc, 'default', 'fast');
      const rounds = 21;
      // Medians, so that a busy CI machine's outliers do not decide.
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      await execOnce(kc, 'default', 'fast', ['true']);
      const viaExec: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        expect((await execOnce(kc, 'default', 'fast', ['true'])).status).toBe('Success');
        viaExec.push(performance.now() - t);
      }
      const direct: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        await new Promise((r) => spawn('true').once('close', r));
        direct.push(performance.now() - t);
      }
      console.log(
        `emulator exec: median ${median(viaExec).toFixed(1)} ms per exec through client-node (TLS + WebSocket) vs ${median(direct).toFixed(1)} ms for the bare spawn`,
      );
      expect(viaExec).toHaveLength(rounds);
    } finally {
      await emu.stop();
    }
  });
});

/** An open watch; resolves when the server ends it. */
function fetchWatch(emu: Emulator): Promise<void> {
  return new Promise((resolve) => {
    const req = httpsRequest(
      `${emu.server}/api/v1/pods?watch=true`,
      { headers: { Authorization: `Bearer ${emu.token}` }, ca: emu.caPem },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve());
        res.on('error', () => resolve());
        res.on('close', () => resolve());
      },
    );
    req.on('error', () => resolve());
    req.end();
  });
}

describe('command line', () => {
  it('prints one ready line with the kubeconfig path, serves kubectl, and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cli-'));
    const kubeconfig = join(dir, 'kubeconfig');
    const child = spawn(
      join(ROOT, 'node_modules/.bin/tsx'),
      [
        'test/emulator/cli.ts',
        '--kubeconfig',
        kubeconfig,
        '--istio',
        'legacy',
        '--runtime',
        'plain',
        '--ready-delay',
        '20',
        '--fault',
        'api-error code=500 resources=secrets',
        '--user',
        'viewer:viewer-token:get,list/pods',
      ],
      { cwd: ROOT },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(() => (stdout.includes('\n') ? true : undefined), 20_000, 'the ready line');
    expect(stdout.trim().split('\n')).toHaveLength(1);
    expect(stdout).toMatch(new RegExp(`ready.*${kubeconfig.replace(/[/.]/g, '\\$&')}`));
    const pid = Number(/pid (\d+)/.exec(stdout)?.[1]);
    expect(processAlive(pid)).toBe(true);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfig, 'utf8'))?.[1]);
    const ns = await kubectl(kubeconfig, ['get', 'meshpolicy', 'default']);
    expect(ns.stdout).toMatch(/^default\s+\d+s$/m);
    const faulted = await kubectl(kubeconfig, ['get', 'secrets']);
    expect(faulted.stderr.trim()).toBe('Error from server (InternalError): Internal error occurred: injected fault');
    // The emulator itself (tsx runs it in a child process) takes the signal, as a script would send it.
    process.kill(pid, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
    expect(stderr).toContain('emulator: stopped (SIGTERM)');
    expect(await portOpen(port)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with one clear line on a bad flag or a bad fault', async () => {
    const bad = spawnSync(
      join(ROOT, 'node_modules/.bin/tsx'),
      ['test/emulator/cli.ts', '--kubeconfig', '/tmp/x', '--istio', 'ancient'],
      { cwd: ROOT },
    );
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.toString()).toContain(
      "option '--istio <flavor>' argument 'ancient' is invalid. Allowed choices are modern, legacy, none.",
    );
    const fault = spawnSync(
      join(ROOT, 'node_modules/.bin/tsx'),
      ['test/emulator/cli.ts', '--kubeconfig', '/tmp/x', '--fault', 'explode'],
      { cwd: ROOT },
    );
    expect(fault.status).not.toBe(0);
    expect(fault.stderr.toString()).toContain('unknown fault kind "explode"');
  });
});

describe('the kubectl dispatcher follows /version', () => {
  it('runs kubectl 1.28 for a 1.28 server, which falls back to SPDY for exec and gets a clear refusal', async () => {
    const emu = await startEmulator({
      istio: 'none',
      kubeVersion: '1.28.3',
      podReadyDelayMs: 10,
      runtime: createPlainRuntime,
    });
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(emu.kubeconfigPath);
      await runningPod(emu, kc, 'default', 'old');
      expect((await kubectl(emu.kubeconfigPath, ['version'])).stdout).toMatch(/^Client Version: v1\.28\.\d+$/m);
      const r = await kubectl(emu.kubeconfigPath, ['exec', 'old', '--', 'true']);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(
        'Error from server (BadRequest): the emulated API server serves exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); SPDY is not emulated',
      );
    } finally {
      await emu.stop();
    }
  });
});
