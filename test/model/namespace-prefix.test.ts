import { describe, expect, it } from 'vitest';
import { agrees } from '../../src/model/cell.js';
import { fromObject } from '../../src/model/istio-objects.js';
import { prefixNamespaces } from '../../src/model/namespace-prefix.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { supportsFlavor } from '../../src/model/scenario.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { expectedMatrix } from '../../src/oracle/expected.js';
import { installDefaults, meshConfig, overlay } from '../../src/oracle/mesh.js';
import { predict } from '../../src/oracle/predict.js';

const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);

describe('--namespace-prefix', () => {
  const { topology: t, scenarios: ss } = prefixNamespaces(topology, scenarios, 'ci-42');

  it('moves the topology, and everything that names its namespaces, to P-NAME', () => {
    expect(t.namespaces.map((n) => n.name)).toEqual(['ci-42-test1', 'ci-42-test2', 'ci-42-test3', 'ci-42-ngtest']);
    expect(t.targets[0]!.id).toBe('ci-42-test1/httpbin:8000');
    const s03 = ss.find((s) => s.name === 'mesh-strict-dr-disable-test3')!;
    const dr = s03.objects.find((o) => o.kind === 'DestinationRule' && o.name === 'httpbin')!;
    expect(dr.namespace).toBe('ci-42-test3');
    expect((dr.raw.spec as { host: string }).host).toBe('httpbin.ci-42-test3.svc.cluster.local');
    expect(s03.objects.find((o) => o.kind === 'DestinationRule' && o.name === 'default')!.namespace).toBe(
      'istio-system',
    );
    expect(
      ss
        .find((s) => s.name === 'namespace-policy')!
        .objects.map((o) => (o.raw.spec as { host?: string }).host ?? o.namespace),
    ).toEqual(['ci-42-test2', '*.ci-42-test2.svc.cluster.local']);
  });

  it('keeps every scenario expectation true, in both flavors', () => {
    for (const flavor of ['modern', 'legacy'] as const) {
      const mesh = meshConfig(flavor);
      for (const s of ss.filter((x) => supportsFlavor(x, flavor))) {
        const cells = expectedMatrix(
          t,
          s,
          flavor,
          predict(t, overlay(t, installDefaults(mesh), s.objects, mesh), mesh),
        );
        expect(
          [...cells.entries()]
            .filter(([, , c]) => !agrees(c) || c.source !== 'scenario')
            .map(([from, to]) => `${s.name}: ${from} -> ${to}`),
        ).toEqual([]);
      }
    }
  });

  it("moves AuthorizationPolicies' principals, namespaces and hosts that name a topology namespace", () => {
    const ap = (name: string) =>
      ss.flatMap((s) => s.objects).find((o) => o.kind === 'AuthorizationPolicy' && o.name === name)!;
    expect(ap('allow-principal').namespace).toBe('ci-42-test1');
    expect(ap('allow-principal').raw.spec).toMatchObject({
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/ci-42-test1/sa/sleep'] } }] }],
    });
    expect(ap('allow-namespace').raw.spec).toMatchObject({
      rules: [{ from: [{ source: { namespaces: ['ci-42-test2'] } }] }],
    });
    // The root namespace is not the topology's: its policy stays there, naming the moved namespace.
    expect(ap('deny-not-test1').namespace).toBe('istio-system');
    expect(ap('deny-not-test1').raw.spec).toMatchObject({
      rules: [{ from: [{ source: { notNamespaces: ['ci-42-test1'] } }] }],
    });

    const custom = prefixNamespaces(
      topology,
      [
        {
          ...scenarios[0]!,
          objects: [
            fromObject(
              {
                apiVersion: 'security.istio.io/v1',
                kind: 'AuthorizationPolicy',
                metadata: { name: 'x', namespace: 'test1' },
                spec: {
                  rules: [
                    {
                      from: [{ source: { principals: ['*/ns/test2/sa/*'], notNamespaces: ['test*', 'other*', '*'] } }],
                      to: [{ operation: { hosts: ['httpbin.test1:8000', 'httpbin.test3.svc.cluster.local', '*'] } }],
                      when: [
                        { key: 'source.namespace', notValues: ['ngtest'] },
                        { key: 'request.headers[x]', values: ['test1'] },
                      ],
                    },
                  ],
                },
              },
              0,
            ),
          ],
        },
      ],
      'p',
    ).scenarios[0]!.objects[0]!;
    expect(custom.raw.spec).toEqual({
      rules: [
        {
          from: [{ source: { principals: ['*/ns/p-test2/sa/*'], notNamespaces: ['p-test*', 'other*', '*'] } }],
          to: [{ operation: { hosts: ['httpbin.p-test1:8000', 'httpbin.p-test3.svc.cluster.local', '*'] } }],
          when: [
            { key: 'source.namespace', notValues: ['p-ngtest'] },
            { key: 'request.headers[x]', values: ['test1'] },
          ],
        },
      ],
    });
  });

  it('refuses a prefix that is not a DNS label or makes names too long', () => {
    expect(() => prefixNamespaces(topology, scenarios, 'CI_42')).toThrow(/must be lower-case letters, digits and "-"/);
    expect(() => prefixNamespaces(topology, scenarios, 'x'.repeat(60))).toThrow(/longer than 63 characters/);
  });
});
