// What a run reports as it goes. The orchestrator and the probe runner emit these; renderers
// (src/cli/progress*.ts) decide what to show. Nothing in the core prints.
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
