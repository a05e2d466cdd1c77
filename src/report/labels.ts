// How outcomes read in a terminal: a reached/blocked mark and a short word, readable without colour.
// Each symbol has one meaning everywhere the terminal shows it:
//   in cells        ✔ reached the app   ✘ blocked   ⚠ the probe itself failed
//   cells, headings = as expected        ≠ not as expected
import type { Expectation, Outcome } from '../model/outcome.js';
import { isReachable } from '../model/outcome.js';

const WORDS: Record<Outcome | Expectation, string> = {
  mtls: 'mTLS',
  plaintext: 'plain',
  reached: 'tls-app',
  pass: 'pass',
  reset: 'reset',
  'upstream-error': '503',
  'tls-error': 'tls-err',
  timeout: 'timeout',
  dns: 'dns',
  refused: 'refused',
  denied: 'denied',
  'http-error': 'http',
  blocked: 'blocked',
  error: 'ERROR',
};

/** What each word means, for the legend. */
const MEANINGS: Record<Outcome | Expectation, string> = {
  mtls: "the server's sidecar saw a client certificate",
  plaintext: 'it saw none: plaintext',
  reached: "the app's own TLS: mutual TLS cannot be seen",
  pass: 'reached; the scenario does not say how',
  reset: 'connection reset or closed (curl exit 56, 52)',
  'upstream-error': "from the client's sidecar, which could not connect",
  'tls-error': 'TLS handshake failed (curl exit 35)',
  timeout: 'no answer in time (curl exit 28)',
  dns: 'name not resolved (curl exit 6)',
  refused: 'connection refused (curl exit 7)',
  denied: '403 "RBAC: access denied": an AuthorizationPolicy',
  'http-error': 'another HTTP error status from the server',
  blocked: 'not reached; the scenario does not say how',
  error: 'the probe itself failed',
};

export function label(outcome: Outcome | Expectation, httpCode?: number): string {
  if (outcome === 'error') return '⚠ ERROR';
  const word = outcome === 'http-error' && httpCode ? String(httpCode) : WORDS[outcome];
  return `${isReachable(outcome) ? '✔' : '✘'} ${word}`;
}

/** The marks of a scenario's verdict, in headings: the same ≠ and ⚠ as in cells. */
export const VERDICT_MARK = { pass: '=', mismatch: '≠', error: '⚠' } as const;

export interface LegendNeeds {
  /** Outcomes and expectations some cell shows. */
  words: ReadonlySet<Outcome | Expectation>;
  mismatch: boolean;
  error: boolean;
}

/**
 * The legend for what the tables show, and only that: one line per word, under the mark it goes with,
 * then the verdict marks. Fits 80 columns (the golden test at 80 columns checks).
 */
export function legendLines(needs: LegendNeeds): string[] {
  const shown = (Object.keys(WORDS) as Array<Outcome | Expectation>).filter((w) => w !== 'error' && needs.words.has(w));
  const word = (w: Outcome | Expectation) => (w === 'http-error' ? 'NNN' : WORDS[w]);
  const width = Math.max(0, ...shown.map((w) => word(w).length));
  const lines: string[] = [];
  for (const [mark, title, reachable] of [
    ['✔', 'reached the app', true],
    ['✘', 'blocked', false],
  ] as const) {
    shown
      .filter((w) => isReachable(w) === reachable)
      .forEach((w, i) => {
        const head = i === 0 ? `${mark} ${title}` : '';
        lines.push(`${head.padEnd(20)}${word(w).padEnd(width)}  ${MEANINGS[w]}`);
      });
  }
  const marks = ['= as expected'];
  if (needs.mismatch) marks.push('≠ not as expected');
  if (needs.error) marks.push('⚠ the probe itself failed (not blocked)');
  lines.push(marks.join('   '));
  return lines;
}
