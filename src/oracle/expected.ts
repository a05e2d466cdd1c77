// A scenario's expected matrix: its explicit expectations where it has them, the oracle elsewhere.
import type { ExpectedCell } from '../model/cell.js';
import type { IstioPolicy } from '../model/istio-objects.js';
import { Matrix } from '../model/matrix.js';
import { matchesClient, matchesTarget } from '../model/patterns.js';
import type { Prediction } from '../model/prediction.js';
import { rulesFor, type ExpectationRule, type Flavor, type Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { installDefaults, overlay, type MeshConfig } from './mesh.js';
import { predict } from './predict.js';

export function expectedMatrix(
  topology: Topology,
  scenario: Scenario,
  flavor: Flavor,
  predictions: Matrix<Prediction>,
): Matrix<ExpectedCell> {
  const rules = rulesFor(scenario, flavor);
  return Matrix.of(topology, (client, target): ExpectedCell => {
    const prediction = predictions.get(client.id, target.id);
    // Later rules override earlier ones.
    let rule: ExpectationRule | undefined;
    for (const r of rules)
      if (r.from.some((p) => matchesClient(p, client)) && r.to.some((p) => matchesTarget(p, target))) rule = r;
    return rule
      ? { source: 'scenario', expect: rule.expect, rule: rule.where, prediction }
      : { source: 'oracle', expect: prediction.outcome, prediction };
  });
}

/**
 * The expected matrix of a scenario applied over `baseline`: the mTLS objects the cluster already holds
 * (by default, what a fresh install of the flavor holds).
 */
export function predictScenario(
  topology: Topology,
  scenario: Scenario,
  mesh: MeshConfig,
  baseline: IstioPolicy[] = installDefaults(mesh),
): Matrix<ExpectedCell> {
  return expectedMatrix(
    topology,
    scenario,
    mesh.flavor,
    predict(topology, overlay(topology, baseline, scenario.objects, mesh), mesh),
  );
}
