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

/** A scenario written with PeerAuthentication cannot run on Istio 1.4, which does not serve it. */
export function supportsFlavor(s: Scenario, flavor: Flavor): boolean {
  return flavor === 'modern' || !s.objects.some((o) => o.kind === 'PeerAuthentication');
}

export function rulesFor(s: Scenario, flavor: Flavor): ExpectationRule[] {
  return [...s.expect.all, ...s.expect[flavor]];
}
