// `meshprobe diff` against a cluster: the side `cluster` is the policies the cluster holds now, read through
// the usual kubeconfig flags (the emulated cluster, driven by the real kubectl to put policies in it);
// sides that are files never reach the API server; a cluster that cannot be read exits 3.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createPlainRuntime } from '../emulator/runtime/plain.js';
import { cli } from '../helpers/cli.js';

let emu: Emulator;
let dir: string;

const STRICT = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
`;

function kubectl(...args: string[]): Promise<string> {
  return new Promise((done, fail) =>
    execFile(
      'kubectl',
      args,
      { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: emu.kubeconfigPath } },
      (e, out, err) => (e ? fail(new Error(`kubectl ${args.join(' ')}: ${err}`)) : done(out)),
    ),
  );
}

async function diff(...args: string[]) {
  const before = emu.audit.entries().length;
  const r = await cli(['--kubeconfig', emu.kubeconfigPath, 'diff', ...args], { cwd: dir, env: { HOME: dir } });
  return {
    ...r,
    requests: emu.audit.entries().length - before,
    doc: r.stdout.startsWith('{') ? JSON.parse(r.stdout) : undefined,
  };
}

beforeAll(async () => {
  emu = await startEmulator({ istio: 'modern', podReadyDelayMs: 20, runtime: createPlainRuntime });
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-diff-cluster-'));
  mkdirSync(join(dir, 'none'));
  mkdirSync(join(dir, 'strict'));
  writeFileSync(join(dir, 'strict', 'mesh.yaml'), STRICT);
}, 60_000);
afterAll(() => emu?.stop());

describe('meshprobe diff with the cluster as a side', () => {
  it('files alone: no request reaches the API server', async () => {
    const r = await diff('--base', 'none', '--head', 'strict', '-o', 'json');
    expect(r.code).toBe(1);
    expect(r.requests).toBe(0);
    expect(r.doc.metadata.cluster).toBeUndefined();
  });

  it('what applying the files would change on a cluster without policies, then nothing once they are applied', async () => {
    const before = await diff('--base', 'cluster', '--head', 'strict', '-o', 'json');
    expect(before.code, before.stderr).toBe(1);
    expect(before.stderr).toBe('');
    expect(before.doc.changes.map((c: any) => `${c.from} -> ${c.to}: ${c.base.outcome} -> ${c.head.outcome}`)).toEqual([
      'test3/sleep -> test1/httpbin:8000: plaintext -> reset',
      'test3/sleep -> test1/httpbin:9080: plaintext -> reset',
      'test3/sleep -> test1/httpbin:8000 POST /anything: plaintext -> reset',
      'test3/sleep -> test2/httpbin:8000: plaintext -> reset',
      'test3/sleep -> test2/httpbin:9080: plaintext -> reset',
    ]);
    expect(before.doc.base).toEqual({ side: 'cluster', source: 'cluster', files: 0, policies: [], ignored: {} });
    expect(before.doc.metadata.cluster).toEqual({ context: expect.any(String), server: emu.server });

    await kubectl('apply', '-f', join(dir, 'strict', 'mesh.yaml'));
    const after = await diff('--base', 'cluster', '--head', 'strict', '-o', 'json');
    expect(after.code, after.stderr).toBe(0);
    expect(after.doc.changes).toEqual([]);
    expect(after.doc.base.policies).toEqual([
      { kind: 'PeerAuthentication', namespace: 'istio-system', name: 'default', where: 'cluster' },
    ]);
    // The reverse: removing every policy the cluster holds.
    const removal = await diff('--base', 'cluster', '--head', 'none');
    expect(removal.code).toBe(1);
    expect(removal.stdout).toContain('5 of 40 cells change: 5 newly reachable.');
    // The cluster's flavor is the one predicted; another one asked for is refused.
    const legacy = await diff('--istio', 'legacy', '--base', 'cluster', '--head', 'none');
    expect(legacy.code).toBe(2);
    expect(legacy.stderr).toContain('--istio legacy, but context');
    await kubectl('delete', '-f', join(dir, 'strict', 'mesh.yaml'));
  });

  it('a cluster that cannot be reached exits 3', async () => {
    const refused = join(dir, 'refused.kubeconfig');
    writeFileSync(refused, readFileSync(emu.kubeconfigPath, 'utf8').replace(emu.server, 'https://127.0.0.1:1'));
    const r = await cli(['--kubeconfig', refused, 'diff', '--base', 'cluster', '--head', 'strict'], {
      cwd: dir,
      env: { HOME: dir },
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^meshprobe: error: /m);
  });
});
