// The two cells a scenario's matrix pairs up: what is expected (by the scenario's rules, else by the
// oracle) and what a probe observed. Neither stores what follows from its outcome (reachable, mTLS):
// model/outcome.ts derives those, and the meshprobe/v1 document writes them out.
import type { Expectation, NetworkOutcome } from './outcome.js';
import { satisfies } from './outcome.js';
import type { Prediction } from './prediction.js';

/** A cell's expectation, with the oracle's prediction beside it. */
export type ExpectedCell =
  /** The scenario says nothing of this cell: the prediction stands. */
  | { source: 'oracle'; expect: Expectation; prediction: Prediction }
  /** A scenario rule set it; `rule` is where (`file:line:col`). */
  | { source: 'scenario'; expect: Expectation; rule: string; prediction: Prediction };

/** False when the scenario expects something the oracle does not predict: one of the two is wrong. */
export function agrees(cell: ExpectedCell): boolean {
  return satisfies(cell.prediction.outcome, cell.expect);
}

/** What every probe of a cell records, whatever came of it. */
interface ProbeFacts {
  /** Exec attempts it took (a dropped stream or a vanished pod is tried again). */
  attempts: number;
  /** A `kubectl exec` command that reproduces the probe by hand. */
  command: string;
}

/** curl ran and the network answered: the request reached the app, or failed in a way that says something. */
export interface NetworkObservation extends ProbeFacts {
  outcome: NetworkOutcome;
  curlExit: number;
  /** Left out when curl got no response (HTTP 000). */
  httpCode?: number;
  /** The client's SPIFFE identity as the server's sidecar saw it (X-Forwarded-Client-Cert URI). */
  peer?: string;
  /** curl's error message, or the start of an error response's body (an Envoy 503). */
  detail?: string;
}

/** The probe itself failed (exec, pod or API error, or curl could not run): never a pass, never "blocked". */
export interface ProbeError extends ProbeFacts {
  outcome: 'error';
  error: string;
  /** Set when curl ran far enough to leave codes. */
  curlExit?: number;
  httpCode?: number;
}

export type ObservedCell = NetworkObservation | ProbeError;
