// Expected against observed (or predicted), cell by cell, and the counts every report and exit code
// comes from. An `error` cell is counted apart: it says nothing about the policies.
import type { ExpectedCell } from './cell.js';
import type { Matrix } from './matrix.js';
import { satisfies, type Outcome } from './outcome.js';

/** `match`: the outcome satisfies the expectation; `mismatch`: it does not; `error`: the probe failed. */
export type Verdict = 'match' | 'mismatch' | 'error';

export interface Counts {
  cells: number;
  matched: number;
  mismatched: number;
  errors: number;
}

export function verdictOf(expected: ExpectedCell, outcome: Outcome): Verdict {
  if (outcome === 'error') return 'error';
  return satisfies(outcome, expected.expect) ? 'match' : 'mismatch';
}

/** Each cell's verdict: `observed` is a probe round's cells, or the oracle's predictions for `predict`. */
export function compare(expected: Matrix<ExpectedCell>, observed: Matrix<{ outcome: Outcome }>): Matrix<Verdict> {
  return expected.zip(observed, (e, o) => verdictOf(e, o.outcome));
}

export function count(verdicts: Iterable<Verdict>): Counts {
  const n: Counts = { cells: 0, matched: 0, mismatched: 0, errors: 0 };
  for (const v of verdicts) {
    n.cells++;
    if (v === 'match') n.matched++;
    else if (v === 'mismatch') n.mismatched++;
    else n.errors++;
  }
  return n;
}

/** A scenario with a probe error is `error` whatever else it holds: its matrix is incomplete. */
export function scenarioVerdict(n: Counts): 'pass' | 'mismatch' | 'error' {
  return n.errors > 0 ? 'error' : n.mismatched > 0 ? 'mismatch' : 'pass';
}
