// AuthorizationPolicy on a TCP port, end to end: Envoy's network RBAC filter closes the connection without
// a reply (curl exit 52), which meshprobe classifies as `reset` and the oracle predicts with the policy
// named; istiod drops an ALLOW rule with an HTTP-only field there, and widens a DENY rule by dropping it
// (pilot/pkg/security/authz/model/model.go checkError).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const WORKLOADS = resolve('manifests/workloads');

function files(): { topology: string; scenarios: string } {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-authz-tcp-'));
  // httpbin with a third Service port that Istio handles as TCP (name prefix `tcp`), on a container port of
  // its own: a sidecar's inbound listener is per container port, so it cannot be HTTP and TCP at once. (The
  // emulated app answers on every container port its pod declares.)
  const httpbin = readFileSync(join(WORKLOADS, 'httpbin.yaml'), 'utf8')
    .replace(
      '    - name: http-alt\n      port: 9080\n      targetPort: 8080\n',
      '    - name: http-alt\n      port: 9080\n      targetPort: 8080\n    - name: tcp-raw\n      port: 9000\n      targetPort: 9000\n',
    )
    .replace(
      '            - containerPort: 8080\n',
      '            - containerPort: 8080\n            - containerPort: 9000\n',
    );
  writeFileSync(join(dir, 'httpbin.yaml'), httpbin);
  writeFileSync(
    join(dir, 'topology.yaml'),
    `apiVersion: meshprobe/v1
kind: Topology
metadata: {name: tcp}
spec:
  namespaces:
    - {name: tcp1, injection: true, workloads: [httpbin, sleep]}
    - {name: tcp2, injection: false, workloads: [sleep]}
  workloads:
    httpbin: {manifest: ${dir}/httpbin.yaml, serve: [{ports: [http, tcp-raw], path: /headers}]}
    sleep: {manifest: ${WORKLOADS}/sleep.yaml, client: {container: sleep}}
`,
  );
  const scenario = (name: string, policy: string) => `apiVersion: meshprobe/v1
kind: Scenario
metadata: {name: ${name}}
spec:
  description: ${name}
  source: ["https://istio.io/latest/docs/reference/config/security/authorization-policy/"]
  objects:
    - apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ${name}, namespace: tcp1}
      spec: ${policy}
  expect:
    all:
      - {from: tcp1/sleep, to: tcp1/httpbin:8000, expect: mtls}
      - {from: tcp2/sleep, to: tcp1/httpbin:8000, expect: plaintext}
      - {from: "*", to: tcp1/httpbin:9000, expect: reset}
`;
  const scenarios = join(dir, 'scenarios');
  mkdirSync(scenarios);
  // ALLOW GET: on the TCP port the rule is dropped and nothing is allowed.
  writeFileSync(
    join(scenarios, '1.yaml'),
    scenario('tcp-allow-get', '{rules: [{to: [{operation: {methods: [GET]}}]}]}'),
  );
  // DENY a path no probe asks for: on the TCP port the path goes and the rule denies everything.
  writeFileSync(
    join(scenarios, '2.yaml'),
    scenario('tcp-deny-widened', '{action: DENY, rules: [{to: [{operation: {paths: [/nothing]}}]}]}'),
  );
  return { topology: join(dir, 'topology.yaml'), scenarios };
}

describe.runIf(!REAL_KUBECONFIG)('AuthorizationPolicy on a TCP port (emulated cluster)', () => {
  let cluster: TestCluster;
  let doc: ReportDocument;
  let code: number;
  let stderr: string;

  beforeAll(async () => {
    const f = files();
    cluster = await testCluster('modern');
    const r = await cli([
      '--kubeconfig',
      cluster.kubeconfig,
      '-q',
      'run',
      '--topology',
      f.topology,
      '-f',
      f.scenarios,
      '-o',
      'json',
      '--settle',
      '3',
    ]);
    code = r.code;
    stderr = r.stderr;
    doc = JSON.parse(r.stdout || '{}') as ReportDocument;
  }, 300_000);
  afterAll(() => cluster?.stop());

  it('observes the closed connection the oracle predicts, and names the policy', () => {
    const bad = doc.scenarios.flatMap((s) =>
      s.cells
        .filter((c) => !c.match)
        .map(
          (c) =>
            `${s.name}: ${c.from} -> ${c.to}: want ${c.expected.outcome}, got ${c.observed?.outcome} ${c.observed?.curlExit} ${c.observed?.detail ?? ''}`,
        ),
    );
    expect(bad).toEqual([]);
    expect(code, stderr).toBe(0);
    for (const s of doc.scenarios) {
      const tcp = s.cells.filter((c) => c.to === 'tcp1/httpbin:9000');
      expect(tcp).toHaveLength(2);
      for (const c of tcp) {
        expect(c.observed, `${s.name} ${c.from}`).toMatchObject({ outcome: 'reset', curlExit: 52 });
        expect(c.reason.predicted).toBe('reset');
        expect(c.reason.authorization).toMatchObject({ effect: 'denied' });
      }
    }
    const allow = doc.scenarios.find((s) => s.name === 'tcp-allow-get')!;
    expect(allow.cells.find((c) => c.to === 'tcp1/httpbin:9000')!.reason.authorization!.steps).toContainEqual({
      by: 'AuthorizationPolicy tcp1/tcp-allow-get rule 0',
      says: 'ALLOW rule dropped by istiod on the TCP filter chain: operation.methods is HTTP only',
    });
    const widened = doc.scenarios.find((s) => s.name === 'tcp-deny-widened')!;
    expect(widened.cells.find((c) => c.to === 'tcp1/httpbin:9000')!.reason.authorization!.decidedBy).toBe(
      'AuthorizationPolicy tcp1/tcp-deny-widened rule 0',
    );
  });
});
