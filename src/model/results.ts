// What a command comes to, before any report is made of it: per scenario the expected matrix and,
// when a cluster was probed, the observed one with how convergence went. `predict`, `run` and
// `probe` all end in a RunResult; src/report/document.ts writes it as the meshprobe/v1 document.
import type { ExpectedCell, ObservedCell } from './cell.js';
import type { Matrix } from './matrix.js';
import type { Flavor, Scenario } from './scenario.js';
import { compare, type Verdict } from './verdict.js';

export interface RoundSummary {
  round: number;
  /** Seconds since the scenario's objects were applied. */
  at: number;
  seconds: number;
  matched: number;
  mismatched: number;
  errors: number;
  execs: number;
  /** Cells whose outcome changed since the previous round: `from -> to: old => new`. */
  changed?: string[];
}

export interface Convergence {
  /**
   * The last K rounds matched the expectation, or agreed with each other without errors: after every
   * proxy acknowledged the change when istiod's push status was read, else after the settle time.
   */
  converged: boolean;
  seconds: number;
  /** Every round, first to last. */
  history: RoundSummary[];
  /**
   * Set when istiod's push status decided which rounds count: seconds after the apply at which every
   * topology proxy had acknowledged the change, null if they had not by the end. Absent: the settle time did.
   */
  push?: { acknowledgedAt: number | null };
}

export interface CertificateReport {
  /** `NS/WORKLOAD`. */
  workload: string;
  pod: string;
  spiffe: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

/** A cluster's answer for one scenario: the last round's cells. */
export interface Observation {
  cells: Matrix<ObservedCell>;
  convergence: Convergence;
  certificates: CertificateReport[];
}

export interface ScenarioResult {
  /** The scenario as it ran (after --isolation rewrote it, if it did). */
  scenario: Scenario;
  expected: Matrix<ExpectedCell>;
  /** `run` and `probe` only. */
  observation?: Observation;
}

/** Where a run failed once it had begun to change the cluster. */
export interface RunFailure {
  /** `scenario`: applying or probing one; `undo`: removing a scenario's objects; `teardown`: removing the topology; `journal`: forgetting the journal. */
  stage: 'scenario' | 'undo' | 'teardown' | 'journal';
  scenario?: string;
  message: string;
}

/** A run that did not finish cleanly: what failed, what did not run, what is still in the cluster. */
export interface Incomplete {
  failures: RunFailure[];
  /** Scenarios never started because of the failure. */
  notRun: string[];
  /** Objects the run created or changed and could not remove or put back (`Kind ns/name (why)`). */
  left: string[];
}

export interface RunResult {
  command: 'predict' | 'run' | 'probe';
  flavor: Flavor;
  /** The topology's name. */
  topology: string;
  /** The cluster probed (`run`, `probe`). */
  cluster?: { context: string; server: string };
  scenarios: ScenarioResult[];
  /** Run and probe: present when something failed after the first scenario was applied. */
  incomplete?: Incomplete;
}

/**
 * Each cell's verdict: the observation against the expectation in a run; for `predict`, which has no
 * observation, the oracle's prediction against the scenario's rules.
 */
export function verdicts(result: ScenarioResult): Matrix<Verdict> {
  return compare(result.expected, result.observation?.cells ?? result.expected.map((e) => e.prediction));
}
