// Combines the server's inbound mode and the client's origination into what curl sees.
// HTTP rows follow the outcome table of docs/semantics.md (anchors #outcome-row-N); TLS and TCP ports its
// section "TLS and TCP ports".
import type { NetworkOutcome } from '../model/outcome.js';
import type { PortProtocol } from '../model/topology.js';
import type { ClientDecision, ServerDecision } from '../model/prediction.js';

export interface Combined {
  outcome: NetworkOutcome;
  why: string;
  /** Row of the outcome table in docs/semantics.md, for HTTP ports. */
  row?: number;
}

export function combine(client: ClientDecision, server: ServerDecision, protocol: PortProtocol): Combined {
  return protocol === 'http' ? http(client, server) : opaque(client, server, protocol);
}

function http(client: ClientDecision, server: ServerDecision): Combined {
  const o = client.origination;
  // Rows come in pairs: the client's TLS set by a DestinationRule, or left to defaults / auto mTLS.
  const row = (viaRule: number, viaDefault: number, noSidecar?: number) =>
    !client.sidecar ? noSidecar : client.byRule ? viaRule : viaDefault;
  if (!server.sidecar) {
    if (o === 'plaintext')
      return { outcome: 'plaintext', why: 'plaintext to a server without sidecar', row: row(6, 7, 1) };
    if (o === 'mtls')
      return {
        outcome: 'upstream-error',
        why: "the client sidecar's mTLS handshake fails against a plaintext server: 503",
        row: 5,
      };
    return { outcome: 'upstream-error', why: 'TLS originated towards a plaintext server fails: 503' };
  }
  const mode = server.mode;
  if (o === 'plaintext') {
    if (mode === 'STRICT') {
      return client.sidecar
        ? {
            outcome: 'upstream-error',
            why: 'the STRICT server resets plaintext from the client sidecar, which answers 503',
            row: row(9, 10),
          }
        : { outcome: 'reset', why: 'the STRICT server sidecar resets a plaintext connection (curl exit 56)', row: 2 };
    }
    return {
      outcome: 'plaintext',
      why: `${mode} accepts plaintext`,
      row: mode === 'PERMISSIVE' ? row(12, 13, 3) : row(15, 16, 4),
    };
  }
  if (o === 'mtls') {
    if (mode === 'DISABLE')
      return {
        outcome: 'upstream-error',
        why: 'the DISABLE server sidecar takes plaintext only, so the mTLS handshake fails: 503',
        row: 14,
      };
    return {
      outcome: 'mtls',
      why: `${mode} accepts mTLS; the server sidecar adds X-Forwarded-Client-Cert`,
      row: mode === 'STRICT' ? row(8, 10) : row(11, 13),
    };
  }
  // SIMPLE or MUTUAL with the user's certificates: no Istio identity, and the app speaks plaintext. [I]
  return { outcome: 'upstream-error', why: `${o} towards a sidecar that expects Istio mTLS or plaintext fails: 503` };
}

/** TLS and TCP ports are proxied at L4: no 503s, no XFCC; failures surface as TLS errors or resets. [I] */
function opaque(client: ClientDecision, server: ServerDecision, protocol: PortProtocol): Combined {
  const fail: NetworkOutcome = protocol === 'tls' ? 'tls-error' : 'reset';
  const ok: NetworkOutcome = 'reached';
  const o = client.origination;
  if (!server.sidecar) {
    if (o === 'plaintext') return { outcome: ok, why: 'passed through at L4 to a server without sidecar' };
    return {
      outcome: fail,
      why: `the client sidecar wraps the connection in ${o === 'mtls' ? 'Istio mTLS' : 'TLS'}, which a server without sidecar cannot terminate`,
    };
  }
  const mode = server.mode;
  if (o === 'mtls') {
    if (mode === 'DISABLE') return { outcome: fail, why: 'the DISABLE server sidecar does not terminate mTLS' };
    return { outcome: ok, why: `the server sidecar (${mode}) terminates mTLS and passes the inner stream to the app` };
  }
  if (o === 'plaintext') {
    if (mode === 'STRICT')
      return {
        outcome: fail,
        why: 'the STRICT server sidecar demands an Istio client certificate the app does not present',
      };
    return { outcome: ok, why: `${mode} passes the stream through to the app` };
  }
  return { outcome: fail, why: `${o} is not Istio mTLS` };
}
