// kubectl logs with its cuts (--tail, --limit-bytes) as the kubelet applies them, and exec error messages that
// read as they read in a container: no host path of the emulator in them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerRuntime, RuntimeContext } from './contracts.js';
import { startEmulator, type Emulator } from './index.js';
import { createMeshRuntime } from './mesh/index.js';
import { kubectl, eventually, raw } from './testing.js';

type Any = Record<string, any>;

let emu: Emulator;
let workDir = '';
const LOG = Array.from({ length: 16 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';

/** The mesh runtime, with a fixed log for the container named `app` (what the kubelet would have read). */
async function runtime(ctx: RuntimeContext): Promise<ContainerRuntime> {
  workDir = ctx.workDir;
  const mesh = await createMeshRuntime(ctx);
  return {
    startPod: (pod) => mesh.startPod(pod),
    stopPod: (pod) => mesh.stopPod(pod),
    exec: (req) => mesh.exec(req),
    logs: (pod, container) => (container === 'app' ? LOG : (mesh.logs?.(pod, container) ?? '')),
    close: () => mesh.close(),
  };
}

const logs = async (args: string[]) => kubectl(emu.kubeconfigPath, ['logs', '-n', 'default', 'web', ...args]);

beforeAll(async () => {
  emu = await startEmulator({ istio: 'none', podReadyDelayMs: 20, runtime });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.27' },
        { name: 'sleep', image: 'curlimages/curl:8.16.0' },
      ],
    },
  };
  expect((await raw(emu, 'POST', '/api/v1/namespaces/default/pods', { body: JSON.stringify(pod) })).status).toBe(201);
  await eventually(
    () =>
      (emu.store.get('', 'pods', 'default', 'web')?.status as Any | undefined)?.phase === 'Running' ? true : undefined,
    5000,
    'web running',
  );
});

afterAll(async () => {
  await emu?.stop();
});

describe('kubectl logs', () => {
  it('--tail N and --tail=N give the last N lines; without it, all of them', async () => {
    expect((await logs(['-c', 'app'])).stdout).toBe(LOG);
    expect((await logs(['-c', 'app', '--tail', '3'])).stdout).toBe('line 14\nline 15\nline 16\n');
    expect((await logs(['-c', 'app', '--tail=2'])).stdout).toBe('line 15\nline 16\n');
    expect((await logs(['-c', 'app', '--tail=0'])).stdout).toBe('');
    expect((await logs(['-c', 'app', '--tail=-1'])).stdout).toBe(LOG);
    expect((await logs(['-c', 'app', '--tail=40'])).stdout).toBe(LOG);
  });

  it('--limit-bytes cuts what --tail kept', async () => {
    expect((await logs(['-c', 'app', '--tail=2', '--limit-bytes=10'])).stdout).toBe('line 15\nli');
  });

  it('refuses a negative tailLines as PodLogOptions validation does', async () => {
    const r = await raw(emu, 'GET', '/api/v1/namespaces/default/pods/web/log?container=app&tailLines=-2');
    expect(r.status).toBe(422);
    expect(r.json()).toMatchObject({
      reason: 'Invalid',
      message: 'PodLogOptions "web" is invalid: tailLines: Invalid value: -2: must be greater than or equal to 0',
    });
  });
});

describe('exec error messages', () => {
  it("name the tool as the user called it, never the emulator's directory", async () => {
    const ls = await kubectl(emu.kubeconfigPath, ['exec', 'web', '-c', 'app', '--', 'ls', '/etc/nginx/ssl']);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toBe(
      "ls: cannot access '/etc/nginx/ssl': No such file or directory\ncommand terminated with exit code 2\n",
    );
    const sh = await kubectl(emu.kubeconfigPath, ['exec', 'web', '-c', 'sleep', '--', 'sh', '-c', 'nosuchtool']);
    expect(sh.code).toBe(127);
    expect(sh.stderr).toMatch(/^sh: (1: )?nosuchtool: not found\n/);
    for (const r of [ls, sh]) {
      expect(r.stderr).not.toContain(workDir);
      expect(r.stderr).not.toContain('meshprobe-emulator');
    }
  });
});
