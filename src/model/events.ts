// What a run reports as it goes; renderers (src/cli/progress/) decide what to show, and nothing in the
// core prints. The order: preflight checks; run-start; setup-start, setup-done; per scenario
// scenario-start, scenario-applied, then per round round-start, one cell-observed per cell as its
// client's exec returns, round-done; scenario-done (the verdict), scenario-removed; teardown-start,
// teardown-done; run-done. A warning comes whenever it happens. test/cli/progress.test.ts replays a
// recorded run (test/helpers/fake-run.ts), so a producer that drifts from this fails it.
import type { Outcome } from './outcome.js';

export type RunEvent =
  | {
      type: 'run-start';
      command: 'run' | 'probe';
      scenarios: string[];
      cellsPerScenario: number;
      context: string;
      flavor: 'legacy' | 'modern';
    }
  | { type: 'preflight'; check: string; ok: boolean; detail?: string }
  | { type: 'setup-start'; namespaces: string[] }
  | { type: 'setup-done'; seconds: number }
  | { type: 'scenario-start'; scenario: string; index: number; total: number }
  | { type: 'scenario-applied'; scenario: string; objects: string[] }
  | { type: 'round-start'; scenario: string; round: number; cells: number }
  | {
      type: 'cell-observed';
      scenario: string;
      round: number;
      from: string;
      to: string;
      outcome: Outcome;
      match: boolean;
    }
  | {
      type: 'round-done';
      scenario: string;
      round: number;
      cells: number;
      matched: number;
      mismatched: number;
      errors: number;
      seconds: number;
      execs: number;
    }
  | {
      type: 'scenario-done';
      scenario: string;
      verdict: 'pass' | 'mismatch' | 'error';
      rounds: number;
      converged: boolean;
      seconds: number;
    }
  | { type: 'scenario-removed'; scenario: string; seconds: number }
  | { type: 'teardown-start'; namespaces: string[] }
  | { type: 'teardown-done'; seconds: number }
  | { type: 'warning'; message: string }
  | { type: 'run-done'; seconds: number; matched: number; mismatched: number; errors: number };

/** Where the core sends its events. */
export type EventSink = (event: RunEvent) => void;
