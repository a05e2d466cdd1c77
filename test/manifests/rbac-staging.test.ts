// The staging identity (manifests/rbac-staging/) on a fresh emulated cluster, applied with the real kubectl
// the first time: the API server itself, asked with SelfSubjectAccessReviews as that ServiceAccount, says it
// cannot read a Secret or exec into a pod outside the topology's namespaces, nor create, change or delete a
// namespace; and a whole run as it (`--adopt --isolation namespaced --namespace-prefix meshprobe`) passes
// its preflight, is refused nothing, writes only inside those namespaces and leaves them as the admin made them.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { ReportDocument } from '../../src/report/document.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { meshRuntimeFactory } from '../emulator/mesh/index.js';
import { cli } from '../helpers/cli.js';

const DIR = fileURLToPath(new URL('../../manifests/rbac-staging/', import.meta.url));
const TOPOLOGY = ['meshprobe-test1', 'meshprobe-test2', 'meshprobe-test3', 'meshprobe-ngtest'];
const SA = 'system:serviceaccount:meshprobe-system:meshprobe';

let emu: Emulator;
let admin: ClientNodeCluster;
let sa: ClientNodeCluster;
let saKubeconfig: string;
let firstApply: { code: number; stdout: string; stderr: string };

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-kubectl-home-'));
  return new Promise((done) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kubeconfig, ...args],
      { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } },
      (err, stdout, stderr) => done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  emu = await startEmulator({
    istio: 'modern',
    podReadyDelayMs: 100,
    kubeletTimeScale: 0.1,
    runtime: meshRuntimeFactory({ propagationDelayMs: { min: 300, max: 800 } }),
  });
  firstApply = await kubectl(emu.kubeconfigPath, ['apply', '-f', DIR]);
  admin = new ClientNodeCluster(loadKubeconfig({ kubeconfig: emu.kubeconfigPath, env: {} }));
  let token = '';
  for (let i = 0; i < 50 && !token; i++) {
    const secret = await admin.get({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'meshprobe-system',
      name: 'meshprobe-token',
    });
    token = Buffer.from(String((secret?.data as Record<string, string> | undefined)?.token ?? ''), 'base64').toString();
    if (!token) await new Promise((r) => setTimeout(r, 100));
  }
  saKubeconfig = join(mkdtempSync(join(tmpdir(), 'meshprobe-staging-')), 'kubeconfig');
  writeFileSync(
    saKubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'staging',
          cluster: { server: emu.server, 'certificate-authority-data': Buffer.from(emu.caPem).toString('base64') },
        },
      ],
      users: [{ name: 'meshprobe', user: { token } }],
      contexts: [{ name: 'staging', context: { cluster: 'staging', user: 'meshprobe' } }],
      'current-context': 'staging',
    }),
  );
  sa = new ClientNodeCluster(loadKubeconfig({ kubeconfig: saKubeconfig, env: {} }));
}, 120_000);
afterAll(() => emu?.stop());

describe('kubectl apply -f manifests/rbac-staging/ on a fresh cluster with Istio', () => {
  it('works the first time, and again unchanged', async () => {
    expect(firstApply.stderr).toBe('');
    expect(firstApply.code).toBe(0);
    const lines = firstApply.stdout.trim().split('\n');
    expect(lines.every((l) => l.endsWith(' created'))).toBe(true);
    expect(lines).toContain('namespace/meshprobe-test3 created');
    expect(lines).toContain('rolebinding.rbac.authorization.k8s.io/meshprobe created');
    const again = await kubectl(emu.kubeconfigPath, ['apply', '-f', DIR]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim().split('\n')).toEqual(lines.map((l) => l.replace(/created$/, 'unchanged')));
  });
});

describe('what the staging ServiceAccount may do, asked with SelfSubjectAccessReviews', () => {
  const outside = ['istio-system', 'kube-system', 'default', 'meshprobe-system'];

  it('reads Secrets and execs into pods in the topology namespaces', async () => {
    for (const namespace of TOPOLOGY) {
      for (const [verb, resource] of [
        ['get', 'secrets'],
        ['create', 'secrets'],
        ['create', 'pods/exec'],
        ['get', 'pods/exec'],
        ['create', 'deployments'],
      ] as const)
        expect(
          await sa.canI({ verb, group: resource === 'deployments' ? 'apps' : '', resource, namespace }),
          `${verb} ${resource} in ${namespace}`,
        ).toBe(true);
    }
  });

  it('cannot get, list or create a Secret, nor exec into a pod, in any other namespace or cluster-wide', async () => {
    const asked: string[] = [];
    for (const namespace of [...outside, undefined]) {
      for (const [verb, resource] of [
        ['get', 'secrets'],
        ['list', 'secrets'],
        ['create', 'secrets'],
        ['create', 'pods/exec'],
        ['get', 'pods/exec'],
      ] as const) {
        if (await sa.canI({ verb, group: '', resource, namespace }))
          asked.push(`${verb} ${resource} in ${namespace ?? 'all namespaces'}`);
      }
    }
    expect(asked).toEqual([]);
  });

  it('cannot create, change or delete a namespace, nor write a policy outside the topology', async () => {
    for (const verb of ['create', 'patch', 'update', 'delete', 'list'])
      expect(await sa.canI({ verb, group: '', resource: 'namespaces' }), `${verb} namespaces`).toBe(false);
    expect(await sa.canI({ verb: 'get', group: '', resource: 'namespaces' })).toBe(true);
    for (const verb of ['create', 'update', 'delete'])
      for (const resource of ['peerauthentications', 'destinationrules'])
        expect(
          await sa.canI({
            verb,
            group: resource === 'destinationrules' ? 'networking.istio.io' : 'security.istio.io',
            resource,
            namespace: 'istio-system',
          }),
          `${verb} ${resource} in istio-system`,
        ).toBe(false);
  });

  it('kubectl auth can-i, as the ServiceAccount, says the same', async () => {
    const no = await kubectl(saKubeconfig, ['auth', 'can-i', 'get', 'secrets', '-n', 'istio-system']);
    expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
    // kubectl names a subresource with --subresource (TYPE/NAME would be the pod named "exec").
    const execOutside = await kubectl(saKubeconfig, [
      'auth',
      'can-i',
      'create',
      'pods',
      '--subresource',
      'exec',
      '-n',
      'kube-system',
    ]);
    expect([execOutside.code, execOutside.stdout.trim()]).toEqual([1, 'no']);
    const yes = await kubectl(saKubeconfig, [
      'auth',
      'can-i',
      'create',
      'pods',
      '--subresource',
      'exec',
      '-n',
      'meshprobe-test1',
    ]);
    expect([yes.code, yes.stdout.trim()]).toEqual([0, 'yes']);
  });
});

describe('a run as the staging ServiceAccount', () => {
  it('fills and empties the namespaces the admin made: preflight passes, nothing refused, nothing written elsewhere', async () => {
    const before = await Promise.all(TOPOLOGY.map((name) => admin.get({ apiVersion: 'v1', kind: 'Namespace', name })));
    const start = emu.audit.entries().length;
    const home = mkdtempSync(join(tmpdir(), 'meshprobe-staging-home-'));
    const r = await cli(
      [
        '--kubeconfig',
        saKubeconfig,
        'run',
        '--adopt',
        '--isolation',
        'namespaced',
        '--namespace-prefix',
        'meshprobe',
        '--scenario',
        'mesh-strict-dr-mutual',
        '--scenario',
        'baseline',
        '--settle',
        '3',
        '-o',
        'json',
      ],
      { env: { HOME: home } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ReportDocument).summary).toMatchObject({ scenarios: 2, mismatched: 0, errors: 0 });
    const mine = emu.audit
      .entries()
      .slice(start)
      .filter((e) => e.user === SA);
    expect(mine.length).toBeGreaterThan(50);
    expect(mine.filter((e) => e.code === 403)).toEqual([]);
    const outside = mine.filter(
      (e) => e.resource !== 'selfsubjectaccessreviews' && e.code < 300 && !TOPOLOGY.includes(e.namespace ?? ''),
    );
    expect(outside.map((e) => `${e.verb} ${e.resource} ${e.namespace ?? ''}/${e.name ?? ''}`)).toEqual([]);
    // The namespaces stay, as they were, with nothing of meshprobe's left in them.
    const after = await Promise.all(TOPOLOGY.map((name) => admin.get({ apiVersion: 'v1', kind: 'Namespace', name })));
    expect(after.map((n) => [n!.metadata.uid, n!.metadata.labels, n!.metadata.annotations])).toEqual(
      before.map((n) => [n!.metadata.uid, n!.metadata.labels, n!.metadata.annotations]),
    );
    for (const namespace of TOPOLOGY)
      for (const [apiVersion, kind] of [
        ['apps/v1', 'Deployment'],
        ['v1', 'Service'],
        ['v1', 'ConfigMap'],
        ['security.istio.io/v1', 'PeerAuthentication'],
        ['networking.istio.io/v1', 'DestinationRule'],
      ] as const)
        expect(
          (
            await admin.list(apiVersion, kind, { namespace, labelSelector: 'app.kubernetes.io/managed-by=meshprobe' })
          ).map((o) => o.metadata.name),
          `${kind} in ${namespace}`,
        ).toEqual([]);
  }, 300_000);

  it('asks, before any write, for the namespace writes it would need when a namespace is missing', async () => {
    await admin.delete({ apiVersion: 'v1', kind: 'Namespace', name: 'meshprobe-ngtest' });
    for (
      let i = 0;
      i < 100 && (await admin.get({ apiVersion: 'v1', kind: 'Namespace', name: 'meshprobe-ngtest' }));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    const start = emu.audit.entries().length;
    const r = await cli(
      [
        '--kubeconfig',
        saKubeconfig,
        'run',
        '--adopt',
        '--isolation',
        'namespaced',
        '--namespace-prefix',
        'meshprobe',
        '--scenario',
        'baseline',
      ],
      { env: { HOME: mkdtempSync(join(tmpdir(), 'meshprobe-staging-home-')) } },
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /cannot create namespaces \(cluster-wide\): needed to create, label and delete the topology namespaces/,
    );
    expect(
      emu.audit
        .entries()
        .slice(start)
        .filter((e) => e.resource !== 'selfsubjectaccessreviews'),
    ).toEqual([]);
  }, 120_000);
});
