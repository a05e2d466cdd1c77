import { describe, expect, it } from 'vitest';
import type { KubeObject, StoreEvent } from './contracts.js';
import { MemoryStore } from './store.js';

function pod(namespace: string, name: string, extra: Partial<KubeObject> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, ...extra };
}

describe('MemoryStore', () => {
  it('stamps a growing global resourceVersion, a uid and a creation time, and keeps them on replace', () => {
    const store = new MemoryStore();
    const a = store.put('', 'pods', pod('ns1', 'a'));
    const b = store.put('', 'configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'b', namespace: 'ns1' },
    });
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const a2 = store.put('', 'pods', {
      ...structuredClone(a),
      metadata: { name: 'a', namespace: 'ns1', labels: { x: 'y' } },
    });
    expect(a2.metadata.uid).toBe(a.metadata.uid);
    expect(a2.metadata.creationTimestamp).toBe(a.metadata.creationTimestamp);
    expect(store.resourceVersion).toBe(Number(a2.metadata.resourceVersion));
  });

  it('returns frozen snapshots and does not freeze or keep the caller object', () => {
    const store = new MemoryStore();
    const mine = pod('ns1', 'a');
    const stored = store.put('', 'pods', mine);
    expect(Object.isFrozen(mine)).toBe(false);
    expect(Object.isFrozen(stored.metadata)).toBe(true);
    expect(() => {
      (stored.metadata as { name: string }).name = 'other';
    }).toThrow(TypeError);
    mine.metadata.labels = { changed: 'yes' };
    expect(store.get('', 'pods', 'ns1', 'a')?.metadata.labels).toBeUndefined();
  });

  it('lists by namespace in key order and removes objects', () => {
    const store = new MemoryStore();
    store.put('', 'pods', pod('b', 'z'));
    store.put('', 'pods', pod('a', 'y'));
    store.put('', 'pods', pod('b', 'a'));
    expect(store.list('', 'pods').map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      'a/y',
      'b/a',
      'b/z',
    ]);
    expect(store.list('', 'pods', 'b').map((p) => p.metadata.name)).toEqual(['a', 'z']);
    store.remove('', 'pods', 'b', 'a');
    expect(store.get('', 'pods', 'b', 'a')).toBeUndefined();
    expect(store.list('', 'pods', 'b')).toHaveLength(1);
    store.remove('', 'pods', 'b', 'missing');
    expect(store.list('', 'pods')).toHaveLength(2);
  });

  it('delivers nested writes to every subscriber in resourceVersion order', () => {
    const store = new MemoryStore();
    const seenByFirst: string[] = [];
    const seenBySecond: string[] = [];
    store.subscribe((e: StoreEvent) => {
      seenByFirst.push(`${e.type}:${e.object.metadata.name}:${e.object.metadata.resourceVersion}`);
      // A controller reacting to a pod by writing another object.
      if (e.object.metadata.name === 'a' && e.type === 'ADDED') store.put('', 'pods', pod('ns', 'b'));
    });
    store.subscribe((e: StoreEvent) =>
      seenBySecond.push(`${e.type}:${e.object.metadata.name}:${e.object.metadata.resourceVersion}`),
    );
    store.put('', 'pods', pod('ns', 'a'));
    store.remove('', 'pods', 'ns', 'a');
    expect(seenByFirst).toEqual(['ADDED:a:1', 'ADDED:b:2', 'DELETED:a:3']);
    expect(seenBySecond).toEqual(seenByFirst);
  });

  it('isolates a throwing subscriber and stops calling an unsubscribed one', () => {
    const errors: unknown[] = [];
    const store = new MemoryStore({ onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    store.subscribe(() => {
      throw new Error('boom');
    });
    const off = store.subscribe((e) => seen.push(e.object.metadata.name));
    store.put('', 'pods', pod('ns', 'a'));
    off();
    store.put('', 'pods', pod('ns', 'b'));
    expect(seen).toEqual(['a']);
    expect(errors).toHaveLength(2);
  });

  it('replays events after a resourceVersion and reports expiry once history is gone', () => {
    const store = new MemoryStore({ historyLimit: 3 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) store.put('', 'pods', pod('ns', name));
    expect(store.eventsSince(3)).toHaveLength(2);
    expect((store.eventsSince(2) as unknown[]).map((e) => (e as StoreEvent).object.metadata.name)).toEqual([
      'c',
      'd',
      'e',
    ]);
    expect(store.eventsSince(1)).toBe('expired');
    store.compact();
    expect(store.eventsSince(4)).toBe('expired');
    expect(store.eventsSince(5)).toEqual([]);
    const deleted = store.put('', 'pods', pod('ns', 'f'));
    store.remove('', 'pods', 'ns', 'f');
    const [last] = store.eventsSince(Number(deleted.metadata.resourceVersion)) as Array<
      StoreEvent & { previous?: unknown }
    >;
    expect(last?.type).toBe('DELETED');
    expect(last?.object.metadata.resourceVersion).toBe(String(store.resourceVersion));
  });
});
