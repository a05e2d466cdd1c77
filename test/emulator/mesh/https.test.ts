// Semantics reference §8, the "Mutual TLS over HTTPS" task: an HTTPS nginx with and without a sidecar, reached
// from the sleep container (captured by its sidecar, which handles port `https` at L4) and from the
// istio-proxy container (not captured, no client certificate).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness as startHarness } from './api-harness.js';
import type { Harness } from './harness.js';
import { destinationRule } from './outcomes.js';
import type { Flavor } from './policy/types.js';

const WELCOME = '<h1>Welcome to nginx!</h1>';

function mtlsOn(flavor: Flavor): string[] {
  return flavor === 'modern'
    ? [
        'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n',
      ]
    : [
        'apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\nmetadata:\n  name: default\nspec:\n  peers:\n  - mtls: {}\n',
        destinationRule('istio-system', 'default', '*.local', 'ISTIO_MUTUAL'),
      ];
}

for (const flavor of ['legacy', 'modern'] as Flavor[]) {
  describe(`mutual TLS over HTTPS (${flavor})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(flavor, [
        { ns: 'ngtest', injected: true, workloads: ['sleep', 'my-nginx'] },
        { ns: 'ngside', injected: true, workloads: ['sleep', 'my-nginx'], forceInject: true },
      ]);
    });
    afterAll(async () => h?.stop());

    it('1. nginx without sidecar, mTLS off: both containers get the page', async () => {
      for (const container of ['sleep', 'istio-proxy']) {
        const out = await h.curl('ngtest', 'https://my-nginx', { container, extra: ['-k'] });
        expect({ container, exit: out.exit, http: out.http }).toEqual({ container, exit: 0, http: '200' });
        expect(out.body).toContain(WELCOME);
      }
    });

    it('2. nginx with sidecar, mTLS off: both containers get the page', async () => {
      for (const container of ['sleep', 'istio-proxy']) {
        const out = await h.curl('ngside', 'https://my-nginx', { container, extra: ['-k'] });
        expect({ container, exit: out.exit, http: out.http }).toEqual({ container, exit: 0, http: '200' });
        expect(out.body).toContain(WELCOME);
      }
    });

    it('3. nginx with sidecar, mTLS on: sleep gets the page over L4 mTLS; istio-proxy fails with exit 56 (certificate required)', async () => {
      const objs = mtlsOn(flavor);
      await h.apply(objs);
      try {
        await h.settle();
        const fromSleep = await h.curl('ngside', 'https://my-nginx', { extra: ['-k'] });
        expect({ exit: fromSleep.exit, http: fromSleep.http }).toEqual({ exit: 0, http: '200' });
        expect(fromSleep.body).toContain(WELCOME);
        const fromProxy = await h.curl('ngside', 'https://my-nginx', { container: 'istio-proxy', extra: ['-k'] });
        expect({ exit: fromProxy.exit, http: fromProxy.http }).toEqual({ exit: 56, http: '000' });
        expect(fromProxy.stderr).toMatch(/alert certificate required/);
      } finally {
        await h.remove(objs);
        await h.settle();
      }
    });

    it('nginx without sidecar under a *.local ISTIO_MUTUAL rule: the sidecar wraps TLS in mTLS and curl fails with exit 35', async () => {
      const dr = [destinationRule('istio-system', 'default', '*.local', 'ISTIO_MUTUAL')];
      await h.apply(dr);
      try {
        await h.settle();
        const out = await h.curl('ngtest', 'https://my-nginx', { extra: ['-k'] });
        expect({ exit: out.exit, http: out.http }).toEqual({ exit: 35, http: '000' });
        // The fix the reference names: a more specific rule disabling TLS for my-nginx.
        const fix = [destinationRule('istio-system', 'my-nginx', 'my-nginx.ngtest.svc.cluster.local', 'DISABLE')];
        await h.apply(fix);
        await h.settle();
        const fixed = await h.curl('ngtest', 'https://my-nginx', { extra: ['-k'] });
        expect({ exit: fixed.exit, http: fixed.http }).toEqual({ exit: 0, http: '200' });
        await h.remove(fix);
      } finally {
        await h.remove(dr);
        await h.settle();
      }
    });
  });
}
