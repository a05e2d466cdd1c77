// What a user sees when the cluster cannot be used: one line naming the cause, one naming the fix,
// exit code 3 (2 for bad input), and nothing changed in the cluster.
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/errors.js';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { checkInjection, setupTopology } from '../../src/orchestrator/topology-lifecycle.js';
import { PERMISSIONS } from '../../src/kube/permissions.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'meshprobe-preflight-'));
const writes = (c: TestCluster) =>
  c
    .emulator!.audit.entries()
    .filter((e) => !['get', 'list', 'watch'].includes(e.verb) && e.resource !== 'selfsubjectaccessreviews');

describe.runIf(!REAL_KUBECONFIG)('preflight (emulated cluster)', () => {
  it('no kubeconfig at all', async () => {
    const r = await cli(['run'], { env: { HOME: tmp() } });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'meshprobe: error: no kubeconfig found (looked at $KUBECONFIG and ~/.kube/config)\nmeshprobe: fix: pass --kubeconfig FILE or set KUBECONFIG; for a cluster to try, run `make try` in a clone of meshprobe (an emulated cluster with Istio and the topology; it prints the KUBECONFIG to export)\n',
    );
  });

  it('a cluster that does not answer', async () => {
    const srv = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    const port = (srv.address() as { port: number }).port;
    srv.close();
    const file = join(tmp(), 'kubeconfig');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: gone, context: {cluster: c, user: u}}]\ncurrent-context: gone\n`,
    );
    const r = await cli(['--kubeconfig', file, 'run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `meshprobe: error: cannot reach the Kubernetes API at https://127.0.0.1:${port} (ECONNREFUSED) while trying to read the server version`,
    );
    expect(r.stderr).toContain(
      'meshprobe: fix: check that the cluster is running and that "gone" is the context you want (kubectl cluster-info)',
    );
  });

  it('wrong credentials', async () => {
    cluster = await testCluster('modern');
    const file = join(tmp(), 'kubeconfig');
    writeFileSync(file, cluster.emulator!.kubeconfig().replace(cluster.emulator!.token, 'not-the-token'));
    const r = await cli(['--kubeconfig', file, 'run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: the API server at https:\/\/127\.0\.0\.1:\d+ rejected meshprobe's credentials \(401 Unauthorized\)/,
    );
  });

  it('an unknown --context', async () => {
    cluster = await testCluster('modern');
    const r = await cli(['--kubeconfig', cluster.kubeconfig, '--context', 'prod', 'run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--context prod is not in the kubeconfig\nmeshprobe: fix: contexts: meshprobe-emulator/);
  });

  it('Istio not installed', async () => {
    cluster = await testCluster('none');
    const r = await cli(['--kubeconfig', cluster.kubeconfig, 'run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: Istio is not installed in context "meshprobe-emulator": the cluster serves no security\.istio\.io or authentication\.istio\.io API\nmeshprobe: fix: install Istio/,
    );
    expect(writes(cluster)).toEqual([]);
  });

  it('missing RBAC: names the verb, the resource, the namespace and why; changes nothing', async () => {
    // Everything meshprobe needs except exec into pods.
    const rules = PERMISSIONS.filter((p) => p.resource !== 'pods/exec').map((p) => ({
      verbs: p.verbs,
      apiGroups: [p.group],
      resources: [p.resource],
    }));
    cluster = await testCluster('modern', { users: [{ name: 'ci', token: 'ci-token', rules }] });
    const file = join(tmp(), 'kubeconfig');
    await cluster.emulator!.writeKubeconfig(file, { user: 'ci' });
    const r = await cli(['--kubeconfig', file, 'run']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('meshprobe: error: missing permissions in context');
    expect(r.stderr).toContain('cannot create pods/exec in test1: needed to run curl in the client pods');
    expect(r.stderr).toContain('meshprobe: fix: apply manifests/rbac/');
    expect(writes(cluster)).toEqual([]);
  });

  it('a namespace of the topology that is not ours is refused, and left as it was', async () => {
    cluster = await testCluster('modern');
    const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test2', labels: { team: 'payments' } } });
    const before = structuredClone(cluster.emulator!.store.get('', 'namespaces', undefined, 'test2'));
    const writesBefore = writes(cluster).length;
    const r = await cli(['--kubeconfig', cluster.kubeconfig, 'run', '--allow-cluster-wide']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'meshprobe: error: namespace test2 already exists and is not managed by meshprobe; meshprobe will not change or delete it',
    );
    expect(r.stderr).toContain('meshprobe: fix: run in other namespaces with --namespace-prefix, or pass --adopt');
    expect(cluster.emulator!.store.get('', 'namespaces', undefined, 'test2')).toEqual(before);
    expect(writes(cluster)).toHaveLength(writesBefore);
  });

  it('a scenario with PeerAuthentication on an Istio 1.4 cluster is refused before anything is applied', async () => {
    cluster = await testCluster('legacy');
    const dir = tmp();
    writeFileSync(
      join(dir, 'pa.yaml'),
      'apiVersion: meshprobe/v1\nkind: Scenario\nmetadata: {name: pa}\nspec:\n  description: x\n  objects:\n    - {apiVersion: security.istio.io/v1beta1, kind: PeerAuthentication, metadata: {name: default, namespace: istio-system}, spec: {mtls: {mode: STRICT}}}\n',
    );
    const r = await cli(['--kubeconfig', cluster.kubeconfig, 'run', '-f', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'pa: PeerAuthentication istio-system/default needs security.istio.io, which this Istio 1.4-era cluster does not serve',
    );
    expect(writes(cluster)).toEqual([]);
  });

  it('sidecar injection that does not match the topology', async () => {
    cluster = await testCluster('modern');
    const topology = loadTopology();
    const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
    // Set up with injection off in test1, then check against a topology that expects sidecars there.
    const noInjection = {
      ...topology,
      namespaces: topology.namespaces.map((n) => (n.name === 'test1' ? { ...n, injection: false } : n)),
      workloads: topology.workloads.map((w) => (w.namespace === 'test1' ? { ...w, sidecar: false } : w)),
    };
    await setupTopology(k8s, noInjection, {
      runId: 'r',
      adopt: false,
      keep: false,
      readyTimeoutMs: 30_000,
      events: () => {},
    });
    const err = await checkInjection(k8s, topology).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).message).toMatch(
      /^sidecar injection is not working: pod test1\/httpbin-\S+ has no istio-proxy although namespace test1 is labelled istio-injection=enabled$/,
    );
    expect((err as ClusterError).fix).toContain('kubectl get mutatingwebhookconfigurations');
  }, 60_000);
});
