// What one probe (curl from a client pod to a server port) can come to. See DESIGN.md "Cells".

export const OUTCOMES = [
  'mtls', // reached the app, and the server's sidecar vouched for a client certificate (X-Forwarded-Client-Cert)
  'plaintext', // reached the app without mutual TLS
  'reached', // reached the app over the app's own TLS; mutual TLS between sidecars cannot be seen from the client
  'reset', // the connection was reset (curl exit 56 "Connection reset by peer", HTTP 000)
  'upstream-error', // HTTP 503 from the client's sidecar: it could not connect upstream
  'tls-error', // the client's TLS handshake failed (curl exit 35, or 56 with a TLS alert)
  'timeout', // curl exit 28
  'dns', // curl exit 6
  'refused', // curl exit 7
  'denied', // HTTP 403 with Envoy's "RBAC: access denied" body: the server's sidecar refused it by AuthorizationPolicy
  'http-error', // the app or a proxy answered with another error status (404, 500 ...)
  'error', // the probe itself failed: exec error, pod gone, API error. Never a pass, never "blocked".
] as const;

export type Outcome = (typeof OUTCOMES)[number];

/** What a scenario can expect of a cell: an exact outcome, or the looser `pass` / `blocked`. */
export const EXPECTATIONS = [...OUTCOMES.filter((o) => o !== 'error'), 'pass', 'blocked'] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

export function isReachable(outcome: Outcome | Expectation): boolean {
  return outcome === 'mtls' || outcome === 'plaintext' || outcome === 'reached' || outcome === 'pass';
}

/** true / false where the outcome says, undefined where it cannot be known. */
export function mtlsOf(outcome: Outcome | Expectation): boolean | undefined {
  if (outcome === 'mtls') return true;
  if (outcome === 'plaintext') return false;
  return undefined;
}

/** Does an observed outcome satisfy an expectation? An `error` never does. */
export function satisfies(observed: Outcome, expected: Expectation): boolean {
  if (observed === 'error') return false;
  if (expected === 'pass' || expected === 'reached') return isReachable(observed);
  if (expected === 'blocked') return !isReachable(observed);
  return observed === expected;
}

/** Outcomes the network can produce, as opposed to a failed probe. */
export type NetworkOutcome = Exclude<Outcome, 'error'>;
