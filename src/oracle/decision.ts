/** One link of the chain that decided a cell: which object (or default) said what. */
export interface Step {
  by: string;
  says: string;
}

export type ServerMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface ServerDecision {
  sidecar: boolean;
  /** Set when the server has a sidecar. */
  mode?: ServerMode;
  chain: Step[];
}

/** What the client's side puts on the wire towards the server pod. */
export type Origination = 'mtls' | 'plaintext' | 'simple-tls' | 'mutual-tls';

export interface ClientDecision {
  sidecar: boolean;
  origination: Origination;
  /** True when a DestinationRule's TLS setting decided, false when defaults or auto mTLS did. */
  byRule: boolean;
  chain: Step[];
}
