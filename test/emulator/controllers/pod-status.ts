// Pieces of the pod status the kubelet writes (pkg/kubelet/kubelet_pods.go generateAPIPodStatus,
// getPhase, convertToAPIContainerStatuses; pkg/kubelet/status/generate.go): conditions that keep
// their lastTransitionTime while unchanged, the phase from the containers' states, container IDs and
// image references as containerd reports them.
import type { KubeObject } from '../contracts.js';
import { timestamp } from '../store.js';
import { normalizedImage } from './image-pull.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects, as the Go kubelet's structs

export const SIDECAR = 'istio-proxy';

export function containers(pod: KubeObject | Any, list: 'containers' | 'initContainers'): Any[] {
  return ((pod.spec as Any | undefined)?.[list] ?? []) as Any[];
}

export function cond(type: string, status: 'True' | 'False', extra: Any = {}): Any {
  return { type, status, lastProbeTime: null, lastTransitionTime: timestamp(), ...extra };
}

export function keepTransition(previous: Any[] | undefined, next: Any[]): Any[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return old && old.status === c.status ? { ...c, lastTransitionTime: old.lastTransitionTime } : c;
  });
}

/** A started container's image as containerd reports it: the normalized reference and its digest. */
export function imageRef(image: string): { image: string; imageID: string } {
  const full = normalizedImage(image);
  return { image: full, imageID: `${full.replace(/:[^:/@]+$/, '')}@sha256:${'0'.repeat(64)}` };
}

export function containerId(pod: KubeObject | Any, name: string): string {
  const seed = `${pod.metadata.uid ?? ''}/${name}`;
  let hex = '';
  for (let i = 0; hex.length < 64; i++)
    hex += ((seed.charCodeAt(i % seed.length) * 2654435761 + i) >>> 0).toString(16).padStart(8, '0');
  return `containerd://${hex.slice(0, 64)}`;
}

/** A container the runtime has not created: the spec's image as written, no imageID. */
export function waitingStatus(c: Any, reason: string, message?: string): Any {
  return {
    name: c.name,
    image: String(c.image),
    imageID: '',
    ready: false,
    restartCount: 0,
    started: false,
    state: { waiting: message ? { reason, message } : { reason } },
    lastState: {},
  };
}

/** getPhase: a container not yet started keeps the pod Pending; all terminated after deletion is terminal. */
export function podPhase(pod: Any): string {
  const statuses = (pod.status?.containerStatuses ?? []) as Any[];
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers(pod, 'containers')) {
    const s = statuses.find((x) => x.name === c.name);
    if (s?.state?.running) running++;
    else if (s?.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s?.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && pod.metadata?.deletionTimestamp) return stopped === succeeded ? 'Succeeded' : 'Failed';
  if (stopped > 0) return 'Running';
  return 'Pending';
}

/** Ready and ContainersReady from the containers' readiness (status/generate.go GeneratePodReadyCondition). */
export function readinessConditions(pod: Any): Any[] {
  const statuses = (pod.status?.containerStatuses ?? []) as Any[];
  const unready = containers(pod, 'containers')
    .filter((c) => !statuses.find((s) => s.name === c.name)?.ready)
    .map((c) => String(c.name));
  if (unready.length === 0) return [cond('Ready', 'True'), cond('ContainersReady', 'True')];
  const extra = { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  return [cond('Ready', 'False', extra), cond('ContainersReady', 'False', extra)];
}

/** Replaces conditions of the given types, keeping the others and unchanged transition times. */
export function withConditions(pod: Any, next: Any[]): Any[] {
  const previous = (pod.status?.conditions ?? []) as Any[];
  const types = new Set(next.map((c) => c.type));
  const merged = previous.map((c) => (types.has(c.type) ? (next.find((n) => n.type === c.type) ?? c) : c));
  for (const c of next) if (!previous.some((p) => p.type === c.type)) merged.push(c);
  return keepTransition(previous, merged);
}
