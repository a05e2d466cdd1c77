// Progress on stderr, chosen by where it goes: a live status line on a terminal, plain lines in
// logs and CI, nothing with --quiet. The core emits RunEvents; this decides what to show.
import type { EventSink, RunEvent } from '../../model/events.js';
import { style } from '../../report/style.js';
import type { Io } from '../io.js';
import type { CommandContext } from '../program.js';
import { logLine, trackPosition, type Positions } from './lines.js';
import { statusLine } from './status-line.js';

export interface Progress extends EventSink {
  /** Erases the status line and stops its clock; call before printing results or errors. Idempotent. */
  close(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** Colour on the status line (never in plain lines). */
  color?: boolean;
  /** Plain lines even on a terminal; default: from $CI. */
  ci?: boolean;
  /** Milliseconds, monotonic; tests pass a fake clock. */
  now?: () => number;
  /** Status line redraw period; 0 redraws on events only. */
  tickMs?: number;
}

/** CI services set CI=true (GitHub, GitLab, Jenkins with the plugin, Buildkite ...); CI=false or 0 opts out. */
export function isCi(env: Record<string, string | undefined>): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function createProgress(io: Io, o: ProgressOptions = {}): Progress {
  if (o.quiet) return Object.assign(() => {}, { close: () => {} });
  const live = io.stderr.isTTY === true && !(o.ci ?? isCi(io.env)) && io.env.TERM !== 'dumb';
  if (live)
    return statusLine(io, {
      style: style(o.color ?? true),
      now: o.now ?? (() => performance.now()),
      tickMs: o.tickMs ?? 250,
    });
  return plainLines(io);
}

/** One line per step, per round and per scenario: no colour, no cursor movement, so logs stay readable. */
export function plainLines(io: Io): Progress {
  const positions: Positions = new Map();
  const sink = (e: RunEvent) => {
    trackPosition(e, positions);
    const line = logLine(e, positions);
    if (line) io.stderr.write(`${line}\n`);
  };
  return Object.assign(sink, { close: () => {} });
}

/** Runs a short command (setup, teardown, cleanup's check) with progress shown, and closes it whatever happens. */
export async function withProgress(ctx: CommandContext, fn: (events: EventSink) => Promise<void>): Promise<void> {
  const p = progressFor(ctx);
  try {
    await fn(p);
  } finally {
    p.close();
  }
}

/** The progress a command should show, from --quiet, --no-color, NO_COLOR and CI. */
export function progressFor(ctx: CommandContext): Progress {
  const g = ctx.globals();
  const noColor = g.color === false || ('NO_COLOR' in ctx.io.env && ctx.io.env.NO_COLOR !== '');
  return createProgress(ctx.io, { quiet: g.quiet === true, color: !noColor });
}
