// The control plane's reading of Istio (docs/semantics.md §2–§4), checked on the configuration it
// computes, without traffic. The data-plane tests replay the same rules through real handshakes.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../contracts.js';
import { ProxyConfig } from './control-plane.js';
import type { ConfigInputs } from './policy/types.js';

let t = Date.parse('2026-01-01T00:00:00Z');
function obj(
  kind: string,
  ns: string | undefined,
  name: string,
  spec: unknown,
  extra: Partial<KubeObject> = {},
): KubeObject {
  t += 1000;
  return {
    apiVersion: 'v1',
    kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}), creationTimestamp: new Date(t).toISOString() },
    spec,
    ...extra,
  } as KubeObject;
}

function pod(ns: string, app: string, ip: string, sidecar = true): KubeObject {
  const containers: unknown[] = [{ name: app, image: app, ports: [{ containerPort: 8080 }] }];
  if (sidecar) containers.push({ name: 'istio-proxy', image: 'proxyv2' });
  return {
    ...obj('Pod', ns, `${app}-0`, { containers, serviceAccountName: app }),
    metadata: { name: `${app}-0`, namespace: ns, labels: { app } },
    status: { podIP: ip },
  } as KubeObject;
}

function svc(ns: string, app: string): KubeObject {
  return obj('Service', ns, app, {
    selector: { app },
    ports: [
      { name: 'http', port: 8000, targetPort: 8080 },
      { name: 'http-alt', port: 9080, targetPort: 8080 },
    ],
  });
}

function inputs(over: Partial<ConfigInputs>): ConfigInputs {
  return {
    flavor: 'modern',
    autoMtls: true,
    rootNamespace: 'istio-system',
    trustDomain: 'cluster.local',
    pods: [
      pod('a', 'httpbin', '10.244.0.1'),
      pod('b', 'httpbin', '10.244.0.2'),
      pod('c', 'httpbin', '10.244.0.3', false),
    ],
    services: [svc('a', 'httpbin'), svc('b', 'httpbin'), svc('c', 'httpbin')],
    peerAuthentications: [],
    destinationRules: [],
    meshPolicies: [],
    policies: [],
    authorizationPolicies: [],
    trustDomainAliases: [],
    extensionProviders: [],
    ...over,
  };
}

const pa = (ns: string, name: string, spec: unknown) => obj('PeerAuthentication', ns, name, spec);
const dr = (ns: string, name: string, spec: unknown) => obj('DestinationRule', ns, name, spec);
const httpbin = (cfg: ProxyConfig, ns: string) => cfg.inputs.pods.find((p) => p.metadata.namespace === ns)!;

describe('PeerAuthentication (modern)', () => {
  it('defaults to PERMISSIVE and lets the narrowest level win, UNSET inheriting', () => {
    const cfg = new ProxyConfig(
      1,
      inputs({
        peerAuthentications: [
          pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
          pa('a', 'default', { mtls: { mode: 'PERMISSIVE' } }),
          pa('a', 'wl', {
            selector: { matchLabels: { app: 'httpbin' } },
            mtls: { mode: 'UNSET' },
            portLevelMtls: { 8080: { mode: 'DISABLE' } },
          }),
        ],
      }),
    );
    expect(cfg.inbound(httpbin(cfg, 'b'), 8080).value).toBe('STRICT');
    expect(cfg.inbound(httpbin(cfg, 'a'), 8080).value).toBe('DISABLE');
    expect(cfg.inbound(httpbin(cfg, 'a'), 9999).value).toBe('PERMISSIVE');
    expect(new ProxyConfig(2, inputs({})).inbound(httpbin(cfg, 'a'), 8080).value).toBe('PERMISSIVE');
  });

  it('ignores selector policies in the root namespace and keeps the oldest of duplicates', () => {
    const cfg = new ProxyConfig(
      1,
      inputs({
        peerAuthentications: [
          pa('istio-system', 'sel', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'DISABLE' } }),
          pa('a', 'first', { mtls: { mode: 'STRICT' } }),
          pa('a', 'second', { mtls: { mode: 'DISABLE' } }),
        ],
      }),
    );
    expect(cfg.inbound(httpbin(cfg, 'b'), 8080).value).toBe('PERMISSIVE');
    expect(cfg.inbound(httpbin(cfg, 'a'), 8080)).toEqual({ value: 'STRICT', by: 'PeerAuthentication a/first' });
  });
});

describe('legacy Policy / MeshPolicy', () => {
  const legacy = (over: Partial<ConfigInputs>) =>
    new ProxyConfig(1, inputs({ flavor: 'legacy', autoMtls: false, ...over }));
  it('is mTLS off without policies; service > namespace > mesh; no peers means off; mtls {} means STRICT', () => {
    expect(legacy({}).inbound(httpbin(legacy({}), 'a'), 8080).value).toBe('DISABLE');
    const cfg = legacy({
      meshPolicies: [obj('MeshPolicy', undefined, 'default', { peers: [{ mtls: {} }] })],
      policies: [
        obj('Policy', 'a', 'default', { peers: [{ mtls: { mode: 'PERMISSIVE' } }] }),
        obj('Policy', 'b', 'svc', { targets: [{ name: 'httpbin' }] }),
      ],
    });
    expect(cfg.inbound(httpbin(cfg, 'a'), 8080).value).toBe('PERMISSIVE');
    expect(cfg.inbound(httpbin(cfg, 'b'), 8080).value).toBe('DISABLE');
    expect(cfg.inbound(httpbin(cfg, 'c'), 8080).value).toBe('STRICT');
  });

  it('maps targeted service ports to the workload port', () => {
    const cfg = legacy({
      policies: [
        obj('Policy', 'a', 'p', { targets: [{ name: 'httpbin', ports: [{ number: 9080 }] }], peers: [{ mtls: null }] }),
      ],
    });
    expect(cfg.inbound(httpbin(cfg, 'a'), 8080).value).toBe('STRICT');
    expect(cfg.inbound(httpbin(cfg, 'a'), 7070).value).toBe('DISABLE');
  });
});

describe('DestinationRule lookup and auto mTLS', () => {
  it('searches client namespace, then service namespace, then root; namespace order beats specificity', () => {
    const cfg = new ProxyConfig(
      1,
      inputs({
        destinationRules: [
          dr('b', 'exact', { host: 'httpbin.c.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
          dr('a', 'wild', { host: '*.local', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
          dr('istio-system', 'root', { host: '*.local', trafficPolicy: { tls: { mode: 'SIMPLE' } } }),
          dr('c', 'own', { host: 'httpbin', exportTo: ['.'], trafficPolicy: { tls: { mode: 'MUTUAL' } } }),
        ],
      }),
    );
    expect(cfg.outbound('a', 'c', 'httpbin', 8000)?.drMode).toBe('DISABLE');
    expect(cfg.outbound('b', 'c', 'httpbin', 8000)?.drMode).toBe('ISTIO_MUTUAL');
    // c's rule is exported only to c; a client in another namespace falls through to the root.
    expect(cfg.outbound('istio-system', 'c', 'httpbin', 8000)?.drMode).toBe('SIMPLE');
    expect(cfg.outbound('c', 'c', 'httpbin', 8000)?.drMode).toBe('MUTUAL');
  });

  it('prefers the exact host, resolves short hosts in the rule namespace, and applies port-level TLS per service port', () => {
    const cfg = new ProxyConfig(
      1,
      inputs({
        destinationRules: [
          dr('istio-system', 'all', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
          dr('istio-system', 'b', {
            host: 'httpbin.b.svc.cluster.local',
            trafficPolicy: {
              tls: { mode: 'DISABLE' },
              portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'ISTIO_MUTUAL' } }],
            },
          }),
          dr('istio-system', 'short', { host: 'httpbin', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
          dr('istio-system', 'dotted', { host: 'httpbin.a', trafficPolicy: { tls: { mode: 'DISABLE' } } }),
        ],
      }),
    );
    expect(cfg.outbound('c', 'b', 'httpbin', 8000)?.drMode).toBe('DISABLE');
    expect(cfg.outbound('c', 'b', 'httpbin', 9080)?.drMode).toBe('ISTIO_MUTUAL');
    // "httpbin" means httpbin.istio-system...; "httpbin.a" is not expanded: neither matches a's service.
    expect(cfg.outbound('c', 'a', 'httpbin', 8000)?.drMode).toBe('ISTIO_MUTUAL');
  });

  it('auto mTLS sends mTLS only to sidecar endpoints not in DISABLE; off in legacy', () => {
    const modern = new ProxyConfig(
      1,
      inputs({
        peerAuthentications: [
          pa('b', 'wl', { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'DISABLE' } }),
        ],
      }),
    );
    expect(modern.outbound('a', 'a', 'httpbin', 8000)?.endpoints[0]?.origination).toBe('istio-mutual');
    expect(modern.outbound('a', 'b', 'httpbin', 8000)?.endpoints[0]?.origination).toBe('plaintext');
    expect(modern.outbound('a', 'c', 'httpbin', 8000)?.endpoints[0]?.origination).toBe('plaintext');
    const legacy = new ProxyConfig(1, inputs({ flavor: 'legacy', autoMtls: false }));
    expect(legacy.outbound('a', 'a', 'httpbin', 8000)?.endpoints[0]?.origination).toBe('plaintext');
  });
});
