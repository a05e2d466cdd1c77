// Delivering a push to every proxy, one at a time, as istiod's push queue does: each proxy gets a push
// after its own delay, in a random order, and a proxy still waiting in the queue when the next push comes
// gets the merged push at its old place (pilot/pkg/xds/pushqueue.go Enqueue merges a pending request). The
// delays of one push are staggered over [min, max] (one slot per proxy, slots in a seeded random order),
// so the client and the server proxy of a change never switch at the same moment. A push is sent near the
// end of the proxy's delay and acknowledged (applied) at its end: between the two, `/debug/syncz` shows the
// new nonce sent and the old one acked; before it, the old nonce both sent and acked.
import type { KubeObject } from '../contracts.js';
import type { Rng } from '../rng.js';
import { podKey, podNamespace, podContainers, SIDECAR_CONTAINER, podInitContainers } from './k8s.js';
import { nonce, watchedAll, type SynczProxy, type WatchedResource, type XdsType } from './xds.js';

/** The part of a proxy's delay between the push being sent and Envoy acknowledging it: 10 %, at most 500 ms. */
const ACK_SHARE = 0.1;
const ACK_MAX_MS = 500;

export interface Versioned {
  readonly version: number;
}

interface Queued<C> {
  config: C;
  pushVersion: string;
  types: Set<XdsType>;
}

interface ProxyHandle<C> {
  pod: KubeObject;
  id: string;
  namespace: string;
  istioVersion: string;
  /** What Envoy has applied (acknowledged). */
  config: C;
  watched: Record<XdsType, WatchedResource>;
  /** A push waiting in the queue, not sent yet. */
  queued: Queued<C> | undefined;
  /** When the last scheduled acknowledgement happens: Envoy acknowledges in order. */
  lastAckAt: number;
  timers: Set<NodeJS.Timeout>;
}

export interface PushQueueOptions {
  delayMs: { min: number; max: number };
  rng: Rng;
  log?: (line: string) => void;
}

export class PushQueue<C extends Versioned> {
  private readonly proxies = new Map<string, ProxyHandle<C>>();

  constructor(private readonly opts: PushQueueOptions) {}

  has(pod: KubeObject): boolean {
    return this.proxies.has(podKey(pod));
  }

  applied(pod: KubeObject): C | undefined {
    return this.proxies.get(podKey(pod))?.config;
  }

  /** A proxy connects: its first push (every type) is computed from the current push context and acknowledged. */
  connect(pod: KubeObject, config: C, pushVersion: string): void {
    this.disconnect(pod);
    this.proxies.set(podKey(pod), {
      pod,
      id: `${pod.metadata.name}.${podNamespace(pod)}`,
      namespace: podNamespace(pod),
      istioVersion: proxyVersion(pod),
      config,
      watched: watchedAll(pushVersion, Date.now()),
      queued: undefined,
      lastAckAt: 0,
      timers: new Set(),
    });
  }

  disconnect(pod: KubeObject): void {
    const h = this.proxies.get(podKey(pod));
    if (!h) return;
    for (const t of h.timers) clearTimeout(t);
    this.proxies.delete(podKey(pod));
  }

  /** Queues a push of `types` carrying `config` to every connected proxy. */
  push(config: C, pushVersion: string, types: XdsType[]): void {
    const fresh: Array<ProxyHandle<C>> = [];
    for (const h of this.proxies.values()) {
      if (h.queued) {
        h.queued.config = config;
        h.queued.pushVersion = pushVersion;
        for (const t of types) h.queued.types.add(t);
      } else {
        fresh.push(h);
      }
    }
    const { min, max } = this.opts.delayMs;
    const slots = staggered(this.opts.rng, fresh.length);
    fresh.forEach((h, i) => {
      const delay = min + (max - min) * slots[i]!;
      const ackLag = Math.min(ACK_MAX_MS, delay * ACK_SHARE);
      h.queued = { config, pushVersion, types: new Set(types) };
      this.after(h, delay - ackLag, () => this.send(h, ackLag, delay));
    });
  }

  /** What `/debug/syncz` reports for every connected proxy. */
  syncz(): SynczProxy[] {
    return [...this.proxies.values()].map((h) => ({
      id: h.id,
      namespace: h.namespace,
      istioVersion: h.istioVersion,
      watched: structuredClone(h.watched),
    }));
  }

  close(): void {
    for (const h of this.proxies.values()) for (const t of h.timers) clearTimeout(t);
    this.proxies.clear();
  }

  private send(h: ProxyHandle<C>, ackLag: number, delay: number): void {
    const q = h.queued;
    h.queued = undefined;
    if (!q || this.proxies.get(podKey(h.pod)) !== h) return;
    const now = Date.now();
    const sent = new Map<XdsType, string>();
    for (const t of q.types) {
      const n = nonce(q.pushVersion);
      h.watched[t] = { ...h.watched[t], nonceSent: n, lastSendTime: now };
      sent.set(t, n);
    }
    const ackAt = Math.max(now + ackLag, h.lastAckAt);
    h.lastAckAt = ackAt;
    this.after(h, ackAt - now, () => {
      // pkg/xds/server.go shouldRespond: an ACK whose nonce is no longer the last one sent is an
      // "expired nonce" and leaves NonceAcked as it was; Envoy has applied the config all the same.
      for (const [t, n] of sent) if (h.watched[t].nonceSent === n) h.watched[t].nonceAcked = n;
      if (h.config.version < q.config.version) {
        h.config = q.config;
        this.opts.log?.(
          `proxy ${podKey(h.pod)} got config v${q.config.version} (${[...q.types].join(',')}) after ${Math.round(delay)} ms`,
        );
      }
    });
  }

  private after(h: ProxyHandle<C>, ms: number, fn: () => void): void {
    const timer = setTimeout(
      () => {
        h.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    timer.unref?.();
    h.timers.add(timer);
  }
}

/**
 * n fractions of [0, 1), one in each of n equal slots, the slots in a random order: the proxies of one
 * push switch spread over the whole range, none two in the same slot.
 */
export function staggered(rng: Rng, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.map((slot) => (slot + rng()) / n);
}

/** The proxy's ISTIO_VERSION (node metadata), which is its image's tag. */
function proxyVersion(pod: KubeObject): string {
  const c = [...podContainers(pod), ...podInitContainers(pod)].find((x) => x.name === SIDECAR_CONTAINER);
  const m = /:([^:@/]+)(?:@.*)?$/.exec(c?.image ?? '');
  return m?.[1] ?? '';
}
