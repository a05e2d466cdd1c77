// Where a clone documents the Istio behaviour the oracle follows: docs/semantics.md, with an anchor
// per row of its outcome table and per section. test/docs/self-contained.test.ts checks that every
// anchor named here exists in that file.
import type { PortProtocol } from '../model/topology.js';

export const SEMANTICS_DOC = 'docs/semantics.md';

/** The outcome-table row an HTTP cell follows, or the section on TLS and TCP ports (proxied at L4). */
export function semanticsRef(row: number | undefined, protocol?: PortProtocol): string | undefined {
  if (row) return `${SEMANTICS_DOC}#outcome-row-${row}`;
  if (protocol === 'tls' || protocol === 'tcp') return `${SEMANTICS_DOC}#tls-and-tcp-ports`;
  return undefined;
}
