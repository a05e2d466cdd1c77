// `meshprobe run` over every scenario, on the emulated cluster in both Istio flavors (or on the cluster
// of MESHPROBE_E2E_KUBECONFIG): every observed matrix equals the expected one after converging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const flavors = REAL_KUBECONFIG ? (['real'] as const) : (['modern', 'legacy'] as const);

describe.each(flavors)('meshprobe run, every scenario (%s)', (flavor) => {
  let cluster: TestCluster;
  let doc: ReportDocument;
  let code: number;
  let stderr: string;

  beforeAll(async () => {
    cluster = await testCluster(flavor === 'real' ? 'modern' : flavor);
    const r = await cli([
      '--kubeconfig',
      cluster.kubeconfig,
      'run',
      '--allow-cluster-wide',
      '-o',
      'json',
      '--settle',
      '5',
    ]);
    code = r.code;
    stderr = r.stderr;
    doc = JSON.parse(r.stdout || '{}') as ReportDocument;
  }, 600_000);
  afterAll(() => cluster?.stop());

  it('exits 0 with every cell as expected', () => {
    expect(code, stderr).toBe(0);
    // 24 scenarios of 5 clients × 8 requests; Istio 1.4 runs the 11 without AuthorizationPolicy.
    const scenarios = flavor === 'legacy' ? 11 : 24;
    expect(doc.summary).toMatchObject({
      scenarios,
      cells: scenarios * 40,
      matched: scenarios * 40,
      mismatched: 0,
      errors: 0,
    });
    if (flavor !== 'real') expect(doc.metadata.flavor).toBe(flavor);
    if (flavor === 'legacy') {
      expect(stderr).toContain(
        'warning: skipped scenario authz-allow-nothing: it uses AuthorizationPolicy: meshprobe predicts AuthorizationPolicy for Istio >= 1.5 only',
      );
      // Istio 1.4's pilot-discovery has no `request` command: no push status, and no permission would help.
      expect(stderr).toMatch(
        /warning: istiod's sync status cannot be read \(pilot-discovery request GET \/debug\/syncz in istiod-\S+ exited 255\)/,
      );
      expect(stderr).not.toContain('allow `create pods/exec`');
    }
  });

  it('converges every scenario, keeping every round', () => {
    for (const s of doc.scenarios) {
      expect(s.verdict, s.name).toBe('pass');
      expect(s.convergence?.converged, s.name).toBe(true);
      expect(s.convergence?.history).toHaveLength(s.convergence!.rounds);
      // One exec per client pod per round.
      for (const r of s.convergence!.history!) expect(r.execs).toBe(s.clients.length);
    }
  });

  it.runIf(flavor !== 'real')(
    'saw the old behaviour right after applying, and the new one later (propagation delay)',
    () => {
      const strict = doc.scenarios.find((s) => s.name === 'mesh-strict-dr-mutual')!;
      expect(strict.convergence!.history![0]!.mismatched).toBeGreaterThan(0);
      expect(strict.convergence!.rounds).toBeGreaterThan(2);
    },
  );

  it('records, per cell, the evidence and a command to reproduce it', () => {
    const strict = doc.scenarios.find((s) => s.name === 'mesh-strict-dr-mutual')!;
    const mtls = strict.cells.find((c) => c.from === 'test2/sleep' && c.to === 'test1/httpbin:8000')!;
    expect(mtls.observed).toMatchObject({
      outcome: 'mtls',
      reachable: true,
      mtls: true,
      httpCode: 200,
      curlExit: 0,
      peer: 'spiffe://cluster.local/ns/test2/sa/sleep',
    });
    expect(mtls.observed!.command).toMatch(
      /^kubectl --kubeconfig \S+ --context \S+ exec -n test2 deploy\/sleep -c sleep -- curl -sS --max-time 5 .* http:\/\/httpbin\.test1:8000\/headers$/,
    );
    const reset = strict.cells.find((c) => c.from === 'test3/sleep' && c.to === 'test2/httpbin:9080')!;
    expect(reset.observed).toMatchObject({ outcome: 'reset', reachable: false, curlExit: 56 });
    const upstream = strict.cells.find((c) => c.from === 'ngtest/sleep' && c.to === 'test3/httpbin:8000')!;
    expect(upstream.observed).toMatchObject({ outcome: 'upstream-error', httpCode: 503, curlExit: 0 });
    const tls = strict.cells.find((c) => c.from === 'test1/sleep' && c.to === 'ngtest/my-nginx:443')!;
    expect(tls.observed).toMatchObject({ outcome: 'tls-error', curlExit: 35 });
  });

  it("reads the certificate a scenario asks for from the workload's sidecar", () => {
    const [cert] = doc.scenarios.find((s) => s.name === 'service-policy')!.certificates ?? [];
    expect(cert).toMatchObject({
      workload: 'test1/httpbin',
      pod: expect.stringMatching(/^httpbin-/),
      spiffe: ['spiffe://cluster.local/ns/test1/sa/httpbin'],
      serial: expect.stringMatching(/^[0-9a-f]+$/),
    });
    const lifetime = Date.parse(cert!.notAfter) - Date.parse(cert!.notBefore);
    if (flavor === 'modern') expect(lifetime).toBe(24 * 3600_000 + 120_000); // istiod: 24 h, not-before 2 min back
  });

  it.runIf(flavor !== 'real')('leaves nothing behind: no topology namespace, no scenario object', () => {
    const store = cluster.emulator!.store;
    for (const ns of ['test1', 'test2', 'test3', 'ngtest'])
      expect(store.get('', 'namespaces', undefined, ns), ns).toBeUndefined();
    const istio = [
      'peerauthentications',
      'authorizationpolicies',
      'destinationrules',
      'policies',
      'meshpolicies',
    ].flatMap((r) => [
      ...store.list('security.istio.io', r),
      ...store.list('networking.istio.io', r),
      ...store.list('authentication.istio.io', r),
    ]);
    expect(istio.filter((o) => o.metadata.labels?.['app.kubernetes.io/managed-by'] === 'meshprobe')).toEqual([]);
  });
});
