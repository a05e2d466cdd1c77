// A coalescing work queue, as client-go controllers use: a key enqueued many times in one burst of
// store events is reconciled once, after the burst, outside the store's event dispatch.
export class WorkQueue {
  private readonly pending = new Set<string>();
  private scheduled: NodeJS.Immediate | undefined;
  private stopped = false;

  constructor(
    private readonly reconcile: (key: string) => void,
    private readonly onError: (key: string, error: unknown) => void = (key, error) =>
      console.error(`emulator: reconciling ${key} failed:`, error),
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.scheduled ??= setImmediate(() => this.drain());
  }

  stop(): void {
    this.stopped = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.pending.clear();
  }

  private drain(): void {
    this.scheduled = undefined;
    const keys = [...this.pending];
    this.pending.clear();
    for (const key of keys) {
      if (this.stopped) return;
      try {
        this.reconcile(key);
      } catch (error) {
        this.onError(key, error);
      }
    }
  }
}

/** Timers that all go away together when a controller stops. */
export class Timers {
  private readonly live = new Set<NodeJS.Timeout>();

  after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.live.delete(t);
      fn();
    }, ms);
    this.live.add(t);
    return t;
  }

  every(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setInterval(fn, ms);
    this.live.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (!t) return;
    clearTimeout(t);
    this.live.delete(t);
  }

  clear(): void {
    for (const t of this.live) clearTimeout(t);
    this.live.clear();
  }
}

export function nsName(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
