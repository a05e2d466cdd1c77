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
