// `kubectl apply -f manifests/rbac/` is the documented one-line setup (README, the nightly workflow): it
// must work the first time on a fresh cluster, Istio installed or not yet, with the real kubectl against the
// emulated cluster, which refuses objects in a missing namespace as NamespaceLifecycle admission does.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';

const RBAC = fileURLToPath(new URL('../../manifests/rbac/', import.meta.url));
const started: Emulator[] = [];

async function freshCluster(istio: 'none' | 'modern'): Promise<Emulator> {
  const emu = await startEmulator({ istio, podReadyDelayMs: 50 });
  started.push(emu);
  return emu;
}

/** The real kubectl, asynchronously: the emulator answers from this process. */
function kubectl(emu: Emulator, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-kubectl-home-'));
  return new Promise((done) => {
    execFile(
      'kubectl',
      ['--kubeconfig', emu.kubeconfigPath, ...args],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

afterEach(async () => {
  while (started.length) await started.pop()!.stop();
});

const CREATED = [
  'namespace/meshprobe-system created',
  'clusterrole.rbac.authorization.k8s.io/meshprobe-cluster created',
  'clusterrolebinding.rbac.authorization.k8s.io/meshprobe-cluster created',
  'role.rbac.authorization.k8s.io/meshprobe-journal created',
  'rolebinding.rbac.authorization.k8s.io/meshprobe-journal created',
  'serviceaccount/meshprobe created',
  'secret/meshprobe-token created',
  'clusterrole.rbac.authorization.k8s.io/meshprobe-topology created',
  'clusterrolebinding.rbac.authorization.k8s.io/meshprobe-topology created',
];

describe('kubectl apply -f manifests/rbac/ on a fresh cluster', () => {
  for (const istio of ['none', 'modern'] as const) {
    it(`works the first time ${istio === 'none' ? 'before Istio is installed' : 'with Istio installed'}, and again unchanged`, async () => {
      const emu = await freshCluster(istio);
      const first = await kubectl(emu, ['apply', '-f', RBAC]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout.trim().split('\n')).toEqual(CREATED);
      const again = await kubectl(emu, ['apply', '-f', RBAC]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout.trim().split('\n')).toEqual(CREATED.map((l) => l.replace(/created$/, 'unchanged')));
      const sa = await kubectl(emu, ['-n', 'meshprobe-system', 'get', 'serviceaccount', 'meshprobe', '-o', 'name']);
      expect(sa.stdout.trim()).toBe('serviceaccount/meshprobe');
    });
  }

  it('the emulated cluster does refuse an object whose namespace does not exist yet (what the file order avoids)', async () => {
    const emu = await freshCluster('none');
    const r = await kubectl(emu, ['apply', '-f', join(RBAC, 'journal.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('namespaces "meshprobe-system" not found');
  });
});
