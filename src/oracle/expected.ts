// A scenario's expected matrix: its explicit expectations where it has them, the oracle elsewhere.
import { matchesClient, matchesTarget } from '../model/matrix.js';
import { isReachable, mtlsOf, satisfies, type Expectation } from '../model/outcome.js';
import { rulesFor, type ExpectationRule, type Flavor, type Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { installDefaults, overlay, type MeshConfig } from './mesh.js';
import { predict, type Prediction } from './predict.js';
import type { IstioPolicy } from '../model/istio-objects.js';

export interface ExpectedCell {
  from: string;
  to: string;
  expect: Expectation;
  reachable: boolean;
  /** Whether the request should be mutual TLS, where that is observable. */
  mtls: boolean | undefined;
  /** Where the expectation comes from. */
  source: 'scenario' | 'oracle';
  /** The scenario rule (file:line) that set it, when source is scenario. */
  rule?: string;
  prediction: Prediction;
  /** False when the scenario expects something the oracle does not predict: one of the two is wrong. */
  agrees: boolean;
}

export function expectedMatrix(
  topology: Topology,
  scenario: Scenario,
  flavor: Flavor,
  predictions: Prediction[],
): ExpectedCell[] {
  const rules = rulesFor(scenario, flavor);
  const byKey = new Map(predictions.map((p) => [`${p.from} ${p.to}`, p]));
  const cells: ExpectedCell[] = [];
  for (const client of topology.clients) {
    for (const target of topology.targets) {
      const prediction = byKey.get(`${client.id} ${target.id}`)!;
      let rule: ExpectationRule | undefined;
      for (const r of rules)
        if (r.from.some((p) => matchesClient(p, client)) && r.to.some((p) => matchesTarget(p, target))) rule = r;
      const expect: Expectation = rule?.expect ?? prediction.outcome;
      cells.push({
        from: client.id,
        to: target.id,
        expect,
        reachable: isReachable(expect),
        mtls: mtlsOf(expect),
        source: rule ? 'scenario' : 'oracle',
        rule: rule?.where,
        prediction,
        agrees: satisfies(prediction.outcome, expect),
      });
    }
  }
  return cells;
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
): ExpectedCell[] {
  return expectedMatrix(topology, scenario, mesh.flavor, predict(topology, overlay(baseline, scenario.objects), mesh));
}
