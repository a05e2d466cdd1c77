// The oracle against every shipped scenario's explicit expected matrix.
import { describe, expect, it } from 'vitest';
import { agrees } from '../../src/model/cell.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { FLAVORS, supportsFlavor } from '../../src/model/scenario.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { expectedMatrix } from '../../src/oracle/expected.js';
import { installDefaults, meshConfig, overlay } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';
import { predictScenario } from '../../src/oracle/expected.js';
import before from './fixtures/mtls-matrices.json' with { type: 'json' };

const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);

describe('shipped scenarios', () => {
  it('cover every experiment of the article, and the authorization tasks', () => {
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
      'authz-allow-nothing',
      'authz-deny-method-get',
      'authz-allow-principal',
      'authz-allow-namespace',
      'authz-deny-over-allow',
      'authz-deny-all',
      'authz-root-namespace',
      'authz-permissive-principals',
      'authz-permissive-paths',
      'authz-strict',
      'authz-no-sidecar',
      'authz-dry-run',
      'authz-custom-undeclared',
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

// The 28 cells of each mTLS scenario as they were before the topology grew a second test1 client and a
// POST request (fixtures/mtls-matrices.json, written by the oracle before AuthorizationPolicy came in):
// expectation, prediction and its one-line reason, unchanged.
describe('the mTLS scenarios keep every cell they had', () => {
  const fixture = before as Record<string, Record<string, string[]>>;
  for (const [name, flavors] of Object.entries(fixture)) {
    for (const [flavor, lines] of Object.entries(flavors)) {
      it(`${name} (${flavor})`, () => {
        const scenario = scenarios.find((s) => s.name === name)!;
        const cells = predictScenario(topology, scenario, meshConfig(flavor as 'modern' | 'legacy'));
        const now = lines.map((line) => {
          const [from, to] = line.split(' | ')[0]!.split(' -> ');
          const c = cells.get(from!, to!);
          return `${from} -> ${to} | ${c.expect} | ${c.prediction.outcome} | ${c.prediction.reason.summary}`;
        });
        expect(lines).toHaveLength(28);
        expect(now).toEqual(lines);
      });
    }
  }
});
