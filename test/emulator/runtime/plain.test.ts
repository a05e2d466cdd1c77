import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExecResult, KubeObject } from '../contracts.js';
import { MemoryStore } from '../store.js';
import { containerEnv, execFailure, PlainRuntime } from './plain.js';

const store = new MemoryStore();
store.put('', 'configmaps', {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', namespace: 'ns' },
  data: { colour: 'blue', size: 'L' },
});
store.put('', 'secrets', {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'sec', namespace: 'ns' },
  data: { password: Buffer.from('hunter2').toString('base64') },
});

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p-1', namespace: 'ns', uid: '0123456789abcdef', labels: { app: 'web' } },
  spec: {
    serviceAccountName: 'sa',
    containers: [
      {
        name: 'c',
        image: 'busybox',
        envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
        env: [
          { name: 'A', value: 'a' },
          { name: 'B', value: '$(A)-b' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'COLOUR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'colour' } } },
          { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        ],
      },
    ],
  },
  status: { podIP: '10.244.0.9' },
};

const work = mkdtempSync(join(tmpdir(), 'meshprobe-plain-'));
const runtime = new PlainRuntime({ workDir: work, store });

afterAll(async () => {
  await runtime.close();
  rmSync(work, { recursive: true, force: true });
});

function collect(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(c: Buffer, _e, cb) {
        text += c.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

async function run(
  command: string[],
  stdin?: string,
  signal = new AbortController().signal,
): Promise<{ result: ExecResult; stdout: string; stderr: string }> {
  const out = collect();
  const err = collect();
  const input = stdin === undefined ? null : new PassThrough();
  const pending = runtime.exec({
    pod,
    container: 'c',
    command,
    stdin: input,
    stdout: out.stream,
    stderr: err.stream,
    tty: false,
    signal,
  });
  input?.end(stdin);
  const result = await pending;
  return { result, stdout: out.text(), stderr: err.text() };
}

describe('plain runtime', () => {
  it('builds the environment the kubelet would', () => {
    const env = containerEnv(pod, 'c', store);
    expect(env).toMatchObject({
      HOSTNAME: 'p-1',
      A: 'a',
      B: 'a-b',
      POD: 'p-1',
      APP: 'web',
      IP: '10.244.0.9',
      COLOUR: 'blue',
      PASSWORD: 'hunter2',
      CFG_colour: 'blue',
      CFG_size: 'L',
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    });
  });

  it('runs the argv as given, in the pod directory, with stdin, stdout, stderr and the exit code', async () => {
    await runtime.startPod(pod);
    const r = await run(['sh', '-c', 'read x; echo "$x in $(pwd)"; echo "$COLOUR" >&2; exit 4'], 'hello\n');
    expect(r.result).toEqual({ kind: 'exited', code: 4 });
    expect(r.stdout).toBe(`hello in ${runtime.podDir(pod)}\n`);
    expect(r.stderr).toBe('blue\n');
    // No shell in between: the argument reaches the program untouched.
    expect((await run(['echo', '$HOME; *'])).stdout).toBe('$HOME; *\n');
  });

  it("answers an unknown or unrunnable executable with containerd's message", async () => {
    expect((await run(['no-such-binary'])).result).toEqual({
      kind: 'runtime-error',
      message: execFailure('no-such-binary', 'not-found'),
    });
    expect(execFailure('no-such-binary', 'not-found')).toBe(
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "no-such-binary": executable file not found in $PATH: unknown',
    );
    const script = join(work, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    expect((await run([script])).result).toEqual({
      kind: 'runtime-error',
      message: execFailure(script, 'permission-denied'),
    });
  });

  it('kills the whole process group when the exec is aborted', async () => {
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    const r = await run(['sh', '-c', 'sleep 30 & sleep 30; echo never'], undefined, abort.signal);
    expect(r.result).toEqual({ kind: 'exited', code: 137 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.stdout).toBe('');
  });
});
