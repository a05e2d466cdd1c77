// The words progress uses, shared by the plain-line and the live renderers: one line per event
// worth keeping in a log. Plain text only; colour, if any, is the renderer's business.
import type { RunEvent } from '../../model/events.js';

/** `6.4 s` below a minute, `2m 05s` above: a log line reads both at a glance. */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
}

/** `m:ss` for a clock that ticks in place. */
export function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `[2/11] name`, once the scenario's position is known. */
export type Positions = Map<string, string>;

const tagged = (positions: Positions, scenario: string): string =>
  `${positions.get(scenario) ?? ''}${positions.has(scenario) ? ' ' : ''}${scenario}`;

// The marks of the tables' headings (src/report/labels.ts): ✔ and ✘ are for cells (reached, blocked) alone.
const VERDICT = { pass: '= as expected', mismatch: '≠ not as expected', error: '⚠ probe errors' } as const;

/**
 * The line an event leaves in a log, or undefined for events only a live display shows
 * (round-start, cell-observed, scenario-start, scenario-removed, teardown-start).
 */
export function logLine(e: RunEvent, positions: Positions): string | undefined {
  switch (e.type) {
    case 'preflight':
      return `preflight: ${e.ok ? 'ok' : 'FAILED'} ${e.check}${e.detail ? ` (${e.detail})` : ''}`;
    case 'run-start':
      return `${e.command}: ${plural(e.scenarios.length, 'scenario')}, ${plural(e.cellsPerScenario, 'cell')}${e.scenarios.length === 1 ? '' : ' each'} on context ${e.context} (Istio ${e.flavor})`;
    case 'setup-start':
      return `setup: namespaces ${e.namespaces.join(', ')}`;
    case 'setup-done':
      return `setup: topology ready (${duration(e.seconds)})`;
    case 'scenario-applied':
      return `${tagged(positions, e.scenario)}: applied ${e.objects.length ? e.objects.join(', ') : 'no objects'}`;
    case 'round-done':
      return `${tagged(positions, e.scenario)} round ${e.round}: ${e.matched}/${e.cells} as expected, ${e.mismatched} not, ${plural(e.errors, 'probe error')} (${plural(e.execs, 'exec')}, ${duration(e.seconds)})`;
    case 'scenario-done':
      return `${tagged(positions, e.scenario)}: ${VERDICT[e.verdict]} after ${plural(e.rounds, 'round')}, ${e.converged ? 'converged' : 'did not converge'} (${duration(e.seconds)})`;
    case 'teardown-done':
      return `teardown: topology removed (${duration(e.seconds)})`;
    case 'warning':
      return `warning: ${e.message}`;
    case 'run-done':
      return `done in ${duration(e.seconds)}: ${e.matched} cells as expected, ${e.mismatched} not, ${plural(e.errors, 'probe error')}`;
    default:
      return undefined;
  }
}

/** Remembers each scenario's `[i/n]` from its scenario-start event. */
export function trackPosition(e: RunEvent, positions: Positions): void {
  if (e.type === 'scenario-start') positions.set(e.scenario, `[${e.index}/${e.total}]`);
}
