import { beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.js';
import type { Io } from '../../src/cli/io.js';
import { createProgress, isCi, progressFor } from '../../src/cli/progress/create.js';
import type { CommandContext, GlobalOptions } from '../../src/cli/program.js';
import { style } from '../../src/report/style.js';
import { fakeRun } from '../helpers/fake-run.js';

/**
 * Durations a recorded run carries, by event type in the order they come: the run's are milliseconds
 * on an in-memory cluster, and the renderers' formatting of seconds and minutes is what is tested.
 */
const SECONDS: Partial<Record<RunEvent['type'], number[]>> = {
  'setup-done': [41.25],
  'round-done': [2.5, 2.25, 2.25, 2.75],
  'scenario-done': [3.5, 75.4],
  'scenario-removed': [1, 1],
  'teardown-done': [12],
  'run-done': [140],
};

/** The events of a real runScenarios (test/helpers/fake-run.ts), as it emitted them, durations fixed. */
let EVENTS: RunEvent[] = [];
let PLAIN = '';

beforeAll(async () => {
  const f = fakeRun();
  await f.run();
  const used = new Map<string, number>();
  EVENTS = f.events.map((e) => {
    if (!('seconds' in e)) return e;
    const n = used.get(e.type) ?? 0;
    used.set(e.type, n + 1);
    const seconds = SECONDS[e.type]?.[n];
    if (seconds === undefined) throw new Error(`the run emitted more ${e.type} events than this test expects`);
    return { ...e, seconds };
  });
  const permissions = EVENTS.find((e) => e.type === 'preflight' && e.check === 'permissions');
  const configured = EVENTS.find((e) => e.type === 'preflight' && e.check === 'proxies configured');
  PLAIN = `preflight: ok cluster reachable (https://fake.invalid:6443 (v1.30.0))
preflight: ok Istio installed (modern (security.istio.io/v1, security.istio.io/v1beta1, networking.istio.io/v1))
preflight: ok Istio control plane (the unrevisioned control plane (the default): namespaces labelled istio-injection=enabled, mesh config istio-system/istio)
preflight: ok permissions (${permissions?.type === 'preflight' ? permissions.detail : '?'})
run: 2 scenarios, 4 cells each on context fake (Istio modern)
setup: namespaces a, b
preflight: ok sidecar injection
setup: topology ready (41.3 s)
preflight: ok proxies configured (${configured?.type === 'preflight' ? configured.detail : '?'})
[1/2] strict-a: applied PeerAuthentication a/default
[1/2] strict-a round 1: 4/4 as expected, 0 not, 0 probe errors (2 execs, 2.5 s)
[1/2] strict-a round 2: 4/4 as expected, 0 not, 0 probe errors (2 execs, 2.3 s)
[1/2] strict-a: = as expected after 2 rounds, converged (3.5 s)
[2/2] permissive-a: applied PeerAuthentication a/default
[2/2] permissive-a round 1: 2/4 as expected, 0 not, 2 probe errors (3 execs, 2.3 s)
[2/2] permissive-a round 2: 2/4 as expected, 0 not, 2 probe errors (3 execs, 2.8 s)
warning: certificates of a/httpbin: could not read them from a/httpbin-0 (pilot-agent request GET certs, /etc/certs)
[2/2] permissive-a: ⚠ probe errors after 2 rounds, did not converge (1m 15s)
teardown: topology removed (12.0 s)
done in 2m 20s: 6 cells as expected, 0 not, 2 probe errors
`;
});

/** Index of the first event of `type` (after `from`). */
const indexOf = (type: RunEvent['type'], from = 0) => EVENTS.findIndex((e, i) => i >= from && e.type === type);

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
    const cell = indexOf('cell-observed');
    feed(EVENTS.slice(0, cell), progress); // up to the first round-start
    at(63);
    progress(EVENTS[cell]!); // one cell observed
    const frames = out().split(ERASE);
    expect(frames.at(-1)).toMatch(/^. \[1\/2\] strict-a · round 1 · 1\/4 cells · 1:03$/);
    // lines to keep are printed on an erased line, then the status line comes back
    expect(out()).toContain(`${ERASE}preflight: ok permissions (`);
    expect(out()).not.toContain('round 1: 4/4 as expected, 0 not'); // rounds only show live
    expect(out()).not.toMatch(/\u001b\[(?!2K)/); // no colour when not asked
  });

  it('shows each probe round as it runs: probing once applied, the round under way, then its result', () => {
    const { progress, out, at } = live({ color: false });
    const last = () => out().split(ERASE).at(-1)!;
    const applied = indexOf('scenario-applied');
    feed(EVENTS.slice(0, applied), progress);
    expect(last()).toMatch(/^. \[1\/2\] strict-a · applying its objects · 0:00$/);
    progress(EVENTS[applied]!);
    expect(last()).toMatch(/^. \[1\/2\] strict-a · probing · 0:00$/);
    const done = indexOf('round-done');
    feed(EVENTS.slice(applied + 1, done), progress);
    at(2);
    progress(EVENTS[done]!);
    expect(last()).toMatch(/^. \[1\/2\] strict-a · round 1: 4\/4 as expected · 0:02$/);
    progress(EVENTS[done + 1]!);
    expect(EVENTS[done + 1]!.type).toBe('round-start');
    expect(last()).toMatch(/^. \[1\/2\] strict-a · round 2 · 0\/4 cells · 0:02$/);
  });

  it('keeps verdicts and warnings above the line, and leaves a clean line when closed', () => {
    const { progress, out } = live({ color: true });
    feed(EVENTS.slice(0, -1), progress);
    progress.close();
    const text = out();
    expect(text).toContain(
      `${ERASE}[1/2] strict-a: \u001b[32m= as expected\u001b[39m after 2 rounds, converged (3.5 s)\n`,
    );
    expect(text).toContain(`${ERASE}\u001b[33mwarning:\u001b[39m certificates of a/httpbin: could not read them`);
    expect(text.endsWith(ERASE)).toBe(true);
    const length = text.length;
    progress(EVENTS.at(-1)!);
    progress.close();
    expect(out().length).toBe(length); // closed: nothing more
  });

  it('erases the line at run-done, before the results are printed', () => {
    const { progress, out } = live({ color: false });
    feed(EVENTS, progress);
    expect(out().endsWith(`${ERASE}done in 2m 20s: 6 cells as expected, 0 not, 2 probe errors\n`)).toBe(true);
  });

  it('never wraps: a status line wider than the terminal is cut', () => {
    const { progress, out } = live({ color: false, columns: 30 });
    feed(EVENTS.slice(0, indexOf('cell-observed') + 1), progress);
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
