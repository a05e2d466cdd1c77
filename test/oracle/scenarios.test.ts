// The oracle against every shipped scenario's explicit expected matrix.
import { describe, expect, it } from 'vitest';
import { agrees } from '../../src/model/cell.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { FLAVORS, supportsFlavor } from '../../src/model/scenario.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { expectedMatrix } from '../../src/oracle/expected.js';
import { installDefaults, meshConfig, overlay } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';

const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);

describe('shipped scenarios', () => {
  it('cover every experiment of the article', () => {
    expect(scenarios.map((s) => s.name)).toEqual([
      'baseline',
      'mesh-strict-dr-mutual',
      'mesh-strict-dr-disable-test3',
      'permissive-httpbin-test1',
      'namespace-policy',
      'service-policy',
      'port-level-dr',
      'https-nginx',
      'https-nginx-mesh-mtls',
      'https-nginx-mesh-mtls-dr-disable',
      'mesh-strict-no-dr',
    ]);
  });

  for (const scenario of scenarios) {
    for (const flavor of FLAVORS.filter((f) => supportsFlavor(scenario, f))) {
      it(`${scenario.name} (${flavor}): the oracle predicts every cell the scenario expects`, () => {
        const mesh = meshConfig(flavor);
        const cells = expectedMatrix(
          topology,
          scenario,
          flavor,
          predict(topology, overlay(topology, installDefaults(mesh), scenario.objects, mesh), mesh),
        );
        expect(cells.size).toBe(topology.clients.length * topology.targets.length);
        const entries = [...cells.entries()];
        const uncovered = entries.filter(([, , c]) => c.source !== 'scenario').map(([from, to]) => `${from} -> ${to}`);
        expect(uncovered, 'cells without an explicit expectation').toEqual([]);
        const disagreements = entries
          .filter(([, , c]) => !agrees(c))
          .map(
            ([from, to, c]) =>
              `${from} -> ${to}: scenario ${c.expect} (${c.source === 'scenario' ? c.rule : 'oracle'}), oracle ${c.prediction.outcome}: ${c.prediction.reason.summary}`,
          );
        expect(disagreements).toEqual([]);
      });
    }
  }
});
