import type { EventSink } from '../model/events.js';
import type { Io } from './io.js';

/** One plain line per step and per round, on stderr. */
export function plainProgress(io: Io): EventSink {
  return (e) => {
    const line = (() => {
      switch (e.type) {
        case 'preflight':
          return `${e.ok ? 'ok' : 'FAILED'}: ${e.check}${e.detail ? ` (${e.detail})` : ''}`;
        case 'setup-start':
          return `setting up ${e.namespaces.join(', ')}`;
        case 'setup-done':
          return `topology ready in ${e.seconds.toFixed(1)} s`;
        case 'scenario-start':
          return `scenario ${e.index}/${e.total} ${e.scenario}`;
        case 'round-done':
          return `  ${e.scenario} round ${e.round}: ${e.matched}/${e.cells} as expected${e.errors ? `, ${e.errors} probe errors` : ''} (${e.execs} execs, ${e.seconds.toFixed(2)} s)`;
        case 'scenario-done':
          return `  ${e.scenario}: ${e.verdict} after ${e.rounds} rounds, ${e.seconds.toFixed(1)} s${e.converged ? '' : ' (did not converge)'}`;
        case 'teardown-done':
          return `topology removed in ${e.seconds.toFixed(1)} s`;
        case 'warning':
          return `warning: ${e.message}`;
        default:
          return undefined;
      }
    })();
    if (line) io.stderr.write(`${line}\n`);
  };
}
