// The expected outcomes of docs/semantics.md (§5 outcome table, §8 HTTPS,
// §11 article scenarios), written out as data the tests replay through the emulated mesh with real curl.
// These are the reference's words, not computed from any policy code.
import type { Flavor } from './policy/types.js';

export type ServerMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export type ClientDr = 'ISTIO_MUTUAL' | 'DISABLE' | 'none';

export interface Expect {
  exit: number;
  http: string;
  xfcc?: boolean;
  /** A prefix of the body (the Envoy 503 text). */
  bodyPrefix?: string;
}

export interface TableRow {
  row: number;
  clientSidecar: boolean;
  serverSidecar: boolean;
  serverMode?: ServerMode;
  /** Where the server mode comes from (modern): namespace-wide or workload (selector) PeerAuthentication. */
  modeLevel?: 'namespace' | 'workload';
  clientDr?: ClientDr;
  expect: Record<Flavor, Expect>;
}

const OK_PLAIN: Expect = { exit: 0, http: '200', xfcc: false };
const OK_MTLS: Expect = { exit: 0, http: '200', xfcc: true };
const RESET: Expect = { exit: 56, http: '000' };
const UPSTREAM_503: Expect = {
  exit: 0,
  http: '503',
  bodyPrefix: 'upstream connect error or disconnect/reset before headers.',
};
const both = (e: Expect): Record<Flavor, Expect> => ({ legacy: e, modern: e });

export const OUTCOME_TABLE: TableRow[] = [
  { row: 1, clientSidecar: false, serverSidecar: false, expect: both(OK_PLAIN) },
  { row: 2, clientSidecar: false, serverSidecar: true, serverMode: 'STRICT', expect: both(RESET) },
  { row: 3, clientSidecar: false, serverSidecar: true, serverMode: 'PERMISSIVE', expect: both(OK_PLAIN) },
  { row: 4, clientSidecar: false, serverSidecar: true, serverMode: 'DISABLE', expect: both(OK_PLAIN) },
  { row: 5, clientSidecar: true, serverSidecar: false, clientDr: 'ISTIO_MUTUAL', expect: both(UPSTREAM_503) },
  { row: 6, clientSidecar: true, serverSidecar: false, clientDr: 'DISABLE', expect: both(OK_PLAIN) },
  { row: 7, clientSidecar: true, serverSidecar: false, clientDr: 'none', expect: both(OK_PLAIN) },
  {
    row: 8,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'STRICT',
    clientDr: 'ISTIO_MUTUAL',
    expect: both(OK_MTLS),
  },
  {
    row: 9,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'STRICT',
    clientDr: 'DISABLE',
    expect: both(UPSTREAM_503),
  },
  {
    row: 10,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'STRICT',
    clientDr: 'none',
    expect: { legacy: UPSTREAM_503, modern: OK_MTLS },
  },
  {
    row: 11,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'PERMISSIVE',
    clientDr: 'ISTIO_MUTUAL',
    expect: both(OK_MTLS),
  },
  {
    row: 12,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'PERMISSIVE',
    clientDr: 'DISABLE',
    expect: both(OK_PLAIN),
  },
  {
    row: 13,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'PERMISSIVE',
    clientDr: 'none',
    expect: { legacy: OK_PLAIN, modern: OK_MTLS },
  },
  {
    row: 14,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'DISABLE',
    clientDr: 'ISTIO_MUTUAL',
    expect: both(UPSTREAM_503),
  },
  {
    row: 15,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'DISABLE',
    clientDr: 'DISABLE',
    expect: both(OK_PLAIN),
  },
  {
    row: 16,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'DISABLE',
    clientDr: 'none',
    expect: both(OK_PLAIN),
  },
  // Row 16, modern, with the DISABLE from a workload-level PeerAuthentication: 200 from Istio 1.12 on.
  {
    row: 16,
    clientSidecar: true,
    serverSidecar: true,
    serverMode: 'DISABLE',
    modeLevel: 'workload',
    clientDr: 'none',
    expect: both(OK_PLAIN),
  },
];

/** The server-mode policy for a namespace, in each flavor's API. */
export function serverModePolicy(
  flavor: Flavor,
  ns: string,
  mode: ServerMode,
  level: 'namespace' | 'workload' = 'namespace',
): string {
  if (flavor === 'modern') {
    const selector = level === 'workload' ? '  selector:\n    matchLabels:\n      app: httpbin\n' : '';
    return `apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: ${level === 'workload' ? 'httpbin' : 'default'}\n  namespace: ${ns}\nspec:\n${selector}  mtls:\n    mode: ${mode}\n`;
  }
  // Legacy: STRICT is `mtls: {}`, PERMISSIVE is mode PERMISSIVE, and no peers at all is mTLS off.
  const peers =
    mode === 'STRICT'
      ? '  peers:\n  - mtls: {}\n'
      : mode === 'PERMISSIVE'
        ? '  peers:\n  - mtls:\n      mode: PERMISSIVE\n'
        : '';
  const targets = level === 'workload' ? '  targets:\n  - name: httpbin\n' : '';
  const body = targets + peers;
  const name = level === 'workload' ? 'httpbin' : 'default';
  return `apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${body ? `spec:\n${body}` : 'spec: {}\n'}`;
}

export function destinationRule(ns: string, name: string, host: string, mode: Exclude<ClientDr, 'none'>): string {
  return `apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  host: "${host}"\n  trafficPolicy:\n    tls:\n      mode: ${mode}\n`;
}
