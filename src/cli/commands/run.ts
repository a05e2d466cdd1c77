import { Option, type Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { EventSink } from '../../model/events.js';
import { MAX_CURL_TIMEOUT_SECONDS, MAX_SECONDS } from '../../model/limits.js';
import type { Scenario } from '../../model/scenario.js';
import { cleanup } from '../../orchestrator/cleanup.js';
import { journalDir, type Journal } from '../../orchestrator/journal.js';
import { newRunId } from '../../orchestrator/ownership.js';
import { checkReachable } from '../../orchestrator/preflight.js';
import { runScenarios } from '../../orchestrator/run.js';
import { setupTopology, teardownTopology } from '../../orchestrator/topology-lifecycle.js';
import { DEFAULT_CONVERGE } from '../../probe/converge.js';
import { shellQuote } from '../../probe/command.js';
import { DEFAULT_PROBE } from '../../probe/round.js';
import { connect } from '../connect.js';
import { ExitCode } from '../exit-codes.js';
import { collect, loadInputs, loadTopologyOption, type ScenarioOptions } from '../inputs.js';
import type { CommandContext } from '../program.js';
import { progressFor } from '../progress/create.js';
import { addReportOptions, emitReports, type ReportOptions } from '../report-options.js';

interface RunFlags extends ScenarioOptions, ReportOptions {
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
}

// Decimal digits only: Number() would also take "", " ", "0x10" and "1e3".
const positiveInt = (name: string, max: number) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > max)
    throw new ConfigError(`${name} must be a whole number from 1 to ${max}, got "${v}"`);
  return n;
};
const seconds = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(v) || n > MAX_SECONDS)
    throw new ConfigError(`${name} must be a number of seconds from 0 to ${MAX_SECONDS}, got "${v}"`);
  return n;
};

const topologyOptions = (cmd: Command): Command =>
  cmd
    .option('--topology <file>', "a topology file (default: the article's test1/test2/test3/ngtest)")
    .option(
      '--namespace-prefix <prefix>',
      'run the topology as PREFIX-test1, PREFIX-test2 ... so several runs can share a cluster',
    );

function runOptions(cmd: Command, withScenarios: boolean): Command {
  if (withScenarios) {
    cmd
      .option('--scenario <name>', 'a scenario to run (repeatable; default: all)', collect, [])
      .option(
        '-f, --file <path>',
        'a scenario file or directory (repeatable; default: the shipped scenarios)',
        collect,
        [],
      )
      .option(
        '--allow-cluster-wide',
        "let scenarios change objects outside the topology's namespaces (mesh-wide policies, root-namespace rules)",
        false,
      )
      .addOption(
        new Option(
          '--isolation <mode>',
          "rewrite cluster-wide scenario objects into the topology's namespaces (proven equivalent by the oracle)",
        )
          .choices(['namespaced'])
          .conflicts('allowClusterWide'),
      );
  }
  return topologyOptions(cmd)
    .option('--keep', 'leave the topology in the cluster afterwards', false)
    .option(
      '--adopt',
      'use topology namespaces that exist but were not created by meshprobe (and delete them at teardown)',
      false,
    )
    .option(
      '--concurrency <n>',
      'client pods probed at once',
      positiveInt('--concurrency', 1000),
      DEFAULT_PROBE.concurrency,
    )
    .option(
      '--curl-timeout <s>',
      'curl --max-time per request, seconds',
      positiveInt('--curl-timeout', MAX_CURL_TIMEOUT_SECONDS),
      DEFAULT_PROBE.curlTimeoutSeconds,
    )
    .option(
      '--consecutive <k>',
      'rounds in a row that must agree before a scenario counts as converged',
      positiveInt('--consecutive', 100),
      DEFAULT_CONVERGE.consecutive,
    )
    .option(
      '--converge-timeout <s>',
      'give up converging a scenario after this many seconds',
      seconds('--converge-timeout'),
      DEFAULT_CONVERGE.timeoutMs / 1000,
    )
    .option(
      '--interval <s>',
      'minimum seconds between the starts of two rounds',
      seconds('--interval'),
      DEFAULT_CONVERGE.intervalMs / 1000,
    )
    .option(
      '--settle <s>',
      'seconds before a stable mismatch is believed (configuration may still be propagating)',
      seconds('--settle'),
      DEFAULT_CONVERGE.settleMs / 1000,
    )
    .option(
      '--ready-timeout <s>',
      'seconds to wait for the workloads to become ready',
      seconds('--ready-timeout'),
      300,
    );
}

export function runCommands(program: Command, ctx: CommandContext): void {
  addReportOptions(
    runOptions(
      program
        .command('run')
        .description(
          'Set up the topology, apply each scenario, probe every client -> server port until converged, compare with the expected matrix, clean up',
        ),
      true,
    ),
  )
    .addHelpText(
      'after',
      '\nExit code: 0 every cell as expected, 1 a cell is not, 2 bad input, 3 cluster failure or cells that could not be probed, 130 interrupted.',
    )
    .action(async (f: RunFlags) => ctx.exit(await execute(ctx, f, 'run')));

  addReportOptions(
    runOptions(
      program
        .command('probe')
        .description(
          "Probe the cluster's own policies as they stand: apply nothing, predict from the PeerAuthentications and DestinationRules the cluster holds, compare",
        ),
      false,
    ),
  ).action(async (f: RunFlags) =>
    ctx.exit(await execute(ctx, { ...f, scenario: [], file: [], allowClusterWide: false }, 'probe')),
  );

  topologyOptions(
    program.command('setup').description('Create (or update) the topology and wait until it is ready; idempotent'),
  )
    .option('--adopt', 'use topology namespaces not created by meshprobe', false)
    .option('--ready-timeout <s>', 'seconds to wait for readiness', seconds('--ready-timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; adopt: boolean; readyTimeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
        await setupTopology(cluster, topology, {
          runId: newRunId(),
          adopt: f.adopt,
          readyTimeoutMs: f.readyTimeout * 1000,
          events,
        });
      });
      ctx.exit(ExitCode.Ok);
    });

  topologyOptions(
    program.command('teardown').description("Delete the topology's namespaces (only those meshprobe created)"),
  )
    .option('--timeout <s>', 'seconds to wait until they are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; timeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, async (events) => {
        await checkReachable(cluster, events);
        await teardownTopology(cluster, topology, { timeoutMs: f.timeout * 1000, events });
      });
      ctx.exit(ExitCode.Ok);
    });

  topologyOptions(
    program
      .command('cleanup')
      .description(
        'Finish the clean-up of interrupted or killed runs: restore what they replaced, delete what they created (from their journals), remove the topology',
      ),
  )
    .option('--keep', "leave the topology's namespaces", false)
    .option('--timeout <s>', 'seconds to wait until deleted objects are gone', seconds('--timeout'), 300)
    .action(async (f: { topology?: string; namespacePrefix?: string; keep: boolean; timeout: number }) => {
      const topology = loadTopologyOption(f, ctx.io.cwd);
      const cluster = connect(ctx);
      await withProgress(ctx, (events) => checkReachable(cluster, events).then(() => {}));
      const r = await cleanup(cluster, {
        topology,
        keepTopology: f.keep,
        journalDir: journalDir(ctx.io.env),
        timeoutMs: f.timeout * 1000,
      });
      const lines = [
        `meshprobe cleanup: ${r.journals} journal${r.journals === 1 ? '' : 's'}; restored ${r.restored.length}${r.restored.length ? ` (${r.restored.join(', ')})` : ''}; deleted ${r.deleted.length}${r.deleted.length ? ` (${r.deleted.join(', ')})` : ''}`,
      ];
      ctx.io.stdout.write(`${lines.join('\n')}\n`);
      ctx.exit(ExitCode.Ok);
    });
}

/** Runs a short command with progress shown, and closes it whatever happens. */
async function withProgress(ctx: CommandContext, fn: (events: EventSink) => Promise<void>): Promise<void> {
  const p = progressFor(ctx);
  try {
    await fn(p);
  } finally {
    p.close();
  }
}

async function execute(ctx: CommandContext, f: RunFlags, command: 'run' | 'probe'): Promise<ExitCode> {
  const inputs =
    command === 'run'
      ? loadInputs(f, ctx.io.cwd)
      : { topology: loadTopologyOption(f, ctx.io.cwd), scenarios: [clusterAsItStands()] };
  const cluster = connect(ctx);
  const abort = new AbortController();
  const progress = progressFor(ctx);
  const holder: { journal?: Journal } = {};
  const stop = ctx.onSignal(
    () => abort.abort(),
    () => {
      const left = holder.journal?.pending() ?? [];
      const what = left.length
        ? left.map((e) => `${e.ref.kind} ${e.ref.namespace ? `${e.ref.namespace}/` : ''}${e.ref.name}`).join(', ')
        : 'possibly the topology namespaces';
      return `left behind: ${what}; \`meshprobe cleanup${f.namespacePrefix ? ` --namespace-prefix ${shellQuote(f.namespacePrefix)}` : ''}\` will finish the clean-up`;
    },
  );
  try {
    const doc = await runScenarios(cluster, {
      command,
      topology: inputs.topology,
      scenarios: inputs.scenarios,
      runId: newRunId(),
      keep: f.keep,
      adopt: f.adopt,
      allowClusterWide: f.allowClusterWide,
      isolation: f.isolation ?? 'none',
      journalDir: journalDir(ctx.io.env),
      journalHolder: holder,
      readyTimeoutMs: f.readyTimeout * 1000,
      probe: {
        curlTimeoutSeconds: f.curlTimeout,
        concurrency: f.concurrency,
        execAttempts: DEFAULT_PROBE.execAttempts,
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
    progress.close();
    emitReports(ctx, doc, f);
    if (doc.summary.errors > 0) return ExitCode.Infrastructure;
    return doc.summary.mismatched > 0 ? ExitCode.Mismatch : ExitCode.Ok;
  } catch (e) {
    progress.close();
    if (abort.signal.aborted) {
      ctx.io.stderr.write(
        `meshprobe: interrupted; the scenario objects were removed${f.keep ? '' : ' and the topology torn down'}\n`,
      );
      return ExitCode.Interrupted;
    }
    throw e;
  } finally {
    progress.close();
    stop();
  }
}

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
