// When convergence stops, on a fake clock: K matching rounds; a stable mismatch only once the settle
// time is over; never "stable" with a passing probe error in it, but not held up by a cell that could
// not be probed in any round; the timeout; an abort between rounds.
import { describe, expect, it } from 'vitest';
import type { ExpectedCell, ObservedCell } from '../../src/model/cell.js';
import { Matrix } from '../../src/model/matrix.js';
import type { Expectation, Outcome } from '../../src/model/outcome.js';
import { converge, lastChangeMs, type Clock, type ConvergeSettings, type PushGate } from '../../src/probe/converge.js';
import type { PushState } from '../../src/probe/push-status.js';
import type { RoundResult } from '../../src/probe/round.js';

const axes = { clients: [{ id: 'a/sleep' }], targets: [{ id: 'a/httpbin:8000' }, { id: 'b/httpbin:8000' }] };

function expecting(...expects: Expectation[]): Matrix<ExpectedCell> {
  let i = 0;
  return Matrix.of(axes, () => ({
    source: 'scenario',
    expect: expects[i++]!,
    rule: 's.yaml:1:1',
    prediction: {
      outcome: 'mtls',
      reason: {
        summary: '',
        why: '',
        protocol: 'http',
        client: { sidecar: false, origination: 'plaintext', chain: [] },
        server: { sidecar: false, chain: [] },
      },
    },
  }));
}

function observed(...outcomes: Outcome[]): Matrix<ObservedCell> {
  let i = 0;
  return Matrix.of(axes, (): ObservedCell => {
    const outcome = outcomes[i++]!;
    return outcome === 'error'
      ? { outcome, error: 'exec: stream dropped', attempts: 3, command: 'kubectl get pods -n a' }
      : { outcome, curlExit: 0, httpCode: 200, attempts: 1, command: 'kubectl exec' };
  });
}

/** Rounds that take `roundMs` of fake time each and observe `script(n)` in round n. */
function scripted(script: (n: number) => Outcome[], o: { roundMs?: number; onRound?: (n: number) => void } = {}) {
  let t = 0;
  const clock: Clock = {
    now: () => t,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      t += ms;
    },
  };
  const starts: number[] = [];
  const round = async (n: number): Promise<RoundResult> => {
    starts.push(t);
    o.onRound?.(n);
    t += o.roundMs ?? 500;
    return { cells: observed(...script(n)), execs: 1, seconds: (o.roundMs ?? 500) / 1000 };
  };
  return { clock, round, starts };
}

const settings = (clock: Clock, o: Partial<ConvergeSettings> = {}): ConvergeSettings => ({
  consecutive: 2,
  timeoutMs: 60_000,
  intervalMs: 1000,
  settleMs: 10_000,
  clock,
  ...o,
});

describe('converge', () => {
  it('stops once K consecutive rounds match the expectation, and not before', async () => {
    const s = scripted((n) => (n === 1 ? ['plaintext', 'reset'] : ['mtls', 'reset']));
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock));
    expect(r.converged).toBe(true);
    expect(r.history.map((h) => [h.round, h.matched, h.mismatched, h.errors])).toEqual([
      [1, 1, 1, 0],
      [2, 2, 0, 0],
      [3, 2, 0, 0],
    ]);
    expect(r.history[1]!.changed).toEqual(['a/sleep -> a/httpbin:8000: plaintext => mtls']);
    expect(r.history[2]).not.toHaveProperty('changed');
    // One round a second: the interval is measured from start to start.
    expect(s.starts).toEqual([0, 1000, 2000]);
    expect(r.final.cells.get('a/sleep', 'a/httpbin:8000').outcome).toBe('mtls');
  });

  it('believes a stable mismatch only once the settle time has passed', async () => {
    const wrong = () => scripted((): Outcome[] => ['plaintext', 'reset']);
    const early = wrong();
    const settled = await converge(
      early.round,
      expecting('mtls', 'blocked'),
      settings(early.clock, { settleMs: 5000 }),
    );
    expect(settled.converged).toBe(true);
    // Rounds start at 0, 1, ... 5 s; the one at 5 s ends 5.5 s after the first started.
    expect(early.starts).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(settled.history.at(-1)!.mismatched).toBe(1);
    const unsettled = wrong();
    const r = await converge(unsettled.round, expecting('mtls', 'blocked'), settings(unsettled.clock, { settleMs: 0 }));
    expect(r.history).toHaveLength(2);
  });

  it('a cell that could not be probed in any round does not hold the others up: K rounds, not converged', async () => {
    const s = scripted((): Outcome[] => ['error', 'reset']);
    const r = await converge(
      s.round,
      expecting('mtls', 'blocked'),
      settings(s.clock, { settleMs: 10_000, timeoutMs: 60_000 }),
    );
    expect(r.converged).toBe(false);
    expect(r.history.map((h) => h.errors)).toEqual([1, 1]);
    expect(r.seconds).toBe(1.5);
  });

  it('with such a cell, a mismatch elsewhere is believed only after the settle time, like any other', async () => {
    const s = scripted((): Outcome[] => ['error', 'plaintext']);
    const r = await converge(
      s.round,
      expecting('mtls', 'blocked'),
      settings(s.clock, { settleMs: 4000, timeoutMs: 60_000 }),
    );
    expect(r.converged).toBe(false);
    expect(r.history.at(-1)!.at).toBeGreaterThanOrEqual(3);
    expect(r.history.length).toBe(5);
  });

  it('never calls a matrix with a passing probe error stable: it runs to the timeout, not converged', async () => {
    const s = scripted((n): Outcome[] => [n % 2 ? 'error' : 'mtls', 'reset']);
    const r = await converge(
      s.round,
      expecting('mtls', 'blocked'),
      settings(s.clock, { settleMs: 0, timeoutMs: 4000 }),
    );
    expect(r.converged).toBe(false);
    expect(r.history.map((h) => h.errors)).toEqual([1, 0, 1, 0, 1]);
    expect(r.seconds).toBe(4.5);
  });

  it('keeps probing a cell that failed at first and then answers, until it matches K times', async () => {
    const s = scripted((n): Outcome[] => [n === 1 ? 'error' : 'mtls', 'reset']);
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock));
    expect(r.converged).toBe(true);
    expect(r.history.map((h) => h.errors)).toEqual([1, 0, 0]);
  });

  it('gives up at the timeout while the matrix keeps changing, and never sleeps past it', async () => {
    const s = scripted((n): Outcome[] => [n % 2 ? 'plaintext' : 'mtls', 'reset'], { roundMs: 100 });
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock, { timeoutMs: 1500 }));
    expect(r.converged).toBe(false);
    expect(r.history.map((h) => h.matched)).toEqual([1, 2, 1]);
    // After the second round (1.1 s) the interval would wait until 2 s; the timeout cuts it to 1.5 s.
    expect(s.starts).toEqual([0, 1000, 1500]);
    expect(r.seconds).toBe(1.6);
  });

  it('stops between rounds when aborted, and says so by rejecting', async () => {
    const abort = new AbortController();
    const s = scripted((): Outcome[] => ['plaintext', 'reset'], { onRound: (n) => n === 2 && abort.abort() });
    await expect(
      converge(s.round, expecting('mtls', 'blocked'), settings(s.clock, { signal: abort.signal })),
    ).rejects.toThrow(/abort/i);
    expect(s.starts).toHaveLength(2);
  });

  it('announces each round before it starts, and reports it when it is done', async () => {
    const s = scripted((): Outcome[] => ['mtls', 'reset']);
    const seen: string[] = [];
    await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock), {
      onRoundStart: (n) => seen.push(`start ${n}`),
      onRound: (_, summary) => seen.push(`done ${summary.round}: ${summary.matched}`),
    });
    expect(seen).toEqual(['start 1', 'done 1: 2', 'start 2', 'done 2: 2']);
  });
});

/** A gate that answers `states` in turn (the last one stays), and counts its checks. */
function gate(...states: PushState['state'][]): PushGate & { checks: number } {
  const g = {
    checks: 0,
    check: async (): Promise<PushState> => {
      const state = states[Math.min(g.checks++, states.length - 1)]!;
      return state === 'pending'
        ? { state, waiting: ['sleep-0.a'] }
        : state === 'unavailable'
          ? { state, reason: 'forbidden' }
          : { state };
    },
  };
  return g;
}

describe("converge with istiod's push status", () => {
  it('believes no round that started before every proxy acknowledged the change, however stable', async () => {
    // The old configuration stays in place for 6 rounds, then the change arrives in the data plane.
    const s = scripted((n): Outcome[] => (n <= 6 ? ['plaintext', 'reset'] : ['mtls', 'reset']));
    const g = gate('pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'acked');
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock, { settleMs: 0, gate: g }));
    expect(r.converged).toBe(true);
    expect(r.history.map((h) => h.matched)).toEqual([1, 1, 1, 1, 1, 1, 2, 2]);
    expect(r.push).toEqual({ acknowledgedAt: 6 });
    expect(g.checks).toBe(7);
  });

  it('once acknowledged, a stable mismatch is believed after K rounds without waiting for the settle time', async () => {
    const s = scripted((): Outcome[] => ['plaintext', 'reset']);
    const r = await converge(
      s.round,
      expecting('mtls', 'blocked'),
      settings(s.clock, { settleMs: 60_000, timeoutMs: 120_000, gate: gate('pending', 'acked') }),
    );
    expect(r.converged).toBe(true);
    // Acknowledged before round 2; rounds 2 and 3 agree.
    expect(r.history).toHaveLength(3);
    expect(r.history.at(-1)!.mismatched).toBe(1);
  });

  it('the first rounds after the acknowledgement count, matched or not: K of them', async () => {
    const s = scripted((): Outcome[] => ['mtls', 'reset']);
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock, { gate: gate('acked') }));
    expect(r.history).toHaveLength(2);
    expect(r.push).toEqual({ acknowledgedAt: 0 });
  });

  it('without the signal (forbidden, no syncz), the settle time decides as before', async () => {
    const s = scripted((): Outcome[] => ['plaintext', 'reset']);
    const g = gate('unavailable');
    const r = await converge(s.round, expecting('mtls', 'blocked'), settings(s.clock, { settleMs: 3000, gate: g }));
    expect(s.starts).toEqual([0, 1000, 2000, 3000]);
    expect(r.converged).toBe(true);
    expect(r).not.toHaveProperty('push');
    expect(g.checks).toBe(1);
  });

  it('a push never acknowledged: not converged at the timeout, even if the matrix matched', async () => {
    const s = scripted((): Outcome[] => ['mtls', 'reset']);
    const r = await converge(
      s.round,
      expecting('mtls', 'blocked'),
      settings(s.clock, { timeoutMs: 3000, gate: gate('pending') }),
    );
    expect(r.converged).toBe(false);
    expect(r.push).toEqual({ acknowledgedAt: null });
  });

  it('lastChangeMs: when the matrix last changed, probe errors coming and going aside', () => {
    const h = (at: number, changed?: string[]) => ({
      round: 1,
      at,
      seconds: 1,
      matched: 0,
      mismatched: 0,
      errors: 0,
      execs: 1,
      ...(changed ? { changed } : {}),
    });
    expect(
      lastChangeMs([
        h(0),
        h(1.5, ['a/sleep -> a/httpbin:8000: plaintext => mtls']),
        h(3, ['a/sleep -> b/httpbin:8000: reset => error']),
        h(4.5, ['a/sleep -> b/httpbin:8000: error => reset']),
      ]),
    ).toBe(1500);
    expect(lastChangeMs([h(0), h(1)])).toBe(0);
  });
});
