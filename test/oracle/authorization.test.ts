// The oracle's AuthorizationPolicy rules, one by one. Each case names the reference sentence or the
// Istio code or test it follows: the API reference (istio/api security/v1beta1/authorization_policy.proto
// at 1.24.2, "proto"), the concepts page (istio.io docs/concepts/security, "concepts"), the tasks, Istio's
// builder and model (pilot/pkg/security/authz at 1.24.2), its integration tests
// (tests/integration/security/authz_test.go) and ISTIO-SECURITY-2021-004.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { fromObject, type AuthorizationPolicy } from '../../src/model/istio-objects.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import type { Workload } from '../../src/model/topology.js';
import { authorize, Undecidable } from '../../src/oracle/authorization/evaluate.js';
import { normalizePath, type RequestAttributes } from '../../src/oracle/authorization/request.js';
import { installDefaults, meshConfig, overlay, type MeshConfig } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';
import { miniTopology, pa, policies, type MiniOptions } from '../helpers/mini-topology.js';

const mesh = meshConfig('modern');
const httpbin: Workload = {
  namespace: 'test1',
  name: 'httpbin',
  labels: { app: 'httpbin', version: 'v1' },
  serviceAccount: 'httpbin',
  sidecar: true,
};
const SLEEP = 'cluster.local/ns/test1/sa/sleep';

/** A request to test1/httpbin over mutual TLS from test1/sleep, GET /headers on container port 8080. */
function req(o: Partial<RequestAttributes> = {}): RequestAttributes {
  return {
    principal: SLEEP,
    chain: 'http',
    port: 8080,
    method: 'GET',
    path: '/headers',
    host: 'httpbin.test1:8000',
    ...o,
  };
}
const plaintext = (o: Partial<RequestAttributes> = {}) => req({ principal: undefined, ...o });

let order = 0;
function ap(
  spec: Record<string, unknown> | null,
  o: { name?: string; namespace?: string; annotations?: Record<string, string> } = {},
): AuthorizationPolicy {
  const raw: KubeObject = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name: o.name ?? `p${order}`,
      namespace: o.namespace ?? 'test1',
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec,
  };
  return fromObject(raw, order++) as AuthorizationPolicy;
}

const effect = (ps: AuthorizationPolicy[], r: RequestAttributes = req(), m: MeshConfig = mesh) =>
  authorize(ps, httpbin, r, m).effect;
const from = (source: Record<string, unknown>) => ({ rules: [{ from: [{ source }] }] });
const to = (operation: Record<string, unknown>) => ({ rules: [{ to: [{ operation }] }] });
const deny = (spec: Record<string, unknown>) => ({ action: 'DENY', ...spec });
const when = (key: string, c: { values?: string[]; notValues?: string[] }) => ({ rules: [{ when: [{ key, ...c }] }] });

describe('evaluation order and defaults', () => {
  // concepts: "For workloads without authorization policies applied, Istio allows all requests."
  it('no policy: allowed, and said so', () => {
    const d = authorize([], httpbin, req(), mesh);
    expect(d.effect).toBe('no-policy');
    expect(d.chain).toEqual([{ by: 'server sidecar', says: 'no AuthorizationPolicy selects test1/httpbin' }]);
  });

  // proto: "3. If there are no ALLOW policies for the workload, allow the request."
  it('only DENY policies, none matching: allowed', () => {
    const d = authorize([ap(deny(to({ methods: ['POST'] })))], httpbin, req(), mesh);
    expect(d.effect).toBe('allowed');
    expect(d.matchedPolicy).toBeUndefined();
  });

  // proto: "4. If any of the ALLOW policies match the request, allow the request. 5. Deny the request."
  it('any ALLOW policy: default deny, Envoy logging matched policy none', () => {
    const d = authorize([ap(to({ methods: ['POST'] }), { name: 'post-only' })], httpbin, req(), mesh);
    expect(d).toMatchObject({ effect: 'denied', matchedPolicy: 'none' });
    expect(d.chain.at(-1)!.says).toBe('no ALLOW rule matched: denied (Envoy logs matched policy none)');
    expect(effect([ap(to({ methods: ['GET'] }), { name: 'get' })])).toBe('allowed');
  });

  // proto: "2. If there are any DENY policies that match the request, deny the request." (before ALLOW);
  // concepts: "Istio evaluates deny policies first to ensure that an allow policy can't bypass a deny policy."
  it('DENY wins over an ALLOW that matches too, and names its rule as Envoy does', () => {
    const d = authorize(
      [ap({ rules: [{}] }, { name: 'allow-all' }), ap(deny(to({ paths: ['/headers'] })), { name: 'deny-headers' })],
      httpbin,
      req(),
      mesh,
    );
    expect(d).toMatchObject({
      effect: 'denied',
      matchedPolicy: 'ns[test1]-policy[deny-headers]-rule[0]',
      decidedBy: 'AuthorizationPolicy test1/deny-headers rule 0',
    });
  });

  // concepts "allow-nothing": an ALLOW policy without rules "will never match"; proto: "If not set, the
  // match will never occur. This is equivalent to setting a default of deny for the target workloads if the
  // action is ALLOW." Policies apply additively: another ALLOW still allows.
  it('spec: {} denies everything alone, and adds nothing beside an ALLOW that matches', () => {
    expect(effect([ap({})])).toBe('denied');
    expect(effect([ap(null)])).toBe('denied');
    expect(effect([ap({}), ap(to({ paths: ['/headers'] }))])).toBe('allowed');
  });

  // concepts "deny-all": "It will always deny the request even if there is another ALLOW policy allowing
  // the request because the DENY policy takes precedence over the ALLOW policy."
  it('a DENY with one empty rule denies everything, whatever the ALLOW policies', () => {
    expect(effect([ap({ rules: [{}] }), ap({ action: 'DENY', rules: [{}] })])).toBe('denied');
    expect(effect([ap({ action: 'DENY', rules: [{}] })], plaintext())).toBe('denied');
  });

  // builder.go build: a policy without rules gets rbacPolicyMatchNever, whatever its action.
  it('a DENY policy without rules matches nothing (the webhook refuses it; a cluster may still hold one)', () => {
    expect(effect([ap({ action: 'DENY' })])).toBe('allowed');
  });

  // proto: "AUDIT policies do not affect whether requests are allowed or denied to the workload."
  it('AUDIT decides nothing, and shows when it matched', () => {
    const d = authorize([ap({ action: 'AUDIT', rules: [{}] }, { name: 'audit' })], httpbin, req(), mesh);
    expect(d.effect).toBe('allowed');
    expect(d.chain.some((s) => s.by === 'AuthorizationPolicy test1/audit rule 0')).toBe(true);
  });

  // builder.go isDryRun: an istio.io/dry-run policy goes to shadow rules only; the enforced rules are empty.
  it('istio.io/dry-run: no effect on traffic, and explain shows what it would do', () => {
    const dryDeny = ap(deny({ rules: [{}] }), { name: 'dry', annotations: { 'istio.io/dry-run': 'true' } });
    const d = authorize([dryDeny], httpbin, req(), mesh);
    expect(d.effect).toBe('allowed');
    expect(d.chain.map((s) => s.by)).toContain('AuthorizationPolicy test1/dry rule 0 (istio.io/dry-run)');
    // A dry-run ALLOW does not turn on default deny either ...
    expect(effect([ap(to({ methods: ['POST'] }), { annotations: { 'istio.io/dry-run': 'true' } })])).toBe('allowed');
    // ... and a value strconv.ParseBool refuses leaves the policy enforced.
    expect(effect([ap(deny({ rules: [{}] }), { annotations: { 'istio.io/dry-run': 'yes' } })])).toBe('denied');
  });
});

describe('CUSTOM', () => {
  const custom = (provider: string, name = 'ext') =>
    ap({ action: 'CUSTOM', provider: { name: provider }, ...to({ paths: ['/headers'] }) }, { name });

  // builder.go buildHTTP: "failed to process CUSTOM action, will generate deny configs for the specified
  // rules" when getExtAuthz finds no such provider in the mesh config (a default install declares none).
  it('an undeclared provider: istiod denies what the rules match', () => {
    const d = authorize([custom('my-ext')], httpbin, req(), mesh);
    expect(d).toMatchObject({
      effect: 'denied',
      matchedPolicy: 'istio-ext-authz-ns[test1]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action',
    });
    expect(effect([custom('my-ext')], req({ path: '/ip' }))).toBe('allowed');
  });

  // extauthz.go getExtAuthz: "only 1 provider can be used per workload".
  it('two providers on one workload: the same deny', () => {
    const m = { ...mesh, extensionProviders: ['a', 'b'] };
    expect(effect([custom('a', 'x'), custom('b', 'y')], req(), m)).toBe('denied');
  });

  // proto: "The extension is evaluated independently and before the native ALLOW and DENY actions";
  // its answer is the external server's, which meshprobe does not predict.
  it('a declared provider: out of scope, assumed to allow, and said so', () => {
    const d = authorize([custom('my-ext')], httpbin, req(), { ...mesh, extensionProviders: ['my-ext'] });
    expect(d.effect).toBe('allowed');
    expect(d.notes).toEqual([
      "AuthorizationPolicy test1/ext is CUSTOM (provider my-ext): what its external authorizer answers is out of meshprobe's scope, so the prediction assumes it allows",
    ]);
  });
});

describe('scope', () => {
  // policyattachment.go isSelected: "selector == nil || labels.Instance(selector.GetMatchLabels()).SubsetOf(...)".
  it('a selector must be a subset of the pod labels; no selector and an empty one select all', () => {
    expect(effect([ap({ selector: { matchLabels: { app: 'httpbin' } } })])).toBe('denied');
    expect(effect([ap({ selector: { matchLabels: { app: 'httpbin', version: 'v2' } } })])).toBe('no-policy');
    expect(effect([ap({ selector: { matchLabels: {} } })])).toBe('denied');
  });

  // proto: "If the authorization policy is in the root namespace, the selector will additionally match with
  // workloads in all namespaces"; concepts: "If set to root namespace, the policy applies to all namespaces".
  it('the root namespace applies everywhere, selector included; another namespace does not apply', () => {
    expect(effect([ap({}, { namespace: 'istio-system' })])).toBe('denied');
    expect(effect([ap({ selector: { matchLabels: { app: 'httpbin' } } }, { namespace: 'istio-system' })])).toBe(
      'denied',
    );
    expect(effect([ap({}, { namespace: 'test2' })])).toBe('no-policy');
    expect(effect([ap({}, { namespace: 'istio-system' })], req(), { ...mesh, rootNamespace: 'istio-config' })).toBe(
      'no-policy',
    );
  });

  // policyattachment.go ShouldAttachPolicy: "if targetRef is specified, ignore the policy altogether" (not a gateway).
  it('a policy with targetRefs is not for sidecars', () => {
    const gateway = { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }] };
    expect(effect([ap(gateway)])).toBe('no-policy');
  });
});

describe('from: sources', () => {
  // proto Rule: "Any string field in the rule supports Exact, Prefix, Suffix and Presence match";
  // matcher/string.go StringMatcherWithPrefix puts `spiffe://` in front, except for `*`.
  it('principals: exact, prefix, suffix and presence', () => {
    expect(effect([ap(from({ principals: [SLEEP] }))])).toBe('allowed');
    expect(effect([ap(from({ principals: ['cluster.local/ns/test1/sa/sleep-other'] }))])).toBe('denied');
    expect(effect([ap(from({ principals: ['cluster.local/ns/test1/*'] }))])).toBe('allowed');
    expect(effect([ap(from({ principals: ['*/sa/sleep'] }))])).toBe('allowed');
    expect(
      effect([ap(from({ principals: ['*/sa/sleep'] }))], req({ principal: 'cluster.local/ns/test1/sa/sleep-other' })),
    ).toBe('denied');
    expect(effect([ap(from({ principals: ['*'] }))])).toBe('allowed');
  });

  // trustdomain/bundle.go ReplaceTrustDomainAliases: `cluster.local` "is a pointer to the local trust domain".
  it('cluster.local in a principal stands for the mesh trust domain', () => {
    const td = { ...mesh, trustDomain: 'example.org' };
    expect(effect([ap(from({ principals: [SLEEP] }))], req({ principal: 'example.org/ns/test1/sa/sleep' }), td)).toBe(
      'allowed',
    );
  });

  // ISTIO-SECURITY-2021-004: "These mTLS-only fields will never match when the traffic is plain text";
  // "A plain text request from the namespace foo will actually be allowed" by notNamespaces: ["foo"].
  it('plaintext: principals and namespaces never match, their not- forms always do', () => {
    const d = authorize([ap(from({ principals: [SLEEP] }), { name: 'allow-principals' })], httpbin, plaintext(), mesh);
    expect(d.effect).toBe('denied');
    expect(d.chain).toContainEqual({
      by: 'AuthorizationPolicy test1/allow-principals rule 0',
      says: 'source.principals [cluster.local/ns/test1/sa/sleep] did not match: plaintext has no principal (only mutual TLS carries one)',
    });
    expect(effect([ap(from({ namespaces: ['test1'] }))], plaintext())).toBe('denied');
    expect(effect([ap(from({ notNamespaces: ['test1'] }))], plaintext())).toBe('allowed');
    expect(effect([ap(from({ notPrincipals: [SLEEP] }))], plaintext())).toBe('allowed');
    // The advisory's fix: `namespaces: ["*"]` (non-empty) only lets mutual TLS in.
    expect(effect([ap(from({ notNamespaces: ['foo'], namespaces: ['*'] }))], plaintext())).toBe('denied');
    // and its DENY example lets plaintext from anywhere through.
    expect(effect([ap(deny(from({ namespaces: ['test1'] })))], plaintext())).toBe('allowed');
  });

  // generator.go srcNamespaceGenerator: regex `.*/ns/NS/.*` on the peer principal, `*` as `.*`.
  it('namespaces come from the peer principal, with * patterns', () => {
    expect(effect([ap(from({ namespaces: ['test1'] }))])).toBe('allowed');
    expect(effect([ap(from({ namespaces: ['test2'] }))])).toBe('denied');
    expect(effect([ap(from({ namespaces: ['test*'] }))])).toBe('allowed');
    expect(effect([ap(from({ notNamespaces: ['test1'] }))])).toBe('denied');
  });

  // proto Source.request_principals: "derived from the JWT"; meshprobe sends none.
  it('requestPrincipals never match (no JWT is sent), notRequestPrincipals always do', () => {
    expect(effect([ap(from({ requestPrincipals: ['*'] }))])).toBe('denied');
    expect(effect([ap(deny(from({ notRequestPrincipals: ['*'] })))])).toBe('denied');
    expect(effect([ap(when('request.auth.claims[iss]', { values: ['https://accounts.google.com'] }))])).toBe('denied');
  });

  // The source IP is the client pod's, which meshprobe does not know: only what decides regardless.
  it('ipBlocks: refused when they would decide, ignored when another field already does', () => {
    expect(() => effect([ap(from({ ipBlocks: ['10.0.0.0/8'] }))])).toThrow(Undecidable);
    expect(() => effect([ap(from({ ipBlocks: ['10.0.0.0/8'] }))])).toThrow(
      /source\.ipBlocks \[10\.0\.0\.0\/8\] cannot be predicted: it depends on a pod's IP address/,
    );
    expect(effect([ap(from({ ipBlocks: ['10.0.0.0/8'], principals: ['cluster.local/ns/x/sa/y'] }))])).toBe('denied');
    expect(effect([ap({ rules: [{}] }), ap(deny(from({ ipBlocks: ['10.0.0.0/8'], namespaces: ['x'] })))])).toBe(
      'allowed',
    );
  });

  // proto Rule: "A match occurs when at least one source, one operation and all conditions matches".
  it('sources are ORed, their fields ANDed', () => {
    expect(
      effect([ap({ rules: [{ from: [{ source: { namespaces: ['x'] } }, { source: { principals: [SLEEP] } }] }] })]),
    ).toBe('allowed');
    expect(effect([ap(from({ namespaces: ['test1'], principals: ['cluster.local/ns/test1/sa/other'] }))])).toBe(
      'denied',
    );
  });
});

describe('to: operations', () => {
  // proto Operation.hosts: "The match is case-insensitive"; matcher/header.go HostMatcher (ignore case).
  // The Host header curl sends carries the service port, as in the probe URL.
  it('hosts: case-insensitive, against the Host header as sent', () => {
    expect(effect([ap(to({ hosts: ['HTTPBIN.test1:8000'] }))])).toBe('allowed');
    expect(effect([ap(to({ hosts: ['httpbin.test1*'] }))])).toBe('allowed');
    expect(effect([ap(to({ hosts: ['httpbin.test1.svc.cluster.local'] }))])).toBe('denied');
    expect(effect([ap(to({ notHosts: ['*.test2:8000'] }))])).toBe('allowed');
  });

  // proto Operation.ports: "A list of ports as specified in the connection": the container port Envoy's
  // inbound listener sees (8080), not the service port (8000).
  it('ports are container ports', () => {
    expect(effect([ap(to({ ports: ['8080'] }))])).toBe('allowed');
    expect(effect([ap(to({ ports: ['8000'] }))])).toBe('denied');
    expect(effect([ap(deny(to({ notPorts: ['8080'] })))])).toBe('allowed');
    expect(effect([ap(when('destination.port', { values: ['8080'] }))])).toBe('allowed');
  });

  // tasks/security/authorization/authz-deny: deny-method-get denies GET, POST is allowed;
  // authz_test.go TestAuthz_NotMethod.
  it('methods and notMethods', () => {
    expect(effect([ap(deny(to({ methods: ['GET'] })))])).toBe('denied');
    expect(effect([ap(deny(to({ methods: ['GET'] })))], req({ method: 'POST' }))).toBe('allowed');
    expect(effect([ap(to({ notMethods: ['GET'] }))])).toBe('denied');
    expect(effect([ap(to({ methods: ['P*'] }))], req({ method: 'POST' }))).toBe('allowed');
  });

  // concepts "Value matching": "/test/*" prefix, "*/info" suffix.
  it('paths: exact, prefix, suffix; notPaths', () => {
    expect(effect([ap(to({ paths: ['/headers'] }))])).toBe('allowed');
    expect(effect([ap(to({ paths: ['/head*'] }))])).toBe('allowed');
    expect(effect([ap(to({ paths: ['*ers'] }))])).toBe('allowed');
    expect(effect([ap(to({ paths: ['/headers/'] }))])).toBe('denied');
    expect(effect([ap(to({ notPaths: ['/headers'] }))])).toBe('denied');
  });

  // proto Operation.paths: "`/foo/{*}` matches `/foo/bar` but not `/foo/bar/baz`"; "`/foo/{**}/` matches
  // `/foo/bar/`, `/foo/bar/baz.txt`, and `/foo//` but not `/foo/bar`"; authz_test.go TestAuthz_PathTemplating.
  it('path templates {*} and {**}', () => {
    const allow = (template: string, path: string) => effect([ap(to({ paths: [template] }))], req({ path }));
    expect(allow('/foo/{*}', '/foo/bar')).toBe('allowed');
    expect(allow('/foo/{*}', '/foo/bar/baz')).toBe('denied');
    expect(allow('/foo/{**}/', '/foo/bar/')).toBe('allowed');
    expect(allow('/foo/{**}/', '/foo//')).toBe('allowed');
    expect(allow('/foo/{**}/', '/foo/bar')).toBe('denied');
    expect(allow('/foo/{*}/bar/{**}', '/foo/buzz/bar/baz')).toBe('allowed');
  });

  // istio.io docs/reference/config/security/normalization: the default (BASE) removes dot segments and
  // decodes percent-encoded unreserved characters before RBAC matches the path; curl removes dot segments too.
  it('paths are matched as normalized', () => {
    expect(normalizePath('/a/./b/../headers')).toBe('/a/headers');
    expect(normalizePath('/%68eaders')).toBe('/headers');
    expect(normalizePath('/a%2Fb')).toBe('/a%2Fb');
    expect(normalizePath('/a//b')).toBe('/a//b');
    expect(normalizePath('/')).toBe('/');
  });
});

describe('when: conditions', () => {
  // tasks/security/authorization/authz-deny: `request.headers[x-token]` notValues ["admin"] denies a GET
  // that carries no such header (and so every GET of a probe, which sends none).
  it('headers a probe never sends are absent: values never match, notValues always do', () => {
    const p = ap(
      deny({
        rules: [
          {
            to: [{ operation: { methods: ['GET'] } }],
            when: [{ key: 'request.headers[x-token]', notValues: ['admin'] }],
          },
        ],
      }),
    );
    expect(effect([p])).toBe('denied');
    expect(effect([p], req({ method: 'POST' }))).toBe('allowed');
    expect(effect([ap(when('request.headers[x-token]', { values: ['admin'] }))])).toBe('denied');
    // What curl or the sidecars may set cannot be predicted.
    expect(() => effect([ap(when('request.headers[user-agent]', { values: ['curl/*'] }))])).toThrow(Undecidable);
  });

  // model.go New: "unknown attribute" fails the rule; builder.go: "skipped invalid rule" — for DENY too.
  it('an unknown key skips the whole rule, whatever the action', () => {
    expect(effect([ap(deny({ rules: [{ when: [{ key: 'destination.namespace', values: ['test1'] }] }] }))])).toBe(
      'allowed',
    );
    const d = authorize(
      [ap({ rules: [{ when: [{ key: 'source.name', values: ['x'] }] }] }, { name: 'u' })],
      httpbin,
      req(),
      mesh,
    );
    expect(d.effect).toBe('denied');
    expect(d.chain).toContainEqual({
      by: 'AuthorizationPolicy test1/u rule 0',
      says: 'skipped by istiod: unknown attribute source.name in when',
    });
  });

  it('source.principal and source.namespace need mutual TLS like their source fields', () => {
    expect(effect([ap(when('source.principal', { values: [SLEEP] }))])).toBe('allowed');
    expect(effect([ap(when('source.namespace', { values: ['test1'] }))], plaintext())).toBe('denied');
    expect(effect([ap(when('source.namespace', { notValues: ['test1'] }))], plaintext())).toBe('allowed');
  });
});

describe('TCP filter chain', () => {
  const tcp = (o: Partial<RequestAttributes> = {}) => req({ chain: 'tcp', ...o });

  // model.go checkError: for ALLOW, an HTTP-only field "will make all rules in the current permission
  // ignored, effectively result in a smaller allow policy"; concepts: "Istio will ignore HTTP-only fields".
  it('an ALLOW rule with an HTTP-only field is dropped, so it allows nothing', () => {
    const d = authorize([ap(to({ methods: ['GET'] }), { name: 'get' })], httpbin, tcp(), mesh);
    expect(d.effect).toBe('denied');
    expect(d.chain).toContainEqual({
      by: 'AuthorizationPolicy test1/get rule 0',
      says: 'ALLOW rule dropped by istiod on the TCP filter chain: operation.methods is HTTP only',
    });
    expect(effect([ap(from({ principals: [SLEEP] }))], tcp())).toBe('allowed');
  });

  // proto: "For a DENY rule, missing attributes are treated as matches. This means all TCP traffic on port
  // 8080 would be denied in the example above. If we were to remove the ports match, all TCP traffic would
  // be denied."
  it('a DENY rule loses its HTTP-only fields and so matches more', () => {
    expect(effect([ap(deny(to({ methods: ['POST'], ports: ['8080'] })))], tcp())).toBe('denied');
    expect(effect([ap(deny(to({ methods: ['POST'], ports: ['9999'] })))], tcp())).toBe('allowed');
    expect(effect([ap(deny(to({ methods: ['POST'] })))], tcp())).toBe('denied');
    expect(effect([ap(deny(from({ requestPrincipals: ['*'] })))], tcp())).toBe('denied');
    // On HTTP the same rule is exact.
    expect(effect([ap(deny(to({ methods: ['POST'] })))])).toBe('allowed');
  });
});

describe('through the whole oracle: mutual TLS first, then authorization', () => {
  /** The mini topology's c/sleep -> s/app on ports 8000 and 9080 (both container port 8080). */
  function outcomes(opts: MiniOptions, ...objects: KubeObject[]) {
    const topology = miniTopology(opts);
    const m = meshConfig('modern');
    return predict(topology, overlay(topology, installDefaults(m), policies(...objects), m), m).values();
  }
  const policy = (spec: Record<string, unknown>, name = 'p'): KubeObject => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 's' },
    spec,
  });
  const both: MiniOptions = { clientSidecar: true, serverSidecar: true };
  const plainClient: MiniOptions = { clientSidecar: false, serverSidecar: true };

  // ISTIO-SECURITY-2021-004: under PERMISSIVE "the request might be allowed unexpectedly" by paths-only
  // rules, and principals rules "will never match" plaintext.
  it('PERMISSIVE: plaintext is denied by a principals rule, allowed by a paths-only rule', () => {
    const principals = policy(from({ principals: ['*'] }));
    expect(outcomes(plainClient, principals).map((p) => p.outcome)).toEqual(['denied', 'denied']);
    expect(outcomes(both, principals).map((p) => p.outcome)).toEqual(['mtls', 'mtls']);
    expect(outcomes(plainClient, policy(to({ paths: ['/'] }))).map((p) => p.outcome)).toEqual([
      'plaintext',
      'plaintext',
    ]);
  });

  // ISTIO-SECURITY-2021-004 solution: enable STRICT; a STRICT sidecar resets plaintext, so authorization
  // never sees it: `reset`, not `denied`.
  it('STRICT resets plaintext before authorization', () => {
    const [cell] = outcomes(plainClient, pa('s', 'default', { mtls: { mode: 'STRICT' } }), policy({}));
    expect(cell!.outcome).toBe('reset');
    expect(cell!.reason.authorization).toMatchObject({ effect: 'not-reached' });
  });

  // concepts "Authorization architecture": the server-side Envoy proxy enforces access control.
  it('a server without sidecar: no effect', () => {
    const [cell] = outcomes({ clientSidecar: true, serverSidecar: false }, policy({}));
    expect(cell!.outcome).toBe('plaintext');
    expect(cell!.reason.authorization).toMatchObject({ effect: 'no-sidecar' });
  });

  // Envoy rbac_filter.cc: sendLocalReply(Forbidden, "RBAC: access denied"); the network RBAC filter closes
  // the connection (tasks/security/authorization/authz-tcp: "connection rejected").
  it('a deny is 403 on an HTTP port, a closed connection on TCP, a failed handshake on TLS', () => {
    expect(outcomes(both, policy({})).map((p) => p.outcome)).toEqual(['denied', 'denied']);
    expect(outcomes({ ...both, portName: 'tcp' }, policy({})).map((p) => p.outcome)).toEqual(['reset', 'reset']);
    expect(outcomes({ ...both, portName: 'tcp' }, policy({}))[0]!.reason.why).toContain('(curl exit 52)');
    expect(outcomes({ ...both, portName: 'https' }, policy({})).map((p) => p.outcome)).toEqual([
      'tls-error',
      'tls-error',
    ]);
    expect(outcomes({ ...both, portName: 'tcp' }, policy(to({ methods: ['GET'] }))).map((p) => p.outcome)).toEqual([
      'reset',
      'reset',
    ]);
  });

  it('names what decided in the one-line summary', () => {
    const [cell] = outcomes(plainClient, policy(from({ principals: ['*'] }), 'allow-principals'));
    expect(cell!.reason.summary).toBe(
      'client (no sidecar) sends plaintext; server sidecar is PERMISSIVE: PERMISSIVE accepts plaintext; no ALLOW rule matches: denied',
    );
  });

  it('a cell an unknown field would decide is refused, naming the cell', () => {
    expect(() => outcomes(both, policy(from({ ipBlocks: ['10.0.0.0/8'] })))).toThrow(ConfigError);
    expect(() => outcomes(both, policy(from({ ipBlocks: ['10.0.0.0/8'] })))).toThrow(
      /^cannot predict c\/sleep -> s\/app:8000: /,
    );
  });

  // Istio 1.4.10 served security.istio.io/v1beta1 AuthorizationPolicy ALLOW-only (crd-14.yaml) and the
  // rbac.istio.io kinds; meshprobe predicts neither and says what 1.4 had.
  it('the legacy flavor refuses AuthorizationPolicy, saying what Istio 1.4 had', () => {
    const topology = miniTopology(both);
    const legacy = meshConfig('legacy');
    expect(() => predict(topology, policies(policy({})), legacy)).toThrow(
      /^AuthorizationPolicy s\/p: meshprobe predicts AuthorizationPolicy for Istio >= 1\.5 only\. Istio 1\.4 served security\.istio\.io\/v1beta1 AuthorizationPolicy with ALLOW rules only \(no action, no not- fields\) and, for workloads no such policy selects, rbac\.istio\.io\/v1alpha1 ClusterRbacConfig, ServiceRole and ServiceRoleBinding/,
    );
  });
});
