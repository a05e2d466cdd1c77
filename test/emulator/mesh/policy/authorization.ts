// AuthorizationPolicy (security.istio.io v1beta1 and v1, one schema: istio/api security/v1 aliases v1beta1)
// turned into the Envoy RBAC filters a sidecar's inbound gets, read from istio/istio 1.24.2:
// - selection: pilot/pkg/model/authorization.go ListAuthorizationPolicies (root namespace, then the
//   workload's; a selector must be a subset of the pod's labels, no selector selects all) and
//   policyattachment.go ShouldAttachPolicy ("if targetRef is specified, ignore the policy altogether" for a
//   workload that is not a Kubernetes Gateway);
// - filters: pilot/pkg/security/authz/builder/builder.go (CUSTOM, then AUDIT, DENY, ALLOW; dry-run policies
//   go to shadow rules; a policy without rules gets a policy that never matches; a rule that fails to
//   generate is skipped) and extauthz.go (a CUSTOM policy whose provider is not usable becomes DENY rules
//   "-deny-due-to-bad-CUSTOM-action");
// - rules: pilot/pkg/security/authz/model/model.go and generator.go (an HTTP-only field on a TCP filter
//   chain is an error: checkError returns it for ALLOW, so the whole rule is dropped, and ignores it for
//   DENY and AUDIT, so only that value is dropped and the rule widens), matcher/string.go and header.go
//   (exact, prefix*, *suffix and * as presence), trustdomain/bundle.go (cluster.local principals follow
//   the mesh trust domain and its aliases).
import type { KubeObject } from '../../contracts.js';
import { labels, oldestFirst, podNamespace, serviceFqdn } from '../k8s.js';
import type { Cidr, HeaderMatch, Permission, Principal, Rbac, RbacPolicy, StringMatch } from './rbac.js';
import { runEngine, type Attributes } from './rbac.js';
import type { ConfigInputs } from './types.js';

export type Stage = 'CUSTOM' | 'AUDIT' | 'DENY' | 'ALLOW';

/** One RBAC filter on a filter chain: enforced rules and dry-run (shadow) rules, either may be absent. */
export interface RbacFilter {
  stage: Stage;
  rules?: Rbac;
  shadow?: Rbac;
}

export interface WorkloadAuthz {
  /** The policies that select the workload, by action, as "AuthorizationPolicy ns/name". */
  selected: Record<Stage, string[]>;
  /** Filters in the order Envoy runs them (HTTP connection manager, or the TCP filter chain). */
  http: RbacFilter[];
  tcp: RbacFilter[];
  /** What istiod would log while building (skipped rules, ignored policies), for the config dump. */
  notes: string[];
}

interface Source {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

interface Operation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

interface Condition {
  key?: string;
  values?: string[];
  notValues?: string[];
}

interface Rule {
  from?: Array<{ source?: Source | null } | null> | null;
  to?: Array<{ operation?: Operation | null } | null> | null;
  when?: Array<Condition | null> | null;
}

interface ApSpec {
  selector?: { matchLabels?: Record<string, string> | null } | null;
  targetRef?: unknown;
  targetRefs?: unknown[] | null;
  action?: string | number;
  provider?: { name?: string } | null;
  rules?: Array<Rule | null> | null;
}

export interface ExtensionProvider {
  name?: string;
  envoyExtAuthzHttp?: { service?: string; port?: number };
  envoyExtAuthzGrpc?: { service?: string; port?: number };
}

const DRY_RUN = 'istio.io/dry-run';
const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';
const EXT_AUTHZ_PREFIX = 'istio-ext-authz';

function spec(ap: KubeObject): ApSpec {
  return (ap.spec ?? {}) as ApSpec;
}

function describe(ap: KubeObject): string {
  return `AuthorizationPolicy ${podNamespace(ap)}/${ap.metadata.name}`;
}

/** The protobuf enum as protojson reads it: the name, or its number. */
function action(ap: KubeObject): Stage | undefined {
  const a = spec(ap).action;
  if (a === undefined || a === null || a === 'ALLOW' || a === 0) return 'ALLOW';
  if (a === 'DENY' || a === 1) return 'DENY';
  if (a === 'AUDIT' || a === 2) return 'AUDIT';
  if (a === 'CUSTOM' || a === 3) return 'CUSTOM';
  return undefined;
}

/** Go's strconv.ParseBool, which builder.go isDryRun uses; anything else is an error and means false. */
function parseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

function isDryRun(ap: KubeObject, notes: string[]): boolean {
  const v = ap.metadata.annotations?.[DRY_RUN];
  if (v === undefined) return false;
  const b = parseBool(v);
  if (b === undefined) notes.push(`${describe(ap)}: failed to parse the value of ${DRY_RUN}: "${v}"`);
  return b ?? false;
}

function selects(ap: KubeObject, pod: KubeObject): boolean {
  const wanted = spec(ap).selector?.matchLabels ?? {};
  const have = labels(pod);
  return Object.entries(wanted).every(([k, v]) => have[k] === v);
}

function hasTargetRefs(ap: KubeObject): boolean {
  const s = spec(ap);
  return (
    (Array.isArray(s.targetRefs) && s.targetRefs.length > 0) || (s.targetRef !== undefined && s.targetRef !== null)
  );
}

// ---------------------------------------------------------------------------------------------------------
// Generators (generator.go): one value of one key becomes an Envoy matcher, or an error.

class GenError extends Error {}

const httpOnly = (key: string) => new GenError(`"${key}" is HTTP only`);

/** matcher.StringMatcherWithPrefix: "*" is ".+", the prefix is not applied to it. */
function stringMatcher(v: string, prefix = ''): StringMatch {
  if (v === '*') return { regex: '.+' };
  if (v.startsWith('*')) return prefix === '' ? { suffix: v.slice(1) } : { regex: `${prefix}.*${v.slice(1)}` };
  if (v.endsWith('*')) return { prefix: prefix + v.slice(0, -1) };
  return { exact: prefix + v };
}

/** matcher.HeaderMatcher and HostMatcher (the latter case-insensitive). */
function headerMatcher(name: string, v: string, ignoreCase = false): HeaderMatch {
  if (v === '*') return { name, present: true };
  if (v.startsWith('*')) return { name, string: { suffix: v.slice(1), ignoreCase } };
  if (v.endsWith('*')) return { name, string: { prefix: v.slice(0, -1), ignoreCase } };
  return { name, string: { exact: v, ignoreCase } };
}

/** util.AddrStrToCidrRange: a single address is /32 (/128), else a prefix. */
function cidr(v: string): Cidr {
  const [addr, len, extra] = v.split('/');
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(addr ?? '') && (addr ?? '').split('.').every((o) => Number(o) <= 255);
  const v6 = !v4 && (addr ?? '').includes(':') && /^[0-9a-fA-F:.]+$/.test(addr ?? '');
  const max = v4 ? 32 : 128;
  if (extra !== undefined || (!v4 && !v6)) throw new GenError(`invalid IP address ${v}`);
  if (len === undefined) return { address: addr!, prefixLen: max };
  if (!/^\d+$/.test(len) || Number(len) > max) throw new GenError(`invalid CIDR ${v}`);
  return { address: addr!, prefixLen: Number(len) };
}

/** util.go convertToPort. */
function port(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new GenError(`invalid port ${v}`);
  return Number(v);
}

function nameInBrackets(s: string): string {
  if (!s.startsWith('[') || !s.endsWith(']')) throw new GenError(`expecting format [<NAME>], but found ${s}`);
  return s.slice(1, -1);
}

const SPIFFE = 'spiffe://';

type Single<T> = (key: string, value: string, forTCP: boolean) => T;
/** The "extended" generators take all values at once (JWT claims and friends, Envoy filter metadata). */
type Extended<T> = (key: string, values: string[], forTCP: boolean) => T;

interface Item<T> {
  key: string;
  values: string[];
  notValues: string[];
  single?: Single<T>;
  extended?: Extended<T>;
}

const destIp: Single<Permission> = (_k, v) => ({ destinationIp: cidr(v) });
const destPort: Single<Permission> = (_k, v) => ({ destinationPort: port(v) });
const connSni: Single<Permission> = (_k, v) => ({ requestedServerName: stringMatcher(v) });
const host: Single<Permission> = (k, v, tcp) => {
  if (tcp) throw httpOnly(k);
  return { header: headerMatcher(':authority', v, true) };
};
const method: Single<Permission> = (k, v, tcp) => {
  if (tcp) throw httpOnly(k);
  return { header: headerMatcher(':method', v) };
};
const path: Single<Permission> = (k, v, tcp) => {
  if (tcp) throw httpOnly(k);
  if (v.includes('{*}') || v.includes('{**}')) return { pathTemplate: v };
  return { urlPath: stringMatcher(v) };
};
const envoyFilter: Extended<Permission> = (k, values) => {
  const parts = k
    .replace(/^experimental\./, '')
    .replace(/\]$/, '')
    .split('[');
  if (parts.length < 2) throw new GenError(`invalid key: ${k}`);
  return { metadata: `${parts[0]}[${parts.slice(1).join('[')}] in ${JSON.stringify(values)}` };
};

const srcIp: Single<Principal> = (_k, v) => ({ directRemoteIp: cidr(v) });
const remoteIp: Single<Principal> = (_k, v) => ({ remoteIp: cidr(v) });
const srcNamespace: Single<Principal> = (_k, v) => ({
  authenticated: { regex: `.*/ns/${v.replace(/\*/g, '.*')}/.*` },
});
const srcPrincipal: Single<Principal> = (_k, v) => ({ authenticated: stringMatcher(v, SPIFFE) });
const requestHeader: Single<Principal> = (k, v, tcp) => {
  if (tcp) throw httpOnly(k);
  return { header: headerMatcher(nameInBrackets(k.slice('request.headers'.length)), v) };
};
/** request.auth.*: matches on the JWT payload the jwt_authn filter leaves; no JWT is ever sent here. */
const jwt: Extended<Principal> = (k, values, tcp) => {
  if (tcp) throw httpOnly(k);
  if (k.startsWith('request.auth.claims')) nameInBrackets(k.slice('request.auth.claims'.length).replace(/\]\[/g, '.'));
  return { metadata: `jwt ${k} in ${JSON.stringify(values)}` };
};

function strings(xs: unknown): string[] {
  return Array.isArray(xs) ? xs.map((x) => String(x)) : [];
}

class RuleList<T> {
  items: Item<T>[] = [];

  copy(): RuleList<T> {
    const r = new RuleList<T>();
    r.items = [...this.items];
    return r;
  }

  insertFront(key: string, values: unknown, notValues: unknown, g: { single?: Single<T>; extended?: Extended<T> }) {
    const it = { key, values: strings(values), notValues: strings(notValues), ...g };
    if (it.values.length > 0 || it.notValues.length > 0) this.items.unshift(it);
  }

  appendLast(key: string, values: unknown, notValues: unknown, g: { single?: Single<T>; extended?: Extended<T> }) {
    const it = { key, values: strings(values), notValues: strings(notValues), ...g };
    if (it.values.length > 0 || it.notValues.length > 0) this.items.push(it);
  }
}

interface Model {
  permissions: RuleList<Permission>[];
  principals: RuleList<Principal>[];
}

/** model.go New: `when` conditions go to every `from` (principal side) or every `to` (permission side). */
function newModel(r: Rule): Model {
  const basePermission = new RuleList<Permission>();
  const basePrincipal = new RuleList<Principal>();
  for (const w of r.when ?? []) {
    const k = w?.key ?? '';
    const [vs, nvs] = [w?.values, w?.notValues];
    if (k === 'destination.ip') basePermission.appendLast(k, vs, nvs, { single: destIp });
    else if (k === 'destination.port') basePermission.appendLast(k, vs, nvs, { single: destPort });
    else if (k === 'connection.sni') basePermission.appendLast(k, vs, nvs, { single: connSni });
    else if (k.startsWith('experimental.envoy.filters.'))
      basePermission.appendLast(k, vs, nvs, { extended: envoyFilter });
    else if (k === 'source.ip') basePrincipal.appendLast(k, vs, nvs, { single: srcIp });
    else if (k === 'remote.ip') basePrincipal.appendLast(k, vs, nvs, { single: remoteIp });
    else if (k === 'source.namespace') basePrincipal.appendLast(k, vs, nvs, { single: srcNamespace });
    else if (k === 'source.principal') basePrincipal.appendLast(k, vs, nvs, { single: srcPrincipal });
    else if (['request.auth.principal', 'request.auth.audiences', 'request.auth.presenter'].includes(k))
      basePrincipal.appendLast(k, vs, nvs, { extended: jwt });
    else if (k.startsWith('request.headers')) basePrincipal.appendLast(k, vs, nvs, { single: requestHeader });
    else if (k.startsWith('request.auth.claims')) basePrincipal.appendLast(k, vs, nvs, { extended: jwt });
    else throw new GenError(`unknown attribute ${k}`);
  }
  const m: Model = { permissions: [], principals: [] };
  for (const f of r.from ?? []) {
    const merged = basePrincipal.copy();
    const s = f?.source;
    if (s) {
      merged.insertFront('source.ip', s.ipBlocks, s.notIpBlocks, { single: srcIp });
      merged.insertFront('remote.ip', s.remoteIpBlocks, s.notRemoteIpBlocks, { single: remoteIp });
      merged.insertFront('source.namespace', s.namespaces, s.notNamespaces, { single: srcNamespace });
      merged.insertFront('request.auth.principal', s.requestPrincipals, s.notRequestPrincipals, { extended: jwt });
      merged.insertFront('source.principal', s.principals, s.notPrincipals, { single: srcPrincipal });
    }
    m.principals.push(merged);
  }
  if ((r.from ?? []).length === 0) m.principals.push(basePrincipal);
  for (const t of r.to ?? []) {
    const merged = basePermission.copy();
    const o = t?.operation;
    if (o) {
      merged.insertFront('destination.port', o.ports, o.notPorts, { single: destPort });
      merged.insertFront('path-matcher', o.paths, o.notPaths, { single: path });
      merged.insertFront(':method', o.methods, o.notMethods, { single: method });
      merged.insertFront(':authority', o.hosts, o.notHosts, { single: host });
    }
    m.permissions.push(merged);
  }
  if ((r.to ?? []).length === 0) m.permissions.push(basePermission);
  return m;
}

/** trustdomain/bundle.go ReplaceTrustDomainAliases, for source.principal values. */
function migrateTrustDomain(principals: string[], trustDomains: string[]): string[] {
  const out: string[] = [];
  for (const p of principals) {
    const parts = p.split('/');
    if (parts.length !== 5 || parts[0] === '*') {
      out.push(p);
      continue;
    }
    const td = parts[0]!;
    const known = trustDomains.some(
      (s) =>
        td === s || s === '*' || prefixMatch(td, s) || prefixMatch(s, td) || suffixMatch(td, s) || suffixMatch(s, td),
    );
    if (!known && td !== 'cluster.local') {
      out.push(p);
      continue;
    }
    const variants: string[] = [];
    for (const t of trustDomains) {
      const next = suffixMatch(t, td) ? p : [t, ...parts.slice(1)].join('/');
      if (!variants.includes(next)) variants.push(next);
    }
    out.push(...variants);
  }
  return out;
}

function prefixMatch(a: string, pattern: string): boolean {
  return pattern.endsWith('*') && a.startsWith(pattern.slice(0, -1));
}

function suffixMatch(a: string, pattern: string): boolean {
  return pattern.startsWith('*') && a.endsWith(pattern.slice(1));
}

/** model.go checkError: an error fails the rule for ALLOW; for DENY and AUDIT the value is dropped. */
function generateItem<T>(
  it: Item<T>,
  forTCP: boolean,
  stage: 'ALLOW' | 'DENY' | 'LOG',
  or: (xs: T[]) => T,
  not: (x: T) => T,
): T[] {
  const one = (f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (stage === 'ALLOW' || !(e instanceof GenError)) throw e;
      return undefined;
    }
  };
  const out: T[] = [];
  if (it.extended) {
    const ext = it.extended;
    if (it.values.length > 0) {
      const p = one(() => ext(it.key, it.values, forTCP));
      if (p !== undefined) out.push(p);
    }
    if (it.notValues.length > 0) {
      const p = one(() => ext(it.key, it.notValues, forTCP));
      if (p !== undefined) out.push(not(p));
    }
    return out;
  }
  const single = it.single!;
  const gen = (vs: string[]) => vs.map((v) => one(() => single(it.key, v, forTCP))).filter((p) => p !== undefined);
  const yes = gen(it.values);
  if (yes.length > 0) out.push(or(yes));
  const no = gen(it.notValues);
  if (no.length > 0) out.push(not(or(no)));
  return out;
}

/** model.go Generate: every `to` an AND of its conditions (any when empty), same for every `from`. */
function generate(m: Model, forTCP: boolean, stage: 'ALLOW' | 'DENY' | 'LOG'): RbacPolicy {
  const permissions = m.permissions.map((rl) => {
    const and = rl.items.flatMap((it) =>
      generateItem<Permission>(
        it,
        forTCP,
        stage,
        (xs) => ({ or: xs }),
        (x) => ({ not: x }),
      ),
    );
    return { and: and.length > 0 ? and : [{ any: true as const }] } as Permission;
  });
  const principals = m.principals.map((rl) => {
    const and = rl.items.flatMap((it) =>
      generateItem<Principal>(
        it,
        forTCP,
        stage,
        (xs) => ({ or: xs }),
        (x) => ({ not: x }),
      ),
    );
    return { and: and.length > 0 ? and : [{ any: true as const }] } as Principal;
  });
  return { permissions, principals };
}

/** builder.go rbacPolicyMatchNever: a policy with no rules. */
const MATCH_NEVER: RbacPolicy = { permissions: [{ not: { any: true } }], principals: [{ not: { any: true } }] };

function policyName(ap: KubeObject, rule: number, custom: boolean): string {
  return `${custom ? `${EXT_AUTHZ_PREFIX}-` : ''}ns[${podNamespace(ap)}]-policy[${ap.metadata.name}]-rule[${rule}]`;
}

interface Built {
  enforce?: Rbac;
  shadow?: Rbac;
}

/** builder.go build: one RBAC (and its shadow) for all policies of one action on one filter chain. */
function build(
  aps: KubeObject[],
  rbacAction: 'ALLOW' | 'DENY' | 'LOG',
  forTCP: boolean,
  custom: boolean,
  trustDomains: string[],
  notes: string[],
): Built {
  const enforce: Rbac = { action: rbacAction, policies: {} };
  const shadow: Rbac = { action: rbacAction, policies: {} };
  let hasEnforce = false;
  let hasShadow = false;
  const chain = forTCP ? 'TCP' : 'HTTP';
  for (const ap of aps) {
    const target = isDryRun(ap, forTCP ? [] : notes) ? shadow : enforce;
    if (target === shadow) hasShadow = true;
    else hasEnforce = true;
    const rules = spec(ap).rules ?? [];
    rules.forEach((rule, i) => {
      const name = policyName(ap, i, custom);
      if (!rule) return void notes.push(`${chain}: skipped nil rule ${name}`);
      let m: Model;
      try {
        m = newModel(rule);
      } catch (e) {
        return void notes.push(`${chain}: skipped invalid rule ${name}: ${(e as Error).message}`);
      }
      for (const rl of m.principals)
        for (const it of rl.items)
          if (it.key === 'source.principal') {
            it.values = migrateTrustDomain(it.values, trustDomains);
            it.notValues = migrateTrustDomain(it.notValues, trustDomains);
          }
      try {
        target.policies[name] = generate(m, forTCP, rbacAction);
      } catch (e) {
        notes.push(`${chain}: skipped rule ${name} on ${chain} filter chain: ${(e as Error).message}`);
      }
    });
    if (rules.length === 0) target.policies[policyName(ap, 0, custom)] = MATCH_NEVER;
  }
  return { ...(hasEnforce ? { enforce } : {}), ...(hasShadow ? { shadow } : {}) };
}

/**
 * extauthz.go getExtAuthz: the providers named by the workload's CUSTOM policies must be one, declared in
 * the mesh config's extensionProviders as envoyExtAuthzHttp/Grpc, with a service that exists.
 */
function providerProblem(aps: KubeObject[], inputs: ConfigInputs): string | undefined {
  const names = aps.map((ap) => spec(ap).provider?.name ?? '');
  if (names.some((n) => n !== names[0]))
    return `only 1 provider can be used per workload, found multiple providers: [${names.join(' ')}]`;
  // processExtensionProvider keeps only the ext_authz kinds.
  const providers = inputs.extensionProviders.filter((p) => p.envoyExtAuthzHttp || p.envoyExtAuthzGrpc);
  const p = providers.find((x) => x.name === names[0]);
  if (!p) return `available providers are [${providers.map((x) => x.name).join(' ')}] but found "${names[0]}"`;
  const cfg = p.envoyExtAuthzHttp ?? p.envoyExtAuthzGrpc ?? {};
  const svc = cfg.service ?? '';
  const hostname = svc.includes('/') ? svc.slice(svc.indexOf('/') + 1) : svc;
  if (!(Number(cfg.port) >= 1 && Number(cfg.port) <= 65535))
    return `found errors in provider ${names[0]}: port must be in the range [1, 65535]`;
  if (!inputs.services.some((s) => serviceFqdn(s) === hostname))
    return `found errors in provider ${names[0]}: could not find service ${svc}`;
  return undefined;
}

function buildFilters(byStage: Record<Stage, KubeObject[]>, forTCP: boolean, inputs: ConfigInputs, notes: string[]) {
  const tds = [inputs.trustDomain, ...inputs.trustDomainAliases];
  const filters: RbacFilter[] = [];
  if (byStage.CUSTOM.length > 0) {
    // CUSTOM is built as DENY "so that a HTTP rule is properly handled when generating for TCP filter chain".
    const built = build(byStage.CUSTOM, 'DENY', forTCP, true, tds, notes);
    const problem = providerProblem(byStage.CUSTOM, inputs);
    if (problem) {
      if (!forTCP)
        notes.push(`failed to process CUSTOM action, will generate deny configs for the specified rules: ${problem}`);
      const rules: Rbac = { action: 'DENY', policies: {} };
      for (const [k, v] of Object.entries(built.enforce?.policies ?? {})) rules.policies[k + BAD_CUSTOM_SUFFIX] = v;
      if (built.enforce) filters.push({ stage: 'CUSTOM', rules });
    } else if (!forTCP) {
      notes.push(
        'CUSTOM: the emulator has no ext_authz server; the provider is declared, so the policy is not applied',
      );
    }
  }
  for (const [stage, rbacAction] of [
    ['AUDIT', 'LOG'],
    ['DENY', 'DENY'],
    ['ALLOW', 'ALLOW'],
  ] as const) {
    if (byStage[stage].length === 0) continue;
    const built = build(byStage[stage], rbacAction, forTCP, false, tds, notes);
    filters.push({
      stage,
      ...(built.enforce ? { rules: built.enforce } : {}),
      ...(built.shadow ? { shadow: built.shadow } : {}),
    });
  }
  return filters;
}

/** The RBAC filters a workload's sidecar gets on its inbound HTTP and TCP filter chains. */
export function workloadAuthz(inputs: ConfigInputs, pod: KubeObject): WorkloadAuthz {
  const ns = podNamespace(pod);
  const lookup = ns === inputs.rootNamespace ? [ns] : [inputs.rootNamespace, ns];
  const byStage: Record<Stage, KubeObject[]> = { CUSTOM: [], AUDIT: [], DENY: [], ALLOW: [] };
  const notes: string[] = [];
  const all = oldestFirst(inputs.authorizationPolicies);
  for (const lookIn of lookup) {
    for (const ap of all) {
      if (podNamespace(ap) !== lookIn) continue;
      if (hasTargetRefs(ap)) {
        notes.push(`${describe(ap)}: targetRef(s) set, ignored for a sidecar`);
        continue;
      }
      if (!selects(ap, pod)) continue;
      const stage = action(ap);
      if (!stage) {
        notes.push(`ignored ${describe(ap)} with unsupported action: ${String(spec(ap).action)}`);
        continue;
      }
      byStage[stage].push(ap);
    }
  }
  const selected = {
    CUSTOM: byStage.CUSTOM.map(describe),
    AUDIT: byStage.AUDIT.map(describe),
    DENY: byStage.DENY.map(describe),
    ALLOW: byStage.ALLOW.map(describe),
  };
  const http = buildFilters(byStage, false, inputs, notes);
  const tcp = buildFilters(byStage, true, inputs, notes);
  return { selected, http, tcp, notes };
}

export interface ShadowResult {
  stage: Stage;
  allowed: boolean;
  policy: string;
}

export interface AuthzDecision {
  allowed: boolean;
  /** The filter that denied, and its effective policy ("none": an ALLOW filter that nothing matched). */
  deniedBy?: { stage: Stage; policy: string };
  /** Policies that allowed (ALLOW filters that matched), for debugging. */
  allowedBy: string[];
  shadow: ShadowResult[];
}

/**
 * The filters in order, each as Envoy's RBAC filter runs: shadow rules first (never enforced), then the
 * enforced rules; the first filter that denies ends the request or connection.
 */
export function authorize(filters: RbacFilter[], a: Attributes): AuthzDecision {
  const shadow: ShadowResult[] = [];
  const allowedBy: string[] = [];
  for (const f of filters) {
    if (f.shadow) shadow.push({ stage: f.stage, ...runEngine(f.shadow, a) });
    if (!f.rules) continue;
    const r = runEngine(f.rules, a);
    if (!r.allowed) return { allowed: false, deniedBy: { stage: f.stage, policy: r.policy }, allowedBy, shadow };
    if (f.stage === 'ALLOW') allowedBy.push(r.policy);
  }
  return { allowed: true, allowedBy, shadow };
}
