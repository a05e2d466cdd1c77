// What the reliability benchmarks (kill-cleanup.ts, faults-outside-probing.ts) share: an emulated cluster
// with a platform team's objects already in it, a snapshot of everything a user would care about, the
// difference between two snapshots, and meshprobe run as its own process (the built dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { ClientNodeCluster } from '../../src/kube/client-node-cluster.js';
import { loadKubeconfig } from '../../src/kube/kubeconfig.js';
import type { KubeObject } from '../emulator/contracts.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { meshRuntimeFactory } from '../emulator/mesh/index.js';
export { seededRng as rng } from '../emulator/rng.js';
import { ensureBuilt } from '../helpers/bin.js';

export const MAIN = ensureBuilt();

/** Kinds the emulator's own controllers keep changing; they say nothing about what meshprobe left. */
const CHURN = new Set(['events', 'leases', 'endpoints', 'endpointslices', 'pods', 'replicasets']);
export const MANAGED_BY = 'app.kubernetes.io/managed-by';

export async function cluster(o: EmulatorOptions = {}): Promise<{ emu: Emulator; k8s: ClientNodeCluster }> {
  const emu = await startEmulator({
    istio: 'modern',
    runtime: meshRuntimeFactory({ propagationDelayMs: { min: 600, max: 1500 } }),
    podReadyDelayMs: 100,
    kubeletTimeScale: 0.1,
    ...o,
  });
  const k8s = new ClientNodeCluster(loadKubeconfig({ kubeconfig: emu.kubeconfigPath, env: {} }));
  return { emu, k8s };
}

/**
 * What another team already has, as in reliability-figures §1–2: a PERMISSIVE mesh-wide policy with labels
 * and an annotation, and a DestinationRule in istio-system (named `default` by default, so that the
 * scenarios' own replaces it and must put it back). With
 * `adopt`, also the namespace test1 (a label of its own), a DestinationRule that port-level-dr replaces and
 * a ConfigMap meshprobe never created.
 */
export async function platformObjects(
  k8s: ClientNodeCluster,
  o: { adopt?: boolean; destinationRule?: string } = {},
): Promise<void> {
  await k8s.apply({
    apiVersion: 'security.istio.io/v1',
    kind: 'PeerAuthentication',
    metadata: {
      name: 'default',
      namespace: 'istio-system',
      labels: { owner: 'platform' },
      annotations: { note: 'do not touch' },
    },
    spec: { mtls: { mode: 'PERMISSIVE' } },
  });
  await k8s.apply({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: o.destinationRule ?? 'default', namespace: 'istio-system', labels: { owner: 'platform' } },
    spec: { host: '*.team-a.svc.cluster.local', trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
  });
  if (o.adopt) {
    await k8s.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'test1', labels: { team: 'me' } } });
    await k8s.apply({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'httpbin-ports', namespace: 'test1', labels: { owner: 'me' } },
      spec: { host: 'httpbin.test1.svc.cluster.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    });
    await k8s.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'team-settings', namespace: 'test1' },
      data: { a: '1' },
    });
  }
  await new Promise((r) => setTimeout(r, 500));
}

export type Snapshot = Map<string, KubeObject>;

/** Every object except controller churn, without what the server maintains on each write. */
export function snapshot(emu: Emulator): Snapshot {
  const out: Snapshot = new Map();
  for (const { group, resource } of emu.store.resources()) {
    if (CHURN.has(resource)) continue;
    for (const o of emu.store.list(group, resource)) {
      const {
        resourceVersion: _r,
        managedFields: _m,
        generation: _g,
        ...metadata
      } = o.metadata as Record<string, unknown>;
      const { status: _s, apiVersion: _v, ...rest } = o as KubeObject & { status?: unknown };
      out.set(`${group}/${resource}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, {
        ...rest,
        metadata,
      } as KubeObject);
    }
  }
  return out;
}

export interface Difference {
  left: string[];
  /** Of `left`, those labelled as meshprobe's. */
  ours: number;
  gone: string[];
  changed: string[];
}

export function compare(before: Snapshot, after: Snapshot): Difference {
  const d: Difference = { left: [], ours: 0, gone: [], changed: [] };
  for (const [k, v] of after) {
    if (before.has(k)) continue;
    d.left.push(k);
    if (v.metadata.labels?.[MANAGED_BY] === 'meshprobe') d.ours++;
  }
  for (const [k, v] of before) {
    if (!after.has(k)) d.gone.push(k);
    else if (!isDeepStrictEqual(after.get(k), v)) d.changed.push(k);
  }
  return d;
}

export const clean = (d: Difference) => d.left.length + d.gone.length + d.changed.length === 0;

/** `exact` when the object is as it was (spec, labels, annotations, uid), else what happened to it. */
export function fate(before: Snapshot, after: Snapshot, key: string): string {
  if (!after.has(key)) return before.has(key) ? 'GONE' : 'absent';
  if (!before.has(key)) return 'NEW';
  return isDeepStrictEqual(after.get(key), before.get(key)) ? 'exact' : 'CHANGED';
}

export interface Proc {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>;
}

/** meshprobe as its own process, against the emulator's kubeconfig, with its own HOME (its journals). */
export function meshprobe(emu: Emulator, home: string, args: string[]): Proc {
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN, '--kubeconfig', emu.kubeconfigPath, ...args], {
    env: { ...process.env, HOME: home, CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    ms: number;
  }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 })),
  );
  return { child, done };
}

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
