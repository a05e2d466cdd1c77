// The article's experiments (docs/semantics.md §11): test1 and test2 with sidecars, test3 without, httpbin
// and sleep in each; every client probes every server, each cell checked for curl exit, HTTP code and XFCC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness as startHarness } from './api-harness.js';
import type { Harness } from './harness.js';
import { destinationRule } from './outcomes.js';
import type { Flavor } from './policy/types.js';

type Cell = 'mtls' | 'plain' | '503' | 'reset';
const NS = ['test1', 'test2', 'test3'] as const;
/** rows: client namespace; columns: server namespace. */
type Matrix = Record<(typeof NS)[number], [Cell, Cell, Cell]>;

const meshStrict = (f: Flavor) =>
  f === 'legacy'
    ? 'apiVersion: authentication.istio.io/v1alpha1\nkind: MeshPolicy\nmetadata:\n  name: default\nspec:\n  peers:\n  - mtls: {}\n'
    : 'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: istio-system\nspec:\n  mtls:\n    mode: STRICT\n';
const httpbinPermissive = (f: Flavor) =>
  f === 'legacy'
    ? 'apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n  name: httpbin\n  namespace: test1\nspec:\n  targets:\n  - name: httpbin\n  peers:\n  - mtls:\n      mode: PERMISSIVE\n'
    : 'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: httpbin\n  namespace: test1\nspec:\n  selector:\n    matchLabels:\n      app: httpbin\n  mtls:\n    mode: PERMISSIVE\n';
const globalDr = destinationRule('istio-system', 'default', '*.local', 'ISTIO_MUTUAL');
const test3Disable = destinationRule('test3', 'httpbin', 'httpbin.test3.svc.cluster.local', 'DISABLE');

interface Scenario {
  name: string;
  objects: (f: Flavor) => string[];
  expect: (f: Flavor) => Matrix;
}

const A: Matrix = {
  test1: ['mtls', 'mtls', '503'],
  test2: ['mtls', 'mtls', '503'],
  test3: ['reset', 'reset', 'plain'],
};
const SCENARIOS: Scenario[] = [
  {
    name: '(a) mesh-wide STRICT + DR *.local ISTIO_MUTUAL',
    objects: (f) => [meshStrict(f), globalDr],
    expect: () => A,
  },
  {
    name: '(a) mesh-wide STRICT before the DestinationRule is applied',
    objects: (f) => [meshStrict(f)],
    expect: (f) =>
      f === 'legacy'
        ? { test1: ['503', '503', 'plain'], test2: ['503', '503', 'plain'], test3: ['reset', 'reset', 'plain'] }
        : { test1: ['mtls', 'mtls', 'plain'], test2: ['mtls', 'mtls', 'plain'], test3: ['reset', 'reset', 'plain'] },
  },
  {
    name: '(b) + DR httpbin.test3 DISABLE',
    objects: (f) => [meshStrict(f), globalDr, test3Disable],
    expect: () => ({
      test1: ['mtls', 'mtls', 'plain'],
      test2: ['mtls', 'mtls', 'plain'],
      test3: ['reset', 'reset', 'plain'],
    }),
  },
  {
    name: '(c) + httpbin in test1 PERMISSIVE',
    objects: (f) => [meshStrict(f), globalDr, test3Disable, httpbinPermissive(f)],
    expect: () => ({
      test1: ['mtls', 'mtls', 'plain'],
      test2: ['mtls', 'mtls', 'plain'],
      test3: ['plain', 'reset', 'plain'],
    }),
  },
  {
    // The article's productpage-tls, on httpbin in test2: a service-specific STRICT policy with its rule.
    name: '(d) service-level STRICT for one service',
    objects: (f) => [
      f === 'legacy'
        ? 'apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n  name: productpage-tls\n  namespace: test2\nspec:\n  targets:\n  - name: httpbin\n  peers:\n  - mtls: {}\n'
        : 'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: productpage-tls\n  namespace: test2\nspec:\n  selector:\n    matchLabels:\n      app: httpbin\n  mtls:\n    mode: STRICT\n',
      destinationRule('test2', 'httpbin', 'httpbin.test2.svc.cluster.local', 'ISTIO_MUTUAL'),
    ],
    expect: (f) => ({
      // Legacy: no policy for test1 means mTLS off and no auto mTLS; modern: auto mTLS to test1's sidecar.
      test1: [f === 'legacy' ? 'plain' : 'mtls', 'mtls', 'plain'],
      test2: [f === 'legacy' ? 'plain' : 'mtls', 'mtls', 'plain'],
      test3: ['plain', 'reset', 'plain'],
    }),
  },
];

async function observe(h: Harness, from: string, url: string): Promise<Cell | string> {
  const out = await h.curl(from, url);
  if (out.exit === 0 && out.http === '200') return out.body.includes('X-Forwarded-Client-Cert') ? 'mtls' : 'plain';
  if (
    out.exit === 0 &&
    out.http === '503' &&
    out.body.startsWith('upstream connect error or disconnect/reset before headers.')
  )
    return '503';
  if (out.exit === 56 && out.http === '000') return 'reset';
  return `exit ${out.exit} http ${out.http}`;
}

for (const flavor of ['legacy', 'modern'] as Flavor[]) {
  describe(`article scenarios (${flavor})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(flavor, [
        { ns: 'test1', injected: true, workloads: ['httpbin', 'sleep'] },
        { ns: 'test2', injected: true, workloads: ['httpbin', 'sleep'] },
        { ns: 'test3', injected: false, workloads: ['httpbin', 'sleep'] },
      ]);
    });
    afterAll(async () => h?.stop());

    for (const s of SCENARIOS) {
      it(s.name, async () => {
        const objects = s.objects(flavor);
        await h.apply(objects);
        try {
          await h.settle();
          const observed: Record<string, Array<Cell | string>> = {};
          for (const from of NS) {
            observed[from] = [];
            for (const to of NS) observed[from].push(await observe(h, from, `http://httpbin.${to}:8000/headers`));
          }
          expect(observed).toEqual(s.expect(flavor));
        } finally {
          await h.remove(objects);
          await h.settle();
        }
      });
    }

    it('(e) port-level settings: ISTIO_MUTUAL on service port 9080 only', async () => {
      const dr = `apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata:\n  name: httpbin-2\n  namespace: istio-system\nspec:\n  host: httpbin.test1.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: DISABLE\n    portLevelSettings:\n    - port:\n        number: 9080\n      tls:\n        mode: ISTIO_MUTUAL\n`;
      const permissive =
        flavor === 'legacy'
          ? 'apiVersion: authentication.istio.io/v1alpha1\nkind: Policy\nmetadata:\n  name: default\n  namespace: test1\nspec:\n  peers:\n  - mtls:\n      mode: PERMISSIVE\n'
          : undefined;
      const objects = [dr, ...(permissive ? [permissive] : [])];
      await h.apply(objects);
      try {
        await h.settle();
        expect(await observe(h, 'test2', 'http://httpbin.test1:8000/headers')).toBe('plain');
        expect(await observe(h, 'test2', 'http://httpbin.test1:9080/headers')).toBe('mtls');
        expect(await observe(h, 'test3', 'http://httpbin.test1:9080/headers')).toBe('plain');
      } finally {
        await h.remove(objects);
        await h.settle();
      }
    });
  });
}
