import { describe, expect, it } from 'vitest';
import type { LegacyPolicy } from '../../src/model/istio-objects.js';
import type { Service } from '../../src/model/topology.js';
import { meshConfig } from '../../src/oracle/mesh.js';
import { translateLegacy } from '../../src/oracle/translate-legacy.js';
import { meshPolicy, policies, policy } from '../helpers/mini-topology.js';

const httpbin: Service = {
  namespace: 'test1',
  name: 'httpbin',
  selector: { app: 'httpbin' },
  ports: [
    { name: 'http', port: 8000, targetPort: 8080, protocol: 'http' },
    { name: 'admin', port: 9000, targetPort: 9090, protocol: 'http' },
  ],
};
const translate = (...objs: Parameters<typeof policies>) =>
  translateLegacy(policies(...objs) as LegacyPolicy[], [httpbin], meshConfig('modern')).map((t) => t.to.raw);

describe('legacy -> PeerAuthentication', () => {
  it('MeshPolicy default with `mtls: {}` becomes a STRICT PeerAuthentication default in the root namespace', () => {
    expect(translate(meshPolicy({ peers: [{ mtls: {} }] }))).toMatchObject([
      {
        apiVersion: 'security.istio.io/v1beta1',
        kind: 'PeerAuthentication',
        metadata: { name: 'default', namespace: 'istio-system' },
        spec: { mtls: { mode: 'STRICT' } },
      },
    ]);
  });

  it("a service target becomes a selector on the Service's labels (the converter's fixture)", () => {
    expect(
      translate(
        policy('test1', 'httpbin', { targets: [{ name: 'httpbin' }], peers: [{ mtls: { mode: 'PERMISSIVE' } }] }),
      ),
    ).toMatchObject([
      {
        metadata: { name: 'httpbin-httpbin', namespace: 'test1' },
        spec: { selector: { matchLabels: { app: 'httpbin' } }, mtls: { mode: 'PERMISSIVE' } },
      },
    ]);
  });

  it('no peers means plaintext only: DISABLE (the converter says PERMISSIVE)', () => {
    expect(translate(policy('test1', 'default', {}))).toMatchObject([
      { metadata: { name: 'default', namespace: 'test1' }, spec: { mtls: { mode: 'DISABLE' } } },
    ]);
    expect(translate(policy('test1', 'default', {}))[0]!.spec).not.toHaveProperty('selector');
  });

  it('service ports become workload ports in portLevelMtls, by number or by name', () => {
    expect(
      translate(
        policy('test1', 'p', {
          targets: [{ name: 'httpbin', ports: [{ number: 8000 }, { name: 'admin' }] }],
          peers: [{ mtls: {} }],
        }),
      )[0]!.spec,
    ).toEqual({
      selector: { matchLabels: { app: 'httpbin' } },
      portLevelMtls: { '8080': { mode: 'STRICT' }, '9090': { mode: 'STRICT' } },
    });
  });

  it('refuses what PeerAuthentication cannot express, and targets that do not exist', () => {
    const shared: Service = {
      ...httpbin,
      ports: [httpbin.ports[0]!, { name: 'http-alt', port: 9080, targetPort: 8080, protocol: 'http' }],
    };
    expect(() =>
      translateLegacy(
        policies(
          policy('test1', 'p', { targets: [{ name: 'httpbin', ports: [{ number: 9080 }] }], peers: [{ mtls: {} }] }),
        ) as LegacyPolicy[],
        [shared],
        meshConfig('modern'),
      ),
    ).toThrow(/shares target port 8080 with port 8000/);
    expect(() =>
      translate(policy('test1', 'p', { targets: [{ name: 'productpage' }], peers: [{ mtls: {} }] })),
    ).toThrow(/could not find service test1\/productpage/);
  });
});
