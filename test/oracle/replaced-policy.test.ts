// A scenario object takes the place of the cluster's own object of the same kind, namespace and name (after
// the legacy -> modern translation the run applies): the prediction sees the replacement only. The case of
// the audit (reliability-figures.md D3): a cluster mid-migration holds a PERMISSIVE
// PeerAuthentication istio-system/default, and a scenario's MeshPolicy becomes that very object.
import { describe, expect, it } from 'vitest';
import { fromObject, type IstioPolicy } from '../../src/model/istio-objects.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { predictScenario } from '../../src/oracle/expected.js';
import { clusterWideObjects, isolateScenario, sameMatrix } from '../../src/oracle/isolate.js';
import { meshConfig, overlay } from '../../src/oracle/mesh.js';
import { dr, pa, policies } from '../helpers/mini-topology.js';

const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);
const mesh = meshConfig('modern');

/** The platform team's own mesh-wide policy, older than anything a scenario applies. */
const clusterPermissive: IstioPolicy = fromObject(
  {
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: { name: 'default', namespace: 'istio-system', labels: { owner: 'platform-team' } },
    spec: { mtls: { mode: 'PERMISSIVE' } },
  },
  -1,
);

/** Whether the scenario writes over the cluster's PeerAuthentication istio-system/default. */
const replacesMeshWide = (objects: IstioPolicy[]) =>
  objects.some(
    (o) =>
      o.kind === 'MeshPolicy' ||
      (o.kind === 'PeerAuthentication' && o.namespace === 'istio-system' && o.name === 'default'),
  );

describe('a scenario object replaces the cluster object it overwrites', () => {
  it("every shipped scenario that writes the mesh-wide policy predicts as if the cluster's one were not there", () => {
    let cells = 0;
    const wrong: string[] = [];
    for (const s of scenarios) {
      const over = predictScenario(topology, s, mesh, [clusterPermissive]);
      cells += over.size;
      if (!replacesMeshWide(s.objects)) continue;
      const alone = predictScenario(topology, s, mesh, []);
      for (const [from, to, c] of over.entries()) {
        const want = alone.get(from, to).prediction;
        if (c.prediction.outcome !== want.outcome || c.prediction.reason.summary !== want.reason.summary)
          wrong.push(`${s.name}: ${from} -> ${to}: ${c.prediction.reason.summary}`);
      }
    }
    // 24 shipped scenarios of 5 clients × 8 probed requests.
    expect(cells).toBe(960);
    // Before the fix: 22 cells predicted from the PERMISSIVE policy the run had replaced.
    expect(wrong).toEqual([]);
  });

  it('keeps the cluster object where the scenario writes a different one', () => {
    const s = scenarios.find((x) => x.name === 'namespace-policy')!;
    const over = predictScenario(topology, s, mesh, [clusterPermissive]);
    // test1 has no policy of its own: the cluster's mesh-wide PERMISSIVE decides there.
    expect(over.get('test3/sleep', 'test1/httpbin:8000').prediction.reason.server).toMatchObject({
      mode: 'PERMISSIVE',
    });
    expect(JSON.stringify(over.get('test3/sleep', 'test1/httpbin:8000').prediction.reason.server)).toContain(
      'PeerAuthentication istio-system/default',
    );
  });

  it('a Policy replaces the PeerAuthentication it becomes (ns/name), keeping its age', () => {
    const cluster = policies(pa('test1', 'default', { mtls: { mode: 'DISABLE' } }));
    const scenario = policies({
      apiVersion: 'authentication.istio.io/v1alpha1',
      kind: 'Policy',
      metadata: { name: 'default', namespace: 'test1' },
      spec: { peers: [{ mtls: {} }] },
    });
    const held = overlay(topology, cluster, scenario, mesh);
    expect(held.map((p) => `${p.kind} ${p.namespace}/${p.name}`)).toEqual(['PeerAuthentication test1/default']);
    expect(held[0]).toMatchObject({ mode: 'STRICT', order: cluster[0]!.order });
  });

  it('on a legacy mesh, a MeshPolicy replaces the MeshPolicy (no translation)', () => {
    const legacy = meshConfig('legacy');
    const cluster = policies({
      apiVersion: 'authentication.istio.io/v1alpha1',
      kind: 'MeshPolicy',
      metadata: { name: 'default' },
      spec: { peers: [{ mtls: { mode: 'PERMISSIVE' } }] },
    });
    const s = scenarios.find((x) => x.name === 'mesh-strict-no-dr')!;
    const held = overlay(topology, cluster, s.objects, legacy);
    expect(held.map((p) => `${p.kind} ${p.name}`)).toEqual(['MeshPolicy default']);
    expect(held[0]).toMatchObject({ peerMtls: 'STRICT' });
  });
});

describe('--isolation namespaced over a cluster with its own mesh-wide policy', () => {
  for (const s of scenarios.filter((x) => clusterWideObjects(x, topology).length > 0)) {
    it(`${s.name}: the rewrite keeps the matrix the cluster-wide run would have`, () => {
      const isolated = isolateScenario(s, topology, mesh);
      // Before the fix, mesh-strict-dr-mutual was refused: "test3/sleep -> test1/httpbin:8000: plaintext
      // cluster-wide, reset namespaced" (the cluster-wide side kept the replaced PERMISSIVE policy).
      expect(sameMatrix(topology, [clusterPermissive], s.objects, isolated.objects, mesh)).toEqual([]);
    });
  }

  it('still proves a wrong rewrite wrong over that cluster', () => {
    const original = policies(pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }));
    const wrong = policies(dr('test1', 'x', { host: 'httpbin.test3.svc.cluster.local' }));
    expect(sameMatrix(topology, [clusterPermissive], original, wrong, mesh)).toContain(
      'test3/sleep -> test1/httpbin:8000: reset cluster-wide, plaintext namespaced',
    );
  });
});
