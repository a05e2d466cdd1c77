// --isolation namespaced: every shipped scenario rewritten into its topology's namespaces keeps its matrix.
import { describe, expect, it } from 'vitest';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { FLAVORS, supportsFlavor } from '../../src/model/scenario.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { clusterWideObjects, isolateScenario, sameMatrix } from '../../src/oracle/isolate.js';
import { installDefaults, meshConfig } from '../../src/oracle/mesh.js';
import { dr, pa, policies } from '../helpers/mini-topology.js';
import type { Scenario } from '../../src/model/scenario.js';

const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);

describe('isolateScenario', () => {
  for (const flavor of FLAVORS) {
    for (const s of scenarios.filter((x) => supportsFlavor(x, flavor) && clusterWideObjects(x, topology).length > 0)) {
      it(`${s.name} (${flavor}): only topology namespaces, same predicted matrix`, () => {
        const mesh = meshConfig(flavor);
        const isolated = isolateScenario(s, topology, mesh);
        expect(clusterWideObjects(isolated, topology)).toEqual([]);
        expect(sameMatrix(topology, installDefaults(mesh), s.objects, isolated.objects, mesh)).toEqual([]);
      });
    }
  }

  it('covers the scenarios that need it', () => {
    expect(scenarios.filter((s) => clusterWideObjects(s, topology).length > 0).map((s) => s.name)).toEqual([
      'mesh-strict-dr-mutual',
      'mesh-strict-dr-disable-test3',
      'permissive-httpbin-test1',
      'https-nginx-mesh-mtls',
      'https-nginx-mesh-mtls-dr-disable',
      'mesh-strict-no-dr',
      'authz-root-namespace',
    ]);
  });

  it('writes a mesh-wide mode into namespace policies that inherited it, and proves a bad rewrite wrong', () => {
    const mesh = meshConfig('modern');
    const s: Scenario = {
      name: 'x',
      description: '',
      sources: [],
      file: '',
      objects: policies(
        pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
        pa('test1', 'ns', { mtls: { mode: 'UNSET' } }),
      ),
      expect: { all: [], modern: [], legacy: [] },
      certificates: [],
    };
    const isolated = isolateScenario(s, topology, mesh);
    expect(isolated.objects.find((o) => o.name === 'ns')!.raw.spec).toEqual({ mtls: { mode: 'STRICT' } });
    expect(sameMatrix(topology, [], s.objects, isolated.objects, mesh)).toEqual([]);
    // A copy of a *.local rule with its host unchanged would catch test1's clients calling test3 too:
    const naive = policies(
      pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      dr('test1', 'copy', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      dr('test3', 'httpbin', { host: 'httpbin', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
    );
    const original = policies(
      pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      dr('istio-system', 'default', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      dr('test3', 'httpbin', { host: 'httpbin', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
    );
    expect(sameMatrix(topology, [], original, naive, mesh)).toContain(
      'test1/sleep -> test3/httpbin:8000: plaintext cluster-wide, upstream-error namespaced',
    );
  });
});
