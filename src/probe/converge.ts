// Probe rounds until the data plane has converged: the observed matrix equals the expected one for K
// consecutive rounds, or stays the same (without probe errors) for K rounds once the settle time has
// passed, or the timeout runs out. Istio pushes configuration to each proxy on its own schedule, so
// right after an apply a probe may well see the old behaviour.
import { satisfies } from '../model/outcome.js';
import type { ExpectedCell } from '../oracle/expected.js';
import type { RoundSummary } from '../report/document.js';
import { key, type RoundResult } from './round.js';

export interface ConvergeSettings {
  /** K: consecutive rounds that must agree. */
  consecutive: number;
  timeoutMs: number;
  /** Minimum time between the starts of two rounds. */
  intervalMs: number;
  /** A stable mismatch is only believed after this long: before, the old configuration may still be in place. */
  settleMs: number;
  /** Stops the rounds (SIGINT): the caller cleans up. */
  signal?: AbortSignal;
}

export const DEFAULT_CONVERGE: ConvergeSettings = {
  consecutive: 2,
  timeoutMs: 60_000,
  intervalMs: 1_000,
  settleMs: 10_000,
};

export interface ConvergeResult {
  final: RoundResult;
  history: RoundSummary[];
  converged: boolean;
  /** Whether the last round matched the expectation in every cell. */
  matched: boolean;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function converge(
  round: () => Promise<RoundResult>,
  expected: ExpectedCell[],
  s: ConvergeSettings,
  onRound: (r: RoundResult, summary: RoundSummary) => void = () => {},
): Promise<ConvergeResult> {
  const start = performance.now();
  const history: RoundSummary[] = [];
  const signatures: string[] = [];
  const clean: boolean[] = [];
  let previous: RoundResult | undefined;
  for (let n = 1; ; n++) {
    s.signal?.throwIfAborted();
    const roundStart = performance.now();
    const r = await round();
    let matched = 0;
    let errors = 0;
    for (const e of expected) {
      const o = r.cells.get(key(e.from, e.to));
      if (!o || o.outcome === 'error') errors++;
      else if (satisfies(o.outcome, e.expect)) matched++;
    }
    const changed = previous
      ? expected
          .filter((e) => previous!.cells.get(key(e.from, e.to))?.outcome !== r.cells.get(key(e.from, e.to))?.outcome)
          .map(
            (e) =>
              `${e.from} -> ${e.to}: ${previous!.cells.get(key(e.from, e.to))?.outcome} => ${r.cells.get(key(e.from, e.to))?.outcome}`,
          )
      : undefined;
    const summary: RoundSummary = {
      round: n,
      at: (roundStart - start) / 1000,
      seconds: r.seconds,
      matched,
      mismatched: expected.length - matched - errors,
      errors,
      execs: r.execs,
      ...(changed?.length ? { changed } : {}),
    };
    history.push(summary);
    onRound(r, summary);
    previous = r;

    signatures.push(expected.map((e) => r.cells.get(key(e.from, e.to))?.outcome).join(','));
    clean.push(errors === 0);
    const lastK = (arr: unknown[]) => arr.length >= s.consecutive && arr.slice(-s.consecutive);
    const allMatched =
      history.length >= s.consecutive && history.slice(-s.consecutive).every((h) => h.matched === expected.length);
    const elapsed = performance.now() - start;
    const stable =
      lastK(signatures) &&
      new Set(signatures.slice(-s.consecutive)).size === 1 &&
      clean.slice(-s.consecutive).every(Boolean) &&
      elapsed >= s.settleMs;
    if (allMatched || stable || elapsed >= s.timeoutMs) {
      return {
        final: r,
        history,
        converged: allMatched || !!stable,
        matched: summary.matched === expected.length,
        seconds: elapsed / 1000,
      };
    }
    const wait = s.intervalMs - (performance.now() - roundStart);
    if (wait > 0) await sleep(Math.min(wait, s.timeoutMs - elapsed));
  }
}
