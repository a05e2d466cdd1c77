// Faults of the API server and the exec channel, as the emulator injects them: a fault is never a
// "blocked" cell; transient ones are retried, lasting ones end the run with exit code 3 and one message.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { FAULT_ANNOTATION } from '../emulator/index.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const TWO = ['--scenario', 'baseline', '--scenario', 'mesh-strict-dr-mutual', '--allow-cluster-wide'];
const run = async (c: TestCluster, ...argv: string[]) => {
  const r = await cli(['--kubeconfig', c.kubeconfig, 'run', '-o', 'json', '--settle', '3', ...argv]);
  return { ...r, doc: r.stdout ? (JSON.parse(r.stdout) as ReportDocument) : undefined };
};
const blocked = ['reset', 'upstream-error', 'tls-error', 'timeout', 'dns', 'refused', 'denied', 'http-error'];

/** A copy of the default topology whose `workload` Deployment carries the emulator's fault annotation. */
function faultyTopology(workload: string, fault: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-faulty-'));
  const root = join(import.meta.dirname, '../../manifests');
  for (const w of ['httpbin', 'sleep', 'sleep-other', 'my-nginx']) {
    let text = readFileSync(join(root, 'workloads', `${w}.yaml`), 'utf8');
    if (w === workload)
      text = text
        .replace(/(  template:\n    metadata:\n)/, `$1      annotations:\n        ${FAULT_ANNOTATION}: ${fault}\n`)
        .replace(/(      annotations:\n        emulator[^\n]+\n)      annotations:\n/, '$1');
    writeFileSync(join(dir, `${w}.yaml`), text);
  }
  writeFileSync(
    join(dir, 'topology.yaml'),
    readFileSync(join(root, 'topology/default.yaml'), 'utf8').replace(/\.\.\/workloads\//g, ''),
  );
  return join(dir, 'topology.yaml');
}

describe.runIf(!REAL_KUBECONFIG)('faults (emulated cluster only: a real one cannot inject them)', () => {
  it('API 500s and 429s with Retry-After are retried: every cell as expected', async () => {
    cluster = await testCluster('modern', {
      seed: 7,
      faults: [
        { kind: 'api-error', code: 500, rate: 0.1 },
        { kind: 'api-error', code: 429, retryAfterSeconds: 1, rate: 0.05 },
      ],
    });
    const r = await run(cluster, ...TWO);
    const hits = cluster.emulator!.faults.hits();
    expect(hits[0]).toBeGreaterThan(5);
    expect(hits[1]).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc!.summary).toMatchObject({ cells: 80, matched: 80, errors: 0 });
  }, 180_000);

  it('dropped exec streams are retried and never reported as blocked', async () => {
    cluster = await testCluster('modern', { seed: 3, faults: [{ kind: 'exec-drop', afterMs: 20, rate: 0.3 }] });
    const r = await run(cluster, ...TWO);
    expect(cluster.emulator!.faults.hits()[0]).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc!.summary.errors).toBe(0);
    const retried = r.doc!.scenarios.flatMap((s) => s.cells).filter((c) => (c.observed?.attempts ?? 1) > 1);
    for (const c of retried) expect(c.match, `${c.from} -> ${c.to}`).toBe(true);
  }, 180_000);

  it('a client whose exec is always refused: its cells are probe errors, not blocked; exit 3', async () => {
    cluster = await testCluster('modern', { faults: [{ kind: 'exec-reject', code: 500, namespaces: ['test3'] }] });
    const r = await run(cluster, '--scenario', 'baseline', '--converge-timeout', '4');
    expect(r.code).toBe(3);
    const cells = r.doc!.scenarios[0]!.cells;
    const test3 = cells.filter((c) => c.from === 'test3/sleep');
    expect(test3.map((c) => c.observed!.outcome)).toEqual(Array(8).fill('error'));
    expect(test3[0]!.observed!.error).toMatch(/exec upgrade to test3\/sleep-\S+ refused/);
    expect(cells.filter((c) => c.from !== 'test3/sleep').every((c) => c.match)).toBe(true);
    expect(cells.some((c) => blocked.includes(c.observed!.outcome) && !c.match)).toBe(false);
    expect(r.doc!.summary).toMatchObject({ errors: 8, mismatched: 0 });
  }, 180_000);

  it('a client whose exec is refused in every round does not hold each scenario to --converge-timeout (reliability D8)', async () => {
    cluster = await testCluster('modern', { faults: [{ kind: 'exec-reject', code: 500, namespaces: ['test3'] }] });
    // The default --converge-timeout, 60 s: before, every scenario probed for all of it (about 50 rounds).
    const r = await run(cluster, ...TWO, '--scenario', 'permissive-httpbin-test1');
    expect(r.code).toBe(3);
    for (const s of r.doc!.scenarios) {
      expect(s.convergence!.rounds, s.name).toBeLessThanOrEqual(10);
      expect(s.convergence!.converged, s.name).toBe(false);
      expect(s.cells.filter((c) => c.observed!.outcome === 'error').map((c) => c.from)).toEqual(
        Array(8).fill('test3/sleep'),
      );
      expect(
        s.cells.filter((c) => c.from !== 'test3/sleep').every((c) => c.match),
        s.name,
      ).toBe(true);
    }
  }, 180_000);

  it('a pod that never becomes Ready: exit 3 naming the deployment, and the topology is removed', async () => {
    cluster = await testCluster('modern');
    const r = await cli([
      '--kubeconfig',
      cluster.kubeconfig,
      'run',
      '--scenario',
      'baseline',
      '--ready-timeout',
      '3',
      '--topology',
      faultyTopology('httpbin', 'never-ready'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: deployments not ready after 3 s: test1\/httpbin: pod httpbin-\S+ Running \(httpbin not ready/,
    );
    expect(r.stderr).toContain('meshprobe: fix: look at `kubectl describe pod`');
    expect(
      cluster
        .emulator!.store.list('', 'namespaces')
        .map((n) => n.metadata.name)
        .filter((n) => n.startsWith('test')),
    ).toEqual([]);
  }, 120_000);

  it('a crash-looping pod fails setup at once with its reason and last exit code', async () => {
    cluster = await testCluster('modern', { crashLoopIntervalMs: 200 });
    const started = Date.now();
    const r = await cli([
      '--kubeconfig',
      cluster.kubeconfig,
      'run',
      '--scenario',
      'baseline',
      '--ready-timeout',
      '60',
      '--topology',
      faultyTopology('sleep', 'crash-loop'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/container sleep is in CrashLoopBackOff.*\(last exit code \d+/);
    expect(r.stderr).toMatch(/meshprobe: fix: kubectl logs -n test\d sleep-\S+ -c sleep --previous/);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 120_000);
});
