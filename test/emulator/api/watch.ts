// Watch: a chunked stream of newline-delimited events. It replays the store's history from the
// requested resourceVersion (410 Expired once that history is gone), turns selector transitions into
// ADDED / DELETED as the watch cache does, and sends bookmarks when asked. Headers are flushed at once,
// because client-node's watch() waits for them before it reports the watch as started.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../contracts.js';
import type { MemoryStore, RecordedEvent } from '../store.js';
import type { ResourceType } from './resources.js';
import { expired } from './status.js';

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  matches: (obj: KubeObject) => boolean;
  /** Undefined or '0': start with synthetic ADDED events for the current objects. */
  resourceVersion: string | undefined;
  timeoutSeconds: number | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  /** Renders a stored object for this client (version, Table row ...). */
  present: (obj: KubeObject) => unknown;
  /** The kind and apiVersion a BOOKMARK object carries. */
  bookmarkKind: string;
  bookmarkApiVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export class WatchHub {
  private readonly active = new Set<() => void>();

  constructor(
    private readonly store: MemoryStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  get size(): number {
    return this.active.size;
  }

  serve(w: WatchRequest, res: ServerResponse): void {
    const { store } = this;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const send = (type: WatchEventType, object: unknown): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const inScope = (group: string, resource: string, obj: KubeObject): boolean =>
      group === w.type.group &&
      resource === w.type.resource &&
      (w.namespace === undefined || obj.metadata.namespace === w.namespace);

    const deliver = (e: RecordedEvent): void => {
      if (!inScope(e.group, e.resource, e.object)) return;
      const now = w.matches(e.object);
      if (e.type === 'ADDED') {
        if (now) send('ADDED', w.present(e.object));
      } else if (e.type === 'DELETED') {
        if (w.matches(e.previous ?? e.object)) send('DELETED', w.present(e.object));
      } else {
        const before = e.previous ? w.matches(e.previous) : false;
        if (before && now) send('MODIFIED', w.present(e.object));
        else if (now) send('ADDED', w.present(e.object));
        else if (before) send('DELETED', w.present(e.object));
      }
    };

    const rv = w.resourceVersion;
    const fromScratch = rv === undefined || rv === '' || rv === '0' || w.sendInitialEvents;
    if (fromScratch) {
      for (const obj of store.list(w.type.group, w.type.resource, w.namespace))
        if (w.matches(obj)) send('ADDED', w.present(obj));
      if (w.sendInitialEvents && w.allowBookmarks) {
        send('BOOKMARK', this.bookmark(w, { 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      const since = Number(rv);
      const replay = Number.isFinite(since) ? store.eventsSince(since) : 'expired';
      if (replay === 'expired') {
        send('ERROR', expired(`too old resource version: ${rv} (${store.oldestReplayableVersion + 1})`).status);
        res.end();
        return;
      }
      for (const e of replay) deliver(e);
    }

    // Subscribing in the same tick as the replay leaves no gap between history and live events.
    const unsubscribe = store.subscribe((e) => deliver(e as RecordedEvent));
    const timers: NodeJS.Timeout[] = [];
    if (w.allowBookmarks && this.bookmarkIntervalMs > 0) {
      timers.push(setInterval(() => send('BOOKMARK', this.bookmark(w)), this.bookmarkIntervalMs));
    }
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
      timers.push(setTimeout(() => finish(), w.timeoutSeconds * 1000));
    }
    const finish = (): void => {
      if (!this.active.delete(finish)) return;
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      if (!res.writableEnded) res.end();
    };
    this.active.add(finish);
    res.on('close', finish);
  }

  /** Ends every open watch (server shutdown). */
  closeAll(): void {
    for (const finish of [...this.active]) finish();
  }

  private bookmark(w: WatchRequest, annotations?: Record<string, string>): object {
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    return { kind: w.bookmarkKind, apiVersion: w.bookmarkApiVersion, metadata };
  }
}
