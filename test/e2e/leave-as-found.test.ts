// A command removes only what it created, on the emulated cluster where the real API's semantics matter
// (server-side apply, namespace deletion, garbage collection): a topology that `setup` made stays through a
// run; `--adopt` leaves the user's namespace and objects exactly as they were; `setup` without Istio
// creates nothing, and a `setup` that fails removes what it made; a journal namespace an earlier run is
// still deleting is waited for, not blamed on RBAC.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/errors.js';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { KubeObject } from '../emulator/contracts.js';
import type { FaultSpec } from '../emulator/api/fault-spec.js';
import { FAULT_ANNOTATION } from '../emulator/index.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const FAST = ['--settle', '3', '--interval', '0.3'];
/** Kinds the emulator's controllers keep changing; they say nothing about what meshprobe left. */
const CHURN = new Set(['events', 'leases', 'endpoints', 'endpointslices', 'pods', 'replicasets']);

async function start(flavor: 'modern' | 'none' = 'modern', faults: FaultSpec[] = []) {
  cluster = await testCluster(flavor, { faults });
  const emu = cluster.emulator!;
  const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-found-home-'));
  const run = (args: string[]) => cli(['--kubeconfig', cluster!.kubeconfig, ...args], { env: { HOME: home } });
  return { emu, k8s, run };
}

/** Every object of `namespaces` (or of the whole cluster), without what the server maintains on each write. */
function snapshot(emu: NonNullable<TestCluster['emulator']>, namespaces?: string[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const { group, resource } of emu.store.resources()) {
    if (CHURN.has(resource)) continue;
    for (const o of emu.store.list(group, resource)) {
      const ns = o.metadata.namespace ?? (resource === 'namespaces' ? o.metadata.name : undefined);
      if (namespaces && !namespaces.includes(ns ?? '')) continue;
      const {
        resourceVersion: _r,
        managedFields: _m,
        generation: _g,
        ...metadata
      } = o.metadata as Record<string, unknown>;
      const { status: _s, apiVersion: _v, ...rest } = o as KubeObject & { status?: unknown };
      out.set(`${group}/${resource}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, { ...rest, metadata });
    }
  }
  return out;
}

function differences(before: Map<string, unknown>, after: Map<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of after.keys()) if (!before.has(k)) out.push(`left: ${k}`);
  for (const [k, v] of before) {
    if (!after.has(k)) out.push(`gone: ${k}`);
    else if (!isDeepStrictEqual(after.get(k), v))
      out.push(`changed: ${k}: ${JSON.stringify(v)} => ${JSON.stringify(after.get(k))}`);
  }
  return out;
}

const topologyNamespaces = (emu: NonNullable<TestCluster['emulator']>) =>
  emu.store
    .list('', 'namespaces')
    .map((n) => n.metadata.name)
    .filter((n) => /^(test\d|ngtest)$/.test(n));

/** What the payments team has in test1 before meshprobe comes (reliability-figures §5, foreign.yaml). */
async function paymentsNamespace(k8s: ClientNodeCluster) {
  await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test1', labels: { team: 'payments' } } });
  await k8s.apply({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'payments-dr', namespace: 'test1' },
    spec: { host: 'payments.test1.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
  });
  await k8s.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'payments-config', namespace: 'test1' },
    data: { a: '1' },
  });
  await k8s.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'payments-secret', namespace: 'test1' },
    stringData: { key: 'value' },
  });
  await k8s.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'payments', namespace: 'test1' },
    spec: {
      selector: { matchLabels: { app: 'payments' } },
      template: {
        metadata: { labels: { app: 'payments' } },
        spec: { containers: [{ name: 'payments', image: 'nginx:1.27' }] },
      },
    },
  });
  await new Promise((r) => setTimeout(r, 500));
}

describe.runIf(!REAL_KUBECONFIG)('a command removes only what it created (emulated cluster)', () => {
  it('a topology made by `meshprobe setup` stays through run and probe, exactly; teardown removes it', async () => {
    const { emu, run } = await start();
    const s = await run(['setup', '--ready-timeout', '60']);
    expect(s.code, s.stderr).toBe(0);
    const before = snapshot(emu);
    const r = await run(['run', '--scenario', 'baseline', '--scenario', 'namespace-policy', ...FAST]);
    expect(r.code, r.stderr).toBe(0);
    const p = await run(['probe', ...FAST]);
    expect(p.code, p.stderr).toBe(0);
    expect(differences(before, snapshot(emu))).toEqual([]);
    // A later cleanup leaves a topology made to stay; teardown is what removes it.
    const c = await run(['cleanup', '--timeout', '30']);
    expect(c.code, c.stderr).toBe(0);
    expect(topologyNamespaces(emu).sort()).toEqual(['ngtest', 'test1', 'test2', 'test3']);
    const t = await run(['teardown', '--timeout', '30']);
    expect(t.code, t.stderr).toBe(0);
    expect(topologyNamespaces(emu)).toEqual([]);
  }, 240_000);

  it("--adopt: the user's namespace and its four objects stay exactly as they were, after a run and after --keep + teardown", async () => {
    const { emu, k8s, run } = await start();
    await paymentsNamespace(k8s);
    const before = snapshot(emu, ['test1']);
    const r = await run([
      'run',
      '--allow-cluster-wide',
      '--adopt',
      '--scenario',
      'baseline',
      '--scenario',
      'port-level-dr',
      ...FAST,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(differences(before, snapshot(emu, ['test1']))).toEqual([]);

    // Kept, then an unrelated cleanup (which used to delete it), then teardown: still the user's, as it was.
    const k = await run(['run', '--adopt', '--keep', '--scenario', 'baseline', ...FAST]);
    expect(k.code, k.stderr).toBe(0);
    expect(emu.store.get('', 'namespaces', undefined, 'test1')!.metadata.labels).toMatchObject({
      team: 'payments',
      'istio-injection': 'enabled',
    });
    const c = await run(['cleanup', '--keep', '--timeout', '30']);
    expect(c.code, c.stderr).toBe(0);
    const t = await run(['teardown', '--timeout', '30']);
    expect(t.code, t.stderr).toBe(0);
    expect(differences(before, snapshot(emu, ['test1']))).toEqual([]);
    expect(topologyNamespaces(emu)).toEqual(['test1']);
  }, 300_000);

  it('setup without Istio fails before creating anything, as run does', async () => {
    const { emu, run } = await start('none');
    const r = await run(['setup', '--ready-timeout', '30']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/meshprobe: error: Istio is not installed/);
    expect(emu.audit.entries().filter((e) => e.resource !== 'selfsubjectaccessreviews')).toEqual([]);
  }, 60_000);

  it('a setup that fails (a pod that never becomes ready) removes the namespaces it created', async () => {
    const { emu, run } = await start();
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-faulty-'));
    const root = join(import.meta.dirname, '../../manifests');
    for (const w of ['httpbin', 'sleep', 'sleep-other', 'my-nginx']) {
      let text = readFileSync(join(root, 'workloads', `${w}.yaml`), 'utf8');
      if (w === 'httpbin')
        text = text
          .replace(/(  template:\n    metadata:\n)/, `$1      annotations:\n        ${FAULT_ANNOTATION}: never-ready\n`)
          .replace(/(      annotations:\n        emulator[^\n]+\n)      annotations:\n/, '$1');
      writeFileSync(join(dir, `${w}.yaml`), text);
    }
    writeFileSync(
      join(dir, 'topology.yaml'),
      readFileSync(join(root, 'topology/default.yaml'), 'utf8').replace(/\.\.\/workloads\//g, ''),
    );
    const r = await run(['setup', '--topology', join(dir, 'topology.yaml'), '--ready-timeout', '3']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/deployments not ready after 3 s/);
    expect(topologyNamespaces(emu)).toEqual([]);
  }, 120_000);
});

describe.runIf(!REAL_KUBECONFIG)('a namespace an earlier run is still deleting (real-cluster audit §12)', () => {
  it('the journal namespace: waited for, then a clear message without an RBAC hint; gone, the run goes on', async () => {
    const { emu, k8s, run } = await start('modern', [{ kind: 'namespace-stuck', names: ['meshprobe-system'] }]);
    await k8s.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'meshprobe-system', labels: { 'app.kubernetes.io/managed-by': 'meshprobe' } },
    });
    await k8s.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'journal-old', namespace: 'meshprobe-system' },
      data: {},
    });
    await k8s.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'meshprobe-system' });
    const start_ = emu.audit.entries().length;
    const args = ['run', '--allow-cluster-wide', '--scenario', 'mesh-strict-dr-mutual', ...FAST];
    const r = await run([...args, '--ready-timeout', '2']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: the journal's namespace is still being deleted after 2 s, so nothing can be written into it: Namespace meshprobe-system \(being deleted: /,
    );
    expect(r.stderr).not.toMatch(/manifests\/rbac|forbidden/);
    expect(
      emu.audit
        .entries()
        .slice(start_)
        .filter((e) => e.resource !== 'selfsubjectaccessreviews'),
    ).toEqual([]);

    // Once it goes, the same run waits for it and then runs.
    setTimeout(() => emu.faults.clear(), 1500);
    const ok = await run([...args, '--ready-timeout', '60']);
    expect(ok.code, ok.stderr).toBe(0);
  }, 180_000);

  it('a write into a namespace being deleted is "being terminated", not a permissions problem', async () => {
    const { k8s } = await start('modern', [{ kind: 'namespace-stuck', names: ['team-a'] }]);
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await k8s.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'team-a' }, data: {} });
    await k8s.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'team-a' });
    const e = await k8s
      .apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'y', namespace: 'team-a' }, data: {} })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterError);
    expect((e as ClusterError).message).toMatch(/because it is being terminated/);
    expect((e as ClusterError).fix).toMatch(/^wait until namespace team-a is gone/);
    expect((e as ClusterError).fix).not.toMatch(/rbac|permission/i);
  }, 60_000);
});
