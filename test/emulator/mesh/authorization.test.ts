// The emulated sidecar's reading of AuthorizationPolicy, checked on the RBAC filters it builds and how
// they decide, without traffic (authorization-policy.test.ts replays the same rules through curl). Each
// case names the Istio source it follows: istio/istio 1.24.2 pilot/pkg/security/authz/builder testdata,
// tests/integration/security/authz_test.go, the API reference (istio/api security/v1beta1
// authorization_policy.proto) or an istio.io task.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contracts.js';
import { authorize, workloadAuthz, type RbacFilter } from './policy/authorization.js';
import type { Attributes } from './policy/rbac.js';
import type { ConfigInputs } from './policy/types.js';
import { normalizePath } from './authz.js';

let t = Date.parse('2026-01-01T00:00:00Z');
function ap(ns: string, name: string, spec: unknown, annotations?: Record<string, string>): KubeObject {
  t += 1000;
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name,
      namespace: ns,
      creationTimestamp: new Date(t).toISOString(),
      ...(annotations ? { annotations } : {}),
    },
    spec,
  } as KubeObject;
}

const httpbin = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'httpbin-0', namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } },
  spec: { serviceAccountName: 'httpbin', containers: [{ name: 'httpbin' }, { name: 'istio-proxy' }] },
  status: { podIP: '10.244.0.9' },
} as KubeObject;

function inputs(aps: KubeObject[], over: Partial<ConfigInputs> = {}): ConfigInputs {
  return {
    flavor: 'modern',
    autoMtls: true,
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    pods: [httpbin],
    services: [],
    peerAuthentications: [],
    destinationRules: [],
    meshPolicies: [],
    policies: [],
    authorizationPolicies: aps,
    trustDomainAliases: [],
    extensionProviders: [],
    ...over,
  };
}

/** A request as the server sidecar sees it; `from` is a client identity (mTLS) or undefined (plaintext). */
function req(
  o: {
    from?: string;
    method?: string;
    path?: string;
    host?: string;
    port?: number;
    ip?: string;
    headers?: Record<string, string>;
  } = {},
): Attributes {
  const headers = new Map<string, string>(Object.entries(o.headers ?? {}));
  headers.set(':method', o.method ?? 'GET');
  headers.set(':path', o.path ?? '/get');
  headers.set(':authority', o.host ?? 'httpbin.foo:8000');
  return {
    ...(o.from ? { peerUris: [`spiffe://${o.from}`] } : {}),
    directRemoteIp: o.ip ?? '10.244.0.5',
    remoteIp: o.ip ?? '10.244.0.5',
    localIp: '10.244.0.9',
    localPort: o.port ?? 8080,
    sni: o.from ? 'outbound_.8000_._.httpbin.foo.svc.cluster.local' : '',
    headers,
  };
}

/** The same connection on a TCP filter chain: no request headers. */
function conn(o: { from?: string; port?: number; ip?: string } = {}): Attributes {
  return { ...req(o), headers: new Map() };
}

const SLEEP = 'cluster.local/ns/foo/sa/sleep';
const OTHER = 'cluster.local/ns/bar/sa/sleep';

function http(aps: KubeObject[], over: Partial<ConfigInputs> = {}): RbacFilter[] {
  return workloadAuthz(inputs(aps, over), httpbin).http;
}
function tcp(aps: KubeObject[], over: Partial<ConfigInputs> = {}): RbacFilter[] {
  return workloadAuthz(inputs(aps, over), httpbin).tcp;
}
const verdict = (filters: RbacFilter[], a: Attributes) => {
  const d = authorize(filters, a);
  return d.allowed ? 'allow' : `${d.deniedBy!.stage} ${d.deniedBy!.policy}`;
};

describe('evaluation order and defaults', () => {
  // authorization_policy.proto: "3. If there are no ALLOW policies for the workload, allow the request."
  it('no policy: no filter, everything allowed', () => {
    expect(http([])).toEqual([]);
    expect(verdict(http([]), req())).toBe('allow');
  });

  // authorization_policy.proto: `spec: {}` "allows nothing and effectively denies all requests";
  // builder.go: a policy without rules gets rbacPolicyMatchNever.
  it('spec: {} is allow-nothing: denied with matched policy none', () => {
    const f = http([ap('foo', 'allow-nothing', {})]);
    expect(f).toHaveLength(1);
    expect(f[0]!.rules!.policies).toHaveProperty(['ns[foo]-policy[allow-nothing]-rule[0]']);
    expect(verdict(f, req({ from: SLEEP }))).toBe('ALLOW none');
    expect(verdict(tcp([ap('foo', 'allow-nothing', {})]), conn({ from: SLEEP }))).toBe('ALLOW none');
  });

  // builder testdata http/deny-empty-rule: `rules: [{}]` matches everything; the proto: "An empty rule is
  // always matched."
  it('DENY with one empty rule denies everything, naming the rule', () => {
    const f = http([ap('foo', 'deny-all', { action: 'DENY', rules: [{}] })]);
    expect(f[0]!.rules!.policies['ns[foo]-policy[deny-all]-rule[0]']).toEqual({
      permissions: [{ and: [{ any: true }] }],
      principals: [{ and: [{ any: true }] }],
    });
    expect(verdict(f, req())).toBe('DENY ns[foo]-policy[deny-all]-rule[0]');
  });

  // authorization_policy.proto `rules: [{}]` "allows all requests to workloads in namespace foo".
  it('ALLOW with one empty rule allows everything', () => {
    expect(verdict(http([ap('foo', 'allow-all', { rules: [{}] })]), req())).toBe('allow');
  });

  // authorization_policy.proto evaluation rules 2-5: DENY first, then ALLOW.
  it('DENY wins over ALLOW; ALLOW policies are ORed', () => {
    const aps = [
      ap('foo', 'allow-get', { rules: [{ to: [{ operation: { methods: ['GET'] } }] }] }),
      ap('foo', 'allow-post', { rules: [{ to: [{ operation: { methods: ['POST'] } }] }] }),
      ap('foo', 'deny-headers', { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/headers'] } }] }] }),
    ];
    const f = http(aps);
    expect(f.map((x) => x.stage)).toEqual(['DENY', 'ALLOW']);
    expect(verdict(f, req({ method: 'GET' }))).toBe('allow');
    expect(verdict(f, req({ method: 'POST' }))).toBe('allow');
    expect(verdict(f, req({ method: 'PUT' }))).toBe('ALLOW none');
    expect(verdict(f, req({ path: '/headers' }))).toBe('DENY ns[foo]-policy[deny-headers]-rule[0]');
  });

  // authorization_policy.proto: "AUDIT policies do not affect whether requests are allowed or denied".
  it('AUDIT never denies', () => {
    const f = http([ap('foo', 'audit', { action: 'AUDIT', rules: [{}] })]);
    expect(f.map((x) => x.stage)).toEqual(['AUDIT']);
    expect(verdict(f, req())).toBe('allow');
  });

  // engine_impl.cc checkPolicyMatch iterates a std::map: the byte-wise first matching name is reported.
  it('the effective policy is the first matching name in byte order', () => {
    const rules = Array.from({ length: 11 }, () => ({}));
    const f = http([ap('foo', 'many', { action: 'DENY', rules })]);
    expect(verdict(f, req())).toBe('DENY ns[foo]-policy[many]-rule[0]');
    const later = http([
      ap('foo', 'many', {
        action: 'DENY',
        // rule[2] and rule[10] match; "rule[10]" sorts first.
        rules: rules.map((_, i) => (i === 2 || i === 10 ? {} : { to: [{ operation: { paths: ['/nope'] } }] })),
      }),
    ]);
    expect(verdict(later, req())).toBe('DENY ns[foo]-policy[many]-rule[10]');
  });
});

describe('scope', () => {
  // authorization_policy.proto: "If set to root namespace, the policy applies to all namespaces in a mesh"
  // and "the selector will additionally match with workloads in all namespaces".
  it('root namespace policies apply mesh-wide, with their selector', () => {
    expect(http([ap('istio-system', 'mesh-deny', { action: 'DENY', rules: [{}] })])).toHaveLength(1);
    expect(http([ap('istio-system', 'v1', { selector: { matchLabels: { version: 'v1' } } })])).toHaveLength(1);
    expect(http([ap('istio-system', 'v2', { selector: { matchLabels: { version: 'v2' } } })])).toHaveLength(0);
  });

  it('a namespace policy applies only to its own namespace', () => {
    expect(http([ap('bar', 'allow-nothing', {})])).toHaveLength(0);
    expect(http([ap('foo', 'allow-nothing', { selector: { matchLabels: { app: 'httpbin' } } })])).toHaveLength(1);
    expect(http([ap('foo', 'allow-nothing', { selector: { matchLabels: { app: 'other' } } })])).toHaveLength(0);
  });

  // policyattachment.go ShouldAttachPolicy: "if targetRef is specified, ignore the policy altogether".
  it('targetRef(s) make the policy ignored by a sidecar', () => {
    const a = workloadAuthz(
      inputs([
        ap('foo', 'gw', { targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' }] }),
        ap('foo', 'gw-old', { targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' } }),
      ]),
      httpbin,
    );
    expect(a.http).toEqual([]);
    expect(a.notes.join('\n')).toContain('targetRef');
  });
});

describe('from: identities come from the peer certificate', () => {
  // authz_test.go TestAuthz_Principal; proto: principals "requires mTLS enabled".
  it('principals match the client certificate and never plaintext', () => {
    const f = http([ap('foo', 'allow-sleep', { rules: [{ from: [{ source: { principals: [SLEEP] } }] }] })]);
    expect(verdict(f, req({ from: SLEEP }))).toBe('allow');
    expect(verdict(f, req({ from: OTHER }))).toBe('ALLOW none');
    expect(verdict(f, req())).toBe('ALLOW none');
  });

  it('principal wildcards: prefix, suffix, * (any authenticated)', () => {
    const allow = (p: string) => http([ap('foo', 'a', { rules: [{ from: [{ source: { principals: [p] } }] }] })]);
    expect(verdict(allow('cluster.local/ns/foo/*'), req({ from: SLEEP }))).toBe('allow');
    expect(verdict(allow('*/sa/sleep'), req({ from: OTHER }))).toBe('allow');
    expect(verdict(allow('*'), req({ from: OTHER }))).toBe('allow');
    expect(verdict(allow('*'), req())).toBe('ALLOW none');
  });

  // authz_test.go TestAuthz_Namespace / TestAuthz_NotNamespace; generator.go srcNamespaceGenerator.
  it('namespaces and notNamespaces read the namespace from the principal', () => {
    const ns = http([ap('foo', 'a', { rules: [{ from: [{ source: { namespaces: ['foo'] } }] }] })]);
    expect(verdict(ns, req({ from: SLEEP }))).toBe('allow');
    expect(verdict(ns, req({ from: OTHER }))).toBe('ALLOW none');
    expect(verdict(ns, req())).toBe('ALLOW none');
    const notNs = http([ap('foo', 'a', { rules: [{ from: [{ source: { notNamespaces: ['bar'] } }] }] })]);
    expect(verdict(notNs, req({ from: SLEEP }))).toBe('allow');
    expect(verdict(notNs, req({ from: OTHER }))).toBe('ALLOW none');
    // Not(namespace bar) holds for a request without any namespace.
    expect(verdict(notNs, req())).toBe('allow');
  });

  // tests/integration/security/testdata/authz/plaintext.yaml.tmpl (TestAuthz_DenyPlaintext).
  it('DENY notPrincipals ["*"] denies plaintext only', () => {
    const f = http([
      ap('foo', 'deny-plain', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: ['*'] } }] }] }),
    ]);
    expect(verdict(f, req())).toBe('DENY ns[foo]-policy[deny-plain]-rule[0]');
    expect(verdict(f, req({ from: SLEEP }))).toBe('allow');
  });

  it('ipBlocks, notIpBlocks and remoteIpBlocks', () => {
    const f = http([
      ap('foo', 'a', { rules: [{ from: [{ source: { ipBlocks: ['10.244.0.0/16'], notIpBlocks: ['10.244.0.7'] } }] }] }),
    ]);
    expect(verdict(f, req({ ip: '10.244.0.5' }))).toBe('allow');
    expect(verdict(f, req({ ip: '10.244.0.7' }))).toBe('ALLOW none');
    expect(verdict(f, req({ ip: '10.1.0.5' }))).toBe('ALLOW none');
    const remote = http([ap('foo', 'a', { rules: [{ from: [{ source: { remoteIpBlocks: ['192.0.2.1'] } }] }] })]);
    expect(verdict(remote, { ...req(), remoteIp: '192.0.2.1' })).toBe('allow');
    expect(verdict(remote, req())).toBe('ALLOW none');
  });

  // No JWT is ever sent: request principals never match, their negation always does.
  it('requestPrincipals never match without a JWT', () => {
    const allow = http([ap('foo', 'a', { rules: [{ from: [{ source: { requestPrincipals: ['*'] } }] }] })]);
    expect(verdict(allow, req({ from: SLEEP }))).toBe('ALLOW none');
    const deny = http([
      ap('foo', 'd', { action: 'DENY', rules: [{ from: [{ source: { notRequestPrincipals: ['*'] } }] }] }),
    ]);
    expect(verdict(deny, req({ from: SLEEP }))).toBe('DENY ns[foo]-policy[d]-rule[0]');
  });

  // trustdomain/bundle.go: a cluster.local principal stands for the local trust domain and its aliases.
  it('cluster.local principals follow the mesh trust domain', () => {
    const f = http([ap('foo', 'a', { rules: [{ from: [{ source: { principals: [SLEEP] } }] }] })], {
      trustDomain: 'td1',
      trustDomainAliases: ['old-td'],
    });
    expect(verdict(f, req({ from: 'td1/ns/foo/sa/sleep' }))).toBe('allow');
    expect(verdict(f, req({ from: 'old-td/ns/foo/sa/sleep' }))).toBe('allow');
    expect(verdict(f, req({ from: SLEEP }))).toBe('ALLOW none');
  });
});

describe('to and when', () => {
  // authz_test.go TestAuthz_Principal: "/allow?param=value" is allowed by paths ["/allow"];
  // proto Rule: "Exact, Prefix, Suffix and Presence match".
  it('paths: exact (query ignored), prefix*, *suffix, * presence; notPaths', () => {
    const allow = (paths: string[]) => http([ap('foo', 'a', { rules: [{ to: [{ operation: { paths } }] }] })]);
    expect(verdict(allow(['/allow']), req({ path: '/allow?param=value' }))).toBe('allow');
    expect(verdict(allow(['/allow']), req({ path: '/allow/x' }))).toBe('ALLOW none');
    expect(verdict(allow(['/status/*']), req({ path: '/status/200' }))).toBe('allow');
    expect(verdict(allow(['*/200']), req({ path: '/status/200' }))).toBe('allow');
    expect(verdict(allow(['*']), req({ path: '/anything' }))).toBe('allow');
    expect(verdict(allow(['/foo/{*}']), req({ path: '/foo/bar' }))).toBe('allow');
    expect(verdict(allow(['/foo/{*}']), req({ path: '/foo/bar/baz' }))).toBe('ALLOW none');
    const notPaths = http([ap('foo', 'a', { rules: [{ to: [{ operation: { notPaths: ['/ip'] } }] }] })]);
    expect(verdict(notPaths, req({ path: '/ip' }))).toBe('ALLOW none');
    expect(verdict(notPaths, req({ path: '/get' }))).toBe('allow');
  });

  // matcher/header.go HostMatcher is case-insensitive; authz_test.go TestAuthz_NotHost.
  it('hosts match the authority case-insensitively, with its port', () => {
    const f = http([
      ap('foo', 'a', { rules: [{ to: [{ operation: { hosts: ['HTTPBIN.foo:8000', 'httpbin.foo.svc.*'] } }] }] }),
    ]);
    expect(verdict(f, req({ host: 'httpbin.foo:8000' }))).toBe('allow');
    expect(verdict(f, req({ host: 'httpbin.foo.svc.cluster.local:8000' }))).toBe('allow');
    expect(verdict(f, req({ host: 'httpbin.foo' }))).toBe('ALLOW none');
  });

  // authz_test.go TestAuthz_NotMethod and TestAuthz_NotPort; ports are the workload's (container) ports.
  it('methods, notMethods, ports and notPorts', () => {
    const f = http([ap('foo', 'a', { rules: [{ to: [{ operation: { notMethods: ['DELETE'], ports: ['8080'] } }] }] })]);
    expect(verdict(f, req({ method: 'GET' }))).toBe('allow');
    expect(verdict(f, req({ method: 'DELETE' }))).toBe('ALLOW none');
    expect(verdict(f, req({ port: 9090 }))).toBe('ALLOW none');
    // The service port (8000) is not what the sidecar sees.
    const svcPort = http([ap('foo', 'a', { rules: [{ to: [{ operation: { ports: ['8000'] } }] }] })]);
    expect(verdict(svcPort, req())).toBe('ALLOW none');
  });

  // authz_test.go TestAuthz_Conditions.
  it('when: request.headers, source.namespace, source.principal, source.ip, destination.port, connection.sni', () => {
    const when = (key: string, values: string[], notValues?: string[]) =>
      http([ap('foo', 'a', { rules: [{ when: [{ key, values, ...(notValues ? { notValues } : {}) }] }] })]);
    expect(verdict(when('request.headers[X-Foo]', ['bar']), req({ headers: { 'x-foo': 'bar' } }))).toBe('allow');
    expect(verdict(when('request.headers[X-Foo]', ['bar']), req())).toBe('ALLOW none');
    expect(verdict(when('source.namespace', ['foo']), req({ from: SLEEP }))).toBe('allow');
    expect(verdict(when('source.principal', [SLEEP]), req({ from: OTHER }))).toBe('ALLOW none');
    expect(verdict(when('source.ip', ['10.244.0.5']), req())).toBe('allow');
    expect(verdict(when('destination.port', ['8080']), req())).toBe('allow');
    expect(verdict(when('destination.ip', ['10.244.0.0/16']), req())).toBe('allow');
    expect(verdict(when('connection.sni', ['outbound_.8000_*']), req({ from: SLEEP }))).toBe('allow');
    expect(verdict(when('connection.sni', ['*']), req())).toBe('ALLOW none');
    expect(verdict(when('request.auth.claims[iss]', ['x']), req({ from: SLEEP }))).toBe('ALLOW none');
  });

  // model.go New: "unknown attribute" makes the rule invalid; builder.go skips it, for DENY too.
  it('a rule with an unknown condition key is skipped, whatever the action', () => {
    const a = workloadAuthz(
      inputs([ap('foo', 'd', { action: 'DENY', rules: [{ when: [{ key: 'request.time', values: ['x'] }] }] })]),
      httpbin,
    );
    expect(a.http[0]!.rules!.policies).toEqual({});
    expect(verdict(a.http, req())).toBe('allow');
    expect(a.notes.join('\n')).toContain(
      'skipped invalid rule ns[foo]-policy[d]-rule[0]: unknown attribute request.time',
    );
  });
});

describe('HTTP-only fields on a TCP filter chain', () => {
  // builder testdata tcp/allow-both-http-tcp-in/out: only rule[3] (namespaces + ports) survives.
  it('ALLOW: a rule with any HTTP-only field is dropped (testdata tcp/allow-both-http-tcp)', () => {
    const policy = ap('foo', 'httpbin-deny', {
      action: 'ALLOW',
      rules: [
        { from: [{ source: { requestPrincipals: ['id-1'] } }], to: [{ operation: { methods: ['GET'] } }] },
        { from: [{ source: { namespaces: ['ns-1'] } }], to: [{ operation: { ports: ['8080'], methods: ['GET'] } }] },
        {
          from: [{ source: { namespaces: ['ns-2'], requestPrincipals: ['id-2'] } }],
          to: [{ operation: { ports: ['9090'] } }],
        },
        { from: [{ source: { namespaces: ['ns-1'] } }], to: [{ operation: { ports: ['80'] } }] },
      ],
    });
    const f = tcp([policy]);
    expect(f[0]!.rules!.policies).toEqual({
      'ns[foo]-policy[httpbin-deny]-rule[3]': {
        permissions: [{ and: [{ or: [{ destinationPort: 80 }] }] }],
        principals: [{ and: [{ or: [{ authenticated: { regex: '.*/ns/ns-1/.*' } }] }] }],
      },
    });
  });

  // builder testdata tcp/deny-both-http-tcp-in/out: HTTP-only values are dropped and the rule widens.
  it('DENY: HTTP-only values are dropped, the rule widens (testdata tcp/deny-both-http-tcp)', () => {
    const policy = ap('foo', 'httpbin-deny', {
      action: 'DENY',
      rules: [
        { from: [{ source: { requestPrincipals: ['id-1'] } }], to: [{ operation: { methods: ['GET'] } }] },
        { to: [{ operation: { methods: ['GET'] } }] },
        { from: [{ source: { requestPrincipals: ['id-1'] } }] },
        { from: [{ source: { namespaces: ['ns-1'] } }], to: [{ operation: { methods: ['GET'] } }] },
        { from: [{ source: { requestPrincipals: ['id-1'] } }], to: [{ operation: { ports: ['80'] } }] },
        {
          from: [{ source: { requestPrincipals: ['id-1'] } }],
          to: [{ operation: { ports: ['8080'], methods: ['GET'] } }],
        },
        {
          from: [{ source: { namespaces: ['ns-2'], requestPrincipals: ['id-1'] } }],
          to: [{ operation: { ports: ['8080'], methods: ['GET'] } }],
        },
        { from: [{ source: { namespaces: ['ns-1'] } }], to: [{ operation: { ports: ['80'] } }] },
        { when: [{ key: 'request.headers[:method]', values: ['GET'] }] },
        { when: [{ key: 'destination.port', values: ['80'] }] },
      ],
    });
    const p = tcp([policy])[0]!.rules!.policies;
    const any = { and: [{ any: true }] };
    const name = (i: number) => `ns[foo]-policy[httpbin-deny]-rule[${i}]`;
    for (const i of [0, 1, 2, 8]) expect(p[name(i)]).toEqual({ permissions: [any], principals: [any] });
    expect(p[name(3)]).toEqual({
      permissions: [any],
      principals: [{ and: [{ or: [{ authenticated: { regex: '.*/ns/ns-1/.*' } }] }] }],
    });
    expect(p[name(4)]).toEqual({ permissions: [{ and: [{ or: [{ destinationPort: 80 }] }] }], principals: [any] });
    expect(p[name(5)]).toEqual({ permissions: [{ and: [{ or: [{ destinationPort: 8080 }] }] }], principals: [any] });
    expect(p[name(6)]!.principals).toEqual([{ and: [{ or: [{ authenticated: { regex: '.*/ns/ns-2/.*' } }] }] }]);
    expect(p[name(9)]).toEqual({ permissions: [{ and: [{ or: [{ destinationPort: 80 }] }] }], principals: [any] });
    // On HTTP the same policy keeps its methods.
    expect(verdict(http([policy]), req({ method: 'POST', from: SLEEP }))).toBe('allow');
  });

  // istio.io tasks/security/authorization/authz-tcp: methods+ports ALLOW rule "becomes invalid" on TCP
  // and the request is rejected; a methods-only DENY "denies all the traffic to the tcp ports".
  it('the authz-tcp task: ALLOW methods+ports rejects, DENY methods rejects everything', () => {
    const allow = ap('foo', 'tcp-policy', { rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }] });
    expect(verdict(tcp([allow]), conn({ port: 9000 }))).toBe('ALLOW none');
    const deny = ap('foo', 'tcp-policy', { action: 'DENY', rules: [{ to: [{ operation: { methods: ['GET'] } }] }] });
    expect(verdict(tcp([deny]), conn({ port: 9001 }))).toBe('DENY ns[foo]-policy[tcp-policy]-rule[0]');
    const scoped = ap('foo', 'tcp-policy', {
      action: 'DENY',
      rules: [{ to: [{ operation: { methods: ['GET'], ports: ['9000'] } }] }],
    });
    expect(verdict(tcp([scoped]), conn({ port: 9000 }))).toBe('DENY ns[foo]-policy[tcp-policy]-rule[0]');
    expect(verdict(tcp([scoped]), conn({ port: 9001 }))).toBe('allow');
  });
});

describe('CUSTOM and dry-run', () => {
  // builder.go buildHTTP: "failed to process CUSTOM action, will generate deny configs for the specified
  // rules"; testdata http/custom-bad-out names them istio-ext-authz-ns[..]-policy[..]-rule[N]-deny-due-to-bad-CUSTOM-action.
  it('CUSTOM with no such provider denies what its rules match', () => {
    const custom = ap('foo', 'ext', {
      action: 'CUSTOM',
      provider: { name: 'my-authz' },
      rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }],
    });
    const a = workloadAuthz(inputs([custom]), httpbin);
    expect(a.http.map((f) => f.stage)).toEqual(['CUSTOM']);
    expect(verdict(a.http, req({ path: '/admin/x' }))).toBe(
      'CUSTOM istio-ext-authz-ns[foo]-policy[ext]-rule[0]-deny-due-to-bad-CUSTOM-action',
    );
    expect(verdict(a.http, req({ path: '/get' }))).toBe('allow');
    expect(a.notes.join('\n')).toContain('available providers are [] but found "my-authz"');
    // Built with the DENY action, so on TCP the HTTP-only path is dropped and every connection is denied.
    expect(verdict(a.tcp, conn())).toContain('deny-due-to-bad-CUSTOM-action');
  });

  it('CUSTOM with a declared provider whose service exists is not applied (no ext_authz server here)', () => {
    const custom = ap('foo', 'ext', { action: 'CUSTOM', provider: { name: 'my-authz' }, rules: [{}] });
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ext-authz', namespace: 'foo' },
      spec: {},
    } as KubeObject;
    const f = http([custom], {
      services: [svc],
      extensionProviders: [
        { name: 'my-authz', envoyExtAuthzHttp: { service: 'ext-authz.foo.svc.cluster.local', port: 8000 } },
      ],
    });
    expect(f).toEqual([]);
  });

  // authz-dry-run task: the dry-run DENY on /headers lets the request through; builder testdata
  // tcp/dry-run-mix-out: dry-run policies are shadow rules next to the enforced ones.
  it('dry-run policies are shadow rules only', () => {
    const dry = ap(
      'foo',
      'deny-path-headers',
      { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/headers'] } }] }] },
      { 'istio.io/dry-run': 'true' },
    );
    const f = http([dry]);
    expect(f[0]!.rules).toBeUndefined();
    const d = authorize(f, req({ path: '/headers' }));
    expect(d.allowed).toBe(true);
    expect(d.shadow).toEqual([{ stage: 'DENY', allowed: false, policy: 'ns[foo]-policy[deny-path-headers]-rule[0]' }]);
    // A dry-run ALLOW alone creates no default deny; "false" is enforced.
    expect(verdict(http([ap('foo', 'x', {}, { 'istio.io/dry-run': 'true' })]), req())).toBe('allow');
    expect(verdict(http([ap('foo', 'x', {}, { 'istio.io/dry-run': 'false' })]), req())).toBe('ALLOW none');
  });
});

describe('path normalization (istio.io reference/config/security/normalization, BASE)', () => {
  it('decodes unreserved escapes, turns backslashes into slashes, resolves dot segments, keeps the query', () => {
    expect(normalizePath('/public/./data/abc/../xyz')).toBe('/public/data/xyz');
    expect(normalizePath('/%61%62%63/%2Fx')).toBe('/abc/%2Fx');
    expect(normalizePath('/some\\data')).toBe('/some/data');
    expect(normalizePath('/a/..?q=/../x')).toBe('/?q=/../x');
    expect(normalizePath('/a//b')).toBe('/a//b');
  });
});
