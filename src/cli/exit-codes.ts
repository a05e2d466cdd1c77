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
