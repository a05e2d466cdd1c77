// What `run` and `probe` share: a whole run against the cluster, its progress, the signals that stop
// it, and the reports and exit code it ends in.
import { resolve } from 'node:path';
import { Unfinished } from '../errors.js';
import { describeRef } from '../model/kube-object.js';
import type { RunResult } from '../model/results.js';
import type { Scenario } from '../model/scenario.js';
import { journalDir, type Journal } from '../orchestrator/journal.js';
import { newRunId } from '../orchestrator/ownership.js';
import { runScenarios } from '../orchestrator/run.js';
import type { KubectlTarget } from '../probe/command.js';
import type { Cluster } from '../kube/cluster.js';
import { IN_CLUSTER_CONTEXT } from '../kube/kubeconfig.js';
import { DEFAULT_PROBE } from '../probe/round.js';
import { buildDocument } from '../report/document.js';
import { incompleteLines } from '../report/incomplete.js';
import { VERSION } from '../version.js';
import { commandLine } from './command-line.js';
import { connect } from './connect.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { loadInputs, loadTopologyOption, type ScenarioOptions } from './inputs.js';
import type { CommandContext } from './program.js';
import { progressFor } from './progress/create.js';
import { checkReportOptions, emitReports, type ReportOptions } from './report-options.js';

export interface RunFlags extends ScenarioOptions, ReportOptions {
  keep: boolean;
  adopt: boolean;
  allowClusterWide: boolean;
  isolation?: 'namespaced';
  concurrency: number;
  curlTimeout: number;
  consecutive: number;
  convergeTimeout: number;
  interval: number;
  settle: number;
  readyTimeout: number;
  revision?: string;
}

export async function executeRun(ctx: CommandContext, f: RunFlags, command: 'run' | 'probe'): Promise<ExitCode> {
  const inputs =
    command === 'run'
      ? loadInputs(f, ctx.io.cwd)
      : { topology: loadTopologyOption(f, ctx.io.cwd), scenarios: [clusterAsItStands()] };
  checkReportOptions(ctx, f);
  const cluster = connect(ctx);
  const abort = new AbortController();
  const progress = progressFor(ctx);
  const holder: { journal?: Journal } = {};
  const cleanupLine = commandLine(ctx, 'cleanup', f);
  const stop = ctx.onSignal(
    () => abort.abort(),
    () => {
      const left = holder.journal?.pending() ?? [];
      const what = left.length ? left.map((e) => describeRef(e.ref)).join(', ') : 'possibly the topology namespaces';
      return `left behind: ${what}; \`${cleanupLine}\` will finish the clean-up`;
    },
  );
  let result: RunResult | undefined;
  let interrupted: unknown;
  try {
    result = await runScenarios(cluster, {
      command,
      topology: inputs.topology,
      scenarios: inputs.scenarios,
      runId: newRunId(),
      keep: f.keep,
      adopt: f.adopt,
      allowClusterWide: f.allowClusterWide,
      isolation: f.isolation ?? 'none',
      revision: f.revision,
      journalDir: journalDir(ctx.io.env),
      journalHolder: holder,
      readyTimeoutMs: f.readyTimeout * 1000,
      probe: {
        curlTimeoutSeconds: f.curlTimeout,
        concurrency: f.concurrency,
        execAttempts: DEFAULT_PROBE.execAttempts,
        kubectl: kubectlTarget(ctx, cluster),
      },
      converge: {
        consecutive: f.consecutive,
        timeoutMs: f.convergeTimeout * 1000,
        intervalMs: f.interval * 1000,
        settleMs: f.settle * 1000,
        signal: abort.signal,
      },
      events: progress,
      signal: abort.signal,
    });
  } catch (e) {
    if (e instanceof Unfinished) e.cleanup = cleanupLine;
    if (!abort.signal.aborted) throw e;
    interrupted = e;
  } finally {
    // The status line goes before anything else is printed.
    progress.close();
    stop();
  }
  if (!result) {
    const left = interrupted instanceof Unfinished ? interrupted.left : [];
    ctx.io.stderr.write(
      left.length
        ? `meshprobe: interrupted; left behind: ${left.join(', ')}\nmeshprobe: to remove it: ${cleanupLine}\n`
        : `meshprobe: interrupted; ${holder.journal ? 'what it had made was removed' : 'nothing had been changed'}\n`,
    );
    return ExitCode.Interrupted;
  }
  const doc = buildDocument(result, {
    generatedAt: new Date().toISOString(),
    meshprobeVersion: VERSION,
    cleanupCommand: cleanupLine,
  });
  // Every report is written, also for a run that failed half-way: the scenarios that ran are in it.
  emitReports(ctx, doc, f);
  if (doc.incomplete) {
    for (const line of incompleteLines(doc)) ctx.io.stderr.write(`meshprobe: ${line}\n`);
    return ExitCode.Infrastructure;
  }
  // A signal during the teardown: everything ran and was removed, but the user did ask to stop.
  if (abort.signal.aborted) return ExitCode.Interrupted;
  return exitCodeFor(doc.summary);
}

/**
 * The --kubeconfig and context the reproduce lines carry: the file the user named (absolute, so the line
 * works from another directory) and the context the run used. An in-cluster identity has no kubeconfig
 * context to name (client-node calls it inClusterContext; kubectl finds the service account itself).
 */
function kubectlTarget(ctx: CommandContext, cluster: Cluster): KubectlTarget {
  const g = ctx.globals();
  const context = g.context ?? (cluster.context === IN_CLUSTER_CONTEXT ? undefined : cluster.context);
  return {
    ...(g.kubeconfig ? { kubeconfig: resolve(ctx.io.cwd, g.kubeconfig) } : {}),
    ...(context ? { context } : {}),
  };
}

/** `probe`: no scenario objects, expectations from the oracle over what the cluster holds. */
function clusterAsItStands(): Scenario {
  return {
    name: 'cluster-policies',
    description:
      "The cluster's own PeerAuthentications, DestinationRules and legacy policies, as they stand; expectations from the oracle.",
    sources: [],
    file: '(cluster)',
    objects: [],
    expect: { all: [], modern: [], legacy: [] },
    certificates: [],
  };
}
