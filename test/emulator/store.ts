// The emulated cluster's etcd: every object, one global resourceVersion, and a bounded event history
// that watches replay from. The API server, the controllers and the container runtimes all write here,
// so a write from any of them reaches every watcher in the same order.
import { randomUUID } from 'node:crypto';
import type { KubeObject, ObjectStore, StoreEvent, StoreEventType } from './contracts.js';

export interface RecordedEvent extends StoreEvent {
  /** The global resourceVersion this change produced (the object carries it too). */
  resourceVersion: number;
  /** The object as it was before a MODIFIED or DELETED change. */
  previous: KubeObject | undefined;
}

export interface MemoryStoreOptions {
  /** How many events are kept for watch replay; older resourceVersions get 410 Expired. */
  historyLimit?: number;
  /** Where a throwing subscriber is reported; the other subscribers still get the event. */
  onListenerError?: (error: unknown, event: RecordedEvent) => void;
}

type Listener = (event: RecordedEvent) => void;

export class MemoryStore implements ObjectStore {
  private revision = 0;
  /** The newest resourceVersion no longer in the history; a watch from before it cannot be replayed. */
  private compactedRevision = 0;
  private readonly tables = new Map<string, Map<string, KubeObject>>();
  private readonly history: RecordedEvent[] = [];
  private readonly historyLimit: number;
  private readonly listeners = new Set<Listener>();
  private readonly pending: RecordedEvent[] = [];
  private dispatching = false;
  private readonly onListenerError: (error: unknown, event: RecordedEvent) => void;

  constructor(options: MemoryStoreOptions = {}) {
    this.historyLimit = options.historyLimit ?? 20_000;
    this.onListenerError =
      options.onListenerError ??
      ((error, event) =>
        console.error(
          `emulator: a store subscriber failed on ${event.type} ${event.resource}/${event.object.metadata.name}:`,
          error,
        ));
  }

  get resourceVersion(): number {
    return this.revision;
  }

  get oldestReplayableVersion(): number {
    return this.compactedRevision;
  }

  get(group: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.tables.get(tableKey(group, resource))?.get(objectKey(namespace, name));
  }

  list(group: string, resource: string, namespace?: string): KubeObject[] {
    const table = this.tables.get(tableKey(group, resource));
    if (!table) return [];
    const out: KubeObject[] = [];
    for (const obj of table.values()) {
      if (namespace === undefined || obj.metadata.namespace === namespace) out.push(obj);
    }
    return out.sort(byNamespaceThenName);
  }

  /** Every (group, resource) that holds at least one object. */
  resources(): Array<{ group: string; resource: string }> {
    const out: Array<{ group: string; resource: string }> = [];
    for (const [key, table] of this.tables) {
      if (table.size === 0) continue;
      const slash = key.indexOf('/');
      out.push({ group: key.slice(0, slash), resource: key.slice(slash + 1) });
    }
    return out;
  }

  put(group: string, resource: string, object: KubeObject): KubeObject {
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    let table = this.tables.get(tableKey(group, resource));
    if (!table) {
      table = new Map();
      this.tables.set(tableKey(group, resource), table);
    }
    const previous = table.get(key);
    const copy = structuredClone(object) as KubeObject;
    this.revision += 1;
    copy.metadata.resourceVersion = String(this.revision);
    copy.metadata.uid ??= previous?.metadata.uid ?? randomUUID();
    copy.metadata.creationTimestamp ??= previous?.metadata.creationTimestamp ?? timestamp();
    deepFreeze(copy);
    table.set(key, copy);
    this.record(previous ? 'MODIFIED' : 'ADDED', group, resource, copy, previous);
    return copy;
  }

  remove(group: string, resource: string, namespace: string | undefined, name: string): void {
    const table = this.tables.get(tableKey(group, resource));
    const key = objectKey(namespace, name);
    const previous = table?.get(key);
    if (!table || !previous) return;
    table.delete(key);
    this.revision += 1;
    // The DELETED event carries the deletion's resourceVersion, as etcd's delete revision does.
    const gone = structuredClone(previous) as KubeObject;
    gone.metadata.resourceVersion = String(this.revision);
    deepFreeze(gone);
    this.record('DELETED', group, resource, gone, previous);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    const wrapped: Listener = (event) => listener(event);
    this.listeners.add(wrapped);
    return () => this.listeners.delete(wrapped);
  }

  /**
   * The recorded changes after `resourceVersion`, oldest first, or 'expired' when some of them have
   * already been dropped from the history.
   */
  eventsSince(resourceVersion: number): RecordedEvent[] | 'expired' {
    if (resourceVersion < this.compactedRevision) return 'expired';
    // The history is ordered by resourceVersion, so the first newer event is found by bisection.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.history[mid]?.resourceVersion ?? 0) <= resourceVersion) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Drops the whole event history, as an etcd compaction does: older watches then get 410 Expired. */
  compact(): void {
    this.history.length = 0;
    this.compactedRevision = this.revision;
  }

  private record(
    type: StoreEventType,
    group: string,
    resource: string,
    object: KubeObject,
    previous: KubeObject | undefined,
  ): void {
    const event: RecordedEvent = { type, group, resource, object, resourceVersion: this.revision, previous };
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedRevision = dropped[dropped.length - 1]?.resourceVersion ?? this.compactedRevision;
    }
    this.pending.push(event);
    this.dispatch();
  }

  // A subscriber that writes while handling an event would otherwise deliver its own event to the
  // subscribers after it before they saw the first one; queueing keeps every subscriber in rv order.
  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let event = this.pending.shift(); event; event = this.pending.shift()) {
        for (const listener of [...this.listeners]) {
          try {
            listener(event);
          } catch (error) {
            this.onListenerError(error, event);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }
}

function tableKey(group: string, resource: string): string {
  return `${group}/${resource}`;
}

function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function byNamespaceThenName(a: KubeObject, b: KubeObject): number {
  // etcd returns keys in byte order; so does the API server's list.
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** RFC 3339 at second precision, as the API server writes metadata timestamps. */
export function timestamp(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

/** A mutable deep copy of a (frozen) stored object. */
export function thaw<T>(value: T): T {
  return structuredClone(value);
}
