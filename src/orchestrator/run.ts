// A whole run: preflight, setup, every scenario, teardown; the meshprobe/v1 document at the end.
import type { Cluster } from '../kube/cluster.js';
import type { EventSink } from '../model/events.js';
import type { Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import type { ConvergeSettings } from '../probe/converge.js';
import { ClientPods } from '../probe/pods.js';
import type { ProbeSettings } from '../probe/round.js';
import { API_VERSION, summarize, type ReportDocument, type ScenarioReport } from '../report/document.js';
import { VERSION } from '../version.js';
import { readMeshConfig } from './mesh-settings.js';
import { checkIstio, checkPermissions, checkReachable, checkScenarioApis } from './preflight.js';
import { baselineFrom } from './scenario-objects.js';
import { runScenario } from './scenario-run.js';
import { setupTopology, teardownTopology } from './topology-lifecycle.js';

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
}

export async function runScenarios(cluster: Cluster, o: RunOptions): Promise<ReportDocument> {
  const started = performance.now();
  await checkReachable(cluster, o.events);
  const apis = await checkIstio(cluster, o.events);
  checkScenarioApis(o.scenarios, apis);
  const mesh = await readMeshConfig(cluster, apis);
  await checkPermissions(cluster, o.topology, apis, mesh.rootNamespace, o.events);
  o.events({ type: 'run-start', command: o.command, scenarios: o.scenarios.map((s) => s.name), cellsPerScenario: o.topology.clients.length * o.topology.targets.length, context: cluster.context, flavor: mesh.flavor });

  const reports: ScenarioReport[] = [];
  // Set once setup starts: a setup that fails half-way leaves namespaces that teardown must remove.
  let setUp = false;
  try {
    setUp = true;
    await setupTopology(cluster, o.topology, { runId: o.runId, adopt: o.adopt, readyTimeoutMs: o.readyTimeoutMs, events: o.events });
    const baseline = baselineFrom(await listPolicies(cluster, apis.groupVersions));
    const pods = new ClientPods(cluster, o.topology);
    for (const [i, scenario] of o.scenarios.entries()) {
      o.signal.throwIfAborted();
      reports.push(await runScenario({ cluster, topology: o.topology, apis, mesh, baseline, runId: o.runId, pods, probe: { ...o.probe, context: cluster.context }, converge: o.converge, removeTimeoutMs: o.readyTimeoutMs, events: o.events }, scenario, i + 1, o.scenarios.length));
    }
  } finally {
    if (setUp && !o.keep) await teardownTopology(cluster, o.topology, { timeoutMs: o.readyTimeoutMs, events: o.events });
  }

  const summary = summarize(reports);
  o.events({ type: 'run-done', seconds: (performance.now() - started) / 1000, matched: summary.matched, mismatched: summary.mismatched, errors: summary.errors });
  return {
    apiVersion: API_VERSION,
    kind: 'MatrixReport',
    metadata: { command: o.command, generatedAt: new Date().toISOString(), meshprobeVersion: VERSION, flavor: mesh.flavor, topology: o.topology.name, cluster: { context: cluster.context, server: cluster.server } },
    summary,
    scenarios: reports,
  };
}

/** Every PeerAuthentication, DestinationRule and legacy policy the cluster holds, in all namespaces. */
export async function listPolicies(cluster: Cluster, groupVersions: string[]) {
  const served = (group: string) => groupVersions.find((gv) => gv.startsWith(`${group}/`));
  const kinds: Array<[string | undefined, string]> = [
    [served('security.istio.io'), 'PeerAuthentication'],
    [served('networking.istio.io'), 'DestinationRule'],
    [served('authentication.istio.io'), 'MeshPolicy'],
    [served('authentication.istio.io'), 'Policy'],
  ];
  const lists = await Promise.all(kinds.filter(([gv]) => gv).map(([gv, kind]) => cluster.list(gv!, kind)));
  return lists.flat();
}
