// `--namespace-prefix P`: the topology runs as P-test1, P-test2 ... so that several runs can share a
// cluster. Everything that names a topology namespace moves with it: scenario objects, DestinationRule
// hosts and exportTo, AuthorizationPolicy principals, namespaces and hosts, expectation patterns,
// certificate requests.
import { ConfigError } from '../errors.js';
import type { AuthorizationPolicySpec } from './authorization-policy.js';
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
  // An AuthorizationPolicy's namespace value: a topology namespace, or a prefix pattern (`test*`) that matched one.
  const nsPattern = (v: string) =>
    names.has(v)
      ? names.get(v)!
      : v.length > 1 &&
          v.endsWith('*') &&
          !v.startsWith('*') &&
          [...names.keys()].some((n) => n.startsWith(v.slice(0, -1)))
        ? `${prefix}-${v}`
        : v;
  return {
    topology: mapped,
    scenarios: scenarios.map((s) => ({
      ...s,
      objects: s.objects.map((o) => renamePolicy(o, ns, nsPattern)),
      expect: { all: s.expect.all.map(rule), modern: s.expect.modern.map(rule), legacy: s.expect.legacy.map(rule) },
      certificates: s.certificates.map(id),
    })),
  };
}

function renamePolicy(p: IstioPolicy, ns: (n: string) => string, nsPattern: (v: string) => string): IstioPolicy {
  const raw: KubeObject = structuredClone(p.raw);
  if (raw.metadata.namespace) raw.metadata.namespace = ns(raw.metadata.namespace);
  if (raw.kind === 'DestinationRule') {
    const spec = raw.spec as { host: string; exportTo?: string[] };
    spec.host = renameHost(spec.host, ns);
    if (spec.exportTo) spec.exportTo = spec.exportTo.map((e) => (e === '*' || e === '.' || e === '~' ? e : ns(e)));
  }
  if (raw.kind === 'AuthorizationPolicy')
    renameAuthorization(raw.spec as AuthorizationPolicySpec | null, ns, nsPattern);
  return fromObject(raw, p.order);
}

/**
 * Principals `TRUST-DOMAIN/ns/NS/sa/SA` and namespace values (sources and `source.*` conditions) follow the
 * prefix, and so do hosts that name a topology service (`httpbin.test1`, `httpbin.test1.svc.cluster.local:8000`).
 */
function renameAuthorization(
  spec: AuthorizationPolicySpec | null,
  ns: (n: string) => string,
  nsPattern: (v: string) => string,
) {
  const principal = (v: string) => {
    const parts = v.split('/');
    if (parts.length >= 3 && parts[1] === 'ns' && parts[2] !== undefined) parts[2] = nsPattern(parts[2]);
    return parts.join('/');
  };
  const host = (v: string) => {
    const [name = '', port] = v.split(/:(?=\d+$)/);
    return port === undefined ? renameHost(name, ns) : `${renameHost(name, ns)}:${port}`;
  };
  const map = <T extends Record<string, string[] | undefined>>(
    o: T | null | undefined,
    fields: Array<keyof T>,
    f: (v: string) => string,
  ) => {
    for (const k of fields) if (o?.[k]) (o as Record<keyof T, string[]>)[k] = o[k]!.map(f);
  };
  for (const rule of spec?.rules ?? []) {
    for (const from of rule?.from ?? []) {
      map(from?.source, ['principals', 'notPrincipals'], principal);
      map(from?.source, ['namespaces', 'notNamespaces'], nsPattern);
    }
    for (const to of rule?.to ?? []) map(to?.operation, ['hosts', 'notHosts'], host);
    for (const c of rule?.when ?? []) {
      if (c?.key === 'source.principal')
        map(c as unknown as Record<string, string[]>, ['values', 'notValues'], principal);
      if (c?.key === 'source.namespace')
        map(c as unknown as Record<string, string[]>, ['values', 'notValues'], nsPattern);
    }
  }
}

/** `svc.NS`, `svc.NS.svc...`, `*.NS.svc...`: the second label is the namespace. */
function renameHost(host: string, ns: (n: string) => string): string {
  const parts = host.split('.');
  if (parts.length >= 2 && parts[1] !== undefined) parts[1] = ns(parts[1]);
  return parts.join('.');
}
