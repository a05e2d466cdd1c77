// core/v1 Events as the scheduler and kubelet record them, so `kubectl describe pod` and `kubectl get
// events` explain a pod the way they would on a cluster (Scheduled, Started, FailedMount, BackOff ...).
// Repeats of the same reason and message on the same object bump `count`, as the event recorder does.
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp, type MemoryStore } from '../store.js';

export type EventSource = { component: 'default-scheduler' | 'kubelet'; host?: string };

export function recordEvent(
  store: MemoryStore,
  obj: KubeObject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
  source: EventSource,
  fieldPath?: string,
): void {
  const namespace = obj.metadata.namespace ?? 'default';
  if (
    !store.get('', 'namespaces', undefined, namespace) ||
    store.get('', 'namespaces', undefined, namespace)?.metadata.deletionTimestamp
  )
    return;
  const now = timestamp();
  const existing = store.list('', 'events', namespace).find((e) => {
    const ev = e as KubeObject & {
      involvedObject?: { uid?: string; fieldPath?: string };
      reason?: string;
      message?: string;
    };
    return (
      ev.involvedObject?.uid === obj.metadata.uid &&
      ev.reason === reason &&
      ev.message === message &&
      ev.involvedObject?.fieldPath === fieldPath
    );
  });
  if (existing) {
    const next = thaw(existing) as KubeObject & { count?: number; lastTimestamp?: string };
    next.count = Number(next.count ?? 1) + 1;
    next.lastTimestamp = now;
    store.put('', 'events', next);
    return;
  }
  const involvedObject: Record<string, unknown> = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace,
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
  };
  if (fieldPath) involvedObject.fieldPath = fieldPath;
  store.put('', 'events', {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${obj.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
    involvedObject,
    reason,
    message,
    source: source.host ? { component: source.component, host: source.host } : { component: source.component },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
  } as KubeObject);
}
