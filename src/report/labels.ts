// How outcomes read in a terminal: a pass/fail mark and a short word, readable without colour.
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
  'http-error': 'http',
  blocked: 'blocked',
  error: 'ERROR',
};

export function label(outcome: Outcome | Expectation, httpCode?: number): string {
  if (outcome === 'error') return '⚠ ERROR';
  const word = outcome === 'http-error' && httpCode ? String(httpCode) : WORDS[outcome];
  return `${isReachable(outcome) ? '✔' : '✘'} ${word}`;
}

export const LEGEND = [
  "✔ reached the app   mTLS: the server's sidecar saw a client certificate   plain: it did not   tls-app: the app's own TLS (mTLS not visible)",
  '✘ blocked           reset: connection reset (curl 56)   503: the client sidecar could not connect   tls-err: TLS handshake failed',
  '⚠ the probe itself failed (not counted as blocked)      ≠ not as expected',
].join('\n');
