// `--namespace-prefix P`: the topology runs as P-test1, P-test2 ... so that several runs can share a
// cluster. Everything that names a topology namespace moves with it: scenario objects, DestinationRule
// hosts and exportTo, expectation patterns, certificate requests.
import { ConfigError } from '../errors.js';
import { fromObject, type IstioPolicy } from './istio-objects.js';
import type { KubeObject } from './kube-object.js';
import { topologySizeProblem, type RequestSize } from './limits.js';
import type { ExpectationRule, Scenario } from './scenario.js';
import type { Topology } from './topology.js';

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function prefixNamespaces(
  topology: Topology,
  scenarios: Scenario[],
  prefix: string,
  /** The probe's measure of its exec request: longer namespaces make longer URLs. */
  requestBytes?: RequestSize,
): { topology: Topology; scenarios: Scenario[] } {
  // An unset variable in a CI line (`--namespace-prefix "$RUN_ID"`) must not run in the shared namespaces.
  if (prefix === '')
    throw new ConfigError(
      "--namespace-prefix is empty: the run would use the topology's own namespaces, not prefixed ones",
      'give a prefix (e.g. --namespace-prefix ci-1234), or leave the flag out to use the topology namespaces as they are',
    );
  if (!LABEL.test(prefix))
    throw new ConfigError(
      `--namespace-prefix "${prefix}" must be lower-case letters, digits and "-", starting and ending with a letter or digit`,
    );
  const names = new Map(topology.namespaces.map((n) => [n.name, `${prefix}-${n.name}`]));
  const tooLong = [...names.values()].filter((n) => n.length > 63);
  if (tooLong.length)
    throw new ConfigError(
      `--namespace-prefix "${prefix}" makes namespace names longer than 63 characters: ${tooLong.join(', ')}`,
    );
  const ns = (n: string) => names.get(n) ?? n;
  const id = (x: string) => x.replace(/^([^/]+)\//, (_, n: string) => `${ns(n)}/`);

  const mapped: Topology = {
    ...topology,
    namespaces: topology.namespaces.map((n) => ({
      ...n,
      name: ns(n.name),
      secrets: n.secrets.map((s) => ({ ...s, namespace: ns(s.namespace) })),
    })),
    workloads: topology.workloads.map((w) => ({ ...w, namespace: ns(w.namespace) })),
    services: topology.services.map((s) => ({ ...s, namespace: ns(s.namespace) })),
    clients: topology.clients.map((c) => ({ ...c, namespace: ns(c.namespace), id: id(c.id) })),
    targets: topology.targets.map((t) => ({ ...t, namespace: ns(t.namespace), id: id(t.id) })),
  };
  const tooLarge = topologySizeProblem(mapped, requestBytes);
  if (tooLarge) throw new ConfigError(`--namespace-prefix "${prefix}": ${tooLarge}`, 'choose a shorter prefix');
  // A pattern's namespace part gets the prefix unless it is `*`: `test*` becomes `P-test*`.
  const pattern = (p: string) =>
    p === '*' || p.startsWith('*/')
      ? p
      : p.replace(/^([^/]+)\//, (_, n: string) => `${names.get(n) ?? `${prefix}-${n}`}/`);
  const rule = (r: ExpectationRule): ExpectationRule => ({ ...r, from: r.from.map(pattern), to: r.to.map(pattern) });
  return {
    topology: mapped,
    scenarios: scenarios.map((s) => ({
      ...s,
      objects: s.objects.map((o) => renamePolicy(o, ns)),
      expect: { all: s.expect.all.map(rule), modern: s.expect.modern.map(rule), legacy: s.expect.legacy.map(rule) },
      certificates: s.certificates.map(id),
    })),
  };
}

function renamePolicy(p: IstioPolicy, ns: (n: string) => string): IstioPolicy {
  const raw: KubeObject = structuredClone(p.raw);
  if (raw.metadata.namespace) raw.metadata.namespace = ns(raw.metadata.namespace);
  if (raw.kind === 'DestinationRule') {
    const spec = raw.spec as { host: string; exportTo?: string[] };
    spec.host = renameHost(spec.host, ns);
    if (spec.exportTo) spec.exportTo = spec.exportTo.map((e) => (e === '*' || e === '.' || e === '~' ? e : ns(e)));
  }
  return fromObject(raw, p.order);
}

/** `svc.NS`, `svc.NS.svc...`, `*.NS.svc...`: the second label is the namespace. */
function renameHost(host: string, ns: (n: string) => string): string {
  const parts = host.split('.');
  if (parts.length >= 2 && parts[1] !== undefined) parts[1] = ns(parts[1]);
  return parts.join('.');
}
