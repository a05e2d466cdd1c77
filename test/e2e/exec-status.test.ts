// Kubelet-side exec failures as a 1.30+ API server reports them (a Status on channel 3 after the 101), run
// through meshprobe on the emulated cluster: transient ones are retried on the pod looked up again and
// leave no trace in the verdict; lasting ones become probe errors with the server's message, never
// "blocked"; the reports are written and the cluster is left clean either way.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const blocked = ['reset', 'upstream-error', 'tls-error', 'timeout', 'dns', 'refused', 'http-error'];

async function run(c: TestCluster, ...argv: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'meshprobe-exec-status-'));
  const r = await cli([
    '--kubeconfig',
    c.kubeconfig,
    'run',
    '--settle',
    '3',
    '-o',
    'json',
    '--report-dir',
    out,
    ...argv,
  ]);
  if (!r.stdout) throw new Error(`exit ${r.code}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  return { ...r, doc, junit: existsSync(join(out, 'junit.xml')) ? readFileSync(join(out, 'junit.xml'), 'utf8') : '' };
}

const leftovers = (c: TestCluster) =>
  c
    .emulator!.store.list('', 'namespaces')
    .map((n) => n.metadata.name)
    .filter((n) => /^(test\d|ngtest)$/.test(n));

describe.runIf(!REAL_KUBECONFIG)('exec failures after the upgrade (emulated cluster only)', () => {
  it('a kubelet out of reach and restarting containers, now and then: retried, every cell as expected', async () => {
    cluster = await testCluster('modern', {
      seed: 11,
      faults: [
        { kind: 'exec-status', preset: 'backend-refused', rate: 0.15 },
        { kind: 'exec-status', preset: 'container-not-found', rate: 0.1 },
        { kind: 'exec-status', preset: 'pod-not-found', times: 2 },
      ],
    });
    const r = await run(
      cluster,
      '--scenario',
      'baseline',
      '--scenario',
      'mesh-strict-dr-mutual',
      '--allow-cluster-wide',
    );
    const hits = cluster.emulator!.faults.hits();
    expect(
      hits.reduce((a, b) => a + b, 0),
      `hits ${hits}`,
    ).toBeGreaterThan(2);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc!.summary).toMatchObject({ cells: 80, matched: 80, errors: 0 });
    const retried = r.doc!.scenarios.flatMap((s) => s.cells).filter((c) => (c.observed?.attempts ?? 1) > 1);
    expect(retried.length).toBeGreaterThan(0);
    expect(r.junit).toContain('<testsuites');
    expect(leftovers(cluster)).toEqual([]);
  }, 240_000);

  it('a client whose kubelet never answers: its cells are probe errors with the server message, exit 3', async () => {
    cluster = await testCluster('modern', {
      faults: [{ kind: 'exec-status', preset: 'backend-refused', namespaces: ['test3'] }],
    });
    const r = await run(cluster, '--scenario', 'baseline', '--converge-timeout', '4');
    expect(r.code).toBe(3);
    const cells = r.doc!.scenarios[0]!.cells;
    const test3 = cells.filter((c) => c.from === 'test3/sleep');
    expect(test3.map((c) => c.observed!.outcome)).toEqual(Array(8).fill('error'));
    expect(test3[0]!.observed).toMatchObject({ attempts: 3 });
    expect(test3[0]!.observed!.error).toMatch(
      /^exec in test3\/sleep-\S+ failed: Internal error occurred: error sending request: Post "https:\/\/[\d.]+:10250\/exec\/test3\/sleep-/,
    );
    expect(cells.filter((c) => c.from !== 'test3/sleep').every((c) => c.match)).toBe(true);
    expect(cells.some((c) => blocked.includes(c.observed!.outcome) && !c.match)).toBe(false);
    expect(r.doc!.summary).toMatchObject({ errors: 8, mismatched: 0 });
    expect(r.junit).toContain('<testsuites');
    expect(leftovers(cluster)).toEqual([]);
  }, 180_000);
});
