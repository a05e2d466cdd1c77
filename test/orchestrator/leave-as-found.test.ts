// "Leave the cluster as found", specified on the in-memory FakeCluster where the order of writes is the
// point: a run removes only what it created (a kept topology stays; an adopted namespace keeps its own
// objects and gets its labels back); an undo that fails one step goes on with the others, tries again
// and reports what is left; a failure after the first scenario keeps that scenario's result; a signal
// during preflight or setup is acted on at once.
import { describe, expect, it } from 'vitest';
import { ClusterError, ConfigError } from '../../src/errors.js';
import type { ObjectRef } from '../../src/kube/cluster.js';
import { fromObject } from '../../src/model/istio-objects.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import { readJournals } from '../../src/orchestrator/journal.js';
import { setupTopology } from '../../src/orchestrator/topology-lifecycle.js';
import type { FakeCluster } from '../helpers/fake-cluster.js';
import { fakeRun, SCENARIOS, TOPOLOGY } from '../helpers/fake-run.js';

/** What a user would compare: every object without what the server maintains on each write. */
function snapshot(c: FakeCluster): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of c.all()) {
    const { resourceVersion: _r, ...metadata } = o.metadata;
    const { status: _s, ...rest } = o;
    out[`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`] = { ...rest, metadata };
  }
  return out;
}

const platformPolicy: KubeObject = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'istio-system', labels: { owner: 'platform' } },
  spec: { mtls: { mode: 'PERMISSIVE' } },
};
const platformRef: ObjectRef = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  namespace: 'istio-system',
  name: 'default',
};

/** strict-a, plus a DestinationRule it creates and the mesh-wide policy it replaces, in that order. */
const meshWide = {
  ...SCENARIOS[0]!,
  objects: [
    ...SCENARIOS[0]!.objects,
    fromObject(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'httpbin', namespace: 'a' },
        spec: { host: 'httpbin', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      },
      1,
    ),
    fromObject({ ...platformPolicy, spec: { mtls: { mode: 'STRICT' } } }, 2),
  ],
};

const failing = (status = 500) =>
  new ClusterError('the API server refused: 500 InternalError', undefined, { code: status });
const NO_WAIT = [0, 0, 0];

describe('a run removes only what it created', () => {
  it('leaves a topology that was there when it started (made by `meshprobe setup`) exactly as it was', async () => {
    const f = fakeRun({ scenarios: [SCENARIOS[0]!] });
    await setupTopology(f.cluster, TOPOLOGY, {
      runId: 'setup-1',
      adopt: false,
      keep: true,
      readyTimeoutMs: 1000,
      events: () => {},
    });
    const before = snapshot(f.cluster);
    const r = await f.run();
    expect(r.scenarios).toHaveLength(1);
    expect(f.cluster.log.filter((l) => l.startsWith('delete Namespace'))).toEqual([]);
    expect(snapshot(f.cluster)).toEqual(before);
  });

  it('--adopt: fills a namespace that is not its own, then removes only its objects and puts the labels back', async () => {
    const f = fakeRun({ scenarios: [SCENARIOS[0]!], adopt: true });
    await f.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', labels: { team: 'me' } } });
    await f.cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'team-settings', namespace: 'a' },
      data: { x: '1' },
    });
    const before = snapshot(f.cluster);
    let labelledDuringRun: Record<string, string> | undefined;
    f.cluster.beforeWrite = (entry) => {
      if (entry === 'apply PeerAuthentication a/default') labelledDuringRun = undefined;
    };
    const exec = f.cluster.exec;
    f.cluster.exec = async (pod, container, command) => {
      labelledDuringRun ??= (await f.cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: 'a' }))!.metadata.labels;
      return exec(pod, container, command);
    };
    const r = await f.run();
    // Injected while it ran: its sleep pod had a sidecar, so a/sleep -> a/* was mutual TLS.
    expect(labelledDuringRun).toMatchObject({ team: 'me', 'istio-injection': 'enabled' });
    expect(r.scenarios[0]!.observation!.cells.get('a/sleep', 'a/httpbin:8000').outcome).toBe('mtls');
    expect(f.cluster.log).not.toContain('delete Namespace a');
    expect(snapshot(f.cluster)).toEqual(before);
  });

  it('--adopt refuses, before any write, a namespace holding an object of the topology that is not its own', async () => {
    const f = fakeRun({ adopt: true });
    await f.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await f.cluster.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sleep', namespace: 'a' },
      spec: { template: { spec: { containers: [{ name: 'sleep' }] } } },
    });
    f.cluster.log.length = 0;
    const e = await f.run().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/would overwrite objects meshprobe did not create: Deployment a\/sleep/);
    expect(f.cluster.log).toEqual([]);
  });
});

describe('an undo that fails a step', () => {
  it('goes on with the others, tries the failed one again, and leaves nothing once it succeeds', async () => {
    const f = fakeRun({ scenarios: [meshWide], allowClusterWide: true, retryDelaysMs: NO_WAIT });
    await f.cluster.apply(platformPolicy);
    const before = await f.cluster.get(platformRef);
    let refusals = 2;
    f.cluster.beforeWrite = (entry) => {
      if (entry === 'delete DestinationRule a/httpbin' && refusals-- > 0) throw failing();
    };
    const r = await f.run();
    expect(r.incomplete).toBeUndefined();
    const writes = f.cluster.log.filter((l) => !l.includes('ConfigMap meshprobe-system/journal-'));
    const undo = writes.slice(writes.lastIndexOf('replace PeerAuthentication istio-system/default'));
    // The mesh-wide policy went back first (newest first), the DR after two refusals.
    expect(undo.slice(0, 3)).toEqual([
      'replace PeerAuthentication istio-system/default',
      'delete PeerAuthentication a/default',
      'delete DestinationRule a/httpbin',
    ]);
    const after = await f.cluster.get(platformRef);
    expect(after!.spec).toEqual(before!.spec);
    expect(f.cluster.contents()).toEqual([...f.installed, 'PeerAuthentication istio-system/default'].sort());
  });

  it('that keeps failing: the others are undone, the scenario that ran is kept, the rest is reported as left', async () => {
    const second = { ...SCENARIOS[1]!, name: 'after' };
    const f = fakeRun({ scenarios: [meshWide, second], allowClusterWide: true, retryDelaysMs: NO_WAIT });
    await f.cluster.apply(platformPolicy);
    let restores = 0;
    f.cluster.beforeWrite = (entry) => {
      if (entry === 'replace PeerAuthentication istio-system/default' && restores++ > 0) throw failing();
    };
    const r = await f.run();
    expect(r.scenarios.map((s) => s.scenario.name)).toEqual(['strict-a']);
    expect(r.incomplete).toMatchObject({
      failures: [{ stage: 'undo', scenario: 'strict-a' }],
      notRun: ['after'],
      left: [expect.stringMatching(/^PeerAuthentication istio-system\/default \(not restored: .*500/)],
    });
    // Four tries at the restore; the DR and the namespace policy were deleted meanwhile; the topology went.
    expect(restores).toBe(5);
    expect(f.cluster.log).toContain('delete DestinationRule a/httpbin');
    expect(f.cluster.contents()).toEqual(
      [
        ...f.installed,
        'ConfigMap meshprobe-system/journal-run-1',
        'Namespace meshprobe-system',
        'PeerAuthentication istio-system/default',
      ].sort(),
    );
    // The journal stays for `meshprobe cleanup`, marked ended so that it need not wait for the heartbeat.
    const [j] = await readJournals(f.cluster, f.options.journalDir);
    expect(j!.endedAt).toBeDefined();
    expect(j!.entries.filter((e) => !e.undone && e.purpose !== 'journal').map((e) => e.ref.name)).toEqual(['default']);
  });

  it('a scenario that fails to apply after one that ran: both others are reported, the failure recorded, nothing left', async () => {
    const third = { ...SCENARIOS[0]!, name: 'third' };
    const f = fakeRun({ scenarios: [SCENARIOS[0]!, SCENARIOS[1]!, third], retryDelaysMs: NO_WAIT });
    let applies = 0;
    f.cluster.beforeWrite = (entry) => {
      if (entry === 'apply PeerAuthentication a/default' && ++applies === 2) throw failing(503);
    };
    const r = await f.run();
    // Its undo left nothing behind, so the next scenario runs on a cluster as the others found it.
    expect(r.scenarios.map((s) => s.scenario.name)).toEqual(['strict-a', 'third']);
    expect(r.incomplete).toEqual({
      failures: [{ stage: 'scenario', scenario: 'permissive-a', message: expect.stringContaining('500') }],
      notRun: [],
      left: [],
    });
    expect(f.cluster.contents()).toEqual(f.installed);
  });
});

describe('SIGINT/SIGTERM', () => {
  it('during preflight: stops before the first write', async () => {
    const f = fakeRun();
    f.cluster.onCanI = () => f.abort.abort();
    await expect(f.run()).rejects.toThrow(/abort/i);
    expect(f.cluster.log).toEqual([]);
  });

  it('while setup waits for a pod that never becomes ready: acted on at once, not after --ready-timeout', async () => {
    // An hour of ready timeout: the test's own 5 s limit fails the run if the signal waits for it.
    const f = fakeRun({ readyTimeoutMs: 3_600_000 });
    f.cluster.neverReady.add('a/httpbin');
    f.cluster.beforeWrite = (entry) => {
      if (entry === 'apply Service b/httpbin') setTimeout(() => f.abort.abort(), 100);
    };
    await expect(f.run()).rejects.toThrow(/abort/i);
    expect(f.cluster.log.slice(-2)).toEqual(['delete Namespace b', 'delete Namespace a']);
    expect(f.cluster.contents()).toEqual(f.installed);
  });
});
