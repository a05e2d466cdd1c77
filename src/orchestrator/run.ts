// A whole run: preflight, setup, every scenario, teardown; what each scenario came to at the end.
import { ConfigError } from '../errors.js';
import type { Cluster } from '../kube/cluster.js';
import type { EventSink } from '../model/events.js';
import { describePolicy, type IstioPolicy } from '../model/istio-objects.js';
import { describeRef } from '../model/kube-object.js';
import { verdicts, type RunResult, type ScenarioResult } from '../model/results.js';
import type { Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { count } from '../model/verdict.js';
import { clusterWideObjects, isolateScenario, sameMatrix } from '../oracle/isolate.js';
import type { MeshConfig } from '../oracle/mesh.js';
import type { ConvergeSettings } from '../probe/converge.js';
import { ClientPods } from '../probe/pods.js';
import type { ProbeSettings } from '../probe/round.js';
import { Journal, JOURNAL_NAMESPACE } from './journal.js';
import { readMeshConfig } from './mesh-settings.js';
import { checkIstio, checkPermissions, checkReachable, checkScenarioApis } from './preflight.js';
import { baselineFrom, listPolicies } from './scenario-objects.js';
import { runScenario } from './scenario-run.js';
import { refuseForeignNamespaces, setupTopology, teardownTopology } from './topology-lifecycle.js';

export interface RunOptions {
  command: 'run' | 'probe';
  topology: Topology;
  scenarios: Scenario[];
  runId: string;
  /** Leave the topology in place afterwards. */
  keep: boolean;
  adopt: boolean;
  readyTimeoutMs: number;
  probe: ProbeSettings;
  converge: ConvergeSettings;
  events: EventSink;
  /** Aborted on SIGINT/SIGTERM: the run stops between steps and cleans up. */
  signal: AbortSignal;
  /** Consent to change objects outside the topology's namespaces (mesh-wide policies, root-namespace rules). */
  allowClusterWide: boolean;
  /** `namespaced`: rewrite cluster-wide objects into the topology's namespaces instead. */
  isolation: 'none' | 'namespaced';
  journalDir: string;
  /** Filled with the run's journal once it exists, so a second signal can say what is left. */
  journalHolder?: { journal?: Journal };
}

export async function runScenarios(cluster: Cluster, o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  await checkReachable(cluster, o.events);
  const apis = await checkIstio(cluster, o.events);
  checkScenarioApis(o.scenarios, apis);
  const mesh = await readMeshConfig(cluster, apis);
  const clusterWide = o.allowClusterWide && o.scenarios.some((s) => clusterWideObjects(s, o.topology).length > 0);
  await checkPermissions(cluster, o.topology, apis, mesh.rootNamespace, clusterWide, o.events);
  o.events({
    type: 'run-start',
    command: o.command,
    scenarios: o.scenarios.map((s) => s.name),
    cellsPerScenario: o.topology.clients.length * o.topology.targets.length,
    context: cluster.context,
    flavor: mesh.flavor,
  });

  await refuseForeignNamespaces(cluster, o.topology, o.adopt);
  const baseline = baselineFrom(await listPolicies(cluster, apis.groupVersions));
  const scenarios = o.scenarios.map((s) => consent(s, o, mesh, baseline));
  const wide = scenarios.some((s) => clusterWideObjects(s, o.topology).length > 0);
  const journal = await Journal.open(cluster, o.runId, o.journalDir, wide);
  if (o.journalHolder) o.journalHolder.journal = journal;

  const results: ScenarioResult[] = [];
  try {
    // A setup that fails half-way leaves namespaces that the teardown below removes.
    await setupTopology(cluster, o.topology, {
      runId: o.runId,
      adopt: o.adopt,
      readyTimeoutMs: o.readyTimeoutMs,
      events: o.events,
      journal,
    });
    const pods = new ClientPods(cluster, o.topology);
    for (const [i, scenario] of scenarios.entries()) {
      o.signal.throwIfAborted();
      results.push(
        await runScenario(
          {
            cluster,
            topology: o.topology,
            apis,
            mesh,
            baseline,
            runId: o.runId,
            pods,
            probe: { ...o.probe, kubectl: o.probe.kubectl ?? { context: cluster.context } },
            converge: o.converge,
            removeTimeoutMs: o.readyTimeoutMs,
            events: o.events,
            journal,
          },
          scenario,
          i + 1,
          scenarios.length,
        ),
      );
    }
  } finally {
    if (!o.keep)
      await teardownTopology(cluster, o.topology, { timeoutMs: o.readyTimeoutMs, events: o.events, journal });
    // The journal's own namespace is removed by close(); a kept topology is meant to stay.
    const left = journal
      .pending()
      .filter((e) => !(e.ref.kind === 'Namespace' && (e.ref.name === JOURNAL_NAMESPACE || o.keep)));
    if (left.length === 0) await journal.close();
    else
      o.events({
        type: 'warning',
        message: `not everything was undone (${left.map((e) => describeRef(e.ref)).join(', ')}): run \`meshprobe cleanup\``,
      });
  }

  const n = count(results.flatMap((r) => verdicts(r).values()));
  o.events({
    type: 'run-done',
    seconds: (performance.now() - started) / 1000,
    matched: n.matched,
    mismatched: n.mismatched,
    errors: n.errors,
  });
  return {
    command: o.command,
    flavor: mesh.flavor,
    topology: o.topology.name,
    cluster: { context: cluster.context, server: cluster.server },
    scenarios: results,
  };
}

/**
 * A scenario that changes objects outside the topology's namespaces runs only with consent, or
 * rewritten into namespace-scoped equivalents the oracle proves equal.
 */
function consent(s: Scenario, o: RunOptions, mesh: MeshConfig, baseline: IstioPolicy[]): Scenario {
  const wide = clusterWideObjects(s, o.topology);
  if (wide.length === 0 || o.allowClusterWide) return s;
  const names = wide.map(describePolicy).join(', ');
  if (o.isolation !== 'namespaced') {
    throw new ConfigError(
      `scenario ${s.name} changes objects outside the topology's namespaces (${names}), which affect every workload of the mesh`,
      'pass --allow-cluster-wide on a cluster of your own (make e2e does), or --isolation namespaced to apply namespace-scoped equivalents instead',
    );
  }
  const isolated = isolateScenario(s, o.topology, mesh);
  const diff = sameMatrix(o.topology, baseline, s.objects, isolated.objects, mesh);
  if (diff.length)
    throw new ConfigError(
      `scenario ${s.name} cannot be isolated to the topology's namespaces without changing its matrix:\n  ${diff.join('\n  ')}`,
      'run it with --allow-cluster-wide on a cluster of your own',
    );
  return isolated;
}
