import type { KubeObject } from '../../contracts.js';
import type { ExtensionProvider } from './authorization.js';

export type InboundMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export type DrTlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';
export type Origination = 'istio-mutual' | 'plaintext' | 'simple' | 'mutual';

/** A value and the object (or rule) that decided it, for logs and for explaining a surprising outcome. */
export interface Decided<T> {
  value: T;
  by: string;
}

export type Flavor = 'legacy' | 'modern';

/** The objects the control plane reads, captured at one moment. */
export interface ConfigInputs {
  flavor: Flavor;
  autoMtls: boolean;
  rootNamespace: string;
  trustDomain: string;
  /** Pods that are running (the runtime started them and they are not being deleted). */
  pods: KubeObject[];
  services: KubeObject[];
  peerAuthentications: KubeObject[];
  destinationRules: KubeObject[];
  meshPolicies: KubeObject[];
  policies: KubeObject[];
  /** security.istio.io AuthorizationPolicy (modern flavor only). */
  authorizationPolicies: KubeObject[];
  /** meshConfig trustDomainAliases and extensionProviders, which authorization reads. */
  trustDomainAliases: string[];
  extensionProviders: ExtensionProvider[];
}

export function describe(obj: KubeObject): string {
  return obj.metadata.namespace
    ? `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`
    : `${obj.kind} ${obj.metadata.name}`;
}
