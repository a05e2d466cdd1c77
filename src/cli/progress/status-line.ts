// The live status line for a terminal: one line on stderr, redrawn in place (carriage return and
// erase-line), showing the scenario, the round under way and its cells done (or the last round's
// result while the next waits), and the time elapsed. Lines worth keeping (preflight, verdicts,
// warnings) are printed above it: the line is erased first, then drawn again.
import type { RunEvent } from '../../model/events.js';
import type { Style } from '../../report/style.js';
import type { Io } from '../io.js';
import { clock, logLine, trackPosition, type Positions } from './lines.js';

export interface StatusLineOptions {
  style: Style;
  /** Milliseconds, monotonic. */
  now: () => number;
  /** Redraw period for the clock and spinner; 0 redraws on events only. */
  tickMs: number;
}

const ERASE = '\r\u001b[2K';
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
/** Events worth a line above the status line; the rest only change the status line. */
const KEPT = new Set<RunEvent['type']>([
  'preflight',
  'run-start',
  'setup-done',
  'scenario-done',
  'teardown-done',
  'warning',
  'run-done',
]);
/** A cell-observed burst redraws at most this often. */
const MIN_REDRAW_MS = 50;

export interface StatusLine {
  (event: RunEvent): void;
  close(): void;
}

export function statusLine(io: Io, o: StatusLineOptions): StatusLine {
  const started = o.now();
  const positions: Positions = new Map();
  let status = 'starting';
  let round: { scenario: string; round: number; done: number; cells: number; matched?: number } | undefined;
  let frame = 0;
  let drawn = false;
  let lastDraw = -Infinity;
  let closed = false;
  const columns = () => (io.stderr as { columns?: number }).columns ?? 80;

  const text = () => {
    const now = !round
      ? status
      : round.matched === undefined
        ? `${status} · round ${round.round} · ${round.done}/${round.cells} cells`
        : `${status} · round ${round.round}: ${round.matched}/${round.cells} as expected`;
    const line = [...`${now} · ${clock((o.now() - started) / 1000)}`];
    // A line longer than the terminal wraps, and `\r` would then redraw only its last part.
    const fitted = line.length >= columns() - 2 ? `${line.slice(0, columns() - 4).join('')}…` : line.join('');
    return `${o.style.yellow(SPINNER[frame % SPINNER.length]!)} ${fitted}`;
  };
  const draw = (force: boolean) => {
    if (closed || (!force && o.now() - lastDraw < MIN_REDRAW_MS)) return;
    lastDraw = o.now();
    io.stderr.write(`${ERASE}${text()}`);
    drawn = true;
  };
  const erase = () => {
    if (drawn) io.stderr.write(ERASE);
    drawn = false;
  };
  const timer = o.tickMs > 0 ? setInterval(() => (frame++, draw(true)), o.tickMs) : undefined;
  timer?.unref();

  const close = () => {
    if (closed) return;
    erase();
    closed = true;
    if (timer) clearInterval(timer);
  };

  const sink = (e: RunEvent) => {
    if (closed) return;
    trackPosition(e, positions);
    const at = positions.get('scenario' in e ? e.scenario : '') ?? '';
    switch (e.type) {
      case 'preflight':
        // Setup checks sidecar injection too: that is still "setting up".
        if (status === 'starting') status = 'checking the cluster';
        break;
      case 'setup-start':
        status = `setting up ${e.namespaces.join(', ')}`;
        break;
      case 'setup-done':
        status = 'topology ready';
        break;
      case 'scenario-start':
        status = `${at} ${e.scenario} · applying its objects`;
        round = undefined;
        break;
      case 'scenario-applied':
        status = `${at} ${e.scenario} · probing`;
        break;
      case 'round-start':
        status = `${at} ${e.scenario}`;
        round = { scenario: e.scenario, round: e.round, done: 0, cells: e.cells };
        break;
      case 'cell-observed':
        if (round && round.scenario === e.scenario && round.round === e.round) round.done++;
        break;
      case 'round-done':
        if (round && round.scenario === e.scenario && round.round === e.round) round.matched = e.matched;
        break;
      case 'scenario-done':
        round = undefined;
        status = `${at} ${e.scenario} · removing its objects`;
        break;
      case 'teardown-start':
        round = undefined;
        status = `tearing down ${e.namespaces.join(', ')}`;
        break;
      case 'teardown-done':
        status = 'topology removed';
        break;
      default:
        break;
    }
    const kept = KEPT.has(e.type) ? logLine(e, positions) : undefined;
    if (kept) {
      erase();
      io.stderr.write(`${colour(kept, o.style)}\n`);
    }
    if (e.type === 'run-done') return close();
    frame++;
    draw(kept !== undefined || e.type !== 'cell-observed');
  };
  return Object.assign(sink, { close });
}

function colour(line: string, s: Style): string {
  return line
    .replace('= as expected', s.green('= as expected'))
    .replace('≠ not as expected', s.red('≠ not as expected'))
    .replace('⚠ probe errors', s.yellow('⚠ probe errors'))
    .replace(/^preflight: FAILED/, `preflight: ${s.red('FAILED')}`)
    .replace(/^warning:/, s.yellow('warning:'));
}
