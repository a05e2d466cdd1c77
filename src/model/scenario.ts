import type { Expectation } from './outcome.js';
import type { IstioPolicy } from './istio-objects.js';

export type Flavor = 'legacy' | 'modern';
export const FLAVORS: readonly Flavor[] = ['modern', 'legacy'];

export interface ExpectationRule {
  from: string[];
  to: string[];
  expect: Expectation;
  /** `file:line:col`, so a wrong expectation can be found. */
  where: string;
}

export interface Scenario {
  name: string;
  description: string;
  sources: string[];
  file: string;
  objects: IstioPolicy[];
  /** Rules in order; later rules override earlier ones. `all` applies to both flavors, before the flavor's own. */
  expect: Record<'all' | Flavor, ExpectationRule[]>;
  /** Workloads (`NS/NAME`) whose certificates a run reads from their sidecar. */
  certificates: string[];
}

/**
 * What Istio 1.4 had for authorization, and why meshprobe predicts none of it: 1.4.10 served
 * security.istio.io/v1beta1 AuthorizationPolicy with ALLOW rules only (no `action`, no not- fields, no
 * `notValues`: install/kubernetes/helm/istio-init/files/crd-14.yaml, istio/api 1.4 security/v1beta1/
 * authorization.proto) and, when no such policy selected a workload, the alpha rbac.istio.io ClusterRbacConfig,
 * ServiceRole and ServiceRoleBinding (pilot/pkg/security/authz/builder/builder.go at 1.4.10).
 */
export const LEGACY_AUTHORIZATION =
  'meshprobe predicts AuthorizationPolicy for Istio >= 1.5 only. Istio 1.4 served security.istio.io/v1beta1 AuthorizationPolicy with ALLOW rules only (no action, no not- fields) and, for workloads no such policy selects, rbac.istio.io/v1alpha1 ClusterRbacConfig, ServiceRole and ServiceRoleBinding; meshprobe models neither';

/** Why a scenario cannot run in this flavor, or undefined when it can. */
export function flavorProblem(s: Scenario, flavor: Flavor): string | undefined {
  if (flavor === 'modern') return undefined;
  if (s.objects.some((o) => o.kind === 'PeerAuthentication'))
    return 'it uses PeerAuthentication, which Istio 1.4 does not serve';
  if (s.objects.some((o) => o.kind === 'AuthorizationPolicy'))
    return `it uses AuthorizationPolicy: ${LEGACY_AUTHORIZATION}`;
  return undefined;
}

/** A scenario written with PeerAuthentication or AuthorizationPolicy cannot run on Istio 1.4 (see flavorProblem). */
export function supportsFlavor(s: Scenario, flavor: Flavor): boolean {
  return flavorProblem(s, flavor) === undefined;
}

export function rulesFor(s: Scenario, flavor: Flavor): ExpectationRule[] {
  return [...s.expect.all, ...s.expect[flavor]];
}
