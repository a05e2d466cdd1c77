// A cluster mid-migration holds its own PERMISSIVE PeerAuthentication istio-system/default. A scenario's
// MeshPolicy is applied as that very object (translated), so the run and the isolation proof must predict
// from the scenario's version alone (reliability-figures.md D3; newcomer-walkthrough.md §1).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const MESH_STRICT_ORACLE_ONLY = `apiVersion: meshprobe/v1
kind: Scenario
metadata:
  name: mesh-strict-oracle
spec:
  description: A mesh-wide STRICT MeshPolicy with no expectations of its own; the oracle decides every cell.
  objects:
    - apiVersion: authentication.istio.io/v1alpha1
      kind: MeshPolicy
      metadata:
        name: default
      spec:
        peers:
          - mtls: {}
`;

describe.runIf(!REAL_KUBECONFIG)('a scenario that replaces the cluster’s own mesh-wide policy', () => {
  let cluster: TestCluster;
  let k8s: ClientNodeCluster;
  let dir: string;
  let uid: string;
  const run = (...args: string[]) =>
    cli(['--kubeconfig', cluster.kubeconfig, '-q', 'run', '-o', 'json', '--settle', '3', ...args], {
      env: { HOME: dir },
      cwd: dir,
    });

  beforeAll(async () => {
    cluster = await testCluster('modern');
    dir = mkdtempSync(join(tmpdir(), 'meshprobe-replaced-'));
    writeFileSync(join(dir, 'strict.yaml'), MESH_STRICT_ORACLE_ONLY);
    k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
    const pa = await k8s.apply({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system', labels: { owner: 'platform-team' } },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    });
    uid = String(pa.metadata.uid);
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('run --allow-cluster-wide: the oracle predicts the STRICT replacement, so no false mismatch', async () => {
    const r = await run('--allow-cluster-wide', '-f', 'strict.yaml');
    // Before the fix: exit 1, "test3/sleep -> test1/httpbin:8000 expected plaintext observed reset" (4 cells).
    expect(r.code, r.stderr).toBe(0);
    const [s] = (JSON.parse(r.stdout) as ReportDocument).scenarios;
    const cell = s!.cells.find((c) => c.from === 'test3/sleep' && c.to === 'test1/httpbin:8000')!;
    expect(cell).toMatchObject({ expected: { source: 'oracle', outcome: 'reset' }, observed: { outcome: 'reset' } });
    expect(JSON.stringify(cell.reason)).not.toContain('PERMISSIVE');
    // The cluster's own policy is back as it was.
    const back = await k8s.get({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      namespace: 'istio-system',
      name: 'default',
    });
    expect(back).toMatchObject({
      metadata: { uid, labels: { owner: 'platform-team' } },
      spec: { mtls: { mode: 'PERMISSIVE' } },
    });
  }, 300_000);

  it('run --isolation namespaced: the proof accepts the rewrite, and the run passes', async () => {
    const r = await run('--isolation', 'namespaced', '--scenario', 'mesh-strict-dr-mutual');
    // Before the fix: exit 2, "cannot be isolated ...: test3/sleep -> test1/httpbin:8000: plaintext
    // cluster-wide, reset namespaced".
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ReportDocument).summary).toMatchObject({ cells: 40, matched: 40 });
  }, 300_000);
});
