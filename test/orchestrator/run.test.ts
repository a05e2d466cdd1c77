// The orchestrator's promises about order, specified on the in-memory FakeCluster: what it will change
// is journaled before it changes it; a scenario is undone newest first, and what it replaced is put
// back as it was; an abort mid-probe still removes the scenario and tears the topology down; a
// namespace that is not meshprobe's stops the run before anything changes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import type { ObjectRef } from '../../src/kube/cluster.js';
import { fromObject } from '../../src/model/istio-objects.js';
import { describeRef, type KubeObject } from '../../src/model/kube-object.js';
import type { JournalDoc } from '../../src/orchestrator/journal.js';
import { fakeRun, SCENARIOS } from '../helpers/fake-run.js';

const journalOf = (dir: string, runId: string): JournalDoc | undefined => {
  const file = join(dir, `${runId}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as JournalDoc) : undefined;
};

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

describe('runScenarios on an in-memory cluster', () => {
  it('journals every namespace it creates and every scenario object before the cluster sees it', async () => {
    const f = fakeRun({ scenarios: [meshWide], allowClusterWide: true });
    await f.cluster.apply(platformPolicy);
    const checked: string[] = [];
    f.cluster.beforeWrite = (entry: string, ref: ObjectRef) => {
      if (!/^(apply|replace) /.test(entry)) return;
      // Objects inside the topology's namespaces go when the namespaces go; these are what cleanup needs.
      if (!['Namespace', 'PeerAuthentication', 'DestinationRule'].includes(ref.kind)) return;
      const entries = journalOf(f.options.journalDir, f.options.runId)?.entries.map((e) => describeRef(e.ref)) ?? [];
      if (!entries.includes(describeRef(ref))) throw new Error(`${entry} before its journal entry`);
      checked.push(entry);
    };
    await f.run();
    expect(checked).toEqual(
      expect.arrayContaining([
        'apply Namespace a',
        'apply Namespace b',
        'apply PeerAuthentication a/default',
        'apply DestinationRule a/httpbin',
        'replace PeerAuthentication istio-system/default',
        'apply Namespace meshprobe-system',
      ]),
    );
  });

  it('undoes a scenario newest first, and puts back what it replaced exactly as it was', async () => {
    const f = fakeRun({ scenarios: [meshWide], allowClusterWide: true });
    await f.cluster.apply(platformPolicy);
    const before = await f.cluster.get(platformRef);
    await f.run();
    const scenarioWrites = f.cluster.log.filter((l) => / (PeerAuthentication|DestinationRule) /.test(l));
    expect(scenarioWrites).toEqual([
      'apply PeerAuthentication istio-system/default', // the test's own, before the run
      'apply PeerAuthentication a/default',
      'apply DestinationRule a/httpbin',
      'replace PeerAuthentication istio-system/default',
      // undo: newest first
      'replace PeerAuthentication istio-system/default',
      'delete DestinationRule a/httpbin',
      'delete PeerAuthentication a/default',
    ]);
    const after = await f.cluster.get(platformRef);
    expect(after!.spec).toEqual(before!.spec);
    expect(after!.metadata.labels).toEqual({ owner: 'platform' });
    expect(after!.metadata.uid).toBe(before!.metadata.uid);
    // Nothing of the run is left: not the topology, not the journal's namespace, not the journal file.
    expect(f.cluster.contents()).toEqual([...f.installed, 'PeerAuthentication istio-system/default'].sort());
    expect(journalOf(f.options.journalDir, f.options.runId)).toBeUndefined();
  });

  it('aborted mid-probe, it stops probing, removes the scenario and tears the topology down', async () => {
    const f = fakeRun();
    const exec = f.cluster.exec;
    f.cluster.exec = (pod, container, command) => {
      // At the first probe (istiod's sync status is read before it, in istio-system).
      if (f.execs.length === 0 && pod.namespace !== 'istio-system') f.abort.abort();
      return exec(pod, container, command);
    };
    await expect(f.run()).rejects.toThrow(/abort/i);
    const afterAbort = f.cluster.log.slice(f.cluster.log.indexOf('apply PeerAuthentication a/default') + 1);
    // Undone newest first, the topology too.
    expect(afterAbort).toEqual(['delete PeerAuthentication a/default', 'delete Namespace b', 'delete Namespace a']);
    // The round under way finishes its execs; no other starts.
    expect(f.execs.length).toBeLessThanOrEqual(2);
    expect(f.events.filter((e) => e.type === 'round-start')).toHaveLength(1);
    expect(f.events.filter((e) => e.type === 'scenario-start')).toHaveLength(1);
    expect(f.events.at(-1)!.type).toBe('teardown-done');
    expect(f.cluster.contents()).toEqual(f.installed);
    expect(journalOf(f.options.journalDir, f.options.runId)).toBeUndefined();
  });

  it('refuses a topology namespace that is not its own before it changes anything', async () => {
    const f = fakeRun();
    await f.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'b' } });
    f.cluster.log.length = 0;
    const e = await f.run().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message).toMatch(/namespace b already exists and is not managed by meshprobe/);
    expect(f.cluster.log).toEqual([]);
  });
});
