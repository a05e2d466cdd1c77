// What the oracle says of one cell: the outcome, and the chain of objects (or defaults) that decided
// it on each side. The oracle (src/oracle) computes these; the reports and `explain` read them.
import type { NetworkOutcome } from './outcome.js';
import type { PortProtocol } from './topology.js';

/** One link of the chain that decided a cell: which object (or default) said what. */
export interface Step {
  by: string;
  says: string;
}

export type ServerMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

/** The server pod's inbound side: a sidecar in some mode, or the app itself. */
export type ServerDecision = { sidecar: false; chain: Step[] } | { sidecar: true; mode: ServerMode; chain: Step[] };

/** What the client's side puts on the wire towards the server pod. */
export type Origination = 'mtls' | 'plaintext' | 'simple-tls' | 'mutual-tls';

/** The client's outbound side: without a sidecar the app sends plaintext; a sidecar's TLS comes from a rule or not. */
export type ClientDecision =
  | { sidecar: false; origination: 'plaintext'; chain: Step[] }
  | {
      sidecar: true;
      origination: Origination;
      /** True when a DestinationRule's TLS setting decided, false when defaults or auto mTLS did. */
      byRule: boolean;
      chain: Step[];
    };

/** What the server's sidecar did with the request once mutual TLS let it through (src/oracle/authorization). */
export interface AuthorizationDecision {
  /**
   * `not-reached`: the connection failed before authorization; `no-sidecar`: nothing enforces policies;
   * `no-policy`: no AuthorizationPolicy selects the server workload; `allowed` / `denied`: the policies decided.
   */
  effect: 'not-reached' | 'no-sidecar' | 'no-policy' | 'allowed' | 'denied';
  /** Envoy's name of the deciding rule, `ns[NS]-policy[NAME]-rule[N]`, or `none` when no ALLOW rule matched. */
  matchedPolicy?: string;
  /** The same, as a person reads it: `AuthorizationPolicy test1/deny-get rule 0`. */
  decidedBy?: string;
  /** The policies and rules in the order the server's sidecar evaluates them (CUSTOM, AUDIT, DENY, ALLOW). */
  chain: Step[];
  /** What the prediction leaves out for this cell (a CUSTOM policy's external decision). */
  notes: string[];
}

export interface Reason {
  /** One line: what the client sends, what the server takes, and so what curl sees. */
  summary: string;
  /** Why the client's origination meets the server's mode the way it does. */
  why: string;
  client: ClientDecision;
  server: ServerDecision;
  protocol: PortProtocol;
  /** Row of the outcome table in docs/semantics.md (HTTP ports). */
  row?: number;
  /** Authorization, after mutual TLS; absent in the legacy flavor, which meshprobe predicts no authorization for. */
  authorization?: AuthorizationDecision;
}

/** The oracle's cell: never `error`, which only a probe can come to. */
export interface Prediction {
  outcome: NetworkOutcome;
  reason: Reason;
}
