// The rules that pick which policy and which DestinationRule decide, beyond the outcome table.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model/kube-object.js';
import type { Flavor } from '../../src/model/scenario.js';
import { meshConfig, overlay, installDefaults } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';
import { dr, meshPolicy, miniTopology, pa, policies, policy, type MiniOptions } from '../helpers/mini-topology.js';

const sel = { matchLabels: { app: 'app' } };
const both: MiniOptions = { clientSidecar: true, serverSidecar: true };
const plainClient: MiniOptions = { clientSidecar: false, serverSidecar: true };

/** Prediction per target port (8000 then 9080) for `c/sleep`. */
function run(flavor: Flavor, opts: MiniOptions, ...objects: KubeObject[]) {
  const mesh = meshConfig(flavor);
  const topology = miniTopology(opts);
  return predict(topology, overlay(topology, installDefaults(mesh), policies(...objects), mesh), mesh).values();
}
const outcomes = (flavor: Flavor, opts: MiniOptions, ...objects: KubeObject[]) =>
  run(flavor, opts, ...objects).map((p) => p.outcome);

describe('PeerAuthentication (modern)', () => {
  it('workload beats namespace beats mesh', () => {
    expect(outcomes('modern', plainClient, pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }))).toEqual([
      'reset',
      'reset',
    ]);
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
        pa('s', 'ns', { mtls: { mode: 'PERMISSIVE' } }),
      ),
    ).toEqual(['plaintext', 'plaintext']);
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'ns', { mtls: { mode: 'PERMISSIVE' } }),
        pa('s', 'wl', { selector: sel, mtls: { mode: 'STRICT' } }),
      ),
    ).toEqual(['reset', 'reset']);
  });

  it('UNSET inherits from the parent level', () => {
    const [p] = run(
      'modern',
      plainClient,
      pa('s', 'ns', { mtls: { mode: 'STRICT' } }),
      pa('s', 'wl', { selector: sel, mtls: { mode: 'UNSET' } }),
    );
    expect(p!.outcome).toBe('reset');
    expect(p!.reason.server.chain.map((s) => s.says)).toEqual([
      'namespace-wide: STRICT',
      'workload: UNSET, inherits STRICT',
    ]);
  });

  it('portLevelMtls is keyed by the workload port: 8080 covers both service ports', () => {
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'wl', { selector: sel, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'PERMISSIVE' } } }),
      ),
    ).toEqual(['plaintext', 'plaintext']);
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'wl', { selector: sel, mtls: { mode: 'STRICT' }, portLevelMtls: { 8000: { mode: 'PERMISSIVE' } } }),
      ),
    ).toEqual(['reset', 'reset']);
  });

  it('port-level UNSET inherits the workload mode', () => {
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'wl', { selector: sel, mtls: { mode: 'STRICT' }, portLevelMtls: { 8080: { mode: 'UNSET' } } }),
      ),
    ).toEqual(['reset', 'reset']);
  });

  it('ignores selector policies in the root namespace', () => {
    expect(
      outcomes('modern', plainClient, pa('istio-system', 'wl', { selector: sel, mtls: { mode: 'STRICT' } })),
    ).toEqual(['plaintext', 'plaintext']);
  });

  it('picks the oldest of two namespace-wide policies', () => {
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'a', { mtls: { mode: 'STRICT' } }),
        pa('s', 'b', { mtls: { mode: 'PERMISSIVE' } }),
      ),
    ).toEqual(['reset', 'reset']);
    expect(
      outcomes(
        'modern',
        plainClient,
        pa('s', 'b', { mtls: { mode: 'PERMISSIVE' } }),
        pa('s', 'a', { mtls: { mode: 'STRICT' } }),
      ),
    ).toEqual(['plaintext', 'plaintext']);
  });

  it('auto mTLS sends plaintext when the service namespace is DISABLE, even to a STRICT workload', () => {
    expect(
      outcomes(
        'modern',
        both,
        pa('s', 'ns', { mtls: { mode: 'DISABLE' } }),
        pa('s', 'wl', { selector: sel, mtls: { mode: 'STRICT' } }),
      ),
    ).toEqual(['upstream-error', 'upstream-error']);
  });
});

describe('MeshPolicy and Policy (legacy)', () => {
  it('service beats namespace beats mesh, and the narrowest replaces the others whole', () => {
    expect(outcomes('legacy', plainClient, meshPolicy({ peers: [{ mtls: {} }] }))).toEqual(['reset', 'reset']);
    expect(
      outcomes(
        'legacy',
        plainClient,
        meshPolicy({ peers: [{ mtls: {} }] }),
        policy('s', 'default', { peers: [{ mtls: { mode: 'PERMISSIVE' } }] }),
      ),
    ).toEqual(['plaintext', 'plaintext']);
    expect(
      outcomes(
        'legacy',
        plainClient,
        policy('s', 'default', { peers: [{ mtls: { mode: 'PERMISSIVE' } }] }),
        policy('s', 'svc', { targets: [{ name: 'app' }], peers: [{ mtls: {} }] }),
      ),
    ).toEqual(['reset', 'reset']);
  });

  it('a service policy without peers turns mTLS off for that service', () => {
    expect(
      outcomes(
        'legacy',
        { clientSidecar: true, serverSidecar: true },
        meshPolicy({ peers: [{ mtls: {} }] }),
        policy('s', 'svc', { targets: [{ name: 'app' }] }),
        dr('istio-system', 'default', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      ),
    ).toEqual(['upstream-error', 'upstream-error']);
  });

  it('targets service ports by number or name; other ports fall back to the namespace and mesh', () => {
    expect(
      outcomes(
        'legacy',
        plainClient,
        meshPolicy({ peers: [{ mtls: {} }] }),
        policy('s', 'svc', {
          targets: [{ name: 'app', ports: [{ number: 9080 }] }],
          peers: [{ mtls: { mode: 'PERMISSIVE' } }],
        }),
      ),
    ).toEqual(['reset', 'plaintext']);
    expect(
      outcomes(
        'legacy',
        plainClient,
        meshPolicy({ peers: [{ mtls: {} }] }),
        policy('s', 'svc', {
          targets: [{ name: 'app', ports: [{ name: 'http' }] }],
          peers: [{ mtls: { mode: 'PERMISSIVE' } }],
        }),
      ),
    ).toEqual(['plaintext', 'reset']);
  });

  it('`mtls: {}` and `mtls:` (null) are STRICT; a MeshPolicy not named default does not count', () => {
    expect(outcomes('legacy', plainClient, meshPolicy({ peers: [{ mtls: null }] }))).toEqual(['reset', 'reset']);
    const other = { ...meshPolicy({ peers: [{ mtls: {} }] }), metadata: { name: 'other' } };
    expect(outcomes('legacy', plainClient, other)).toEqual(['plaintext', 'plaintext']);
  });

  it('translates to PeerAuthentication on a modern mesh with the same matrix', () => {
    const objects = [
      meshPolicy({ peers: [{ mtls: {} }] }),
      policy('s', 'svc', { targets: [{ name: 'app' }], peers: [{ mtls: { mode: 'PERMISSIVE' } }] }),
    ];
    expect(outcomes('modern', plainClient, ...objects)).toEqual(outcomes('legacy', plainClient, ...objects));
  });
});

describe('DestinationRule lookup', () => {
  const mutual = { tls: { mode: 'ISTIO_MUTUAL' } };
  const disable = { tls: { mode: 'DISABLE' } };
  const strict = pa('istio-system', 'default', { mtls: { mode: 'STRICT' } });

  it("the client's namespace beats the service's, even a *.local rule over an exact host", () => {
    const [p] = run(
      'modern',
      both,
      strict,
      dr('c', 'wide', { host: '*.local', trafficPolicy: disable }),
      dr('s', 'exact', { host: 'app.s.svc.cluster.local', trafficPolicy: mutual }),
    );
    expect(p!.outcome).toBe('upstream-error');
    expect(p!.reason.client.chain[0]!.by).toBe('DestinationRule c/wide');
  });

  it("the service's namespace beats the root namespace, and exportTo can hide a rule", () => {
    expect(
      outcomes(
        'modern',
        both,
        strict,
        dr('istio-system', 'default', { host: '*.local', trafficPolicy: mutual }),
        dr('s', 'app', { host: 'app', trafficPolicy: disable }),
      )[0],
    ).toBe('upstream-error');
    expect(
      outcomes(
        'modern',
        both,
        strict,
        dr('istio-system', 'default', { host: '*.local', trafficPolicy: mutual }),
        dr('s', 'app', { host: 'app', exportTo: ['.'], trafficPolicy: disable }),
      )[0],
    ).toBe('mtls');
  });

  it('within a namespace an exact host beats the longest wildcard, which beats *', () => {
    const rules = [
      dr('istio-system', 'all', { host: '*', trafficPolicy: disable }),
      dr('istio-system', 'ns', { host: '*.s.svc.cluster.local', trafficPolicy: mutual }),
    ];
    expect(run('modern', both, strict, ...rules)[0]!.reason.client.chain[0]!.by).toBe(
      'DestinationRule istio-system/ns',
    );
    expect(
      run(
        'modern',
        both,
        strict,
        ...rules,
        dr('istio-system', 'exact', { host: 'app.s.svc.cluster.local', trafficPolicy: disable }),
      )[0]!.reason.client.chain[0]!.by,
    ).toBe('DestinationRule istio-system/exact');
  });

  it("short names are relative to the rule's namespace; a dotted name is taken as fully qualified", () => {
    expect(
      run(
        'legacy',
        both,
        meshPolicy({ peers: [{ mtls: {} }] }),
        dr('s', 'app', { host: 'app', trafficPolicy: mutual }),
      )[0]!.outcome,
    ).toBe('mtls');
    expect(
      run(
        'legacy',
        both,
        meshPolicy({ peers: [{ mtls: {} }] }),
        dr('s', 'app', { host: 'app.s', trafficPolicy: mutual }),
      )[0]!.outcome,
    ).toBe('upstream-error');
  });

  it('portLevelSettings replace the top-level TLS for their service port only', () => {
    expect(
      outcomes(
        'legacy',
        both,
        meshPolicy({ peers: [{ mtls: {} }] }),
        dr('s', 'app', {
          host: 'app',
          trafficPolicy: {
            tls: { mode: 'DISABLE' },
            portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'ISTIO_MUTUAL' } }],
          },
        }),
      ),
    ).toEqual(['upstream-error', 'mtls']);
  });
});

describe('TLS ports (passthrough)', () => {
  const https: MiniOptions = { clientSidecar: true, serverSidecar: false, portName: 'https' };
  it('pass through at L4 without policy; ISTIO_MUTUAL towards a server without sidecar fails the TLS handshake', () => {
    expect(outcomes('modern', https)).toEqual(['reached', 'reached']);
    expect(
      outcomes(
        'modern',
        https,
        dr('istio-system', 'default', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      ),
    ).toEqual(['tls-error', 'tls-error']);
    expect(
      outcomes(
        'modern',
        { ...https, serverSidecar: true },
        dr('istio-system', 'default', { host: '*.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } }),
      ),
    ).toEqual(['reached', 'reached']);
  });
  it('a STRICT sidecar in front of an HTTPS app refuses a client without sidecar in the TLS handshake', () => {
    expect(
      outcomes(
        'modern',
        { clientSidecar: false, serverSidecar: true, portName: 'https' },
        pa('istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      ),
    ).toEqual(['tls-error', 'tls-error']);
  });
});
