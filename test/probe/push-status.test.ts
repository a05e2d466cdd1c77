// Reading istiod's push status (/debug/syncz, as istio 1.24.2 writes it) on the in-memory cluster: what
// counts as every proxy having a change, which proxies count, and when the signal is given up for the
// settle time (no exec into istiod, no syncz).
import { describe, expect, it } from 'vitest';
import type { ExecResult } from '../../src/kube/cluster.js';
import { ExecError } from '../../src/kube/errors.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import { markOf, proxySynced, pushCounter, PushTracker, waitForPush } from '../../src/probe/push-status.js';
import { FakeCluster } from '../helpers/fake-cluster.js';

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const nonce = (n: number) => `2025-01-10T12:00:00Z/${n}${UUID}`;

/** A SyncStatus row with every type at `acked`, and `sent` where given (a push on its way). */
function row(
  proxy: string,
  acked: number,
  sent: Partial<Record<'cluster' | 'listener' | 'route' | 'endpoint', number>> = {},
) {
  const r: Record<string, string> = { cluster_id: 'Kubernetes', proxy, proxy_type: 'sidecar' };
  for (const t of ['cluster', 'listener', 'route', 'endpoint'] as const) {
    r[`${t}_sent`] = nonce(sent[t] ?? acked);
    r[`${t}_acked`] = nonce(acked);
  }
  return r;
}

const istiod = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'istio-system', labels: { app: 'istiod' } },
  spec: { containers: [{ name: 'discovery' }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

/** A cluster whose istiod pods answer syncz with `rows[pod]` (changed between calls by the test). */
function setup(rows: Record<string, unknown[]>, exec?: (pod: string) => ExecResult) {
  const cluster = new FakeCluster({ objects: Object.keys(rows).map(istiod) });
  const calls: string[][] = [];
  cluster.exec = async (pod, container, command) => {
    calls.push([pod.name, container, ...command]);
    return exec?.(pod.name) ?? { stdout: JSON.stringify(rows[pod.name]), stderr: '', exitCode: 0 };
  };
  const told: string[] = [];
  const tracker = new PushTracker(cluster, ['test1', 'test3'], (r) => told.push(r));
  return { cluster, calls, told, tracker };
}

describe('nonces and rows', () => {
  it('reads the push counter of a nonce: the push context version TIME/N before the UUID', () => {
    expect(pushCounter(nonce(7))).toBe(7);
    expect(pushCounter(nonce(123))).toBe(123);
    expect(pushCounter('abc')).toBeUndefined();
    expect(pushCounter(undefined)).toBeUndefined();
  });

  it('a proxy has a change once all it was sent is acknowledged and something acknowledged is newer', () => {
    expect(proxySynced(row('sleep-1.test1', 8), 7)).toBe(true);
    expect(proxySynced(row('sleep-1.test1', 7), 7)).toBe(false);
    // LDS sent, not acknowledged yet.
    expect(proxySynced(row('sleep-1.test1', 7, { listener: 8 }), 7)).toBe(false);
    // An AuthorizationPolicy goes out on LDS only: the other types keep the old nonce.
    const lds = { ...row('sleep-1.test1', 7), listener_sent: nonce(8), listener_acked: nonce(8) };
    expect(proxySynced(lds, 7)).toBe(true);
    expect(markOf([row('a.test1', 7, { cluster: 9 }), row('b.other', 8)])).toBe(9);
  });
});

describe('PushTracker', () => {
  it('asks every Ready istiod inside its pod, and counts only the topology namespaces', async () => {
    const rows: Record<string, unknown[]> = {
      'istiod-a': [row('sleep-1.test1', 7), row('web-1.other', 7)],
      'istiod-b': [row('httpbin-1.test3', 3)],
    };
    const f = setup(rows);
    const mark = (await f.tracker.beforeChange())!;
    expect(f.calls).toContainEqual(['istiod-a', 'discovery', 'pilot-discovery', 'request', 'GET', '/debug/syncz']);
    expect(await f.tracker.check(mark)).toEqual({ state: 'pending', waiting: ['httpbin-1.test3', 'sleep-1.test1'] });
    // Each istiod has its own counter: 8 on one, 4 on the other are both newer.
    rows['istiod-a'] = [row('sleep-1.test1', 8), row('web-1.other', 7)];
    expect(await f.tracker.check(mark)).toEqual({ state: 'pending', waiting: ['httpbin-1.test3'] });
    rows['istiod-b'] = [row('httpbin-1.test3', 4)];
    expect(await f.tracker.check(mark)).toEqual({ state: 'acked' });
  });

  it('published: every istiod has begun to send a newer push, acknowledged or not', async () => {
    const rows: Record<string, unknown[]> = {
      'istiod-a': [row('sleep-1.test1', 7)],
      'istiod-b': [row('httpbin-1.test3', 3)],
    };
    const f = setup(rows);
    const mark = (await f.tracker.beforeChange())!;
    rows['istiod-a'] = [row('sleep-1.test1', 7, { cluster: 8 })];
    expect(await f.tracker.published(mark)).toEqual({ state: 'pending', waiting: ['istiod-b'] });
    rows['istiod-b'] = [row('web-1.other', 3, { listener: 4 }), row('httpbin-1.test3', 3)];
    expect(await f.tracker.published(mark)).toEqual({ state: 'acked' });
    expect(await f.tracker.check(mark)).toMatchObject({ state: 'pending' });
  });

  it('caught up, after the topology is created: every topology proxy has the newest push any of them has', async () => {
    // Before the setup, istiod had sent push 3 to another workload.
    const rows: Record<string, unknown[]> = { 'istiod-a': [row('web-1.other', 3)] };
    const f = setup(rows);
    const mark = (await f.tracker.beforeChange())!;
    // sleep connected at push 4 (test1's services only); httpbin, later, at 6, which has test3's as well.
    // Push 6 is still in istiod's queue for sleep: nothing sent, so syncz shows sleep at 4 acknowledged.
    rows['istiod-a'] = [row('web-1.other', 6), row('sleep-1.test1', 4), row('httpbin-1.test3', 6)];
    expect(await f.tracker.check(mark)).toEqual({ state: 'acked' });
    expect(await f.tracker.check(mark, { caughtUp: true })).toEqual({ state: 'pending', waiting: ['sleep-1.test1'] });
    rows['istiod-a'] = [row('web-1.other', 6), row('sleep-1.test1', 4, { cluster: 6 }), row('httpbin-1.test3', 6)];
    expect(await f.tracker.check(mark, { caughtUp: true })).toMatchObject({ state: 'pending' });
    rows['istiod-a'] = [row('web-1.other', 6), row('sleep-1.test1', 6), row('httpbin-1.test3', 6)];
    expect(await f.tracker.check(mark, { caughtUp: true })).toEqual({ state: 'acked' });
    // A kept topology whose setup changed no Service gets no full push: all at the push they had is caught up.
    rows['istiod-a'] = [row('sleep-1.test1', 3), row('httpbin-1.test3', 3)];
    expect(await f.tracker.check(mark, { caughtUp: true })).toEqual({ state: 'acked' });
    expect(await f.tracker.check(mark)).toMatchObject({ state: 'pending' });
  });

  it('a forbidden exec into istiod gives the signal up once, with the reason', async () => {
    const f = setup({ 'istiod-a': [] }, () => {
      throw new ExecError('exec into istio-system/istiod-a refused (403): forbidden', 'command');
    });
    expect(await f.tracker.beforeChange()).toBeUndefined();
    expect(await f.tracker.check({ counters: new Map() })).toMatchObject({ state: 'unavailable' });
    expect(f.told).toEqual([
      'cannot exec into istio-system/istiod-a: exec into istio-system/istiod-a refused (403): forbidden',
    ]);
    // No more execs once given up.
    expect(f.calls).toHaveLength(1);
  });

  it('an identity that may not exec into istio-system: asked by SelfSubjectAccessReview, never tried', async () => {
    const f = setup({ 'istiod-a': [row('sleep-1.test1', 7)] });
    const asked: string[] = [];
    Object.assign(f.cluster, {
      canI: async (a: { verb: string; resource: string; namespace?: string }) => {
        asked.push(`${a.verb} ${a.resource} ${a.namespace}`);
        return a.resource !== 'pods/exec';
      },
    });
    expect(await f.tracker.beforeChange()).toBeUndefined();
    expect(asked).toEqual(['list pods istio-system', 'get pods/exec istio-system', 'create pods/exec istio-system']);
    expect(f.calls).toEqual([]);
    expect(f.told).toEqual(['this identity may not list pods and exec into them in istio-system']);
  });

  it('a dropped stream is no verdict: pending now, asked again next time', async () => {
    let drop = true;
    const rows = { 'istiod-a': [row('sleep-1.test1', 8)] };
    const f = setup(rows, (): ExecResult => {
      if (drop) throw new ExecError('closed (1006)', 'transient');
      return { stdout: JSON.stringify(rows['istiod-a']), stderr: '', exitCode: 0 };
    });
    expect(await f.tracker.check({ counters: new Map([['istiod-a', 7]]) })).toMatchObject({ state: 'pending' });
    drop = false;
    expect(await f.tracker.check({ counters: new Map([['istiod-a', 7]]) })).toEqual({ state: 'acked' });
    expect(f.told).toEqual([]);
  });

  it('no istiod, or one that lists none of the topology: unavailable', async () => {
    const none = new PushTracker(new FakeCluster(), ['test1']);
    expect(await none.check({ counters: new Map() })).toEqual({
      state: 'unavailable',
      reason: 'no Ready istiod pod (app=istiod) in istio-system',
    });
    const other = setup({ 'istiod-a': [row('web-1.other', 7)] });
    expect(await other.tracker.check({ counters: new Map() })).toMatchObject({ state: 'unavailable' });
    const legacy = setup({ 'istiod-a': [] }, () => ({ stdout: '404 page not found\n', stderr: '', exitCode: 0 }));
    expect(await legacy.tracker.check({ counters: new Map() })).toMatchObject({
      state: 'unavailable',
      reason: "istiod-a's /debug/syncz did not answer JSON",
    });
  });

  it('waitForPush: checks at the interval until acknowledged, or gives up at the timeout', async () => {
    const rows: Record<string, unknown[]> = { 'istiod-a': [row('sleep-1.test1', 7)] };
    const f = setup(rows);
    let t = 0;
    const clock = {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
        if (t >= 3000) rows['istiod-a'] = [row('sleep-1.test1', 8)];
      },
    };
    const mark = { counters: new Map([['istiod-a', 7]]) };
    expect(await waitForPush(f.tracker, mark, { timeoutMs: 10_000, intervalMs: 1000, clock })).toEqual({
      state: 'acked',
    });
    expect(t).toBe(3000);
    rows['istiod-a'] = [row('sleep-1.test1', 7)];
    t = 0;
    const late = await waitForPush(f.tracker, mark, {
      timeoutMs: 2500,
      intervalMs: 1000,
      clock: { now: () => t, sleep: async (ms: number) => void (t += ms) },
    });
    expect(late).toMatchObject({ state: 'pending' });
    expect(t).toBe(2500);
  });
});
