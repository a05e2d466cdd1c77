// Setup against the ways a real cluster fails to run the topology's pods, on the emulated cluster: image
// pulls the kubelet retries (waited through) or that can never succeed (named at once), pods admission
// refuses (Pod Security, a fail-closed injection webhook: seconds, not the 300 s ready timeout), and a
// rolling update whose old pod stays Ready (not probed). Each ends with the exit code, the message and
// fix, and a cluster with nothing of the topology left.
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

const topologyNamespaces = (c: TestCluster) =>
  c
    .emulator!.store.list('', 'namespaces')
    .map((n) => n.metadata.name)
    .filter((n) => /^(test\d|ngtest)$/.test(n));

async function run(c: TestCluster, ...argv: string[]) {
  const started = Date.now();
  const r = await cli(['--kubeconfig', c.kubeconfig, 'run', '-o', 'json', '--settle', '3', ...argv]);
  return {
    ...r,
    seconds: (Date.now() - started) / 1000,
    doc: r.stdout ? (JSON.parse(r.stdout) as ReportDocument) : undefined,
  };
}

/** A copy of the default topology whose `workload` pod template carries `annotations`. */
function topologyWith(workload: string, annotations: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-topology-'));
  const root = join(import.meta.dirname, '../../manifests');
  for (const w of ['httpbin', 'sleep', 'sleep-other', 'my-nginx']) {
    let text = readFileSync(join(root, 'workloads', `${w}.yaml`), 'utf8');
    if (w === workload) {
      const lines = Object.entries(annotations).map(([k, v]) => `        ${k}: ${JSON.stringify(v)}\n`);
      text = text.replace(
        /(  template:\n    metadata:\n)((?:      annotations:\n)?)/,
        `$1      annotations:\n${lines.join('')}`,
      );
    }
    writeFileSync(join(dir, `${w}.yaml`), text);
  }
  writeFileSync(
    join(dir, 'topology.yaml'),
    readFileSync(join(root, 'topology/default.yaml'), 'utf8').replace(/\.\.\/workloads\//g, ''),
  );
  return join(dir, 'topology.yaml');
}

describe.runIf(!REAL_KUBECONFIG)('setup against pods that cannot start (emulated cluster only)', () => {
  it("pulls refused by a rate limit are retried through the kubelet's back-off: the run goes through", async () => {
    cluster = await testCluster('modern', {
      faults: [{ kind: 'image-pull', message: 'toomanyrequests', times: 3, images: ['*/go-httpbin:*'] }],
    });
    const r = await run(cluster, '--scenario', 'baseline');
    expect(cluster.emulator!.faults.hits()[0]).toBe(3);
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc!.summary).toMatchObject({ matched: 40, errors: 0 });
    expect(topologyNamespaces(cluster)).toEqual([]);
  }, 180_000);

  it('an image the registry does not have fails setup at once, naming image and reason; nothing is left', async () => {
    cluster = await testCluster('modern', {
      faults: [{ kind: 'image-pull', permanent: true, images: ['*/go-httpbin:*'] }],
    });
    const r = await run(cluster, '--scenario', 'baseline');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: pod test\d\/httpbin-\S+ cannot pull image "docker\.io\/mccutchen\/go-httpbin:v2\.15\.0" for container httpbin: rpc error: code = NotFound desc = .*: not found/,
    );
    expect(r.stderr).toMatch(/meshprobe: fix: check the image name and tag/);
    expect(r.seconds).toBeLessThan(60);
    expect(topologyNamespaces(cluster)).toEqual([]);
  }, 180_000);

  it('Pod Security "baseline" refusing istio-init: exit 3 in seconds with the message and the fix; nothing is left', async () => {
    cluster = await testCluster('modern', { podSecurity: 'baseline' });
    const r = await run(cluster, '--scenario', 'baseline');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /meshprobe: error: deployment test[12]\/\S+ cannot create its pods \(FailedCreate\): pods "\S+" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities \(container "istio-init" must not include "NET_ADMIN", "NET_RAW"/,
    );
    expect(r.stderr).toMatch(
      /fix: .*pod-security\.kubernetes\.io\/enforce=privileged .* --adopt, or install Istio with istio-cni/,
    );
    expect(r.seconds).toBeLessThan(30);
    expect(topologyNamespaces(cluster)).toEqual([]);
  }, 180_000);

  it('the injection webhook failing closed (istiod unreachable): exit 3 after the grace period, naming istiod', async () => {
    cluster = await testCluster('modern', { faults: [{ kind: 'webhook-down' }] });
    const r = await run(cluster, '--scenario', 'baseline');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /cannot create its pods \(FailedCreate\): Internal error occurred: failed calling webhook "[a-z.]*sidecar-injector\.istio\.io": failed to call webhook: Post "https:\/\/istiod\.istio-system\.svc:443\/inject/,
    );
    expect(r.stderr).toMatch(/fix: istiod is down or unreachable/);
    expect(r.seconds).toBeLessThan(45);
    expect(topologyNamespaces(cluster)).toEqual([]);
  }, 180_000);

  it('a rolling update of a kept topology: the probes run in the new pod, not in the old one still Ready', async () => {
    cluster = await testCluster('modern');
    const first = await run(cluster, '--scenario', 'baseline', '--keep');
    expect(first.code, first.stderr).toBe(0);
    const podOf = (ns: string, app: string) =>
      cluster!
        .emulator!.store.list('', 'pods', ns)
        .filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp)
        .map((p) => p.metadata.name);
    const before = podOf('test1', 'sleep');
    const audited = cluster.emulator!.audit.entries().length;
    // The new template's pod takes 3 s to become Ready: long after the old one would have been probed.
    const r = await run(
      cluster,
      '--scenario',
      'baseline',
      '--topology',
      topologyWith('sleep', { [FAULT_ANNOTATION]: 'slow-ready=3s' }),
    );
    expect(r.code, r.stderr).toBe(0);
    // Which pods the second run's probes went to, as the API server saw them.
    const probed = new Set(
      cluster
        .emulator!.audit.entries()
        .slice(audited)
        .filter((e) => e.subresource === 'exec' && e.namespace === 'test1')
        .filter((e) => /^sleep-/.test(e.name ?? '') && !/^sleep-other-/.test(e.name ?? '')) // not test1's second client
        .map((e) => e.name),
    );
    expect(before).toHaveLength(1);
    expect(probed.size).toBeGreaterThan(0);
    expect([...probed]).not.toContain(before[0]);
    // The kept topology stays, with the new pod only.
    expect(podOf('test1', 'sleep')).toEqual([...probed]);
  }, 180_000);
});
