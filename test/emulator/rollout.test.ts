// Rolling updates as the real deployment controller and kubelet make them, watched through the store
// (every intermediate state) and through the real kubectl (`rollout status`, `describe`, `get events`).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from './contracts.js';
import { startEmulator, type Emulator } from './index.js';
import { createPlainRuntime } from './runtime/plain.js';
import { eventually, kubectl, NAMESPACE_YAML } from './testing.js';

type Any = Record<string, any>;

let emu: Emulator;
let dir: string;

function deploymentYaml(name: string, replicas: number, env: string, extra = '', podAnnotations = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
${extra}  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
${podAnnotations}    spec:
      containers:
        - name: app
          image: docker.io/mccutchen/go-httpbin:v2.15.0
          env:
            - name: VERSION
              value: "${env}"
`;
}

async function apply(namespace: string, yaml: string): Promise<void> {
  const file = join(dir, `${namespace}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const r = await kubectl(emu.kubeconfigPath, ['apply', '-n', namespace, '-f', file]);
  expect(r.code, r.stderr).toBe(0);
}

const ready = (p: KubeObject): boolean =>
  ((p.status as Any | undefined)?.conditions ?? []).some((c: Any) => c.type === 'Ready' && c.status === 'True');

/** Every state the pods of a namespace go through, from now on. */
function recordPods(namespace: string): { snapshots: KubeObject[][]; stop: () => void } {
  const snapshots: KubeObject[][] = [];
  const stop = emu.store.subscribe((e) => {
    if (e.group === '' && e.resource === 'pods' && e.object.metadata.namespace === namespace)
      snapshots.push(emu.store.list('', 'pods', namespace));
  });
  return { snapshots, stop };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-rollout-test-'));
  // Apps take 400 ms to exit on SIGTERM, so a Terminating pod is seen Ready; pods Ready 300 ms after start.
  emu = await startEmulator({
    istio: 'none',
    podReadyDelayMs: 300,
    podTerminationMs: 400,
    runtime: createPlainRuntime,
  });
  for (const ns of ['roll1', 'roll4', 'stuck']) {
    const file = join(dir, `${ns}.yaml`);
    writeFileSync(file, NAMESPACE_YAML(ns));
    expect((await kubectl(emu.kubeconfigPath, ['apply', '-f', file])).code).toBe(0);
  }
});

afterAll(async () => {
  await emu?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('rolling updates', () => {
  it('surges one new pod, keeps the old one Ready until the new one is available, then terminates it', async () => {
    await apply('roll1', deploymentYaml('web', 1, 'one'));
    const first = await kubectl(emu.kubeconfigPath, [
      'rollout',
      'status',
      '-n',
      'roll1',
      'deployment/web',
      '--timeout=20s',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const oldPod = emu.store.list('', 'pods', 'roll1')[0]!;
    const oldRs = emu.store.list('apps', 'replicasets', 'roll1')[0]!;

    const seen = recordPods('roll1');
    const deployments: Any[] = [];
    const stopDeployments = emu.store.subscribe((e) => {
      if (e.resource === 'deployments' && e.object.metadata.namespace === 'roll1')
        deployments.push(structuredClone(e.object.status) as Any);
    });
    // The new pod takes 1.5 s to be Ready, so kubectl (which takes a while to start) sees the rollout.
    await apply(
      'roll1',
      deploymentYaml(
        'web',
        1,
        'two',
        '',
        '      annotations:\n        emulator.meshprobe.dev/fault: slow-ready=1500ms\n',
      ),
    );
    const rollout = await kubectl(emu.kubeconfigPath, [
      'rollout',
      'status',
      '-n',
      'roll1',
      'deployment/web',
      '--timeout=20s',
    ]);
    expect(rollout.code, rollout.stderr).toBe(0);
    expect(rollout.stdout).toMatch(
      /Waiting for deployment "web" rollout to finish: (0 of 1 updated replicas are available|1 old replicas are pending termination)\.\.\./,
    );
    expect(rollout.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');
    await eventually(
      () => (emu.store.get('', 'pods', 'roll1', oldPod.metadata.name) ? undefined : true),
      5000,
      'old pod gone',
    );
    seen.stop();
    stopDeployments();

    const oldStates = seen.snapshots.map((s) => s.find((p) => p.metadata.uid === oldPod.metadata.uid));
    const newPodUid = seen.snapshots.flat().find((p) => p.metadata.uid !== oldPod.metadata.uid)!.metadata.uid;
    const newStates = seen.snapshots.map((s) => s.find((p) => p.metadata.uid === newPodUid));
    // maxSurge 25% of 1 rounds up to 1, maxUnavailable rounds down to 0: the old pod is asked to stop
    // only once the new one is Ready.
    const askedToStop = oldStates.findIndex((p) => p?.metadata.deletionTimestamp);
    expect(askedToStop).toBeGreaterThan(0);
    expect(ready(newStates[askedToStop]!)).toBe(true);
    expect(oldStates.slice(0, askedToStop).every((p) => p && ready(p))).toBe(true);
    // Terminating yet still Ready (its app has not exited yet), then not Ready, then gone.
    const terminating = oldStates.filter((p) => p?.metadata.deletionTimestamp);
    expect(ready(terminating[0]!)).toBe(true);
    expect(terminating.some((p) => p && !ready(p))).toBe(true);
    expect((terminating.at(-1)!.status as Any).containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });

    // While both pods exist, the Deployment counts as the real controller does.
    expect(deployments).toContainEqual(
      expect.objectContaining({
        replicas: 2,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        unavailableReplicas: 1,
      }),
    );
    const d = emu.store.get('apps', 'deployments', 'roll1', 'web')!;
    const status = d.status as Any;
    expect(status).toMatchObject({
      observedGeneration: 2,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 1,
      availableReplicas: 1,
    });
    expect(status.unavailableReplicas).toBeUndefined();
    const newRs = emu.store.list('apps', 'replicasets', 'roll1').find((rs) => rs.metadata.uid !== oldRs.metadata.uid)!;
    expect(status.conditions.map((c: Any) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'],
      [
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`,
      ],
    ]);
    expect(d.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(newRs.metadata.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '2',
      'deployment.kubernetes.io/desired-replicas': '1',
      'deployment.kubernetes.io/max-replicas': '2',
    });
    // The old ReplicaSet stays (revisionHistoryLimit 10) at zero.
    expect((emu.store.get('apps', 'replicasets', 'roll1', oldRs.metadata.name)?.spec as Any).replicas).toBe(0);

    const events = await kubectl(emu.kubeconfigPath, [
      'get',
      'events',
      '-n',
      'roll1',
      '--field-selector',
      'involvedObject.kind=Deployment',
      '-o',
      'jsonpath={range .items[*]}{.source.component}|{.reason}|{.message}{"\\n"}{end}',
    ]);
    expect(events.stdout.trim().split('\n')).toEqual([
      `deployment-controller|ScalingReplicaSet|Scaled up replica set ${oldRs.metadata.name} to 1`,
      `deployment-controller|ScalingReplicaSet|Scaled up replica set ${newRs.metadata.name} to 1`,
      `deployment-controller|ScalingReplicaSet|Scaled down replica set ${oldRs.metadata.name} to 0 from 1`,
    ]);
    const podEvents = await kubectl(emu.kubeconfigPath, [
      'get',
      'events',
      '-n',
      'roll1',
      '--field-selector',
      `involvedObject.name=${oldPod.metadata.name}`,
      '-o',
      'jsonpath={range .items[*]}{.reason}|{.message}{"\\n"}{end}',
    ]);
    expect(podEvents.stdout).toContain('Killing|Stopping container app');
  });

  it('with 4 replicas and the 25 % defaults: at most 5 replicas asked for, never fewer than 3 available', async () => {
    await apply('roll4', deploymentYaml('api', 4, 'one'));
    const first = await kubectl(emu.kubeconfigPath, [
      'rollout',
      'status',
      '-n',
      'roll4',
      'deployment/api',
      '--timeout=20s',
    ]);
    expect(first.code).toBe(0);
    const seen = recordPods('roll4');
    const replicaSets: Array<Array<{ spec: number; available: number }>> = [];
    const stopRs = emu.store.subscribe((e) => {
      if (e.resource === 'replicasets' && e.object.metadata.namespace === 'roll4')
        replicaSets.push(
          emu.store.list('apps', 'replicasets', 'roll4').map((rs) => ({
            spec: Number((rs.spec as Any).replicas),
            available: Number((rs.status as Any)?.availableReplicas ?? 0),
          })),
        );
    });
    await apply('roll4', deploymentYaml('api', 4, 'two'));
    const r = await kubectl(emu.kubeconfigPath, [
      'rollout',
      'status',
      '-n',
      'roll4',
      'deployment/api',
      '--timeout=30s',
    ]);
    expect(r.code, r.stderr).toBe(0);
    seen.stop();
    stopRs();
    // maxSurge 25 % of 4 = 1, maxUnavailable 25 % of 4 = 1: the ReplicaSets together never ask for
    // more than 5 pods, and never fall below 3 available ones.
    const asked = replicaSets.map((s) => s.reduce((n, rs) => n + rs.spec, 0));
    expect(Math.max(...asked)).toBe(5);
    expect(Math.min(...replicaSets.map((s) => s.reduce((n, rs) => n + rs.available, 0)))).toBeGreaterThanOrEqual(3);
    expect(
      Math.min(...seen.snapshots.map((s) => s.filter((p) => !p.metadata.deletionTimestamp && ready(p)).length)),
    ).toBeGreaterThanOrEqual(3);
    // The old pods were replaced step by step, not all at once.
    const deletions = seen.snapshots.map((s) => s.filter((p) => p.metadata.deletionTimestamp).length);
    expect(Math.max(...deletions)).toBeLessThan(4);
    const status = emu.store.get('apps', 'deployments', 'roll4', 'api')!.status as Any;
    expect(status).toMatchObject({ replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4 });
  });

  it('a rollout whose new pods never become Ready exceeds its progress deadline, and kubectl says so', async () => {
    await apply('stuck', deploymentYaml('web', 1, 'one', '  progressDeadlineSeconds: 2\n'));
    expect(
      (await kubectl(emu.kubeconfigPath, ['rollout', 'status', '-n', 'stuck', 'deployment/web', '--timeout=20s'])).code,
    ).toBe(0);
    emu.faults.set([{ kind: 'never-ready', namespaces: ['stuck'], labelSelector: 'app=web' }]);
    const oldPods = emu.store.list('', 'pods', 'stuck').map((p) => p.metadata.uid);
    await apply('stuck', deploymentYaml('web', 1, 'two', '  progressDeadlineSeconds: 2\n'));
    const started = Date.now();
    const r = await kubectl(emu.kubeconfigPath, [
      'rollout',
      'status',
      '-n',
      'stuck',
      'deployment/web',
      '--timeout=20s',
    ]);
    emu.faults.clear();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('error: deployment "web" exceeded its progress deadline');
    // 2 s after the condition's lastUpdateTime, which (like every API timestamp) has whole seconds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const d = emu.store.get('apps', 'deployments', 'stuck', 'web')!;
    const progressing = ((d.status as Any).conditions as Any[]).find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(progressing?.message).toMatch(/^ReplicaSet "web-[a-z0-9]+" has timed out progressing\.$/);
    // The old pod keeps serving: maxUnavailable 0 never lets it go.
    expect(
      emu.store.list('', 'pods', 'stuck').filter((p) => oldPods.includes(p.metadata.uid) && ready(p)),
    ).toHaveLength(1);
  });
});
