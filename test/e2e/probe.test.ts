// `meshprobe probe`: the cluster's own policies as they stand. Nothing applied; the matrix predicted
// from what the cluster holds, and observed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

describe.runIf(!REAL_KUBECONFIG)('meshprobe probe (emulated cluster with its own policies)', () => {
  let cluster: TestCluster;
  let doc: ReportDocument;
  let code: number;
  let istioWrites: number;

  beforeAll(async () => {
    cluster = await testCluster('modern');
    const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
    // The staging mesh's own policies: STRICT everywhere, test3 exempt for calls into it.
    await k8s.apply({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRICT' } },
    });
    await k8s.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'no-mtls-to-test2-alt', namespace: 'istio-system' },
      spec: {
        host: 'httpbin.test2.svc.cluster.local',
        trafficPolicy: { portLevelSettings: [{ port: { number: 9080 }, tls: { mode: 'DISABLE' } }] },
      },
    });
    // ... and a mesh-wide AuthorizationPolicy: no POST to any httpbin.
    await k8s.apply({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'no-post', namespace: 'istio-system' },
      spec: {
        selector: { matchLabels: { app: 'httpbin' } },
        action: 'DENY',
        rules: [{ to: [{ operation: { methods: ['POST'] } }] }],
      },
    });
    const before = cluster.emulator!.audit.entries().length;
    const r = await cli(['--kubeconfig', cluster.kubeconfig, '-q', 'probe', '-o', 'json', '--settle', '3'], {
      env: { HOME: cluster.kubeconfig.replace(/\/[^/]+$/, '') },
    });
    code = r.code;
    doc = JSON.parse(r.stdout) as ReportDocument;
    istioWrites = cluster
      .emulator!.audit.entries()
      .slice(before)
      .filter((e) => e.apiGroup.endsWith('istio.io')).length;
  }, 300_000);
  afterAll(() => cluster?.stop());

  it("observes what the oracle predicts from the cluster's policies", () => {
    expect(code).toBe(0);
    const [s] = doc.scenarios;
    expect(s!.name).toBe('cluster-policies');
    expect(s!.cells.every((c) => c.expected.source === 'oracle' && c.match)).toBe(true);
    const cell = (from: string, to: string) => s!.cells.find((c) => c.from === from && c.to === to)!;
    expect(cell('test3/sleep', 'test1/httpbin:8000').observed!.outcome).toBe('reset');
    expect(cell('test1/sleep', 'test2/httpbin:8000').observed!.outcome).toBe('mtls');
    expect(cell('test1/sleep', 'test2/httpbin:9080')).toMatchObject({
      observed: { outcome: 'upstream-error' },
      reason: { server: [{ by: 'PeerAuthentication istio-system/default' }] },
    });
  });

  it("reads the cluster's AuthorizationPolicies: the deny is predicted, observed and named", () => {
    const [s] = doc.scenarios;
    const post = s!.cells.find((c) => c.from === 'test2/sleep' && c.to === 'test1/httpbin:8000 POST /anything')!;
    expect(post).toMatchObject({
      match: true,
      observed: { outcome: 'denied', httpCode: 403, detail: 'RBAC: access denied' },
      reason: {
        authorization: {
          effect: 'denied',
          matchedPolicy: 'ns[istio-system]-policy[no-post]-rule[0]',
          decidedBy: 'AuthorizationPolicy istio-system/no-post rule 0',
        },
      },
    });
    // STRICT resets plaintext before any authorization filter runs.
    const plain = s!.cells.find((c) => c.from === 'test3/sleep' && c.to === 'test1/httpbin:8000 POST /anything')!;
    expect(plain).toMatchObject({
      observed: { outcome: 'reset' },
      reason: { authorization: { effect: 'not-reached' } },
    });
  });

  it('applies nothing', () => {
    expect(istioWrites).toBe(0);
  });
});
