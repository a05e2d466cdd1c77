// `meshprobe cleanup` on the in-memory FakeCluster: it undoes the journals of dead runs of its own
// topology only (--namespace-prefix), never a run whose journal is alive unless forced, goes on when
// one step fails and says what is left, and empties an adopted namespace without deleting it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/errors.js';
import { prefixNamespaces } from '../../src/model/namespace-prefix.js';
import { cleanup } from '../../src/orchestrator/cleanup.js';
import { Journal, thisHolder, type JournalDoc } from '../../src/orchestrator/journal.js';
import { stamp } from '../../src/orchestrator/ownership.js';
import { FakeCluster } from '../helpers/fake-cluster.js';
import { TOPOLOGY } from '../helpers/fake-run.js';

const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
const options = (dir: string, o: { force?: boolean; topology?: typeof TOPOLOGY } = {}) => ({
  topology: o.topology ?? TOPOLOGY,
  keepTopology: false,
  journalDir: dir,
  timeoutMs: 1000,
  force: o.force ?? false,
  retryDelaysMs: [0, 0, 0],
});

/** A run's journal as it stands when the run is killed right after creating its namespaces. */
async function killedRun(cluster: FakeCluster, dir: string, namespaces: string[], runId = 'run-1') {
  const j = await Journal.open(cluster, { runId, dir, mirror: false, command: 'run', namespaces });
  for (const n of namespaces) {
    await j.record('create', nsRef(n), undefined, { purpose: 'topology' });
    await cluster.apply(stamp(ns(n), runId));
  }
  return j;
}

/** Rewrites a journal file as if its process were another. */
function rewrite(dir: string, runId: string, change: (doc: JournalDoc) => void): void {
  const file = join(dir, `${runId}.json`);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as JournalDoc;
  change(doc);
  writeFileSync(file, JSON.stringify(doc));
}

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

describe('meshprobe cleanup', () => {
  it('leaves a run that is still alive alone, with its topology, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    const live = await killedRun(cluster, dir, ['a', 'b']);
    cluster.log.length = 0;
    const e = await cleanup(cluster, options(dir)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ClusterError);
    expect((e as Error).message).toMatch(
      new RegExp(`run run-1 \\(run, started .*\\) is still alive: process ${process.pid} on this machine is running`),
    );
    expect(cluster.log).toEqual([]);
    // --force is for a run that only looks alive: it undoes it.
    const r = await cleanup(cluster, options(dir, { force: true }));
    expect(r.deleted).toEqual(['Namespace b', 'Namespace a']);
    expect(cluster.contents()).toEqual([]);
    await live.close();
  });

  it('undoes at once a run whose process on this machine is gone, though its heartbeat is fresh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    const j = await killedRun(cluster, dir, ['a', 'b']);
    await j.end();
    rewrite(dir, 'run-1', (doc) => {
      delete doc.endedAt;
      doc.heartbeat = new Date().toISOString();
      doc.holder = { ...thisHolder(), pid: deadPid() };
    });
    const r = await cleanup(cluster, options(dir));
    expect(r).toMatchObject({ journals: 1, deleted: ['Namespace b', 'Namespace a'], left: [] });
  });

  it('a live run on another machine: alive while its heartbeat is fresh, dead once it is 30 s old', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    const j = await killedRun(cluster, dir, ['a', 'b']);
    await j.end();
    const elsewhere = (age: number) =>
      rewrite(dir, 'run-1', (doc) => {
        delete doc.endedAt;
        doc.heartbeat = new Date(Date.now() - age).toISOString();
        doc.holder = { host: 'ci-runner-7', pid: 4242 };
      });
    elsewhere(2_000);
    await expect(cleanup(cluster, options(dir))).rejects.toThrow(
      /still alive: its heartbeat is 2 s old \(process 4242 on ci-runner-7\)/,
    );
    elsewhere(31_000);
    expect((await cleanup(cluster, options(dir))).deleted).toEqual(['Namespace b', 'Namespace a']);
  });

  it('--namespace-prefix b never touches the runs of prefix a, alive or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    const a = prefixNamespaces(TOPOLOGY, [], 'a').topology;
    const b = prefixNamespaces(TOPOLOGY, [], 'b').topology;
    const run = await killedRun(
      cluster,
      dir,
      a.namespaces.map((n) => n.name),
    );
    await run.end();
    cluster.log.length = 0;
    const r = await cleanup(cluster, options(dir, { topology: b }));
    expect(r).toEqual({ journals: 0, restored: [], deleted: [], left: [] });
    expect(cluster.log).toEqual([]);
    expect(cluster.contents()).toEqual(['Namespace a-a', 'Namespace a-b']);
  });

  it('goes on when a step keeps failing, and keeps that step in the journal for the next cleanup', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    (await killedRun(cluster, dir, ['a', 'b'])).end();
    let refuse = true;
    cluster.beforeWrite = (entry) => {
      if (refuse && entry === 'delete Namespace b')
        throw new ClusterError('the API server refused: 500', undefined, { code: 500 });
    };
    const first = await cleanup(cluster, options(dir));
    expect(first.deleted).toEqual(['Namespace a']);
    expect(first.left).toEqual([expect.stringMatching(/^Namespace b \(not deleted: the API server refused: 500\)/)]);
    refuse = false;
    const second = await cleanup(cluster, options(dir));
    expect(second).toMatchObject({ journals: 1, deleted: ['Namespace b'], left: [] });
    expect(cluster.contents()).toEqual([]);
  });

  it("a killed --adopt run: deletes meshprobe's objects from the adopted namespace and puts its labels back", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-cleanup-'));
    const cluster = new FakeCluster();
    await cluster.apply(ns('a', { team: 'me' }));
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mine', namespace: 'a' } });
    const before = await cluster.get(nsRef('a'));
    const j = await Journal.open(cluster, {
      runId: 'run-1',
      dir,
      mirror: false,
      command: 'run',
      namespaces: ['a', 'b'],
    });
    await j.record('replace', nsRef('a'), before, { purpose: 'topology' });
    await cluster.apply(ns('a', { team: 'me', 'istio-injection': 'enabled' }));
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'a', name: 'sleep' };
    await j.record('create', sa, undefined, { purpose: 'topology' });
    await cluster.apply(stamp({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sleep' } }, 'run-1', 'a'));
    await j.end();
    const r = await cleanup(cluster, options(dir));
    expect(r).toMatchObject({ restored: ['Namespace a'], deleted: ['ServiceAccount a/sleep'], left: [] });
    const after = await cluster.get(nsRef('a'));
    expect(after!.metadata.labels).toEqual({ team: 'me' });
    expect(after!.metadata.uid).toBe(before!.metadata.uid);
    expect(cluster.contents()).toEqual(['ConfigMap a/mine', 'Namespace a']);
  });
});
