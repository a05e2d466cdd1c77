/** Exit codes, in the spirit of `kubectl diff`: 0 same, 1 different, higher for trouble. */
export enum ExitCode {
  /** Every cell as expected. */
  Ok = 0,
  /** At least one cell not as expected. */
  Mismatch = 1,
  /** Bad flags or bad input files. */
  Usage = 2,
  /** The cluster or the probes could not be used: unreachable, unauthorized, Istio missing, probe errors. */
  Infrastructure = 3,
  /** Stopped by a signal (128 + SIGINT). */
  Interrupted = 130,
}

/**
 * The exit code of a result, for every command that has one (errors thrown are mapped in program.ts):
 * a cell that could not be probed outweighs a mismatch, which says something about the policies only
 * when every cell was probed.
 */
export function exitCodeFor(counts: { mismatched: number; errors: number }): ExitCode {
  if (counts.errors > 0) return ExitCode.Infrastructure;
  return counts.mismatched > 0 ? ExitCode.Mismatch : ExitCode.Ok;
}

/** What 0 and 1 mean for each command; 2, 3 and 130 mean the same everywhere. */
const MEANING: Record<string, [string, string]> = {
  run: ['every cell as expected', 'a cell is not'],
  probe: ['every cell as the policies predict', 'a cell is not'],
  predict: ["every scenario's expectations agree with the prediction", 'one does not'],
  explain: ["the scenario's expectation for the cell agrees with the prediction", 'it does not'],
  setup: ['the topology is ready', 'not used'],
  teardown: ['the topology is gone', 'not used'],
  cleanup: ['nothing is left to clean up', 'not used'],
  diff: ['no cell changes (or none of the --fail-on kinds)', 'cells change'],
};

/** The exit codes, for the help of `command` (or of meshprobe itself), so that every help lists all five. */
export function exitCodesHelp(command?: string): string {
  const [ok, one]: [string, string] = (command ? MEANING[command] : undefined) ?? [
    'every cell as expected',
    'a cell is not',
  ];
  const three =
    command === 'predict' || command === 'explain'
      ? 'an unexpected failure (these use no cluster)'
      : command === 'diff'
        ? 'cluster failure (a side read from the cluster)'
        : 'cluster or infrastructure failure, including cells that could not be probed';
  const rows: Array<[string, string]> = [
    ['0', ok],
    ['1', one],
    ['2', 'usage or input error'],
    ['3', three],
    ['130', 'interrupted (Ctrl-C or SIGTERM; a run cleans up first)'],
  ];
  return `\nExit codes:\n${rows.map(([code, what]) => `  ${code.padEnd(5)}${what}`).join('\n')}`;
}
