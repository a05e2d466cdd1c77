// One scenario: apply its objects (saving any it overwrites), converge, then remove them and put back
// what was there before.
import type { Cluster, IstioApis } from '../kube/cluster.js';
import { refOf } from '../kube/cluster.js';
import { isReady, labelSelector } from '../kube/pods.js';
import type { EventSink } from '../model/events.js';
import type { IstioPolicy } from '../model/istio-objects.js';
import type { KubeObject } from '../model/kube-object.js';
import { objectId } from '../model/kube-object.js';
import type { CertificateReport, ScenarioResult } from '../model/results.js';
import type { Scenario } from '../model/scenario.js';
import { findWorkload, type Topology } from '../model/topology.js';
import { compare, count, scenarioVerdict, verdictOf } from '../model/verdict.js';
import { predictScenario } from '../oracle/expected.js';
import type { MeshConfig } from '../oracle/mesh.js';
import { fromEnvoyCerts, fromPem } from '../probe/certificates.js';
import { converge, type ConvergeSettings } from '../probe/converge.js';
import type { ClientPods } from '../probe/pods.js';
import { waitForPush, type PushMark, type PushTracker } from '../probe/push-status.js';
import { probeRound, type ProbeSettings } from '../probe/round.js';
import type { Journal } from './journal.js';
import { undoAll, type LeftObject } from './undo.js';
import { objectsToApply } from './scenario-objects.js';

export interface ScenarioContext {
  cluster: Cluster;
  topology: Topology;
  apis: IstioApis;
  mesh: MeshConfig;
  baseline: IstioPolicy[];
  runId: string;
  pods: ClientPods;
  probe: ProbeSettings;
  converge: ConvergeSettings;
  removeTimeoutMs: number;
  events: EventSink;
  journal?: Journal;
  /** Pauses between the passes of an undo that failed (default UNDO_RETRY_DELAYS_MS). */
  retryDelaysMs?: number[];
  /** istiod's push status, to believe rounds only once the data plane has the change. */
  push?: PushTracker;
}

interface Change {
  applied: KubeObject;
  /** What the object was before, when it existed: restored afterwards. */
  before?: KubeObject;
  /** Its journal entry. */
  seq?: number;
}

/** A scenario's end: its result when it was probed to the end, what went wrong, what its undo left. */
export interface ScenarioOutcome {
  result?: ScenarioResult;
  /** Applying or probing failed (or SIGINT): the scenario has no result. */
  error?: unknown;
  /** What its undo could not delete or put back, after trying again. */
  left: LeftObject[];
}

export async function runScenario(
  ctx: ScenarioContext,
  scenario: Scenario,
  index: number,
  total: number,
): Promise<ScenarioOutcome> {
  const { cluster, events } = ctx;
  events({ type: 'scenario-start', scenario: scenario.name, index, total });
  const started = performance.now();
  const expected = predictScenario(ctx.topology, scenario, ctx.mesh, ctx.baseline);
  const changes: Change[] = [];
  let outcome: ScenarioOutcome;
  try {
    const mark = await beforeChange(ctx);
    for (const obj of objectsToApply(scenario, ctx.topology, ctx.apis, ctx.mesh, ctx.runId)) {
      const before = await cluster.get(refOf(obj));
      const seq = await ctx.journal?.record(before ? 'replace' : 'create', refOf(obj), before, { purpose: 'scenario' });
      changes.push({ applied: obj, before, seq });
      // An object that exists is replaced whole, so the scenario's version is exactly what the cluster holds.
      if (before)
        await cluster.replace({
          ...obj,
          metadata: { ...obj.metadata, resourceVersion: before.metadata.resourceVersion },
        });
      else await cluster.apply(obj);
    }
    // Rounds count once the proxies have this scenario's change; one that applies nothing waits for the
    // last change before it (the setup of the topology, or the previous scenario's removal).
    const previous = ctx.push?.lastChange;
    if (changes.length) ctx.push?.changed(mark);
    const gate = changes.length ? mark : previous;
    events({ type: 'scenario-applied', scenario: scenario.name, objects: changes.map((c) => objectId(c.applied)) });
    const result = await converge(
      (round) =>
        probeRound(cluster, ctx.topology, ctx.pods, ctx.probe, (from, to, cell) =>
          events({
            type: 'cell-observed',
            scenario: scenario.name,
            round,
            from,
            to,
            outcome: cell.outcome,
            match: verdictOf(expected.get(from, to), cell.outcome) === 'match',
          }),
        ),
      expected,
      { ...ctx.converge, ...(gate ? { gate: { check: () => ctx.push!.check(gate) } } : {}) },
      {
        onRoundStart: (round) => events({ type: 'round-start', scenario: scenario.name, round, cells: expected.size }),
        onRound: (_, s) =>
          events({
            type: 'round-done',
            scenario: scenario.name,
            round: s.round,
            cells: expected.size,
            matched: s.matched,
            mismatched: s.mismatched,
            errors: s.errors,
            seconds: s.seconds,
            execs: s.execs,
          }),
      },
    );
    const certificates = await readCertificates(ctx, scenario);
    // The verdict is known once the rounds are over; removing the objects comes after it.
    events({
      type: 'scenario-done',
      scenario: scenario.name,
      verdict: scenarioVerdict(count(compare(expected, result.final.cells))),
      rounds: result.history.length,
      converged: result.converged,
      seconds: (performance.now() - started) / 1000,
    });
    outcome = {
      result: {
        scenario,
        expected,
        observation: {
          cells: result.final.cells,
          convergence: {
            converged: result.converged,
            seconds: result.seconds,
            history: result.history,
            ...(result.push ? { push: result.push } : {}),
          },
          certificates,
        },
      },
      left: [],
    };
  } catch (e) {
    outcome = { error: e, left: [] };
  }
  const mark = changes.length ? await ctx.push?.beforeChange().catch(() => undefined) : undefined;
  outcome.left = await undo(ctx, scenario, changes);
  if (changes.length) ctx.push?.changed(mark);
  return outcome;
}

/**
 * Marks istiod's push state before this scenario's change, once the previous change (the last scenario's
 * removal) has a push of its own in istiod: were both changes to share one, a proxy that had only the
 * removal would pass for one that has the new objects. Its proxies need not have it yet: a round counts
 * only once they all have this scenario's push, which comes after it.
 */
async function beforeChange(ctx: ScenarioContext): Promise<PushMark | undefined> {
  const push = ctx.push;
  if (!push) return undefined;
  const previous = push.lastChange;
  if (previous) {
    const state = await waitForPush(push, previous, {
      until: 'published',
      timeoutMs: ctx.converge.timeoutMs,
      intervalMs: Math.min(ctx.converge.intervalMs, 500),
      clock: ctx.converge.clock,
      signal: ctx.converge.signal,
    });
    if (state.state === 'pending')
      ctx.events({
        type: 'warning',
        message: `istiod has not begun to push the previous scenario's removal after ${ctx.converge.timeoutMs / 1000} s (waiting: ${state.waiting.slice(0, 5).join(', ')}); going on`,
      });
  }
  return push.beforeChange().catch(() => undefined);
}

/** The certificates of the workloads the scenario names, read from their sidecars. */
async function readCertificates(ctx: ScenarioContext, scenario: Scenario): Promise<CertificateReport[]> {
  const out: CertificateReport[] = [];
  for (const id of scenario.certificates) {
    const [namespace = '', name = ''] = id.split('/');
    const wl = findWorkload(ctx.topology, namespace, name);
    const pods = wl
      ? (await ctx.cluster.list('v1', 'Pod', { namespace, labelSelector: labelSelector(wl.labels) })).filter(isReady)
      : [];
    const pod = pods[0]?.metadata.name;
    if (!pod) {
      ctx.events({ type: 'warning', message: `certificates of ${id}: no ready pod` });
      continue;
    }
    const ref = { namespace, name: pod };
    const attempt = async (command: string[], parse: (stdout: string) => CertificateReport | undefined) => {
      try {
        const r = await ctx.cluster.exec(ref, 'istio-proxy', command, { timeoutMs: 15_000 });
        return r.exitCode === 0 ? parse(r.stdout) : undefined;
      } catch {
        return undefined;
      }
    };
    const cert =
      (await attempt(['pilot-agent', 'request', 'GET', 'certs'], (s) => fromEnvoyCerts(s, id, pod))) ??
      (await attempt(['cat', '/etc/certs/cert-chain.pem'], (s) => fromPem(s, id, pod)));
    if (cert) out.push(cert);
    else
      ctx.events({
        type: 'warning',
        message: `certificates of ${id}: could not read them from ${namespace}/${pod} (pilot-agent request GET certs, /etc/certs)`,
      });
  }
  return out;
}

/** Removes what the scenario added and restores what it replaced, newest first; returns what is left. */
async function undo(ctx: ScenarioContext, scenario: Scenario, changes: Change[]): Promise<LeftObject[]> {
  const started = performance.now();
  const left = await undoAll(
    ctx.cluster,
    [...changes].reverse().map((c) => ({
      op: c.before ? ('replace' as const) : ('create' as const),
      ref: refOf(c.applied),
      before: c.before,
      seq: c.seq,
    })),
    { journal: ctx.journal, timeoutMs: ctx.removeTimeoutMs, events: ctx.events, retryDelaysMs: ctx.retryDelaysMs },
  );
  ctx.events({ type: 'scenario-removed', scenario: scenario.name, seconds: (performance.now() - started) / 1000 });
  return left;
}
