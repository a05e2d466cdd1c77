// The scheduler and the kubelet of the one emulated node. A new pod is bound to the node and gets a
// pod IP (10.244.x.y, reported only); once its volumes can be mounted, the pod worker syncs it as the
// kubelet's does (pkg/kubelet/pod_workers.go, kuberuntime_manager.go SyncPod): init containers one
// after the other, then the app containers, each image through the image manager (image-pull.ts),
// so a failing pull leaves the container waiting ErrImagePull, then ImagePullBackOff, with the
// kubelet's events, and the sync is retried (first at the next PLEG relist, 1 s, then every 10-15 s,
// scaled by kubeletTimeScale). The runtime starts the pod when its init containers are done; it goes
// Running when every container has started and Ready after the configured delay, unless a fault keeps
// it from Ready or makes its app container crash-loop. A graceful deletion stops the containers as the
// kubelet does: "Stopping container" events, each container exiting on SIGTERM (the app after
// podTerminationMs, istio-proxy after its 5 s termination drain), none later than the grace period
// (then SIGKILL, exit 137); the pod stays Ready until a container has exited, and once all have, its
// final status is written and it is removed.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp } from '../store.js';
import type { PodFault } from '../api/faults.js';
import { seededRng } from '../rng.js';
import type { Controller, ControllerContext } from './context.js';
import { recordEvent } from './events.js';
import { ImageManager, type PullResult } from './image-pull.js';
import {
  cond,
  containerId,
  containers,
  imageRef,
  keepTransition,
  podPhase,
  readinessConditions,
  SIDECAR,
  waitingStatus,
  withConditions,
} from './pod-status.js';
import { nsName, Timers } from './queue.js';

export { SIDECAR } from './pod-status.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go kubelet's structs
type Key = { namespace: string | undefined; name: string; uid: string };

/** pkg/kubelet/kubelet.go genericPlegRelistPeriod: how soon a sync that changed containers is followed up. */
const PLEG_RELIST_MS = 1000;
/** pkg/kubelet/kubelet.go backOffPeriod and pod_workers.go workerBackOffPeriodJitterFactor. */
const WORKER_BACKOFF_MS = 10_000;
const WORKER_BACKOFF_JITTER = 0.5;
/** istio pkg/config/mesh/mesh.go DefaultProxyConfig TerminationDrainDuration; pkg/envoy/agent.go terminate(). */
const SIDECAR_DRAIN_MS = 5000;

interface PodState {
  uid: string;
  /** startPod has been called (so stopPod is owed). */
  started: boolean;
  stopping: boolean;
  timers: NodeJS.Timeout[];
  initDone: boolean;
  /** App containers that have started. */
  running: Set<string>;
  failedSyncs: number;
  syncTimer?: NodeJS.Timeout;
}

export class PodIpAllocator {
  private next = 0;

  allocate(): string {
    const i = this.next++;
    return `10.244.${Math.floor(i / 253)}.${(i % 253) + 2}`;
  }
}

export function startPodLifecycle(ctx: ControllerContext): Controller & { settled(): Promise<void> } {
  const { store, config } = ctx;
  const scale = config.kubeletTimeScale;
  const ips = new PodIpAllocator();
  const states = new Map<string, PodState>();
  const timers = new Timers();
  const inflight = new Set<Promise<unknown>>();
  const kubelet = { component: 'kubelet', host: config.nodeName } as const;
  const waitingForVolumes = new Map<string, Key>();
  /** Pods whose termination has begun, by uid. */
  const terminating = new Set<string>();
  const images = new ImageManager(ctx.faults, scale);
  const jitter = seededRng(config.seed * 31 + 7);
  let stopped = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  const keyOf = (pod: KubeObject): Key => ({
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? '',
  });

  const current = (key: Key): KubeObject | undefined => {
    const pod = store.get('', 'pods', key.namespace, key.name);
    return pod && pod.metadata.uid === key.uid ? pod : undefined;
  };

  /** Re-reads the pod and writes a changed copy, unless it is gone or was replaced. */
  const update = (key: Key, change: (pod: Any) => void): KubeObject | undefined => {
    const live = current(key);
    if (!live) return undefined;
    const next = thaw(live) as Any;
    change(next);
    return store.put('', 'pods', next as KubeObject);
  };

  const event = (pod: KubeObject, c: Any | undefined, type: 'Normal' | 'Warning', reason: string, message: string) => {
    const list = c && containers(pod, 'initContainers').includes(c) ? 'initContainers' : 'containers';
    recordEvent(store, pod, type, reason, message, kubelet, c ? `spec.${list}{${String(c.name)}}` : undefined);
  };

  function schedule(pod: KubeObject): void {
    const key = keyOf(pod);
    const podIP = (pod.spec as Any | undefined)?.hostNetwork ? config.hostIP : ips.allocate();
    const bound = update(key, (p) => {
      p.spec.nodeName = config.nodeName;
      p.status = { ...(p.status ?? {}), phase: 'Pending', conditions: [cond('PodScheduled', 'True')] };
    });
    if (!bound) return;
    recordEvent(
      store,
      bound,
      'Normal',
      'Scheduled',
      `Successfully assigned ${bound.metadata.namespace ?? ''}/${bound.metadata.name} to ${config.nodeName}`,
      { component: 'default-scheduler' },
    );
    const inits = containers(bound, 'initContainers');
    // convertToAPIContainerStatuses: the default waiting reason is PodInitializing when there are init containers.
    const initial = inits.length > 0 ? 'PodInitializing' : 'ContainerCreating';
    const created = update(key, (p) => {
      p.status = {
        ...p.status,
        phase: 'Pending',
        hostIP: config.hostIP,
        hostIPs: [{ ip: config.hostIP }],
        podIP,
        podIPs: [{ ip: podIP }],
        startTime: timestamp(),
        conditions: keepTransition(p.status.conditions, [
          cond('PodReadyToStartContainers', 'True'),
          initializedCondition(
            p,
            inits.map((c) => String(c.name)),
          ),
          ...readinessConditions({ ...p, status: { containerStatuses: [] } }),
          cond('PodScheduled', 'True'),
        ]),
        containerStatuses: containers(p, 'containers').map((c) => waitingStatus(c, initial)),
      };
      if (inits.length > 0) p.status.initContainerStatuses = inits.map((c) => waitingStatus(c, initial));
    });
    if (!created) return;
    launch(key);
  }

  function initializedCondition(pod: Any, incomplete: string[]): Any {
    return incomplete.length > 0
      ? cond('Initialized', 'False', {
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incomplete.join(' ')}]`,
        })
      : cond('Initialized', 'True');
  }

  /** Volumes whose ConfigMap or Secret does not exist (yet): the kubelet cannot mount them. */
  function missingVolumes(pod: KubeObject): string[] {
    const namespace = pod.metadata.namespace;
    const missing: string[] = [];
    const check = (kind: 'secrets' | 'configmaps', name: unknown, optional: unknown, volume: string): void => {
      if (optional === true || typeof name !== 'string') return;
      if (!store.get('', kind, namespace, name)) {
        missing.push(
          `MountVolume.SetUp failed for volume "${volume}" : ${kind === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`,
        );
      }
    };
    for (const v of ((pod.spec as Any | undefined)?.volumes ?? []) as Any[]) {
      if (v.secret) check('secrets', v.secret.secretName, v.secret.optional, v.name);
      if (v.configMap) check('configmaps', v.configMap.name, v.configMap.optional, v.name);
      for (const source of (v.projected?.sources ?? []) as Any[]) {
        if (source.secret) check('secrets', source.secret.name, source.secret.optional, v.name);
        if (source.configMap) check('configmaps', source.configMap.name, source.configMap.optional, v.name);
      }
    }
    return missing;
  }

  /** Starts syncing the pod once its volumes can be mounted; until then it stays ContainerCreating. */
  function launch(key: Key): void {
    const pod = current(key);
    if (!pod || pod.metadata.deletionTimestamp || stopped) return;
    const k = nsName(key.namespace, key.name);
    const missing = missingVolumes(pod);
    if (missing.length > 0) {
      if (!waitingForVolumes.has(k))
        for (const m of missing) recordEvent(store, pod, 'Warning', 'FailedMount', m, kubelet);
      waitingForVolumes.set(k, key);
      return;
    }
    waitingForVolumes.delete(k);
    if (states.has(k) && states.get(k)?.uid === key.uid) return;
    const state: PodState = {
      uid: key.uid,
      started: false,
      stopping: false,
      timers: [],
      initDone: false,
      running: new Set(),
      failedSyncs: 0,
    };
    states.set(k, state);
    sync(key, state);
  }

  /** After a failed sync: the PLEG relist first, then the pod worker's jittered back-off. */
  function retry(key: Key, state: PodState): void {
    const delay =
      state.failedSyncs === 0
        ? PLEG_RELIST_MS * scale
        : WORKER_BACKOFF_MS * scale * (1 + WORKER_BACKOFF_JITTER * jitter());
    state.failedSyncs += 1;
    timers.cancel(state.syncTimer);
    state.syncTimer = timers.after(delay, () => {
      state.syncTimer = undefined;
      sync(key, state);
    });
  }

  const pullFailed = (pod: KubeObject, c: Any, r: Extract<PullResult, { ok: false }>): void =>
    event(pod, c, 'Warning', 'Failed', `Error: ${r.reason}`);

  function pull(pod: KubeObject, c: Any): PullResult {
    const r = images.ensure(pod, c, {
      normal: (reason, message) => event(pod, c, 'Normal', reason, message),
      warning: (reason, message) => event(pod, c, 'Warning', reason, message),
    });
    if (!r.ok) pullFailed(pod, c, r);
    return r;
  }

  function sync(key: Key, state: PodState): void {
    const pod = current(key);
    if (stopped || state.stopping || !pod || pod.metadata.deletionTimestamp) return;
    if (!state.initDone) {
      const inits = containers(pod, 'initContainers');
      for (const [i, c] of inits.entries()) {
        const r = pull(pod, c);
        if (!r.ok) {
          update(key, (p) => {
            p.status.initContainerStatuses[i] = waitingStatus(c, r.reason, r.message);
          });
          return retry(key, state);
        }
        event(pod, c, 'Normal', 'Created', `Created container ${String(c.name)}`);
        event(pod, c, 'Normal', 'Started', `Started container ${String(c.name)}`);
      }
      state.initDone = true;
      const now = timestamp();
      update(key, (p) => {
        if (p.status.initContainerStatuses)
          p.status.initContainerStatuses = inits.map((c) => ({
            name: c.name,
            ...imageRef(String(c.image)),
            containerID: containerId(p, c.name),
            ready: true,
            restartCount: 0,
            started: false,
            state: {
              terminated: {
                exitCode: 0,
                reason: 'Completed',
                startedAt: now,
                finishedAt: now,
                containerID: containerId(p, c.name),
              },
            },
            lastState: {},
          }));
        p.status.conditions = withConditions(p, [initializedCondition(p, [])]);
      });
    }
    if (!state.started) {
      state.started = true;
      const latest = current(key);
      if (!latest) return;
      track(
        ctx
          .runtime()
          .startPod(latest)
          .then(
            () => syncApps(key, state),
            (error: unknown) => {
              update(key, (p) => {
                for (const s of p.status.containerStatuses ?? [])
                  s.state = {
                    waiting: {
                      reason: 'CreateContainerError',
                      message: error instanceof Error ? error.message : String(error),
                    },
                  };
              });
            },
          ),
      );
      return;
    }
    syncApps(key, state);
  }

  function syncApps(key: Key, state: PodState): void {
    const pod = current(key);
    if (stopped || state.stopping || !pod || pod.metadata.deletionTimestamp) return;
    const failed = new Map<string, Extract<PullResult, { ok: false }>>();
    const startedNow: string[] = [];
    for (const c of containers(pod, 'containers')) {
      if (state.running.has(String(c.name))) continue;
      const r = pull(pod, c);
      if (!r.ok) {
        failed.set(String(c.name), r);
        continue;
      }
      event(pod, c, 'Normal', 'Created', `Created container ${String(c.name)}`);
      event(pod, c, 'Normal', 'Started', `Started container ${String(c.name)}`);
      state.running.add(String(c.name));
      startedNow.push(String(c.name));
    }
    const now = timestamp();
    update(key, (p) => {
      p.status.containerStatuses = containers(p, 'containers').map((c) => {
        const name = String(c.name);
        const f = failed.get(name);
        if (f) return waitingStatus(c, f.reason, f.message);
        const previous = ((p.status.containerStatuses ?? []) as Any[]).find((s) => s.name === name);
        if (!startedNow.includes(name) && previous?.state?.running) return previous;
        return {
          name,
          ...imageRef(String(c.image)),
          containerID: containerId(p, name),
          ready: false,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: now } },
          lastState: {},
        };
      });
      p.status.phase = podPhase(p);
      p.status.conditions = withConditions(p, readinessConditions(p));
    });
    if (failed.size > 0) return retry(key, state);
    state.failedSyncs = 0;
    allStarted(key, state);
  }

  /** Every container runs: readiness as the pod's fault (if any) has it. */
  function allStarted(key: Key, state: PodState): void {
    const pod = current(key);
    if (!pod) return;
    let fault: PodFault | undefined;
    try {
      fault = ctx.faults.podFault(pod);
    } catch (error) {
      console.error(
        `emulator: pod ${key.namespace ?? ''}/${key.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (fault?.kind === 'never-ready') {
      const probed = containers(pod, 'containers').find((c) => c.name !== SIDECAR) ?? containers(pod, 'containers')[0];
      event(pod, probed, 'Warning', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 503');
      return;
    }
    if (fault?.kind === 'crash-loop') {
      const exitCode = fault.exitCode;
      update(key, (p) => {
        const now = timestamp();
        for (const s of p.status.containerStatuses ?? []) {
          if (s.name === SIDECAR) continue;
          s.started = false;
          s.restartCount = 1;
          s.state = { waiting: { reason: 'CrashLoopBackOff', message: backOffMessage(10, s.name, p) } };
          s.lastState = {
            terminated: { exitCode, reason: 'Error', startedAt: now, finishedAt: now, containerID: s.containerID },
          };
        }
        p.status.phase = 'Running';
      });
      state.timers.push(timers.every(config.crashLoopIntervalMs, () => crashAgain(key, exitCode)));
      return;
    }
    const delay = fault?.kind === 'slow-ready' ? fault.delayMs : config.podReadyDelayMs;
    state.timers.push(timers.after(delay, () => ready(key)));
  }

  function ready(key: Key): void {
    update(key, (p) => {
      if (p.metadata.deletionTimestamp) return;
      for (const s of p.status.containerStatuses ?? []) if (s.state?.running) s.ready = true;
      p.status.conditions = withConditions(p, readinessConditions(p));
    });
  }

  function backOffMessage(seconds: number, container: string, p: Any): string {
    const text = seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
    return `back-off ${text} restarting failed container=${container} pod=${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})`;
  }

  function crashAgain(key: Key, exitCode: number): void {
    update(key, (p) => {
      const now = timestamp();
      for (const s of p.status.containerStatuses ?? []) {
        if (s.name === SIDECAR || !s.state?.waiting) continue;
        recordEvent(
          store,
          p as KubeObject,
          'Warning',
          'BackOff',
          'Back-off restarting failed container',
          kubelet,
          `spec.containers{${String(s.name)}}`,
        );
        s.restartCount = Number(s.restartCount ?? 0) + 1;
        const backoff = Math.min(300, 10 * 2 ** Math.min(5, s.restartCount - 1));
        s.state = { waiting: { reason: 'CrashLoopBackOff', message: backOffMessage(backoff, s.name, p) } };
        s.lastState = {
          terminated: { exitCode, reason: 'Error', startedAt: now, finishedAt: now, containerID: s.containerID },
        };
      }
    });
  }

  /** How long a container takes to exit after SIGTERM (capped by the grace period by the caller). */
  function exitDelay(c: Any): number {
    return c.name === SIDECAR ? SIDECAR_DRAIN_MS * scale : config.podTerminationMs;
  }

  /** A graceful deletion: the kubelet kills the containers within the grace period, then removes the pod. */
  function terminate(pod: KubeObject): void {
    const key = keyOf(pod);
    const k = nsName(key.namespace, key.name);
    const state = states.get(k);
    if (state && state.uid !== key.uid) return;
    if (terminating.has(key.uid)) return;
    terminating.add(key.uid);
    if (state) {
      state.stopping = true;
      for (const t of state.timers) timers.cancel(t);
      timers.cancel(state.syncTimer);
    }
    const graceMs = Number(pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000;
    const live = (pod.status as Any | undefined)?.containerStatuses as Any[] | undefined;
    const runningNames = new Set((live ?? []).filter((s) => s.state?.running).map((s) => String(s.name)));
    for (const c of containers(pod, 'containers'))
      if (runningNames.has(String(c.name))) event(pod, c, 'Normal', 'Killing', `Stopping container ${String(c.name)}`);
    const exits = containers(pod, 'containers')
      .filter((c) => runningNames.has(String(c.name)))
      .map((c) => ({ name: String(c.name), at: Math.min(graceMs, exitDelay(c)), killed: exitDelay(c) > graceMs }));
    const finish = (): void => {
      const last = current(key);
      const stopping =
        state?.started && last
          ? track(
              ctx
                .runtime()
                .stopPod(last)
                .catch((error: unknown) => console.error(`emulator: stopPod ${k} failed:`, error)),
            )
          : Promise.resolve();
      void stopping.then(() => {
        if (stopped) return;
        update(key, (p) => {
          for (const s of p.status.containerStatuses ?? []) if (!s.state?.terminated) exited(p, s, 0);
          p.status.phase = podPhase(p);
          p.status.conditions = withConditions(p, readinessConditions(p));
        });
        if (current(key)) store.remove('', 'pods', key.namespace, key.name);
      });
    };
    if (exits.length === 0) {
      timers.after(0, finish);
      return;
    }
    const times = [...new Set(exits.map((e) => e.at))].sort((a, b) => a - b);
    for (const at of times) {
      timers.after(at, () => {
        update(key, (p) => {
          for (const e of exits.filter((x) => x.at === at)) {
            const s = ((p.status.containerStatuses ?? []) as Any[]).find((x) => x.name === e.name);
            if (s) exited(p, s, e.killed ? 137 : 0);
          }
          p.status.conditions = withConditions(p, readinessConditions(p));
        });
        if (at === times[times.length - 1]) finish();
      });
    }
  }

  function exited(p: Any, s: Any, exitCode: number): void {
    const startedAt = s.state?.running?.startedAt ?? timestamp();
    s.ready = false;
    s.started = false;
    s.state = {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt,
        finishedAt: timestamp(),
        containerID: s.containerID ?? containerId(p, s.name),
      },
    };
  }

  /** Deleted at once (grace 0, or never bound): only the runtime has something left to stop. */
  function forget(pod: KubeObject): void {
    const k = nsName(pod.metadata.namespace, pod.metadata.name);
    const state = states.get(k);
    images.forget(pod);
    terminating.delete(pod.metadata.uid ?? '');
    if (!state || state.uid !== pod.metadata.uid) return;
    states.delete(k);
    for (const t of state.timers) timers.cancel(t);
    timers.cancel(state.syncTimer);
    if (state.started && !state.stopping)
      track(
        ctx
          .runtime()
          .stopPod(pod)
          .catch((error: unknown) => console.error(`emulator: stopPod ${k} failed:`, error)),
      );
  }

  const unsubscribe = store.subscribe((e) => {
    if (stopped || e.group !== '') return;
    if ((e.resource === 'secrets' || e.resource === 'configmaps') && e.type === 'ADDED') {
      for (const waiting of [...waitingForVolumes.values()])
        if (waiting.namespace === e.object.metadata.namespace) timers.after(0, () => launch(waiting));
      return;
    }
    if (e.resource !== 'pods') return;
    const pod = e.object;
    const k = nsName(pod.metadata.namespace, pod.metadata.name);
    if (e.type === 'DELETED' || pod.metadata.deletionTimestamp) waitingForVolumes.delete(k);
    if (e.type === 'DELETED') return forget(pod);
    if (pod.metadata.deletionTimestamp) return terminate(pod);
    const nodeName = (pod.spec as Any | undefined)?.nodeName as string | undefined;
    if (e.type === 'ADDED' && (!nodeName || nodeName === config.nodeName)) {
      // Binding happens just after creation, as the scheduler's does, so the create response shows Pending.
      // A pod created already bound to this node skips the scheduler but still needs its kubelet.
      timers.after(0, () => {
        const live = store.get('', 'pods', pod.metadata.namespace, pod.metadata.name);
        if (
          live &&
          live.metadata.uid === pod.metadata.uid &&
          !(live.status as Any | undefined)?.podIP &&
          !live.metadata.deletionTimestamp
        )
          schedule(live);
      });
    }
  });

  return {
    async stop() {
      stopped = true;
      unsubscribe();
      timers.clear();
      await Promise.allSettled([...inflight]);
    },
    async settled() {
      await Promise.allSettled([...inflight]);
    },
  };
}
