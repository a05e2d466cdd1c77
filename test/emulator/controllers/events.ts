// core/v1 Events as the scheduler, the kubelet and the controllers record them, so `kubectl describe`
// and `kubectl get events` explain an object the way they would on a cluster (Scheduled, Started,
// FailedMount, BackOff, FailedCreate, ScalingReplicaSet ...). Two behaviours of client-go's event
// recorder (tools/record/events_cache.go, EventCorrelator) are kept: a repeat of the same reason and
// message on the same object bumps `count`; and once 10 events of the same source, object, type and
// reason but different messages arrive within 10 minutes (EventAggregator, defaultAggregateMaxEvents,
// defaultAggregateIntervalInSeconds), later ones are folded into one event whose message starts with
// "(combined from similar events): " — what `kubectl describe rs` shows for a ReplicaSet whose pods
// keep being refused under new generated names.
import type { KubeObject } from '../contracts.js';
import { thaw, timestamp, type MemoryStore } from '../store.js';

export type EventSource = {
  component: 'default-scheduler' | 'kubelet' | 'replicaset-controller' | 'deployment-controller';
  host?: string;
};

const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const COMBINED_PREFIX = '(combined from similar events): ';

interface Aggregate {
  messages: Set<string>;
  last: number;
  /** The combined event, once there is one. */
  eventName?: string;
}

const aggregates = new WeakMap<MemoryStore, Map<string, Aggregate>>();

let lastNanos = 0n;
/** client-go names an event `<object>.<UnixNano in hex>`, so names sort in the order they were made. */
function eventName(object: string): string {
  let nanos = BigInt(Date.now()) * 1_000_000n;
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return `${object}.${nanos.toString(16)}`;
}

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
  const ns = store.get('', 'namespaces', undefined, namespace);
  if (!ns || ns.metadata.deletionTimestamp) return;
  const now = timestamp();
  const involved = (e: KubeObject): { uid?: string; fieldPath?: string } =>
    ((e as { involvedObject?: { uid?: string; fieldPath?: string } }).involvedObject ?? {}) as never;
  const bump = (existing: KubeObject, newMessage: string): void => {
    const next = thaw(existing) as KubeObject & { count?: number; lastTimestamp?: string; message?: string };
    next.count = Number(next.count ?? 1) + 1;
    next.lastTimestamp = now;
    next.message = newMessage;
    store.put('', 'events', next);
  };

  const perStore = aggregates.get(store) ?? new Map<string, Aggregate>();
  aggregates.set(store, perStore);
  // EventAggregatorByReasonFunc: the key leaves out the message and the field path.
  const aggregateKey = [source.component, source.host ?? '', obj.metadata.uid, type, reason].join('\u0000');
  const previous = perStore.get(aggregateKey);
  const agg: Aggregate =
    previous && Date.now() - previous.last <= AGGREGATE_INTERVAL_MS ? previous : { messages: new Set(), last: 0 };
  agg.messages.add(message);
  agg.last = Date.now();
  perStore.set(aggregateKey, agg);
  if (agg.messages.size >= AGGREGATE_MAX_EVENTS) {
    // localKeys.PopAny(): the set stays one short of the threshold.
    agg.messages.delete(agg.messages.values().next().value as string);
    const combined = `${COMBINED_PREFIX}${message}`;
    const existing = agg.eventName ? store.get('', 'events', namespace, agg.eventName) : undefined;
    if (existing) return bump(existing, combined);
    agg.eventName = eventName(obj.metadata.name);
    put(agg.eventName, combined);
    return;
  }

  const existing = store.list('', 'events', namespace).find((e) => {
    const ev = e as KubeObject & { reason?: string; message?: string; source?: { component?: string } };
    return (
      involved(ev).uid === obj.metadata.uid &&
      ev.reason === reason &&
      ev.message === message &&
      ev.source?.component === source.component &&
      involved(ev).fieldPath === fieldPath
    );
  });
  if (existing) return bump(existing, message);
  put(eventName(obj.metadata.name), message);

  function put(name: string, text: string): void {
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
      metadata: { name, namespace },
      involvedObject,
      reason,
      message: text,
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
}
