// Probe rounds until the data plane has converged: the observed matrix equals the expected one for K
// consecutive rounds, or stays the same (without probe errors) for K rounds, or the timeout runs out; a
// cell that could not be probed in any round does not hold the others up. Istio pushes configuration to each proxy on its own schedule, so right after an apply a probe may well
// see the old behaviour. When istiod's push status can be read (push-status.ts), only rounds that started
// after every proxy acknowledged the change count, so a stale matrix is never believed, however slow the
// push; otherwise a stable mismatch is believed once the settle time has passed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExpectedCell, ObservedCell } from '../model/cell.js';
import { cellName, type Matrix } from '../model/matrix.js';
import type { Convergence, RoundSummary } from '../model/results.js';
import { compare, count } from '../model/verdict.js';
import type { PushState } from './push-status.js';
import type { RoundResult } from './round.js';

export interface ConvergeSettings {
  /** K: consecutive rounds that must agree. */
  consecutive: number;
  timeoutMs: number;
  /** Minimum time between the starts of two rounds. */
  intervalMs: number;
  /**
   * Without a push signal, a stable mismatch is only believed after this long: before, the old
   * configuration may still be in place.
   */
  settleMs: number;
  /** istiod's push status for the change: rounds count once every proxy has acknowledged it. */
  gate?: PushGate;
  /** Stops the rounds (SIGINT): the caller cleans up. */
  signal?: AbortSignal;
  /** Time as convergence sees it: the real one unless a test passes its own. */
  clock?: Clock;
}

export const DEFAULT_CONVERGE: ConvergeSettings = {
  consecutive: 2,
  timeoutMs: 60_000,
  intervalMs: 1_000,
  // Only without istiod's push status: its debounce alone may take PILOT_DEBOUNCE_MAX (10 s) on a busy
  // mesh, and the push queue more (istio 1.24.2 pilot/pkg/features/tuning.go).
  settleMs: 30_000,
};

/** Whether the data plane has acknowledged the change (push-status.ts PushTracker.check). */
export interface PushGate {
  check(): Promise<PushState>;
}

/** Time as convergence sees it; tests pass a fake one. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const REAL_CLOCK: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    await sleep(ms, undefined, { signal });
  },
};

export interface ConvergeHooks {
  /** Before round `round` starts. */
  onRoundStart?(round: number): void;
  /** After each round, with its summary. */
  onRound?(result: RoundResult, summary: RoundSummary): void;
}

export interface ConvergeResult extends Convergence {
  /** The last round: its cells are the scenario's observed matrix. */
  final: RoundResult;
}

export async function converge(
  round: (n: number) => Promise<RoundResult>,
  expected: Matrix<ExpectedCell>,
  s: ConvergeSettings,
  hooks: ConvergeHooks = {},
): Promise<ConvergeResult> {
  const clock = s.clock ?? REAL_CLOCK;
  const start = clock.now();
  const rounds: Array<{
    result: RoundResult;
    summary: RoundSummary;
    signature: string;
    outcomes: string[];
    verdicts: string[];
    startedAt: number;
  }> = [];
  // `pending` until istiod says every proxy has the change; `none` without a gate or a readable signal.
  let push: 'pending' | 'acked' | 'none' = s.gate ? 'pending' : 'none';
  let ackedAt = Infinity;
  for (let n = 1; ; n++) {
    s.signal?.throwIfAborted();
    if (push === 'pending') {
      const state = await s.gate!.check();
      if (state.state === 'acked') {
        push = 'acked';
        ackedAt = clock.now();
      } else if (state.state === 'unavailable') push = 'none';
    }
    const roundStart = clock.now();
    hooks.onRoundStart?.(n);
    const r = await round(n);
    const counts = count(compare(expected, r.cells));
    const previous = rounds.at(-1)?.result;
    const changed = previous ? changedCells(previous.cells, r.cells) : [];
    const summary: RoundSummary = {
      round: n,
      at: (roundStart - start) / 1000,
      seconds: r.seconds,
      matched: counts.matched,
      mismatched: counts.mismatched,
      errors: counts.errors,
      execs: r.execs,
      ...(changed.length ? { changed } : {}),
    };
    const outcomes = r.cells.values().map((c) => c.outcome);
    rounds.push({
      result: r,
      summary,
      signature: outcomes.join(','),
      outcomes,
      verdicts: compare(expected, r.cells).values(),
      startedAt: roundStart,
    });
    hooks.onRound?.(r, summary);

    const lastK = rounds.length >= s.consecutive ? rounds.slice(-s.consecutive) : undefined;
    const elapsed = clock.now() - start;
    // With the signal, a round is evidence only if it started after every proxy acknowledged the change
    // ("plus one round": the first such round may have met an unrelated push); without it, every round is.
    const believed = !!lastK && (push === 'none' || lastK.every((x) => x.startedAt >= ackedAt));
    const allMatched = believed && lastK!.every((x) => x.summary.matched === expected.size);
    // Late enough to believe a matrix that does not match: after the acknowledgement, or the settle time.
    const late = push === 'acked' || elapsed >= s.settleMs;
    // The same outcomes K times over, none of them a probe error.
    const stable =
      believed && late && lastK!.every((x) => x.signature === lastK![0]!.signature && x.summary.errors === 0);
    // A cell whose probe failed in every round so far (a client whose exec is refused each time) will not
    // tell more by waiting: once every other cell matches, or is stable when late enough, the scenario
    // stops, not converged, instead of waiting out the timeout (reliability-figures D8: one such client
    // stretched a 36 s run past 600 s).
    const failing = lastK
      ? new Set(outcomeIndices(rounds[0]!.outcomes).filter((i) => rounds.every((x) => x.outcomes[i] === 'error')))
      : new Set<number>();
    const rest = (x: (typeof rounds)[number]) => x.outcomes.filter((_, i) => !failing.has(i)).join(',');
    const stuck =
      failing.size > 0 &&
      believed &&
      (lastK!.every((x) => x.verdicts.every((v, i) => failing.has(i) || v === 'match')) ||
        (late &&
          lastK!.every(
            (x) => rest(x) === rest(lastK![0]!) && x.verdicts.every((v, i) => failing.has(i) || v !== 'error'),
          )));
    if (allMatched || stable || stuck || elapsed >= s.timeoutMs) {
      return {
        final: r,
        history: rounds.map((x) => x.summary),
        converged: allMatched || stable,
        seconds: elapsed / 1000,
        ...(push === 'acked' ? { push: { acknowledgedAt: (ackedAt - start) / 1000 } } : {}),
        ...(push === 'pending' ? { push: { acknowledgedAt: null } } : {}),
      };
    }
    const wait = s.intervalMs - (clock.now() - roundStart);
    if (wait > 0) await clock.sleep(Math.min(wait, s.timeoutMs - elapsed), s.signal);
  }
}

/**
 * The longest a scenario's matrix went on changing after its objects were applied: the start of the last
 * round whose outcomes differed from the round before, in ms. What the settle time must exceed when there
 * is no push signal to wait for.
 */
export function lastChangeMs(history: RoundSummary[]): number {
  // A probe error coming or going says nothing about the configuration.
  const last = history.findLast((h) => h.changed?.some((c) => !/: error => |=> error$/.test(c)));
  return last ? last.at * 1000 : 0;
}

const outcomeIndices = (xs: unknown[]): number[] => xs.map((_, i) => i);

/** `from -> to: old => new` for each cell whose outcome differs between two rounds. */
function changedCells(previous: Matrix<ObservedCell>, current: Matrix<ObservedCell>): string[] {
  return previous
    .zip(current, (a, b, from, to) =>
      a.outcome === b.outcome ? undefined : `${cellName(from, to)}: ${a.outcome} => ${b.outcome}`,
    )
    .values()
    .filter((c) => c !== undefined);
}
