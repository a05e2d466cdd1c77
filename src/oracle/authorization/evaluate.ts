// The server sidecar's authorization decision for one request: which AuthorizationPolicies select the
// workload, and the layers Envoy's filters evaluate them in. Sources (Istio 1.24.2):
// - selection: pilot/pkg/model/authorization.go ListAuthorizationPolicies (the root namespace, then the
//   workload's; oldest first), policyattachment.go (a selector must be a subset of the pod's labels; a
//   policy with targetRef(s) is not for sidecars);
// - layers: pilot/pkg/security/authz/builder/builder.go (CUSTOM, then AUDIT, DENY, ALLOW filters; a policy
//   without rules becomes a policy that never matches; `istio.io/dry-run` rules go to shadow rules only);
// - the API reference (security/v1beta1/authorization_policy.proto): "If there are any DENY policies that
//   match the request, deny the request. If there are no ALLOW policies for the workload, allow the request.
//   If any of the ALLOW policies match the request, allow the request. Deny the request."
import type { AuthzRule } from '../../model/authorization-policy.js';
import type { AuthorizationPolicy } from '../../model/istio-objects.js';
import type { AuthorizationDecision, Step } from '../../model/prediction.js';
import type { Workload } from '../../model/topology.js';
import type { MeshConfig } from '../mesh.js';
import type { RequestAttributes } from './request.js';
import { evaluateRule } from './rules.js';

/** A cell the oracle cannot predict: a rule decides it through something meshprobe does not know. */
export class Undecidable extends Error {}

/** The policies that apply to a workload's sidecar, in Istio's order. */
export function selectedPolicies(
  policies: AuthorizationPolicy[],
  workload: Workload,
  mesh: MeshConfig,
): AuthorizationPolicy[] {
  const scopes =
    workload.namespace === mesh.rootNamespace ? [workload.namespace] : [mesh.rootNamespace, workload.namespace];
  return scopes.flatMap((ns) =>
    policies
      .filter((p) => p.namespace === ns && !p.hasTargetRefs && subsetOf(p.selector, workload.labels))
      .sort((a, b) => a.order - b.order),
  );
}

/** labels.Instance.SubsetOf: no selector, or an empty one, selects everything. */
function subsetOf(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return !selector || Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Envoy's name for a rule: what its access log prints as rbac_access_denied_matched_policy. */
export const envoyPolicyName = (p: AuthorizationPolicy, rule: number) =>
  `ns[${p.namespace}]-policy[${p.name}]-rule[${rule}]`;

const describe = (p: AuthorizationPolicy) => `AuthorizationPolicy ${p.namespace}/${p.name}`;

/**
 * MigrateTrustDomain (pilot/pkg/security/trustdomain/bundle.go): a principal whose trust domain is
 * `cluster.local` (or the mesh's) stands for the mesh's trust domain; `*` in that place matches any.
 */
function migrateTrustDomain(rule: AuthzRule, trustDomain: string): AuthzRule {
  const fix = (values: string[] | undefined) =>
    values?.map((v) => {
      const parts = v.split('/');
      return parts.length === 5 && parts[0] !== '*' && (parts[0] === 'cluster.local' || parts[0] === trustDomain)
        ? [trustDomain, ...parts.slice(1)].join('/')
        : v;
    });
  return {
    ...rule,
    from: rule.from?.map((f) =>
      f?.source
        ? { source: { ...f.source, principals: fix(f.source.principals), notPrincipals: fix(f.source.notPrincipals) } }
        : f,
    ),
    when: rule.when?.map((c) =>
      c && c.key === 'source.principal' ? { ...c, values: fix(c.values), notValues: fix(c.notValues) } : c,
    ),
  };
}

interface Evaluated {
  policy: AuthorizationPolicy;
  index: number;
  name: string;
  match: boolean | undefined;
  step: Step;
}

/** Every rule of `policies` against the request, as steps; policies without rules match nothing. */
function evaluatePolicies(policies: AuthorizationPolicy[], req: RequestAttributes, mesh: MeshConfig): Evaluated[] {
  const out: Evaluated[] = [];
  for (const p of policies) {
    const by = (i: number) =>
      `${describe(p)}${p.rules?.length ? ` rule ${i}` : ''}${p.dryRun ? ' (istio.io/dry-run)' : ''}`;
    if (!p.rules?.length) {
      out.push({
        policy: p,
        index: 0,
        name: envoyPolicyName(p, 0),
        match: false,
        step: { by: by(0), says: 'has no rules: it matches nothing' },
      });
      continue;
    }
    for (const [i, rule] of p.rules.entries()) {
      const name = envoyPolicyName(p, i);
      if (!rule) {
        out.push({
          policy: p,
          index: i,
          name,
          match: false,
          step: { by: by(i), says: 'skipped by istiod: a nil rule' },
        });
        continue;
      }
      const r = evaluateRule(migrateTrustDomain(rule, mesh.trustDomain), p.action, req);
      out.push({ policy: p, index: i, name, match: r.match, step: { by: by(i), says: r.text } });
    }
  }
  return out;
}

/** The first rule Envoy reports as matched: its policies are a map sorted by name. */
const firstMatch = (rules: Evaluated[]) =>
  rules.filter((r) => r.match === true).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0];

function undecided(rules: Evaluated[], layer: string): never {
  const unknown = rules.filter((r) => r.match === undefined);
  throw new Undecidable(
    `the ${layer} decision depends on what meshprobe cannot know: ${unknown.map((r) => `${r.step.by} ${r.step.says}`).join('; ')}`,
  );
}

/**
 * The decision of `workload`'s sidecar on `req`. Throws Undecidable when a rule that would decide it
 * cannot be predicted.
 */
export function authorize(
  policies: AuthorizationPolicy[],
  workload: Workload,
  req: RequestAttributes,
  mesh: MeshConfig,
): AuthorizationDecision {
  const selected = selectedPolicies(policies, workload, mesh);
  const wl = `${workload.namespace}/${workload.name}`;
  const filter = req.chain === 'http' ? 'HTTP RBAC filter' : 'network RBAC filter (TCP)';
  if (!selected.length)
    return {
      effect: 'no-policy',
      chain: [{ by: 'server sidecar', says: `no AuthorizationPolicy selects ${wl}` }],
      notes: [],
    };

  const chain: Step[] = [];
  const notes: string[] = [];
  const of = (action: string, dryRun: boolean) => selected.filter((p) => p.action === action && p.dryRun === dryRun);

  const custom = of('CUSTOM', false);
  const providers = [...new Set(custom.map((p) => p.provider ?? ''))];
  const badCustom = custom.length > 0 && (providers.length > 1 || !mesh.extensionProviders.includes(providers[0]!));
  if (custom.length && !badCustom)
    for (const p of custom)
      notes.push(
        `${describe(p)} is CUSTOM (provider ${p.provider}): what its external authorizer answers is out of meshprobe's scope, so the prediction assumes it allows`,
      );
  const names = (ps: AuthorizationPolicy[]) => ps.map((p) => `${p.namespace}/${p.name}`).join(', ');
  const layer = (action: string, dryRun: boolean, meaning: string) => {
    const ps = of(action, dryRun);
    if (ps.length)
      chain.push({ by: `${action} policies${dryRun ? ' (istio.io/dry-run)' : ''}`, says: `${names(ps)}: ${meaning}` });
    return ps;
  };

  const audit = evaluatePolicies(of('AUDIT', false), req, mesh).filter((x) => x.match === true);
  if (audit.length) {
    layer('AUDIT', false, 'a request matching their rules is marked for audit; they allow and deny nothing');
    chain.push(...audit.map((r) => r.step));
  }

  const shadow = (action: string) => {
    if (layer(action, true, 'shadow rules only: Envoy logs what they would do, with no effect on traffic').length)
      chain.push(...evaluatePolicies(of(action, true), req, mesh).map((r) => r.step));
  };

  if (badCustom) {
    // extauthz.go getExtAuthz fails (provider not declared, or several on one workload): builder.go
    // buildHTTP/buildTCP turn the CUSTOM rules into DENY rules, `...-deny-due-to-bad-CUSTOM-action`.
    const why =
      providers.length > 1
        ? `only one provider can be used per workload, found ${providers.join(', ')}`
        : `provider ${providers[0] || '(none)'} is not among the mesh config's ext_authz extensionProviders (${mesh.extensionProviders.join(', ') || 'none'})`;
    chain.push({ by: 'CUSTOM policies', says: `${names(custom)}: ${why}, so istiod denies what their rules match` });
    const bad = evaluatePolicies(custom, req, mesh);
    chain.push(...bad.map((r) => r.step));
    const hit = firstMatch(bad);
    if (hit) {
      chain.push({ by: `server sidecar (${filter})`, says: `denied by ${hit.step.by} (CUSTOM with a bad provider)` });
      return {
        effect: 'denied',
        matchedPolicy: `istio-ext-authz-${hit.name}-deny-due-to-bad-CUSTOM-action`,
        decidedBy: hit.step.by,
        chain,
        notes,
      };
    }
    if (bad.some((r) => r.match === undefined)) undecided(bad, 'CUSTOM');
  } else if (custom.length) {
    chain.push({
      by: 'CUSTOM policies',
      says: `${names(custom)}: sent to the ext_authz provider ${providers[0]}, not predicted (assumed to allow)`,
    });
  }

  shadow('DENY');
  layer('DENY', false, 'a request matching one of their rules is denied');
  const deny = evaluatePolicies(of('DENY', false), req, mesh);
  chain.push(...deny.map((r) => r.step));
  const denied = firstMatch(deny);
  if (denied) {
    chain.push({ by: `server sidecar (${filter})`, says: `denied by ${denied.step.by} (DENY)` });
    return { effect: 'denied', matchedPolicy: denied.name, decidedBy: denied.step.by, chain, notes };
  }
  if (deny.some((r) => r.match === undefined)) undecided(deny, 'DENY');

  shadow('ALLOW');
  const allowPolicies = of('ALLOW', false);
  if (!allowPolicies.length) {
    chain.push({ by: `server sidecar (${filter})`, says: `no ALLOW policy selects ${wl}: allowed` });
    return { effect: 'allowed', chain, notes };
  }
  layer('ALLOW', false, 'a request must match one of their rules, or it is denied');
  const allow = evaluatePolicies(allowPolicies, req, mesh);
  chain.push(...allow.map((r) => r.step));
  const allowed = firstMatch(allow);
  if (allowed) {
    chain.push({ by: `server sidecar (${filter})`, says: `allowed by ${allowed.step.by} (ALLOW)` });
    return { effect: 'allowed', matchedPolicy: allowed.name, decidedBy: allowed.step.by, chain, notes };
  }
  if (allow.some((r) => r.match === undefined)) undecided(allow, 'ALLOW');
  chain.push({
    by: `server sidecar (${filter})`,
    says: `no ALLOW rule matched: denied (Envoy logs matched policy none)`,
  });
  return { effect: 'denied', matchedPolicy: 'none', chain, notes };
}
