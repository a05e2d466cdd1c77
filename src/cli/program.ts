// Argument parsing and the one place where errors become messages and exit codes.
import { basename } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ClusterError, ConfigError, ConfigErrors, Unfinished } from '../errors.js';
import { style, type Style } from '../report/style.js';
import { VERSION } from '../version.js';
import { cleanupCommand } from './commands/cleanup.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { predictCommand } from './commands/predict.js';
import { probeCommand } from './commands/probe.js';
import { runCommand } from './commands/run.js';
import { setupCommand } from './commands/setup.js';
import { teardownCommand } from './commands/teardown.js';
import { ExitCode, exitCodesHelp } from './exit-codes.js';
import { parseRequestTimeout } from './flags.js';
import { DEFAULT_TIMEOUTS } from '../kube/http-timeouts.js';
import type { Io } from './io.js';

export interface CommandContext {
  io: Io;
  style: Style;
  exit(code: ExitCode): void;
  /** Global options (--kubeconfig, --context ...), read once a command runs. */
  globals(): GlobalOptions;
  /** Calls `first` on the first SIGINT/SIGTERM; a second one prints `whatIsLeft()` and exits at once. Returns the unsubscribe. */
  onSignal(first: () => void, whatIsLeft?: () => string): () => void;
}

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  color: boolean;
  quiet?: boolean;
  /** Milliseconds; 0: none. */
  requestTimeout: number;
}

/** Runs meshprobe with `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: string[], io: Io, invokedAs = 'meshprobe'): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const program = new Command(
    invokedAs.startsWith('kubectl-') ? `kubectl ${invokedAs.slice('kubectl-'.length)}` : 'meshprobe',
  );
  const wantsColor = () =>
    io.stdout.isTTY === true &&
    !('NO_COLOR' in io.env && io.env.NO_COLOR !== '') &&
    program.opts<GlobalOptions>().color !== false;
  const ctx: CommandContext = {
    io,
    get style() {
      return style(wantsColor());
    },
    exit: (code) => {
      exitCode = code;
    },
    globals: () => program.opts<GlobalOptions>(),
    onSignal: io.onSignal ?? (() => () => {}),
  };
  program
    .description(
      'Probe what Istio mutual-TLS policies really do: a pass/fail and mTLS matrix per policy scenario, observed in-cluster and compared with the expected one.',
    )
    .version(VERSION, '--version')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .addOption(
      new Option(
        '--request-timeout <duration>',
        `how long to wait for each API server request (e.g. 10s, 2m; 0: for ever); connecting gives up after ${DEFAULT_TIMEOUTS.connectMs / 1000}s`,
      )
        .argParser(parseRequestTimeout)
        .default(DEFAULT_TIMEOUTS.requestMs, `${DEFAULT_TIMEOUTS.requestMs / 1000}s`),
    )
    .option('--no-color', 'no ANSI colours (NO_COLOR is honoured too)')
    .option('-q, --quiet', 'print only the results, no progress')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s.startsWith('error:') ? `meshprobe: ${s}` : s),
    });
  // Subcommands list the global options too: they work after the subcommand (`meshprobe run --kubeconfig X`).
  program.configureHelp({ showGlobalOptions: true });
  program.addHelpText('after', exitCodesHelp());

  for (const add of [
    predictCommand,
    explainCommand,
    diffCommand,
    runCommand,
    probeCommand,
    setupCommand,
    teardownCommand,
    cleanupCommand,
  ])
    add(program, ctx);
  for (const c of program.commands)
    c.exitOverride().showHelpAfterError('(add --help for usage)').addHelpText('after', exitCodesHelp(c.name()));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    return reportError(e, io);
  }
  return exitCode;
}

function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return ExitCode.Ok;
    return ExitCode.Usage; // commander has already printed the message and the usage hint
  }
  if (e instanceof Unfinished) {
    const code = reportError(e.cause, io);
    io.stderr.write(`meshprobe: left behind: ${e.left.join(', ')}\n`);
    if (e.cleanup) io.stderr.write(`meshprobe: to remove it: ${e.cleanup}\n`);
    return code;
  }
  const errors = e instanceof ConfigErrors ? e.errors : [e];
  for (const err of errors) io.stderr.write(`meshprobe: error: ${(err as Error).message}\n`);
  const fix = (e as ConfigError | ClusterError).fix;
  if (fix) io.stderr.write(`meshprobe: fix: ${fix}\n`);
  if (e instanceof ConfigError) return ExitCode.Usage;
  if (e instanceof ClusterError) return ExitCode.Infrastructure;
  if (io.env.DEBUG && e instanceof Error) io.stderr.write(`${e.stack}\n`);
  else
    io.stderr.write(
      'meshprobe: this is a bug in meshprobe; run again with DEBUG=1 for the stack trace and report it\n',
    );
  return ExitCode.Infrastructure;
}

export function invokedName(argv1: string | undefined): string {
  return basename(argv1 ?? 'meshprobe').replace(/\.(js|ts)$/, '');
}
