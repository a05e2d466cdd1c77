// How the emulated istiod delivers a change (push-queue.ts, xds.ts), on a fake clock: every proxy applies
// it after its own delay, spread over the whole range, repeatably for a seed; what `/debug/syncz` says
// meanwhile; which xDS types a change is sent on; a change that comes while a proxy still waits is merged.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../contracts.js';
import { seededRng } from '../rng.js';
import { MemoryStore } from '../store.js';
import { ControlPlane } from './control-plane.js';
import { parsePropagation } from './propagation.js';
import { staggered } from './push-queue.js';
import { XDS_TYPES, type XdsType } from './xds.js';

const BUSY = { min: 15_000, max: 25_000 };

function pod(ns: string, app: string, ip: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${app}-0`, namespace: ns, labels: { app } },
    spec: {
      serviceAccountName: app,
      containers: [
        { name: app, image: app, ports: [{ containerPort: 8080 }] },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.2' },
      ],
    },
    status: { podIP: ip },
  };
}

function service(ns: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: app, namespace: ns },
    spec: { selector: { app }, ports: [{ name: 'http', port: 8000, targetPort: 8080 }] },
  };
}

function policy(group: string, kind: string, ns: string, name: string, spec: unknown): KubeObject {
  return { apiVersion: `${group}/v1`, kind, metadata: { name, namespace: ns }, spec };
}

const PODS = [
  pod('test1', 'sleep', '10.244.0.1'),
  pod('test1', 'httpbin', '10.244.0.2'),
  pod('test2', 'sleep', '10.244.0.3'),
  pod('test2', 'httpbin', '10.244.0.4'),
];

function start(seed: number, delayMs = BUSY): { cp: ControlPlane; store: MemoryStore } {
  const store = new MemoryStore();
  for (const p of PODS) store.put('', 'pods', p);
  for (const ns of ['test1', 'test2'])
    for (const app of ['sleep', 'httpbin']) store.put('', 'services', service(ns, app));
  const cp = new ControlPlane({ store, delayMs, rng: seededRng(seed), runningPods: () => PODS });
  for (const p of PODS) cp.addProxy(p);
  return { cp, store };
}

/** Steps the fake clock and records, per proxy, when it applied a newer config. */
async function switchTimes(cp: ControlPlane, untilMs: number, stepMs = 50): Promise<Map<string, number>> {
  const t0 = Date.now();
  const initial = new Map(PODS.map((p) => [p.metadata.name + p.metadata.namespace, cp.configFor(p).version]));
  const out = new Map<string, number>();
  while (Date.now() - t0 < untilMs) {
    await vi.advanceTimersByTimeAsync(stepMs);
    for (const p of PODS) {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      if (!out.has(key) && cp.configFor(p).version > initial.get(p.metadata.name + p.metadata.namespace)!)
        out.set(key, Date.now() - t0);
    }
  }
  return out;
}

type Row = Record<string, unknown> & { proxy: string; resources: Record<string, { sent?: string; acked?: string }> };
const rows = (cp: ControlPlane): Row[] =>
  JSON.parse(
    JSON.stringify(
      cp.syncz().map((p) => ({
        proxy: p.id,
        resources: Object.fromEntries(
          (Object.keys(XDS_TYPES) as XdsType[]).map((t) => [
            t,
            { sent: p.watched[t].nonceSent, acked: p.watched[t].nonceAcked },
          ]),
        ),
      })),
    ),
  ) as Row[];

describe('propagation on a busy istiod (15-25 s)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: Date.parse('2025-01-10T12:00:00Z') });
  });
  afterEach(() => vi.useRealTimers());

  it('each proxy applies a change after 15-25 s, one proxy in each quarter of the range, repeatably per seed', async () => {
    const { cp, store } = start(7);
    store.put(
      'security.istio.io',
      'peerauthentications',
      policy('security.istio.io', 'PeerAuthentication', 'test1', 'default', { mtls: { mode: 'STRICT' } }),
    );
    const times = await switchTimes(cp, 26_000);
    expect(times.size).toBe(4);
    const all = [...times.values()];
    for (const t of all) expect(t).toBeGreaterThanOrEqual(15_000);
    for (const t of all) expect(t).toBeLessThanOrEqual(25_100);
    // Staggered: the four proxies fall into the four quarters (2.5 s each) of the range, one each.
    const quarters = all.map((t) => Math.min(3, Math.floor((t - 15_010) / 2500))).sort();
    expect(quarters).toEqual([0, 1, 2, 3]);
    // The client and the server proxy of test1 switch seconds apart, not together.
    expect(Math.abs(times.get('test1/sleep-0')! - times.get('test1/httpbin-0')!)).toBeGreaterThan(100);
    cp.close();

    const again = start(7);
    again.store.put(
      'security.istio.io',
      'peerauthentications',
      policy('security.istio.io', 'PeerAuthentication', 'test1', 'default', { mtls: { mode: 'STRICT' } }),
    );
    expect(await switchTimes(again.cp, 26_000)).toEqual(times);
    again.cp.close();

    const other = start(8);
    other.store.put(
      'security.istio.io',
      'peerauthentications',
      policy('security.istio.io', 'PeerAuthentication', 'test1', 'default', { mtls: { mode: 'STRICT' } }),
    );
    expect(await switchTimes(other.cp, 26_000)).not.toEqual(times);
    other.cp.close();
  });

  it('syncz: the old nonce sent and acked while queued, the new one sent and not acked just before it applies', async () => {
    const { cp, store } = start(3);
    const before = rows(cp);
    for (const r of before) for (const t of Object.values(r.resources)) expect(t.sent).toBe(t.acked);
    // Nonces: the push context's version (RFC3339 time "/" counter) then a UUID.
    expect(before[0]!.resources.lds!.sent).toMatch(
      /^2025-01-10T12:00:00Z\/1[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    store.put(
      'security.istio.io',
      'peerauthentications',
      policy('security.istio.io', 'PeerAuthentication', 'test1', 'default', { mtls: { mode: 'STRICT' } }),
    );
    await vi.advanceTimersByTimeAsync(14_000);
    expect(rows(cp)).toEqual(before);

    // Sample every 10 ms: per proxy, when the new LDS nonce was sent and when it was acked.
    const sentAt = new Map<string, number>();
    const ackedAt = new Map<string, number>();
    const t0 = Date.now();
    while (ackedAt.size < 4 && Date.now() - t0 < 12_000) {
      await vi.advanceTimersByTimeAsync(10);
      for (const r of rows(cp)) {
        const old = before.find((b) => b.proxy === r.proxy)!.resources;
        const lds = r.resources.lds!;
        if (!sentAt.has(r.proxy) && lds.sent !== old.lds!.sent) {
          sentAt.set(r.proxy, Date.now());
          expect(lds.acked).toBe(old.lds!.acked);
          expect(lds.sent).toMatch(/^2025-01-10T12:00:00Z\/2[0-9a-f-]{36}$/);
        }
        if (!ackedAt.has(r.proxy) && lds.acked === lds.sent && lds.sent !== old.lds!.sent) {
          ackedAt.set(r.proxy, Date.now());
          // A PeerAuthentication is sent on CDS, EDS and LDS, never on RDS (rds.go skippedRdsConfigs).
          expect(r.resources.cds!.acked).not.toBe(old.cds!.acked);
          expect(r.resources.eds!.acked).not.toBe(old.eds!.acked);
          expect(r.resources.rds).toEqual(old.rds);
        }
      }
    }
    expect(ackedAt.size).toBe(4);
    for (const [proxy, at] of ackedAt) {
      const lag = at - sentAt.get(proxy)!;
      expect(lag).toBeGreaterThan(0);
      expect(lag).toBeLessThanOrEqual(510);
    }
    cp.close();
  });

  it('a second change while a proxy still waits reaches it merged, at its old place in the queue', async () => {
    const { cp, store } = start(11);
    const v0 = cp.configFor(PODS[0]!).version;
    store.put(
      'security.istio.io',
      'peerauthentications',
      policy('security.istio.io', 'PeerAuthentication', 'test1', 'default', { mtls: { mode: 'STRICT' } }),
    );
    await vi.advanceTimersByTimeAsync(5_000);
    store.put(
      'security.istio.io',
      'authorizationpolicies',
      policy('security.istio.io', 'AuthorizationPolicy', 'test2', 'deny', { action: 'DENY', rules: [{}] }),
    );
    const latest = () => cp.latest.version;
    const seen = new Map<string, number[]>();
    const t0 = Date.now();
    // 20.1 s more: 25.1 s after the first change, not 15-25 s after the second.
    while (Date.now() - t0 < 20_100) {
      await vi.advanceTimersByTimeAsync(50);
      for (const p of PODS) {
        const v = cp.configFor(p).version;
        const list = seen.get(p.metadata.namespace + p.metadata.name) ?? [v0];
        if (list.at(-1) !== v) list.push(v);
        seen.set(p.metadata.namespace + p.metadata.name, list);
      }
    }
    // Every proxy went from the old config straight to the newest: the first change never showed alone.
    for (const versions of seen.values()) expect(versions).toEqual([v0, latest()]);
    cp.close();
  });

  it('sends an AuthorizationPolicy on LDS only, and endpoints on EDS only without a new push context', async () => {
    const { cp, store } = start(5, { min: 100, max: 200 });
    const before = rows(cp);
    store.put(
      'security.istio.io',
      'authorizationpolicies',
      policy('security.istio.io', 'AuthorizationPolicy', 'test1', 'deny', { action: 'DENY', rules: [{}] }),
    );
    await vi.advanceTimersByTimeAsync(1_000);
    const afterAuthz = rows(cp);
    for (const r of afterAuthz) {
      const old = before.find((b) => b.proxy === r.proxy)!.resources;
      expect(r.resources.lds!.acked).not.toBe(old.lds!.acked);
      expect(r.resources.lds!.acked).toMatch(/\/2[0-9a-f]{8}-/);
      for (const t of ['cds', 'eds', 'rds']) expect(r.resources[t]).toEqual(old[t]);
    }
    cp.podsChanged();
    await vi.advanceTimersByTimeAsync(1_000);
    for (const r of rows(cp)) {
      const old = afterAuthz.find((b) => b.proxy === r.proxy)!.resources;
      // pilot/pkg/xds/discovery.go Push: an incremental push reuses the push context, so its version.
      expect(r.resources.eds!.acked).not.toBe(old.eds!.acked);
      expect(r.resources.eds!.acked).toMatch(/\/2[0-9a-f]{8}-/);
      for (const t of ['cds', 'lds', 'rds']) expect(r.resources[t]).toEqual(old[t]);
    }
    cp.close();
  });
});

describe('the delay range', () => {
  it('reads MIN-MAX in ms or s, a unit after MAX applying to MIN, bare numbers as ms', () => {
    expect(parsePropagation('500ms-2s')).toEqual({ min: 500, max: 2000 });
    expect(parsePropagation('15s-25s')).toEqual({ min: 15_000, max: 25_000 });
    expect(parsePropagation('0.5-2s')).toEqual({ min: 500, max: 2000 });
    expect(parsePropagation('50-300')).toEqual({ min: 50, max: 300 });
    expect(parsePropagation('0')).toEqual({ min: 0, max: 0 });
    expect(parsePropagation(' 20s ')).toEqual({ min: 20_000, max: 20_000 });
  });

  it('refuses what is not a range, a reversed one, and more than 600 s, naming the fix', () => {
    expect(() => parsePropagation('fast')).toThrow(
      '--propagation "fast" is not a delay range: write MIN-MAX with ms or s, e.g. "500ms-2s" or "15s-25s"',
    );
    expect(() => parsePropagation('25s-15s')).toThrow('--propagation "25s-15s": MIN is larger than MAX');
    expect(() => parsePropagation('1h')).toThrow('is not a delay range');
    expect(() => parsePropagation('15000s')).toThrow('at most 600s');
    expect(() => parsePropagation('2-1', 'MESH_PROPAGATION_DELAY_MS')).toThrow('MESH_PROPAGATION_DELAY_MS "2-1"');
  });

  it('staggers n draws into n distinct slots of [0, 1)', () => {
    const rng = seededRng(1);
    for (const n of [1, 2, 4, 9]) {
      const slots = staggered(rng, n)
        .map((u) => Math.floor(u * n))
        .sort((a, b) => a - b);
      expect(slots).toEqual(Array.from({ length: n }, (_, i) => i));
    }
  });
});
