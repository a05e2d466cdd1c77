// A whole run: preflight, setup, every scenario, teardown; what each scenario came to at the end.
import { ConfigError, Unfinished } from '../errors.js';
import type { Cluster } from '../kube/cluster.js';
import type { EventSink } from '../model/events.js';
import { describePolicy, type IstioPolicy } from '../model/istio-objects.js';
import { describeRef } from '../model/kube-object.js';
import { verdicts, type RunFailure, type RunResult, type ScenarioResult } from '../model/results.js';
import { flavorProblem, supportsFlavor, type Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import { count } from '../model/verdict.js';
import { clusterWideObjects, isolateScenario, sameMatrix } from '../oracle/isolate.js';
import type { MeshConfig } from '../oracle/mesh.js';
import { lastChangeMs, type ConvergeSettings } from '../probe/converge.js';
import { ClientPods } from '../probe/pods.js';
import { PushTracker, waitForPush, type PushMark } from '../probe/push-status.js';
import type { ProbeSettings } from '../probe/round.js';
import { Journal, JOURNAL_NAMESPACE } from './journal.js';
import { detectControlPlane } from './control-plane.js';
import { readMeshConfig } from './mesh-settings.js';
import { checkIstio, checkPermissions, checkReachable, checkScenarioApis } from './preflight.js';
import { baselineFrom, listPolicies } from './scenario-objects.js';
import { runScenario } from './scenario-run.js';
import { planNamespaces, setupTopology, undoSetup, type NamespacePlan } from './topology-lifecycle.js';
import type { LeftObject } from './undo.js';

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
  /** Aborted on SIGINT/SIGTERM: the run stops at the next write or wait, and removes what it made. */
  signal: AbortSignal;
  /** Consent to change objects outside the topology's namespaces (mesh-wide policies, root-namespace rules). */
  allowClusterWide: boolean;
  /** `namespaced`: rewrite cluster-wide objects into the topology's namespaces instead. */
  isolation: 'none' | 'namespaced';
  /** --revision: the Istio revision or tag whose control plane the topology joins; default: the default one. */
  revision?: string;
  journalDir: string;
  /** Filled with the run's journal once it exists, so a second signal can say what is left. */
  journalHolder?: { journal?: Journal };
  /** Pauses between the passes of an undo that failed (default UNDO_RETRY_DELAYS_MS). */
  retryDelaysMs?: number[];
}

export async function runScenarios(cluster: Cluster, o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const signal = o.signal;
  await checkReachable(cluster, o.events);
  signal.throwIfAborted();
  const apis = await checkIstio(cluster, o.events);
  // Scenarios this Istio cannot run are skipped, as `predict` skips them, unless none is left.
  const flavor = apis.flavor === 'legacy' ? 'legacy' : 'modern';
  const runnable = o.scenarios.filter((s) => supportsFlavor(s, flavor));
  checkScenarioApis(runnable.length ? runnable : o.scenarios, apis);
  for (const s of o.scenarios.filter((x) => !runnable.includes(x)))
    o.events({ type: 'warning', message: `skipped scenario ${s.name}: ${flavorProblem(s, flavor)}` });
  o = { ...o, scenarios: runnable };
  const controlPlane = await detectControlPlane(cluster, o.revision, o.events);
  const mesh = await readMeshConfig(cluster, apis, { controlPlane, events: o.events });
  const clusterWide = o.allowClusterWide && o.scenarios.some((s) => clusterWideObjects(s, o.topology).length > 0);
  signal.throwIfAborted();
  const plan = await planNamespaces(cluster, o.topology, o.adopt, controlPlane);
  await checkPermissions(
    cluster,
    o.topology,
    apis,
    mesh.rootNamespace,
    { clusterWide, ...namespaceWrites(plan) },
    o.events,
    signal,
  );
  o.events({
    type: 'run-start',
    command: o.command,
    scenarios: o.scenarios.map((s) => s.name),
    cellsPerScenario: o.topology.clients.length * o.topology.targets.length,
    context: cluster.context,
    flavor: mesh.flavor,
  });

  const baseline = baselineFrom(await listPolicies(cluster, apis.groupVersions));
  const scenarios = o.scenarios.map((s) => consent(s, o, mesh, baseline));
  const wide = scenarios.some((s) => clusterWideObjects(s, o.topology).length > 0);
  // A signal before this point has cost nothing: no write has been made.
  signal.throwIfAborted();
  const journal = await Journal.open(cluster, {
    runId: o.runId,
    dir: o.journalDir,
    mirror: wide,
    command: o.command,
    namespaces: o.topology.namespaces.map((n) => n.name),
    timeoutMs: o.readyTimeoutMs,
    signal,
  });
  if (o.journalHolder) o.journalHolder.journal = journal;

  const results: ScenarioResult[] = [];
  const failures: RunFailure[] = [];
  const left: LeftObject[] = [];
  let notRun: string[] = [];
  // What stopped the run before its first scenario: thrown once the topology is removed again.
  let stopped: unknown;
  const pods = new ClientPods(cluster, o.topology);
  const push = new PushTracker(
    cluster,
    o.topology.namespaces.map((n) => n.name),
    (reason) =>
      o.events({
        type: 'warning',
        message: `istiod's sync status cannot be read (${reason}): a stable mismatch is believed after the settle time (${o.converge.settleMs / 1000} s, or twice the longest a matrix went on changing), not once every proxy has acknowledged the push${
          // Only a refused permission has that fix; an istiod that serves no syncz (Istio 1.4) has none.
          /may not|forbidden/.test(reason) ? `; allow \`create pods/exec\` in ${controlPlane.namespace} to use it` : ''
        }`,
      }),
    controlPlane.namespace,
  );
  try {
    const beforeSetup = await push.beforeChange().catch(() => undefined);
    const wrote = await setupTopology(cluster, o.topology, {
      runId: o.runId,
      adopt: o.adopt,
      keep: o.keep,
      plan,
      readyTimeoutMs: o.readyTimeoutMs,
      events: o.events,
      journal,
      signal,
      controlPlane,
    });
    if (wrote && beforeSetup) await awaitTopologyPush(push, beforeSetup, o, signal);
  } catch (e) {
    stopped = e;
  }
  if (stopped === undefined) {
    for (const [i, scenario] of scenarios.entries()) {
      if (signal.aborted) {
        stopped = signal.reason;
        break;
      }
      // Without the push signal: never believe a stable matrix sooner than twice the slowest push seen so far.
      const slowest = Math.max(0, ...results.map((r) => lastChangeMs(r.observation?.convergence.history ?? [])));
      const out = await runScenario(
        {
          cluster,
          topology: o.topology,
          apis,
          mesh,
          baseline,
          runId: o.runId,
          pods,
          probe: { ...o.probe, kubectl: o.probe.kubectl ?? { context: cluster.context } },
          converge: { ...o.converge, settleMs: Math.max(o.converge.settleMs, 2 * slowest) },
          push,
          removeTimeoutMs: o.readyTimeoutMs,
          events: o.events,
          journal,
          retryDelaysMs: o.retryDelaysMs,
        },
        scenario,
        i + 1,
        scenarios.length,
      );
      if (out.result) results.push(out.result);
      if (out.error !== undefined) {
        if (signal.aborted) stopped = signal.reason;
        else failures.push({ stage: 'scenario', scenario: scenario.name, message: messageOf(out.error) });
      }
      if (out.left.length) {
        left.push(...out.left);
        failures.push({
          stage: 'undo',
          scenario: scenario.name,
          message: `could not remove or put back ${out.left.map((l) => l.description).join(', ')}`,
        });
      }
      // Whatever a failed scenario left behind would change what the next ones observe: stop. One that
      // failed and left nothing (its apply was refused) is recorded, and the next one runs.
      if (stopped !== undefined || out.left.length) {
        notRun = scenarios.slice(i + 1).map((s) => s.name);
        break;
      }
    }
  }

  if (!o.keep) {
    const torn = await undoSetup(cluster, o.topology, {
      journal,
      timeoutMs: o.readyTimeoutMs,
      events: o.events,
      retryDelaysMs: o.retryDelaysMs,
    });
    if (torn.length) {
      left.push(...torn);
      failures.push({
        stage: 'teardown',
        message: `could not remove ${torn.map((l) => l.description).join(', ')}`,
      });
    }
  }
  // An object a scenario could not delete may have gone with its namespace since.
  for (const e of journal.left(o.keep))
    if (e.op === 'create' && e.purpose === 'scenario' && !(await cluster.get(e.ref).catch(() => true)))
      await journal.undone(e.seq).catch(() => {});
  // The journal knows what is still to undo, including what a failed write may have left unrecorded as undone.
  const pending = journal.left(o.keep);
  const leftBehind = pending.map(
    (e) => left.find((l) => describeRef(l.ref) === describeRef(e.ref))?.description ?? describeRef(e.ref),
  );
  if (pending.length === 0) {
    try {
      await journal.close();
    } catch (e) {
      failures.push({ stage: 'journal', message: messageOf(e) });
      leftBehind.push(`ConfigMap ${JOURNAL_NAMESPACE}/journal-${o.runId}`);
      await journal.end();
    }
  } else await journal.end();

  if (stopped !== undefined) throw leftBehind.length ? new Unfinished(stopped, leftBehind) : stopped;

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
    ...(failures.length ? { incomplete: { failures, notRun, left: leftBehind } } : {}),
  };
}

/** Which namespace writes the run's setup makes: the RBAC preflight asks only for those. */
function namespaceWrites(plan: NamespacePlan[]): { createsNamespaces: boolean; relabelsNamespaces: boolean } {
  return {
    createsNamespaces: plan.some((p) => p.state === 'create'),
    relabelsNamespaces: plan.some((p) => Object.keys(p.relabel).length > 0),
  };
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

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

/**
 * New services and endpoints reach the proxies by a push as slow as a policy's: until every topology proxy
 * has the newest push of the topology (PushTracker.check, caughtUp), a first scenario that applies nothing
 * would see (and, once stable, believe) clients that do not know their servers yet. Bounded by --converge-timeout; then it goes
 * on with a warning, and the settle time decides as without the signal.
 */
async function awaitTopologyPush(push: PushTracker, mark: PushMark, o: RunOptions, signal: AbortSignal) {
  const started = performance.now();
  const state = await waitForPush(push, mark, {
    until: 'caught-up',
    timeoutMs: o.converge.timeoutMs,
    intervalMs: Math.min(o.converge.intervalMs, 500),
    ...(o.converge.clock ? { clock: o.converge.clock } : {}),
    signal,
  });
  if (state.state === 'acked')
    o.events({
      type: 'preflight',
      check: 'proxies configured',
      ok: true,
      detail: `every topology proxy acknowledged istiod's push of the topology (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    });
  else if (state.state === 'pending')
    o.events({
      type: 'warning',
      message: `the topology's proxies have not all acknowledged istiod's push of the topology after ${o.converge.timeoutMs / 1000} s (waiting: ${state.waiting.slice(0, 5).join(', ')}); going on`,
    });
}
