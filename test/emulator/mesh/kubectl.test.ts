// The must-show, by hand as a user types it: kubectl exec into sleep, curl httpbin's /headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness, type ApiCluster } from './api-harness.js';
import type { Harness } from './harness.js';

describe('kubectl against the emulated mesh', () => {
  let h: Harness & { cluster: ApiCluster };
  beforeAll(async () => {
    h = await startApiHarness('modern', [
      { ns: 'test1', injected: true, workloads: ['httpbin', 'sleep'] },
      { ns: 'test3', injected: false, workloads: ['httpbin', 'sleep'] },
    ]);
  });
  afterAll(async () => h?.stop());

  it('kubectl exec -n test1 deploy/sleep -c sleep -- curl -s http://httpbin.test1:8000/headers shows X-Forwarded-Client-Cert', async () => {
    const r = await h.cluster.kubectl([
      'exec',
      '-n',
      'test1',
      'deploy/sleep',
      '-c',
      'sleep',
      '--',
      'curl',
      '-s',
      'http://httpbin.test1:8000/headers',
    ]);
    expect(r.code).toBe(0);
    const headers = JSON.parse(r.stdout).headers as Record<string, string[]>;
    expect(headers['X-Forwarded-Client-Cert']?.[0]).toMatch(
      /^By=spiffe:\/\/cluster\.local\/ns\/test1\/sa\/httpbin;Hash=[0-9a-f]{64};Subject="";URI=spiffe:\/\/cluster\.local\/ns\/test1\/sa\/sleep$/,
    );
    // The client sidecar's access log says where the request went and why it was mTLS.
    const pod = h.cluster.pods('test1', 'sleep')[0]!.metadata.name;
    const logs = await h.cluster.kubectl(['logs', '-n', 'test1', pod, '-c', 'istio-proxy']);
    expect(logs.stdout).toMatch(
      /"GET \/headers HTTP\/1\.1" 200 - via_upstream "httpbin\.test1:8000" "10\.[\d.]+:8080 istio-mutual \(no DestinationRule; auto mTLS\)" outbound\|8000\|\|httpbin\.test1\.svc\.cluster\.local/,
    );
  });

  it('without a sidecar on the server there is no X-Forwarded-Client-Cert, and a naked client is reset by STRICT (exit 56)', async () => {
    const plain = await h.cluster.kubectl([
      'exec',
      '-n',
      'test1',
      'deploy/sleep',
      '-c',
      'sleep',
      '--',
      'curl',
      '-s',
      'http://httpbin.test3:8000/headers',
    ]);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout).headers['X-Forwarded-Client-Cert']).toBeUndefined();
    const strict =
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: test1\nspec:\n  mtls:\n    mode: STRICT\n';
    await h.apply([strict]);
    try {
      await h.settle();
      const reset = await h.cluster.kubectl([
        'exec',
        '-n',
        'test3',
        'deploy/sleep',
        '-c',
        'sleep',
        '--',
        'curl',
        '-sS',
        'http://httpbin.test1:8000/headers',
      ]);
      expect(reset.code).toBe(56);
      expect(reset.stderr).toContain('curl: (56) Recv failure: Connection reset by peer');
      expect(reset.stderr).toContain('command terminated with exit code 56');
    } finally {
      await h.remove([strict]);
    }
  });

  it('kubectl exec -c istio-proxy -- pilot-agent request GET certs', async () => {
    const r = await h.cluster.kubectl([
      'exec',
      '-n',
      'test1',
      'deploy/httpbin',
      '-c',
      'istio-proxy',
      '--',
      'pilot-agent',
      'request',
      'GET',
      'certs',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).certificates[0].cert_chain[0].subject_alt_names).toEqual([
      { uri: 'spiffe://cluster.local/ns/test1/sa/httpbin' },
    ]);
    const missing = await h.cluster.kubectl([
      'exec',
      '-n',
      'test1',
      'deploy/httpbin',
      '-c',
      'httpbin',
      '--',
      'sh',
      '-c',
      'true',
    ]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('exec: "sh": executable file not found in $PATH');
  });
});
