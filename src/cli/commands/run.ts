import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { EventSink } from '../../model/events.js';
import type { Scenario } from '../../model/scenario.js';
import { newRunId } from '../../orchestrator/ownership.js';
import { runScenarios } from '../../orchestrator/run.js';
import { setupTopology, teardownTopology } from '../../orchestrator/topology-lifecycle.js';
import { checkReachable } from '../../orchestrator/preflight.js';
import { loadTopology, DEFAULT_TOPOLOGY } from '../../model/topology-file.js';
import { DEFAULT_CONVERGE } from '../../probe/converge.js';
import { DEFAULT_PROBE } from '../../probe/round.js';
import type { ReportDocument } from '../../report/document.js';
import { addReportOptions, emitReports, type ReportOptions } from '../report-options.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { collect, loadInputs, type ScenarioOptions } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { plainProgress } from '../progress-plain.js';
import { resolve } from 'node:path';

interface RunFlags extends ScenarioOptions, ReportOptions {
  keep: boolean;
  adopt: boolean;
  concurrency: number;
  curlTimeout: number;
  consecutive: number;
  convergeTimeout: number;
  interval: number;
  settle: number;
  readyTimeout: number;
}

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${name} must be a whole number of at least 1, got "${v}"`);
  return n;
};
const seconds = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number of seconds, got "${v}"`);
  return n;
};

function runOptions(cmd: Command, withScenarios: boolean): Command {
  if (withScenarios) {
    cmd
      .option('--scenario <name>', 'a scenario to run (repeatable; default: all)', collect, [])
      .option('-f, --file <path>', 'a scenario file or directory (repeatable; default: the shipped scenarios)', collect, []);
  }
  return cmd
    .option('--topology <file>', "a topology file (default: the article's test1/test2/test3/ngtest)")
    .option('--keep', 'leave the topology in the cluster afterwards', false)
    .option('--adopt', 'use topology namespaces that exist but were not created by meshprobe (and delete them at teardown)', false)
    .option('--concurrency <n>', 'client pods probed at once', positiveInt('--concurrency'), DEFAULT_PROBE.concurrency)
    .option('--curl-timeout <s>', 'curl --max-time per request, seconds', positiveInt('--curl-timeout'), DEFAULT_PROBE.curlTimeoutSeconds)
    .option('--consecutive <k>', 'rounds in a row that must agree before a scenario counts as converged', positiveInt('--consecutive'), DEFAULT_CONVERGE.consecutive)
    .option('--converge-timeout <s>', 'give up converging a scenario after this many seconds', seconds('--converge-timeout'), DEFAULT_CONVERGE.timeoutMs / 1000)
    .option('--interval <s>', 'minimum seconds between the starts of two rounds', seconds('--interval'), DEFAULT_CONVERGE.intervalMs / 1000)
    .option('--settle <s>', 'seconds before a stable mismatch is believed (configuration may still be propagating)', seconds('--settle'), DEFAULT_CONVERGE.settleMs / 1000)
    .option('--ready-timeout <s>', 'seconds to wait for the workloads to become ready', seconds('--ready-timeout'), 300);
}

export function runCommands(program: Command, ctx: CommandContext): void {
  addReportOptions(runOptions(program.command('run').description('Set up the topology, apply each scenario, probe every client -> server port until converged, compare with the expected matrix, clean up'), true)
    )
    .addHelpText('after', '\nExit code: 0 every cell as expected, 1 a cell is not, 2 bad input, 3 cluster failure or cells that could not be probed.')
    .action(async (f: RunFlags) => ctx.exit(await execute(ctx, f, 'run')));

  addReportOptions(runOptions(program.command('probe').description("Probe the cluster's own policies as they stand: apply nothing, predict from the PeerAuthentications and DestinationRules the cluster holds, compare"), false)).action(async (f: RunFlags) =>
    ctx.exit(await execute(ctx, { ...f, scenario: [], file: [] }, 'probe')),
  );

  program
    .command('setup')
    .description('Create (or update) the topology and wait until it is ready; idempotent')
    .option('--topology <file>', 'a topology file')
    .option('--adopt', 'use topology namespaces not created by meshprobe', false)
    .option('--ready-timeout <s>', 'seconds to wait for readiness', seconds('--ready-timeout'), 300)
    .action(async (f: { topology?: string; adopt: boolean; readyTimeout: number }) => {
      const cluster = connect(ctx);
      const events = progress(ctx);
      await checkReachable(cluster, events);
      await setupTopology(cluster, loadTopology(f.topology ? resolve(ctx.io.cwd, f.topology) : DEFAULT_TOPOLOGY), { runId: newRunId(), adopt: f.adopt, readyTimeoutMs: f.readyTimeout * 1000, events });
      ctx.exit(ExitCode.Ok);
    });

  program
    .command('teardown')
    .description("Delete the topology's namespaces (only those meshprobe created)")
    .option('--topology <file>', 'a topology file')
    .option('--timeout <s>', 'seconds to wait until they are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; timeout: number }) => {
      const cluster = connect(ctx);
      const events = progress(ctx);
      await checkReachable(cluster, events);
      await teardownTopology(cluster, loadTopology(f.topology ? resolve(ctx.io.cwd, f.topology) : DEFAULT_TOPOLOGY), { timeoutMs: f.timeout * 1000, events });
      ctx.exit(ExitCode.Ok);
    });
}

function progress(ctx: CommandContext): EventSink {
  return ctx.globals().quiet ? () => {} : plainProgress(ctx.io);
}

async function execute(ctx: CommandContext, f: RunFlags, command: 'run' | 'probe'): Promise<ExitCode> {
  const inputs = command === 'run' ? loadInputs(f, ctx.io.cwd) : { topology: loadTopology(f.topology ? resolve(ctx.io.cwd, f.topology) : DEFAULT_TOPOLOGY), scenarios: [clusterAsItStands()] };
  const cluster = connect(ctx);
  const abort = new AbortController();
  const stop = ctx.onSignal(() => abort.abort());
  try {
    const doc: ReportDocument = await runScenarios(cluster, {
      command,
      topology: inputs.topology,
      scenarios: inputs.scenarios,
      runId: newRunId(),
      keep: f.keep,
      adopt: f.adopt,
      readyTimeoutMs: f.readyTimeout * 1000,
      probe: { curlTimeoutSeconds: f.curlTimeout, concurrency: f.concurrency, execAttempts: DEFAULT_PROBE.execAttempts },
      converge: { consecutive: f.consecutive, timeoutMs: f.convergeTimeout * 1000, intervalMs: f.interval * 1000, settleMs: f.settle * 1000, signal: abort.signal },
      events: progress(ctx),
      signal: abort.signal,
    });
    emitReports(ctx, doc, f);
    if (doc.summary.errors > 0) return ExitCode.Infrastructure;
    return doc.summary.mismatched > 0 ? ExitCode.Mismatch : ExitCode.Ok;
  } catch (e) {
    if (abort.signal.aborted) {
      ctx.io.stderr.write('meshprobe: interrupted; the scenario objects were removed and the topology torn down\n');
      return ExitCode.Interrupted;
    }
    throw e;
  } finally {
    stop();
  }
}

function clusterAsItStands(): Scenario {
  return { name: 'cluster-policies', description: "The cluster's own PeerAuthentications, DestinationRules and legacy policies, as they stand; expectations from the oracle.", sources: [], file: '(cluster)', objects: [], expect: { all: [], modern: [], legacy: [] }, certificates: [] };
}
