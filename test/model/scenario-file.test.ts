// Bad scenario files are refused before anything could be applied, with file:line:column, the field and what is allowed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadScenarios } from '../../src/model/scenario-file.js';
import { loadTopology } from '../../src/model/topology-file.js';

const topology = loadTopology();
const dir = mkdtempSync(join(tmpdir(), 'meshprobe-scenarios-'));
let n = 0;

function write(text: string): string {
  const file = join(dir, `s${++n}.yaml`);
  writeFileSync(file, text);
  return file;
}

function errorOf(...texts: string[]): string {
  const files = texts.map(write);
  try {
    loadScenarios(files, topology);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

const header = (name = 'bad', extra = '') => `apiVersion: meshprobe/v1
kind: Scenario
metadata:
  name: ${name}
spec:
  description: a test${extra}
`;
const object = (body: string) => `${header()}  objects:\n${body}`;

describe('scenario loader errors', () => {
  it('invalid YAML', () => {
    expect(errorOf(`${header()}  objects: [\n`)).toMatch(/s\d+\.yaml:8:1: invalid YAML/);
  });

  it('an unknown kind', () => {
    const msg = errorOf(
      object(`    - apiVersion: security.istio.io/v1
      kind: RequestAuthentication
      metadata: {name: x, namespace: test1}
      spec: {}
`),
    );
    expect(msg).toMatch(
      /:9:7: spec\.objects\[0\]\.kind: "RequestAuthentication" is not a kind meshprobe can apply; expected one of PeerAuthentication, DestinationRule, MeshPolicy, Policy, AuthorizationPolicy/,
    );
  });

  it('an invalid mTLS mode', () => {
    const msg = errorOf(
      object(`    - apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: x, namespace: test1}
      spec:
        mtls:
          mode: STRICTT
`),
    );
    expect(msg).toMatch(
      /:13:11: spec\.objects\[0\]\.spec\.mtls\.mode: "STRICTT" is not allowed; expected one of "UNSET", "DISABLE", "PERMISSIVE", "STRICT"/,
    );
  });

  it('an invalid DestinationRule TLS mode', () => {
    const msg = errorOf(
      object(`    - apiVersion: networking.istio.io/v1alpha3
      kind: DestinationRule
      metadata: {name: x, namespace: test1}
      spec:
        host: httpbin
        trafficPolicy: {tls: {mode: MUTUAL_ISTIO}}
`),
    );
    expect(msg).toMatch(
      /:13:31: spec\.objects\[0\]\.spec\.trafficPolicy\.tls\.mode: "MUTUAL_ISTIO" is not allowed; expected one of "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"/,
    );
  });

  it('an apiVersion the kind is not served under', () => {
    expect(
      errorOf(
        object(`    - apiVersion: security.istio.io/v1alpha1
      kind: PeerAuthentication
      metadata: {name: x, namespace: test1}
      spec: {}
`),
      ),
    ).toMatch(
      /:8:7: spec\.objects\[0\]\.apiVersion: "security\.istio\.io\/v1alpha1" is not allowed; expected one of "security\.istio\.io\/v1beta1", "security\.istio\.io\/v1"/,
    );
  });

  it('portLevelMtls without a selector', () => {
    expect(
      errorOf(
        object(`    - apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: x, namespace: test1}
      spec:
        portLevelMtls:
          8080: {mode: DISABLE}
`),
      ),
    ).toMatch(/:12:9: spec\.objects\[0\]\.spec\.portLevelMtls: portLevelMtls requires selector/);
  });

  it('the same object twice', () => {
    const pa = `    - apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: x, namespace: test1}
      spec: {mtls: {mode: STRICT}}
`;
    expect(errorOf(object(pa + pa))).toMatch(
      /:14:18: spec\.objects\[1\]\.metadata\.name: PeerAuthentication test1\/x is defined twice in this scenario \(first at objects\[0\]\)/,
    );
  });

  it('a namespace that is not ours', () => {
    expect(
      errorOf(
        object(`    - apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: x, namespace: payments}
      spec: {}
`),
      ),
    ).toMatch(
      /:10:27: spec\.objects\[0\]\.metadata\.namespace: "payments" is neither a namespace of the topology \(test1, test2, test3, ngtest\) nor the root namespace istio-system/,
    );
  });

  it('a namespaced MeshPolicy, and one not named default', () => {
    expect(
      errorOf(
        object(`    - apiVersion: authentication.istio.io/v1alpha1
      kind: MeshPolicy
      metadata: {name: default, namespace: istio-system}
      spec: {}
`),
      ),
    ).toMatch(/:10:33: spec\.objects\[0\]\.metadata\.namespace: is not allowed: this kind is cluster-scoped/);
    expect(
      errorOf(
        object(`    - apiVersion: authentication.istio.io/v1alpha1
      kind: MeshPolicy
      metadata: {name: strict}
      spec: {}
`),
      ),
    ).toMatch(
      /:10:18: spec\.objects\[0\]\.metadata\.name: "strict" would be ignored by Istio: only the MeshPolicy named "default" is recognised/,
    );
  });

  it("legacy Policy names Istio 1.4's validation refuses", () => {
    expect(
      errorOf(
        object(`    - apiVersion: authentication.istio.io/v1alpha1
      kind: Policy
      metadata: {name: strict-ns, namespace: test1}
      spec: {peers: [{mtls: {}}]}
`),
      ),
    ).toMatch(
      /:10:18: spec\.objects\[0\]\.metadata\.name: a Policy without targets is namespace-wide and must be named "default"/,
    );
    expect(
      errorOf(
        object(`    - apiVersion: authentication.istio.io/v1alpha1
      kind: Policy
      metadata: {name: default, namespace: test1}
      spec: {targets: [{name: httpbin}]}
`),
      ),
    ).toMatch(
      /:11:14: spec\.objects\[0\]\.spec\.targets: a Policy named "default" is namespace-wide and must not have targets/,
    );
  });

  it('an expectation naming a workload the topology does not have', () => {
    expect(errorOf(`${header()}  expect:\n    all:\n      - {from: test9/sleep, to: "*", expect: mtls}\n`)).toMatch(
      /:9:10: spec\.expect\.all\[0\]\.from: "test9\/sleep" matches no client of the topology; clients: test1\/sleep, test1\/sleep-other, test2\/sleep, test3\/sleep, ngtest\/sleep/,
    );
    expect(
      errorOf(`${header()}  expect:\n    all:\n      - {from: "*", to: [test1/httpbin:8001], expect: mtls}\n`),
    ).toMatch(/:9:26: spec\.expect\.all\[0\]\.to\[0\]: "test1\/httpbin:8001" matches no probed port/);
  });

  it('an expectation that is not an outcome', () => {
    expect(errorOf(`${header()}  expect:\n    modern:\n      - {from: "*", to: "*", expect: passed}\n`)).toMatch(
      /:9:30: spec\.expect\.modern\[0\]\.expect: "passed" is not allowed; expected one of "mtls", "plaintext"/,
    );
  });

  it('an unknown field, and a missing one', () => {
    expect(errorOf(`${header()}  expects: []\n`)).toMatch(/:7:3: spec\.expects: unknown field "expects"/);
    expect(errorOf(`apiVersion: meshprobe/v1\nkind: Scenario\nmetadata: {name: x}\nspec: {}\n`)).toMatch(
      /:4:1: spec\.description: is required/,
    );
  });

  it('two scenarios with one name, across files', () => {
    expect(errorOf(header('same'), header('same'))).toMatch(
      /s\d+\.yaml:4:3: metadata\.name: scenario "same" is already defined at .*s\d+\.yaml:4:3/,
    );
  });

  it('a missing file', () => {
    expect(() => loadScenarios([join(dir, 'nope.yaml')], topology)).toThrow(/nope\.yaml: file not found/);
  });

  it('reports every bad file of a set at once', () => {
    const msg = errorOf(
      `${header('one')}  objects: [{kind: Gateway}]\n`,
      `${header('two')}  expect: {all: [{from: x, to: "*", expect: mtls}]}\n`,
    );
    expect(msg.split('\n')).toHaveLength(2);
  });

  // Istio's validation webhook (pkg/config/validation/validation.go ValidateAuthorizationPolicy, 1.24)
  // refuses these; the API server would answer `kubectl apply` with an admission error.
  const authz = (spec: string) =>
    errorOf(
      object(`    - apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: x, namespace: test1}
      spec: ${spec}
`),
    );

  it('an AuthorizationPolicy the validation webhook refuses', () => {
    expect(authz('{action: DENY}')).toMatch(
      /:11:14: spec\.objects\[0\]\.spec\.action: DENY action without `rules` is meaningless as it will never be triggered; add an empty rule `\{\}` to deny every request \(Istio's validation webhook refuses this AuthorizationPolicy\)/,
    );
    expect(authz('{rules: [{when: [{key: destination.namespace, values: [test1]}]}]}')).toMatch(
      /spec\.objects\[0\]\.spec\.rules\[0\]\.when\[0\]\.key: attribute destination\.namespace is replaced by the metadata\.namespace/,
    );
    expect(authz('{rules: [{when: [{key: source.name, values: [x]}]}]}')).toMatch(
      /unknown attribute: source\.name \(known: /,
    );
    expect(authz('{rules: [{when: [{key: "request.headers[x-token]"}]}]}')).toMatch(
      /at least one of `values` or `notValues` must be set for key request\.headers\[x-token\]/,
    );
    expect(authz('{rules: [{to: [{operation: {ports: ["80a"]}}]}]}')).toMatch(/\.ports\[0\]: bad port \(80a\)/);
    expect(authz('{rules: [{from: [{source: {ipBlocks: ["10.0.0.0/33"]}}]}]}')).toMatch(
      /bad CIDR range \(10\.0\.0\.0\/33\)/,
    );
    expect(authz('{rules: [{from: [{source: {}}]}]}')).toMatch(/`from\.source` must not be empty/);
    expect(authz('{rules: [{to: [{operation: {paths: ["/{*}.txt"]}}]}]}')).toMatch(/beyond a supported path template/);
    expect(authz('{provider: {name: ext}, rules: [{}]}')).toMatch(
      /`provider` must not be with non CUSTOM action, found ALLOW/,
    );
    expect(authz('{action: CUSTOM, rules: [{}]}')).toMatch(/`provider\.name` must not be empty/);
    expect(authz('{action: CUSTOM, provider: {name: e}, rules: [{from: [{source: {principals: [a]}}]}]}')).toMatch(
      /principals is currently not supported with CUSTOM action/,
    );
    // The CRD schema: fields it does not have, and selector with targetRefs.
    expect(authz('{rules: [{from: [{source: {notPrinciple: [a]}}]}]}')).toMatch(/notPrinciple/);
    expect(authz('{selector: {matchLabels: {a: b}}, targetRefs: [{kind: Gateway, name: g}]}')).toMatch(
      /only one of targetRefs or selector can be set/,
    );
  });

  it('allow-nothing, deny-all and allow-all as the concepts page writes them', () => {
    for (const spec of ['{}', '', '{rules: [{}]}', '{action: DENY, rules: [{}]}'])
      expect(() =>
        loadScenarios(
          [
            write(
              object(`    - apiVersion: security.istio.io/v1beta1
      kind: AuthorizationPolicy
      metadata: {name: x, namespace: test1}
      spec: ${spec}
`),
            ),
          ],
          topology,
        ),
      ).not.toThrow();
  });
});
