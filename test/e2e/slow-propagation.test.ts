// A busy istiod (15–25 s from an apply to each proxy, staggered) on the emulated cluster: meshprobe
// believes no round until every topology proxy has acknowledged the push (istiod's /debug/syncz, read from
// inside the istiod pod), so stale configuration is never reported as a mismatch. Without exec into
// istio-system it says why it cannot tell, and falls back to its settle time.
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { meshRuntimeFactory } from '../emulator/mesh/index.js';
import { PERMISSIONS } from '../../src/kube/permissions.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const SCENARIOS = [
  '--scenario',
  'mesh-strict-dr-mutual',
  '--scenario',
  'permissive-httpbin-test1',
  '--allow-cluster-wide',
];

async function run(kubeconfig: string, ...argv: string[]) {
  const r = await cli(['--kubeconfig', kubeconfig, 'run', '-o', 'json', ...argv], { env: { CI: '1' } });
  if (!r.stdout) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return { ...r, doc: JSON.parse(r.stdout) as ReportDocument };
}

/** Every permission meshprobe checks for (src/kube/permissions.ts), cluster-wide, but exec only in the topology. */
function allButExecIntoIstiod() {
  return PERMISSIONS.map((p) =>
    p.resource === 'pods/exec'
      ? {
          verbs: p.verbs,
          apiGroups: [p.group],
          resources: [p.resource],
          namespaces: ['test1', 'test2', 'test3', 'ngtest'],
        }
      : { verbs: p.verbs, apiGroups: [p.group], resources: [p.resource] },
  );
}

describe.runIf(!REAL_KUBECONFIG)('slow configuration pushes (emulated cluster only)', () => {
  it("15–25 s per proxy: every scenario as expected, each believed after its proxies' acknowledgement", async () => {
    cluster = await testCluster('modern', {
      runtime: meshRuntimeFactory({ propagationDelayMs: { min: 15_000, max: 25_000 }, seed: 5 }),
    });
    // --settle 3 would believe a stale matrix after 3 s without the push status.
    const r = await run(cluster.kubeconfig, ...SCENARIOS, '--settle', '3', '--converge-timeout', '90');
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.summary).toMatchObject({ cells: 80, matched: 80, mismatched: 0, errors: 0 });
    for (const s of r.doc.scenarios) {
      const acked = s.convergence!.push!.acknowledgedAt!;
      // The last proxy of the push gets it near the end of the range (the first at 15 s).
      expect(acked, s.name).toBeGreaterThanOrEqual(15);
      // Only rounds that started after the acknowledgement decided: K = 2 of them.
      const counted = s.convergence!.history!.filter((h) => h.at >= acked);
      expect(counted.length, s.name).toBeGreaterThanOrEqual(2);
    }
    expect(r.stderr).not.toMatch(/sync status cannot be read/);
  }, 300_000);

  it('a first scenario that applies nothing waits until every proxy has the topology: no client taken for one that cannot reach', async () => {
    // 5–10 s per proxy: test1's sleep starts before test2's and test3's services exist and learns of them
    // by a push that comes seconds after the topology is Ready; --settle 3 would believe it stale.
    cluster = await testCluster('modern', {
      runtime: meshRuntimeFactory({ propagationDelayMs: { min: 5_000, max: 10_000 }, seed: 7 }),
    });
    const r = await run(cluster.kubeconfig, '--scenario', 'baseline', '--settle', '3', '--converge-timeout', '90');
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.summary).toMatchObject({ cells: 40, matched: 40, mismatched: 0, errors: 0 });
    expect(r.stderr).toMatch(/preflight: ok proxies configured \(every topology proxy acknowledged istiod's push/);
  }, 300_000);

  it('without exec into istio-system: a warning that names the permission, then the settle time decides', async () => {
    cluster = await testCluster('modern', {
      runtime: meshRuntimeFactory({ propagationDelayMs: { min: 5_000, max: 8_000 }, seed: 5 }),
      users: [
        {
          name: 'prober',
          token: 'prober-token',
          rules: allButExecIntoIstiod(),
        },
      ],
    });
    const kubeconfig = `${cluster.kubeconfig}.prober`;
    await cluster.emulator!.writeKubeconfig(kubeconfig, { user: 'prober' });
    // The default settle time (30 s) outlasts this push; --settle 3 would not.
    const r = await run(kubeconfig, '--scenario', 'mesh-strict-dr-mutual', '--allow-cluster-wide');
    expect(r.stderr).toMatch(
      /warning: istiod's sync status cannot be read \(this identity may not list pods and exec into them in istio-system\): a stable mismatch is believed after the settle time \(30 s.*allow `create pods\/exec` in istio-system/,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.summary).toMatchObject({ matched: 40, mismatched: 0 });
    expect(r.doc.scenarios[0]!.convergence).not.toHaveProperty('push');
  }, 300_000);
});
