// The scheduler and the kubelet of the one emulated node: a new pod is bound to the node, gets a pod
// IP (10.244.x.y, reported only: nothing ever connects there), is started through the container
// runtime, goes Running, and becomes Ready after the configured delay, unless a fault keeps it from
// Ready or makes its app container crash-loop. Deletion stops it through the runtime; a graceful
// deletion keeps it Terminating briefly first, as a kubelet does while containers shut down.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp } from '../store.js';
import type { PodFault } from '../api/faults.js';
import type { Controller, ControllerContext } from './context.js';
import { recordEvent } from './events.js';
import { nsName, Timers } from './queue.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go kubelet's structs

export const SIDECAR = 'istio-proxy';

interface PodState {
  uid: string;
  /** startPod has been called (so stopPod is owed). */
  started: boolean;
  stopping: boolean;
  timers: NodeJS.Timeout[];
}

export class PodIpAllocator {
  private next = 0;

  allocate(): string {
    const i = this.next++;
    return `10.244.${Math.floor(i / 253)}.${(i % 253) + 2}`;
  }
}

function containers(pod: KubeObject | Any, list: 'containers' | 'initContainers'): Any[] {
  return ((pod.spec as Any | undefined)?.[list] ?? []) as Any[];
}

function cond(type: string, status: 'True' | 'False', extra: Any = {}): Any {
  return { type, status, lastProbeTime: null, lastTransitionTime: timestamp(), ...extra };
}

function keepTransition(previous: Any[] | undefined, next: Any[]): Any[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  });
}

function imageRef(image: string): { image: string; imageID: string } {
  const full = image.includes('/') ? image : `docker.io/library/${image}`;
  return { image: full, imageID: `${full.split(':')[0] ?? full}@sha256:${'0'.repeat(64)}` };
}

function containerId(pod: KubeObject | Any, name: string): string {
  const seed = `${pod.metadata.uid ?? ''}/${name}`;
  let hex = '';
  for (let i = 0; hex.length < 64; i++)
    hex += ((seed.charCodeAt(i % seed.length) * 2654435761 + i) >>> 0).toString(16).padStart(8, '0');
  return `containerd://${hex.slice(0, 64)}`;
}

export function startPodLifecycle(ctx: ControllerContext): Controller & { settled(): Promise<void> } {
  const { store, config } = ctx;
  const ips = new PodIpAllocator();
  const states = new Map<string, PodState>();
  const timers = new Timers();
  const inflight = new Set<Promise<unknown>>();
  const kubelet = { component: 'kubelet', host: config.nodeName } as const;
  const waitingForVolumes = new Map<string, { namespace: string | undefined; name: string; uid: string }>();
  let stopped = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  /** Re-reads the pod and writes a changed copy, unless it is gone or was replaced. */
  const update = (
    key: { namespace: string | undefined; name: string; uid: string },
    change: (pod: Any) => void,
  ): KubeObject | undefined => {
    const current = store.get('', 'pods', key.namespace, key.name);
    if (!current || current.metadata.uid !== key.uid) return undefined;
    const next = thaw(current) as Any;
    change(next);
    return store.put('', 'pods', next as KubeObject);
  };

  function schedule(pod: KubeObject): void {
    const key = { namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid ?? '' };
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
    const created = update(key, (p) => {
      const now = timestamp();
      p.status = {
        ...p.status,
        phase: 'Pending',
        hostIP: config.hostIP,
        hostIPs: [{ ip: config.hostIP }],
        podIP,
        podIPs: [{ ip: podIP }],
        startTime: now,
        conditions: keepTransition(p.status.conditions, [
          cond('PodReadyToStartContainers', 'True'),
          cond(
            'Initialized',
            inits.length > 0 ? 'False' : 'True',
            inits.length > 0
              ? {
                  reason: 'ContainersNotInitialized',
                  message: `containers with incomplete status: [${inits.map((c) => c.name).join(' ')}]`,
                }
              : {},
          ),
          cond('Ready', 'False', {
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${containers(p, 'containers')
              .map((c) => c.name)
              .join(' ')}]`,
          }),
          cond('ContainersReady', 'False', {
            reason: 'ContainersNotReady',
            message: `containers with unready status: [${containers(p, 'containers')
              .map((c) => c.name)
              .join(' ')}]`,
          }),
          cond('PodScheduled', 'True'),
        ]),
        containerStatuses: containers(p, 'containers').map((c) => ({
          name: c.name,
          ...imageRef(String(c.image)),
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
          lastState: {},
        })),
      };
      if (inits.length > 0) {
        p.status.initContainerStatuses = inits.map((c) => ({
          name: c.name,
          ...imageRef(String(c.image)),
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason: 'PodInitializing' } },
          lastState: {},
        }));
      }
    });
    if (!created) return;
    launch(key);
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

  /** Starts the pod's containers once its volumes can be mounted; until then it stays ContainerCreating. */
  function launch(key: { namespace: string | undefined; name: string; uid: string }): void {
    const pod = store.get('', 'pods', key.namespace, key.name);
    if (!pod || pod.metadata.uid !== key.uid || pod.metadata.deletionTimestamp || stopped) return;
    const k = nsName(key.namespace, key.name);
    const missing = missingVolumes(pod);
    if (missing.length > 0) {
      if (!waitingForVolumes.has(k))
        for (const m of missing) recordEvent(store, pod, 'Warning', 'FailedMount', m, kubelet);
      waitingForVolumes.set(k, key);
      return;
    }
    waitingForVolumes.delete(k);
    const created = pod;
    const state: PodState = { uid: key.uid, started: true, stopping: false, timers: [] };
    states.set(k, state);
    track(
      ctx
        .runtime()
        .startPod(created)
        .then(
          () => running(key, state),
          (error: unknown) => {
            update(key, (p) => {
              for (const s of p.status.containerStatuses ?? []) {
                s.state = {
                  waiting: {
                    reason: 'CreateContainerError',
                    message: error instanceof Error ? error.message : String(error),
                  },
                };
              }
            });
          },
        ),
    );
  }

  function running(key: { namespace: string | undefined; name: string; uid: string }, state: PodState): void {
    if (stopped || state.stopping) return;
    const pod = store.get('', 'pods', key.namespace, key.name);
    if (!pod || pod.metadata.uid !== key.uid || pod.metadata.deletionTimestamp) return;
    for (const c of [...containers(pod, 'initContainers'), ...containers(pod, 'containers')]) {
      const at = `spec.${containers(pod, 'initContainers').includes(c) ? 'initContainers' : 'containers'}{${String(c.name)}}`;
      recordEvent(
        store,
        pod,
        'Normal',
        'Pulled',
        `Container image "${String(c.image)}" already present on machine`,
        kubelet,
        at,
      );
      recordEvent(store, pod, 'Normal', 'Created', `Created container ${String(c.name)}`, kubelet, at);
      recordEvent(store, pod, 'Normal', 'Started', `Started container ${String(c.name)}`, kubelet, at);
    }
    let fault: PodFault | undefined;
    try {
      fault = ctx.faults.podFault(pod);
    } catch (error) {
      console.error(
        `emulator: pod ${key.namespace}/${key.name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const now = timestamp();
    const crashing = (c: Any): boolean => fault?.kind === 'crash-loop' && c.name !== SIDECAR;
    update(key, (p) => {
      p.status.phase = 'Running';
      p.status.conditions = keepTransition(
        p.status.conditions,
        p.status.conditions.map((c: Any) => (c.type === 'Initialized' ? cond('Initialized', 'True') : c)),
      );
      if (p.status.initContainerStatuses) {
        p.status.initContainerStatuses = p.status.initContainerStatuses.map((s: Any) => ({
          ...s,
          ready: true,
          started: false,
          containerID: containerId(p, s.name),
          state: {
            terminated: {
              exitCode: 0,
              reason: 'Completed',
              startedAt: now,
              finishedAt: now,
              containerID: containerId(p, s.name),
            },
          },
        }));
      }
      p.status.containerStatuses = containers(p, 'containers').map((c) => {
        const base = {
          name: c.name,
          ...imageRef(String(c.image)),
          containerID: containerId(p, c.name),
          ready: false,
          restartCount: 0,
        };
        if (crashing(c)) {
          const exitCode = fault?.kind === 'crash-loop' ? fault.exitCode : 1;
          return {
            ...base,
            started: false,
            restartCount: 1,
            state: {
              waiting: {
                reason: 'CrashLoopBackOff',
                message: `back-off 10s restarting failed container=${c.name} pod=${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})`,
              },
            },
            lastState: {
              terminated: {
                exitCode,
                reason: 'Error',
                startedAt: now,
                finishedAt: now,
                containerID: containerId(p, c.name),
              },
            },
          };
        }
        return { ...base, started: true, state: { running: { startedAt: now } }, lastState: {} };
      });
    });
    if (fault?.kind === 'never-ready') {
      const probed = containers(pod, 'containers').find((c) => c.name !== SIDECAR) ?? containers(pod, 'containers')[0];
      recordEvent(
        store,
        pod,
        'Warning',
        'Unhealthy',
        'Readiness probe failed: HTTP probe failed with statuscode: 503',
        kubelet,
        `spec.containers{${String(probed?.name)}}`,
      );
      return;
    }
    if (fault?.kind === 'crash-loop') {
      state.timers.push(timers.every(config.crashLoopIntervalMs, () => crashAgain(key, fault.exitCode)));
      return;
    }
    const delay = fault?.kind === 'slow-ready' ? fault.delayMs : config.podReadyDelayMs;
    state.timers.push(timers.after(delay, () => ready(key)));
  }

  function ready(key: { namespace: string | undefined; name: string; uid: string }): void {
    update(key, (p) => {
      if (p.metadata.deletionTimestamp) return;
      for (const s of p.status.containerStatuses ?? []) s.ready = true;
      p.status.conditions = keepTransition(
        p.status.conditions,
        p.status.conditions.map((c: Any) =>
          c.type === 'Ready' || c.type === 'ContainersReady' ? cond(c.type, 'True') : c,
        ),
      );
    });
  }

  function crashAgain(key: { namespace: string | undefined; name: string; uid: string }, exitCode: number): void {
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
        s.state = {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${backoff < 60 ? `${backoff}s` : `${Math.floor(backoff / 60)}m${backoff % 60 ? `${backoff % 60}s` : ''}`} restarting failed container=${s.name} pod=${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})`,
          },
        };
        s.lastState = {
          terminated: { exitCode, reason: 'Error', startedAt: now, finishedAt: now, containerID: s.containerID },
        };
      }
    });
  }

  function stop(pod: KubeObject, thenRemove: boolean): void {
    const k = nsName(pod.metadata.namespace, pod.metadata.name);
    const state = states.get(k);
    if (state && state.uid !== pod.metadata.uid) return;
    if (state?.stopping) return;
    if (state) {
      state.stopping = true;
      for (const t of state.timers) timers.cancel(t);
      if (thenRemove)
        for (const c of containers(pod, 'containers'))
          recordEvent(
            store,
            pod,
            'Normal',
            'Killing',
            `Stopping container ${String(c.name)}`,
            kubelet,
            `spec.containers{${String(c.name)}}`,
          );
    }
    const stopping = state?.started
      ? track(
          ctx
            .runtime()
            .stopPod(pod)
            .catch((error: unknown) => console.error(`emulator: stopPod ${k} failed:`, error)),
        )
      : Promise.resolve();
    void stopping.then(() => {
      if (!thenRemove || stopped) {
        if (!thenRemove) states.delete(k);
        return;
      }
      timers.after(config.podTerminationMs, () => {
        const current = store.get('', 'pods', pod.metadata.namespace, pod.metadata.name);
        if (current && current.metadata.uid === pod.metadata.uid)
          store.remove('', 'pods', pod.metadata.namespace, pod.metadata.name);
      });
    });
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
    if (e.type === 'DELETED') {
      const state = states.get(k);
      if (state && state.uid === pod.metadata.uid) {
        if (!state.stopping) stop(pod, false);
        states.delete(k);
      }
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      stop(pod, true);
      return;
    }
    const nodeName = (pod.spec as Any | undefined)?.nodeName as string | undefined;
    if (e.type === 'ADDED' && (!nodeName || nodeName === config.nodeName)) {
      // Binding happens just after creation, as the scheduler's does, so the create response shows Pending.
      // A pod created already bound to this node skips the scheduler but still needs its kubelet.
      timers.after(0, () => {
        const current = store.get('', 'pods', pod.metadata.namespace, pod.metadata.name);
        if (
          current &&
          current.metadata.uid === pod.metadata.uid &&
          !(current.status as Any | undefined)?.podIP &&
          !current.metadata.deletionTimestamp
        )
          schedule(current);
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
