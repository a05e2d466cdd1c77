// Options shared by the commands that read scenarios: which topology, which files, which scenarios, which Istio.
import { resolve } from 'node:path';
import { ConfigError, ConfigErrors } from '../errors.js';
import { prefixNamespaces } from '../model/namespace-prefix.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../model/scenario-file.js';
import type { Flavor, Scenario } from '../model/scenario.js';
import { DEFAULT_TOPOLOGY, loadTopology } from '../model/topology-file.js';
import type { Topology } from '../model/topology.js';
import { probeRequestBytes } from '../probe/command.js';

export interface ScenarioOptions {
  topology?: string;
  file: string[];
  scenario: string[];
  namespacePrefix?: string;
}

function topologyFrom(o: { topology?: string }, cwd: string): Topology {
  return loadTopology(o.topology ? resolve(cwd, o.topology) : DEFAULT_TOPOLOGY, {
    cwd,
    requestBytes: probeRequestBytes,
  });
}

/** The topology alone (setup, teardown, cleanup), moved under --namespace-prefix when given. */
export function loadTopologyOption(o: { topology?: string; namespacePrefix?: string }, cwd: string): Topology {
  const topology = topologyFrom(o, cwd);
  return o.namespacePrefix !== undefined
    ? prefixNamespaces(topology, [], o.namespacePrefix, probeRequestBytes).topology
    : topology;
}

export function loadInputs(o: ScenarioOptions, cwd: string): { topology: Topology; scenarios: Scenario[] } {
  const topology = topologyFrom(o, cwd);
  const files = scenarioFiles(o.file.length ? o.file.map((f) => resolve(cwd, f)) : [SCENARIO_DIR]);
  if (files.length === 0) throw new ConfigError(`no scenario files (*.yaml) in ${o.file.join(', ')}`);
  const loaded = shippedFor(o, topology, () => loadScenarios(files, topology, { cwd }));
  // An empty or truncated file would otherwise "pass" with 0 scenarios.
  if (loaded.length === 0)
    throw new ConfigError(
      `no scenario in ${o.file.length ? o.file.join(', ') : SCENARIO_DIR}: ${files.length === 1 ? 'the file is empty or holds only comments' : 'its files are empty or hold only comments'}`,
      'give a file with at least one `kind: Scenario` document (the shipped ones are in scenarios/)',
    );
  const { topology: t, scenarios: all } =
    o.namespacePrefix !== undefined
      ? prefixNamespaces(topology, loaded, o.namespacePrefix, probeRequestBytes)
      : { topology, scenarios: loaded };
  if (o.scenario.length === 0) return { topology: t, scenarios: all };
  const unknown = o.scenario.filter((n) => !all.some((s) => s.name === n));
  if (unknown.length) {
    throw new ConfigError(
      `unknown scenario ${unknown.map((n) => `"${n}"`).join(', ')}`,
      `choose from: ${all.map((s) => s.name).join(', ')}`,
    );
  }
  return { topology: t, scenarios: o.scenario.map((n) => all.find((s) => s.name === n)!) };
}

export function parseFlavor(value: string): Flavor {
  if (value !== 'modern' && value !== 'legacy')
    throw new ConfigError(
      `--istio must be "modern" (Istio >= 1.5, PeerAuthentication, auto mTLS) or "legacy" (Istio 1.4, MeshPolicy/Policy)`,
    );
  return value;
}

/**
 * The shipped scenarios are written for the article's topology: against a topology of one's own (and
 * no -f) their rules match no client, and the user gets one message saying so instead of a wall of them.
 */
function shippedFor(o: ScenarioOptions, topology: Topology, load: () => Scenario[]): Scenario[] {
  try {
    return load();
  } catch (e) {
    if (!o.topology || o.file.length || !(e instanceof ConfigError)) throw e;
    const errors = e instanceof ConfigErrors ? e.errors : [e];
    throw new ConfigError(
      `the shipped scenarios are written for the article's topology (test1, test2, test3, ngtest) and do not fit topology ${topology.name}: ${errors.length} error${errors.length === 1 ? '' : 's'}, the first: ${errors[0]!.message}`,
      'pass scenarios written for your topology with -f FILE|DIR',
    );
  }
}
