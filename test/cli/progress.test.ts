import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.js';
import type { Io } from '../../src/cli/io.js';
import { createProgress, isCi, progressFor } from '../../src/cli/progress/create.js';
import type { CommandContext, GlobalOptions } from '../../src/cli/program.js';
import { style } from '../../src/report/style.js';

/** A run of two scenarios as the orchestrator reports it: one converges at once, one after two rounds with a probe error. */
const EVENTS: RunEvent[] = [
  { type: 'preflight', check: 'cluster reachable', ok: true, detail: 'https://127.0.0.1:6443 (v1.30.2)' },
  { type: 'preflight', check: 'permissions', ok: true, detail: '14 checked' },
  {
    type: 'run-start',
    command: 'run',
    scenarios: ['mesh-strict', 'port-level'],
    cellsPerScenario: 6,
    context: 'staging',
    flavor: 'modern',
  },
  { type: 'setup-start', namespaces: ['test1', 'test3'] },
  { type: 'setup-done', seconds: 41.25 },
  { type: 'scenario-start', scenario: 'mesh-strict', index: 1, total: 2 },
  { type: 'scenario-applied', scenario: 'mesh-strict', objects: ['PeerAuthentication istio-system/default'] },
  { type: 'round-start', scenario: 'mesh-strict', round: 1, cells: 6 },
  ...(['test1/httpbin:8000', 'test3/httpbin:8000'].map((to) => ({
    type: 'cell-observed',
    scenario: 'mesh-strict',
    round: 1,
    from: 'test1/sleep',
    to,
    outcome: 'mtls',
    match: true,
  })) as RunEvent[]),
  {
    type: 'round-done',
    scenario: 'mesh-strict',
    round: 1,
    cells: 6,
    matched: 6,
    mismatched: 0,
    errors: 0,
    seconds: 2.5,
    execs: 2,
  },
  { type: 'scenario-done', scenario: 'mesh-strict', verdict: 'pass', rounds: 1, converged: true, seconds: 3.5 },
  { type: 'scenario-removed', scenario: 'mesh-strict', seconds: 1 },
  { type: 'scenario-start', scenario: 'port-level', index: 2, total: 2 },
  { type: 'scenario-applied', scenario: 'port-level', objects: [] },
  { type: 'round-start', scenario: 'port-level', round: 1, cells: 6 },
  {
    type: 'round-done',
    scenario: 'port-level',
    round: 1,
    cells: 6,
    matched: 4,
    mismatched: 2,
    errors: 0,
    seconds: 2.25,
    execs: 2,
  },
  { type: 'round-start', scenario: 'port-level', round: 2, cells: 6 },
  { type: 'warning', message: 'certificates of test1/sleep: no ready pod' },
  {
    type: 'round-done',
    scenario: 'port-level',
    round: 2,
    cells: 6,
    matched: 5,
    mismatched: 0,
    errors: 1,
    seconds: 2.75,
    execs: 3,
  },
  { type: 'scenario-done', scenario: 'port-level', verdict: 'error', rounds: 2, converged: false, seconds: 75.4 },
  { type: 'teardown-start', namespaces: ['test1', 'test3'] },
  { type: 'teardown-done', seconds: 12 },
  { type: 'run-done', seconds: 140, matched: 11, mismatched: 0, errors: 1 },
];

const PLAIN = `preflight: ok cluster reachable (https://127.0.0.1:6443 (v1.30.2))
preflight: ok permissions (14 checked)
run: 2 scenarios of 6 cells on context staging (Istio modern)
setup: namespaces test1, test3
setup: topology ready (41.3 s)
[1/2] mesh-strict: applied PeerAuthentication istio-system/default
[1/2] mesh-strict round 1: 6/6 as expected, 0 not, 0 probe errors (2 execs, 2.5 s)
[1/2] mesh-strict: ✔ as expected after 1 round, converged (3.5 s)
[2/2] port-level: applied no objects
[2/2] port-level round 1: 4/6 as expected, 2 not, 0 probe errors (2 execs, 2.3 s)
warning: certificates of test1/sleep: no ready pod
[2/2] port-level round 2: 5/6 as expected, 0 not, 1 probe error (3 execs, 2.8 s)
[2/2] port-level: ⚠ probe errors after 2 rounds, did not converge (1m 15s)
teardown: topology removed (12.0 s)
done in 2m 20s: 11 cells as expected, 0 not, 1 probe error
`;

function capture(o: { tty: boolean; env?: Record<string, string> }): { io: Io; out: () => string } {
  let stderr = '';
  let stdout = '';
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s), isTTY: o.tty },
    stderr: { write: (s: string) => (stderr += s), isTTY: o.tty },
    env: o.env ?? {},
    cwd: process.cwd(),
  };
  return { io, out: () => (stdout ? `STDOUT ${stdout}` : stderr) };
}

function feed(events: RunEvent[], sink: (e: RunEvent) => void): void {
  for (const e of events) sink(e);
}

describe('progress without a terminal', () => {
  it('prints one plain line per step, per round and per scenario on stderr, without ANSI codes', () => {
    const { io, out } = capture({ tty: false });
    const progress = createProgress(io, { color: true });
    feed(EVENTS, progress);
    progress.close();
    expect(out()).toBe(PLAIN);
  });

  it('prints the same plain lines on a terminal when CI is set', () => {
    const { io, out } = capture({ tty: true, env: { CI: 'true' } });
    const progress = createProgress(io, { color: true });
    feed(EVENTS, progress);
    expect(out()).toBe(PLAIN);
  });

  it('prints nothing with --quiet', () => {
    for (const tty of [true, false]) {
      const { io, out } = capture({ tty });
      const progress = createProgress(io, { quiet: true });
      feed(EVENTS, progress);
      progress.close();
      expect(out()).toBe('');
    }
  });

  it('knows CI from $CI', () => {
    expect(
      [undefined, '', '0', 'false', 'FALSE', 'true', '1', 'woodpecker'].map((v) =>
        isCi(v === undefined ? {} : { CI: v }),
      ),
    ).toEqual([false, false, false, false, false, true, true, true]);
  });
});

describe('progress on a terminal', () => {
  const ERASE = '\r\u001b[2K';

  function live(o: { color: boolean; columns?: number }) {
    let t = 0;
    const { io, out } = capture({ tty: true });
    (io.stderr as { columns?: number }).columns = o.columns ?? 120;
    const progress = createProgress(io, { color: o.color, now: () => t, tickMs: 0 });
    return { progress, out, at: (seconds: number) => (t = seconds * 1000) };
  }

  it('redraws one status line in place: scenario i/n, round, cells done, elapsed', () => {
    const { progress, out, at } = live({ color: false });
    feed(EVENTS.slice(0, 8), progress); // up to the first round-start
    at(63);
    progress(EVENTS[8]!); // one cell observed
    const frames = out().split(ERASE);
    expect(frames.at(-1)).toMatch(/^. \[1\/2\] mesh-strict · round 1 · 1\/6 cells · 1:03$/);
    // lines to keep are printed on an erased line, then the status line comes back
    expect(out()).toContain(`${ERASE}preflight: ok permissions (14 checked)\n`);
    expect(out()).not.toContain('round 1: 6/6'); // rounds only show live
    expect(out()).not.toMatch(/\u001b\[(?!2K)/); // no colour when not asked
  });

  it('keeps verdicts and warnings above the line, and leaves a clean line when closed', () => {
    const { progress, out } = live({ color: true });
    feed(EVENTS.slice(0, -1), progress);
    progress.close();
    const text = out();
    expect(text).toContain(
      `${ERASE}[1/2] mesh-strict: \u001b[32m✔ as expected\u001b[39m after 1 round, converged (3.5 s)\n`,
    );
    expect(text).toContain(`${ERASE}\u001b[33mwarning:\u001b[39m certificates of test1/sleep: no ready pod\n`);
    expect(text.endsWith(ERASE)).toBe(true);
    const length = text.length;
    progress(EVENTS.at(-1)!);
    progress.close();
    expect(out().length).toBe(length); // closed: nothing more
  });

  it('erases the line at run-done, before the results are printed', () => {
    const { progress, out } = live({ color: false });
    feed(EVENTS, progress);
    expect(out().endsWith(`${ERASE}done in 2m 20s: 11 cells as expected, 0 not, 1 probe error\n`)).toBe(true);
  });

  it('never wraps: a status line wider than the terminal is cut', () => {
    const { progress, out } = live({ color: false, columns: 30 });
    feed(EVENTS.slice(0, 9), progress);
    const last = out().split(ERASE).at(-1)!;
    expect([...last].length).toBeLessThan(30);
    expect(last.endsWith('…')).toBe(true);
  });

  it('honours --quiet, --no-color and NO_COLOR through the command context', () => {
    const run = (globals: Partial<GlobalOptions>, env: Record<string, string> = {}) => {
      const { io, out } = capture({ tty: true, env });
      const ctx = {
        io,
        style: style(false),
        exit: () => {},
        globals: () => ({ color: true, ...globals }),
        onSignal: () => () => {},
      } as unknown as CommandContext;
      const progress = progressFor(ctx);
      feed(EVENTS, progress);
      progress.close();
      return out();
    };
    expect(run({})).toMatch(/\u001b\[3\dm/);
    expect(run({ color: false })).not.toMatch(/\u001b\[3\dm/);
    expect(run({}, { NO_COLOR: '1' })).not.toMatch(/\u001b\[3\dm/);
    expect(run({ quiet: true })).toBe('');
    expect(run({}, { CI: 'true' })).toBe(PLAIN);
  });
});
