// A run on a shared cluster that is SIGKILLed at any point leaves nothing behind once `meshprobe cleanup`
// has run: no object of ours, and every object that was there before exactly as it was.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { KubeObject } from '../emulator/contracts.js';
import { ensureBuilt } from '../helpers/bin.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

const SCENARIOS = [
  '--scenario',
  'mesh-strict-dr-mutual',
  '--scenario',
  'permissive-httpbin-test1',
  '--scenario',
  'mesh-strict-no-dr',
];
const FAST = ['--interval', '0.2', '--settle', '2', '--converge-timeout', '20', '--ready-timeout', '60'];
/** Kinds the emulator's own controllers keep changing; they say nothing about what meshprobe left. */
const CHURN = new Set(['events', 'leases', 'endpoints', 'endpointslices', 'pods', 'replicasets']);

let cluster: TestCluster;
let main: string;
const home = mkdtempSync(join(tmpdir(), 'meshprobe-kill-home-'));

/** Everything the cluster holds that a user would care about, by key, without what the server owns. */
function snapshot(): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const store = cluster.emulator!.store;
  for (const { group, resource } of store.resources()) {
    if (CHURN.has(resource)) continue;
    for (const o of store.list(group, resource)) {
      // What the server maintains on every write; and apiVersion, which for a CRD served in several
      // versions is only the version the last write used (a GET returns whichever version it asks for).
      const {
        resourceVersion: _r,
        managedFields: _m,
        generation: _g,
        ...metadata
      } = o.metadata as Record<string, unknown>;
      const { status: _s, apiVersion: _v, ...rest } = o as KubeObject & { status?: unknown };
      out.set(`${group}/${resource}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, { ...rest, metadata });
    }
  }
  return out;
}

function leftovers(before: Map<string, unknown>): string[] {
  const after = snapshot();
  const problems: string[] = [];
  for (const [k, v] of after) {
    const labels = (v as KubeObject).metadata.labels ?? {};
    if (!before.has(k))
      problems.push(`left: ${k}${labels['app.kubernetes.io/managed-by'] === 'meshprobe' ? ' (ours)' : ''}`);
  }
  for (const [k, v] of before) {
    if (!after.has(k)) problems.push(`gone: ${k}`);
    else if (!isDeepStrictEqual(after.get(k), v)) problems.push(`changed: ${k}`);
  }
  return problems;
}

function meshprobe(args: string[]) {
  const child = spawn(process.execPath, [main, '--kubeconfig', cluster.kubeconfig, '-q', ...args], {
    env: { ...process.env, HOME: home, CI: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Requests that change something (and execs): preflight's SelfSubjectAccessReviews change nothing. */
const requests = () => cluster.emulator!.audit.entries().filter((e) => e.resource !== 'selfsubjectaccessreviews');
const writes = () => requests().length;

describe.runIf(!REAL_KUBECONFIG)('killed runs and meshprobe cleanup (emulated cluster)', () => {
  let before: Map<string, unknown>;

  beforeAll(async () => {
    main = ensureBuilt();
    cluster = await testCluster('modern', { podReadyDelayMs: 50 });
    // What another team already has: a STRICT mesh-wide policy meshprobe's scenarios overwrite, and objects it must not touch.
    const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: cluster.kubeconfig, env: {} }));
    await k8s.apply({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: {
        name: 'default',
        namespace: 'istio-system',
        labels: { owner: 'platform' },
        annotations: { note: 'do not touch' },
      },
      spec: { mtls: { mode: 'STRICT' } },
    });
    await k8s.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'team-a', namespace: 'istio-system' },
      spec: { host: '*.team-a.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
    });
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await k8s.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'team-a' },
      data: { a: '1' },
    });
    await new Promise((r) => setTimeout(r, 500));
    before = snapshot();
  }, 120_000);
  afterAll(() => cluster?.stop());

  let total = 0;

  it('a whole run replaces the STRICT default PeerAuthentication and puts it back as it was', async () => {
    const start = writes();
    const r = await meshprobe(['run', '--allow-cluster-wide', ...SCENARIOS, ...FAST]).done;
    total = writes() - start;
    expect(r.code, r.stderr).toBe(0);
    const replaced = requests()
      .slice(start)
      .filter((e) => e.verb === 'update' && e.resource === 'peerauthentications' && e.name === 'default');
    expect(replaced.length).toBeGreaterThanOrEqual(2); // overwritten by a scenario, then restored
    expect(leftovers(before)).toEqual([]);
  }, 180_000);

  it('SIGKILL at 20 points spread over setup, apply, probe and restore; cleanup leaves the cluster as it was', async () => {
    const istio = new Set(['peerauthentications', 'destinationrules', 'policies', 'meshpolicies']);
    type Entry = ReturnType<typeof requests>[number];
    const phases: Array<{ phase: string; match: (e: Entry) => boolean; at: number[] }> = [
      {
        phase: 'setup',
        match: (e) => ['namespaces', 'serviceaccounts', 'services', 'secrets', 'deployments'].includes(e.resource),
        at: [1, 5, 9, 13, 17],
      },
      // Istio objects are written in turn by a scenario's apply and by its restore: the n-th write alternates.
      { phase: 'apply/restore', match: (e) => istio.has(e.resource), at: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
      { phase: 'probe', match: (e) => e.subresource === 'exec', at: [2, 7, 13, 19, 25] },
    ];
    const found: string[] = [];
    let kills = 0;
    for (const { phase, match, at } of phases) {
      for (const n of at) {
        const start = writes();
        const run = meshprobe(['run', '--allow-cluster-wide', ...SCENARIOS, ...FAST]);
        const seen = () => requests().slice(start).filter(match).length;
        while (seen() < n && run.child.exitCode === null) await new Promise((r) => setTimeout(r, 1));
        run.child.kill('SIGKILL');
        const ended = await run.done;
        expect(ended.signal, `${phase} #${n}: the run ended before the kill`).toBe('SIGKILL');
        kills++;
        const last = requests().at(-1)!;
        const c = await meshprobe(['cleanup', '--timeout', '60']).done;
        expect(c.code, c.stderr).toBe(0);
        found.push(
          ...leftovers(before).map(
            (p) =>
              `kill in ${phase} after request #${n} of the phase (${last.verb} ${last.resource}${last.subresource ? `/${last.subresource}` : ''}): ${p}`,
          ),
        );
      }
    }
    console.log(
      `kills: ${kills} (setup 5, apply/restore 10, probe 5) of a ${total}-request run; leftovers after cleanup: ${found.length}`,
    );
    expect(kills).toBe(20);
    expect(found).toEqual([]);
  }, 900_000);
});
