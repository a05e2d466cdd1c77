// Whatever fails once the first scenario was applied (an undo that the API keeps refusing, a namespace
// stuck in deletion at teardown), meshprobe writes every report for the scenarios that ran, records the
// failure in the document, names what is left and the exact `meshprobe cleanup` that removes it, and
// exits 3; that command then leaves the cluster as it was. An outage shorter than the undo's retries
// leaves nothing at all.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { ReportDocument } from '../../src/report/document.js';
import type { FaultSpec } from '../emulator/api/fault-spec.js';
import { cli } from '../helpers/cli.js';
import { parseXml } from '../report/xml.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const FAST = ['--settle', '3', '--interval', '0.3'];
const platform = {
  apiVersion: 'security.istio.io/v1',
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'istio-system', labels: { owner: 'platform' } },
  spec: { mtls: { mode: 'PERMISSIVE' } },
};

async function start(faults: FaultSpec[] = []) {
  cluster = await testCluster('modern', { faults });
  const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-lost-home-'));
  const run = (args: string[], env: Record<string, string> = {}) =>
    cli(['--kubeconfig', cluster!.kubeconfig, ...args], { env: { HOME: home, ...env } });
  return { emu: cluster.emulator!, k8s, run };
}

/** The printed cleanup command's arguments after `meshprobe` (it quotes nothing here: no spaces in the paths). */
const argsOf = (command: string) => command.split(' ').slice(1);

const leftover = (emu: NonNullable<TestCluster['emulator']>) => [
  ...emu.store
    .list('', 'namespaces')
    .map((n) => `Namespace ${n.metadata.name}`)
    .filter((n) => /test|ngtest|meshprobe-system/.test(n)),
  ...emu.store
    .list('networking.istio.io', 'destinationrules')
    .map((d) => `DestinationRule ${d.metadata.namespace}/${d.metadata.name}`),
];

describe.runIf(!REAL_KUBECONFIG)('nothing lost when a run fails half-way (emulated cluster)', () => {
  it('a namespace stuck in deletion at teardown: every report written, the failure and the cleanup recorded, exit 3', async () => {
    const { emu, run } = await start([{ kind: 'namespace-stuck', names: ['test3'] }]);
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-lost-'));
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '');
    const r = await run(
      [
        'run',
        '--scenario',
        'baseline',
        '--scenario',
        'mesh-strict-dr-mutual',
        '--allow-cluster-wide',
        '-o',
        'json',
        '--report-dir',
        join(dir, 'out'),
        '--ready-timeout',
        '4',
        ...FAST,
      ],
      { GITHUB_STEP_SUMMARY: summary },
    );
    expect(r.code, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    expect(doc.scenarios.map((s) => [s.name, s.verdict])).toEqual([
      ['baseline', 'pass'],
      ['mesh-strict-dr-mutual', 'pass'],
    ]);
    expect(doc.incomplete).toMatchObject({
      failures: [{ stage: 'teardown', message: expect.stringMatching(/Namespace test3 \(being deleted: .+\)/) }],
      notRun: [],
      left: [expect.stringMatching(/^Namespace test3 \(being deleted: Some .*remaining/)],
      cleanup: `meshprobe --kubeconfig ${cluster!.kubeconfig} cleanup`,
    });
    for (const f of ['results.json', 'junit.xml', 'summary.md', 'report.html'])
      expect(existsSync(join(dir, 'out', f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'out/results.json'), 'utf8')).incomplete).toEqual(doc.incomplete);
    const md = readFileSync(summary, 'utf8');
    expect(md).toContain('Incomplete run');
    expect(md).toContain(doc.incomplete!.cleanup);
    const junit = parseXml(readFileSync(join(dir, 'out/junit.xml'), 'utf8'));
    expect(JSON.stringify(junit)).toContain('run-incomplete');
    expect(readFileSync(join(dir, 'out/report.html'), 'utf8')).toContain('Incomplete run');
    expect(r.stderr).toContain(`meshprobe: Remove it with: ${doc.incomplete!.cleanup}`);

    // Once whatever held it lets go, the command the report names leaves nothing behind.
    emu.faults.clear();
    const c = await run(argsOf(doc.incomplete!.cleanup!));
    expect(c.code, c.stderr).toBe(0);
    expect(leftover(emu)).toEqual([]);
  }, 240_000);

  it('an undo the API keeps refusing: the others are undone (the mesh-wide policy restored), the rest reported, exit 3', async () => {
    const { emu, k8s, run } = await start();
    await k8s.apply(platform);
    const before = await k8s.get({ ...platform, name: 'default', namespace: 'istio-system' });
    // Every DestinationRule delete fails, however often it is tried.
    emu.faults.set([{ kind: 'api-error', code: 500, verbs: ['delete'], resources: ['destinationrules'] }]);
    const r = await run([
      'run',
      '--scenario',
      'mesh-strict-dr-mutual',
      '--scenario',
      'baseline',
      '--allow-cluster-wide',
      '-o',
      'json',
      ...FAST,
    ]);
    expect(r.code, r.stderr).toBe(3);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    expect(doc.scenarios.map((s) => s.name)).toEqual(['mesh-strict-dr-mutual']);
    expect(doc.incomplete).toMatchObject({
      failures: [{ stage: 'undo', scenario: 'mesh-strict-dr-mutual' }],
      notRun: ['baseline'],
      left: [expect.stringMatching(/^DestinationRule istio-system\/default \(not deleted: .*500/)],
    });
    // The shared mesh-wide policy went back to PERMISSIVE, though the DestinationRule after it could not go.
    const now = await k8s.get({ ...platform, name: 'default', namespace: 'istio-system' });
    expect(now!.spec).toEqual(before!.spec);
    expect(now!.metadata.uid).toBe(before!.metadata.uid);

    emu.faults.clear();
    const c = await run(argsOf(doc.incomplete!.cleanup!));
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/deleted \d+ \(.*DestinationRule istio-system\/default/);
    expect(leftover(emu)).toEqual([]);
    expect((await k8s.get({ ...platform, name: 'default', namespace: 'istio-system' }))!.spec).toEqual(before!.spec);
  }, 240_000);

  it('a burst of refused deletes shorter than the retries (reliability D4): nothing left, exit 0', async () => {
    const { emu, k8s, run } = await start();
    await k8s.apply(platform);
    emu.faults.set([{ kind: 'api-error', code: 500, verbs: ['delete'], resources: ['destinationrules'], times: 6 }]);
    const r = await run(['run', '--scenario', 'mesh-strict-dr-mutual', '--allow-cluster-wide', '-o', 'json', ...FAST]);
    expect(emu.faults.hits()[0]).toBe(6);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as ReportDocument).incomplete).toBeUndefined();
    expect(leftover(emu)).toEqual([]);
    const pa = await k8s.get({ ...platform, name: 'default', namespace: 'istio-system' });
    expect((pa!.spec as { mtls: { mode: string } }).mtls.mode).toBe('PERMISSIVE');
  }, 240_000);
});
