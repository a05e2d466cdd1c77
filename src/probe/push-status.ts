// When the data plane has the configuration a scenario applied, from istiod's own push status rather than
// from a settle time: istiod's `/debug/syncz` (istio 1.24.2 pilot/pkg/xds/debug.go Syncz) lists every proxy
// connected to it with, per xDS type, the nonce last sent and the nonce the proxy last acknowledged (Envoy
// ACKs a response once it has applied it). A nonce is the push context's version, `TIME/COUNTER`
// (pilot/pkg/xds/discovery.go NextVersion: the counter grows by one per full push), followed by a 36-character
// UUID (discovery.go nonce). So a change is in every proxy once each one has acknowledged, on every type,
// what was last sent to it, and something from a push newer than any this istiod had sent before the
// change. A config change pushes to every sidecar whose scope depends on it, which for PeerAuthentication,
// AuthorizationPolicy and the DestinationRules of visible services is all of them (pilot/pkg/xds/
// proxy_dependencies.go, pilot/pkg/model/sidecar.go DependsOnConfig).
//
// istiod serves /debug/syncz on its monitoring port to local requests only (debug.go
// allowAuthenticatedOrLocalhost): through the API server's service proxy it answers 401, since the API
// server does not pass the caller's token on. So meshprobe asks from inside the istiod pod, with
// `pilot-discovery request GET /debug/syncz` (pilot/pkg/request/command.go: a GET on localhost:15014). That
// needs `create pods/exec` in istiod's namespace, which the topology's permissions do not include; without
// it, or on an istiod that serves no syncz (Istio 1.4), convergence falls back to its settle time.
import type { Cluster } from '../kube/cluster.js';
import { ExecError } from '../kube/errors.js';
import { isReady } from '../kube/pods.js';
import { ClusterError } from '../errors.js';
import { REAL_CLOCK, type Clock } from './converge.js';

const ISTIOD_SELECTOR = 'app=istiod';
const ISTIOD_CONTAINER = 'discovery';
const SYNCZ_COMMAND = ['pilot-discovery', 'request', 'GET', '/debug/syncz'];
const TYPES = ['cluster', 'listener', 'route', 'endpoint'] as const;
const UUID_LENGTH = 36;

/** One proxy's row of /debug/syncz, the fields meshprobe reads (SyncStatus in debug.go). */
interface SyncStatus {
  proxy?: string;
  cluster_sent?: string;
  cluster_acked?: string;
  listener_sent?: string;
  listener_acked?: string;
  route_sent?: string;
  route_acked?: string;
  endpoint_sent?: string;
  endpoint_acked?: string;
}

/** Per istiod pod, the highest push counter it had sent to any proxy: what a change must be newer than. */
export interface PushMark {
  counters: Map<string, number>;
}

export type PushState =
  /** Every topology proxy acknowledged a push newer than the mark, and nothing sent is unacknowledged. */
  { state: 'acked' } | { state: 'pending'; waiting: string[] } | { state: 'unavailable'; reason: string };

/** The push counter in a nonce, or undefined if it is not `TIME/N<uuid>`. */
export function pushCounter(nonce: string | undefined): number | undefined {
  if (!nonce || nonce.length <= UUID_LENGTH) return undefined;
  const m = /\/(\d+)$/.exec(nonce.slice(0, -UUID_LENGTH));
  return m ? Number(m[1]) : undefined;
}

/** The highest counter this istiod had sent, in any proxy's row (all proxies, not only the topology's). */
export function markOf(rows: SyncStatus[]): number {
  let max = -1;
  for (const r of rows)
    for (const t of TYPES) max = Math.max(max, pushCounter(r[`${t}_sent`]) ?? -1, pushCounter(r[`${t}_acked`]) ?? -1);
  return max;
}

/**
 * Whether a proxy has what was pushed since `mark`: on every type, what was sent is acknowledged, and one
 * acknowledged nonce is newer than the mark (a change of AuthorizationPolicy alone is sent on LDS only,
 * so not every type moves).
 */
export function proxySynced(row: SyncStatus, mark: number): boolean {
  let newest = -1;
  for (const t of TYPES) {
    const sent = row[`${t}_sent`];
    const acked = row[`${t}_acked`];
    if (sent && sent !== acked) return false;
    newest = Math.max(newest, pushCounter(acked) ?? -1);
  }
  return newest > mark;
}

/** The newest push counter a proxy acknowledged, on any type. */
function newestAcked(row: SyncStatus): number {
  return Math.max(-1, ...TYPES.map((t) => pushCounter(row[`${t}_acked`]) ?? -1));
}

/** Reads istiod's push status for the proxies in the topology's namespaces. */
export class PushTracker {
  private unavailable: string | undefined;
  private allowed = false;
  private last: PushMark | undefined;

  constructor(
    private readonly cluster: Cluster,
    /** The topology's namespaces: the proxies whose acknowledgement counts. */
    private readonly namespaces: string[],
    /** Told once, the first time the signal turns out to be unavailable. */
    private readonly onUnavailable: (reason: string) => void = () => {},
    /** Where istiod runs (every revision's istiod there is asked: each lists the proxies it serves). */
    private readonly istiodNamespace = 'istio-system',
  ) {}

  /** Why the signal cannot be used, once that is known. */
  get unavailableReason(): string | undefined {
    return this.unavailable;
  }

  /** Before a change (a scenario's apply, its undo): what the change's push must be newer than. */
  async beforeChange(): Promise<PushMark | undefined> {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const status = await this.read();
      if ('never' in status) return undefined;
      if ('rows' in status) return { counters: new Map([...status.rows].map(([pod, rows]) => [pod, markOf(rows)])) };
    }
    // istiod could not be read just now: this change is believed by the settle time instead.
    return undefined;
  }

  /** A change was made after `mark`: the next one waits until every proxy has it (lastChange). */
  changed(mark: PushMark | undefined): void {
    this.last = mark;
  }

  /** The mark of the last change, for the next scenario to wait on before it changes anything. */
  get lastChange(): PushMark | undefined {
    return this.last;
  }

  /**
   * Whether every istiod has begun sending a push newer than `mark` (some proxy was sent it): the push of
   * the change made after the mark exists, so a change made now gets a newer push context of its own.
   * Cheaper to wait for than every proxy's acknowledgement, and enough to tell the two pushes apart.
   */
  async published(mark: PushMark): Promise<PushState> {
    const status = await this.read();
    if ('never' in status) return { state: 'unavailable', reason: status.never };
    if ('later' in status) return { state: 'pending', waiting: [status.later] };
    const waiting = [...status.rows]
      .filter(([pod, rows]) => rows.length > 0 && markOf(rows) <= (mark.counters.get(pod) ?? -1))
      .map(([pod]) => pod);
    return waiting.length ? { state: 'pending', waiting } : { state: 'acked' };
  }

  /**
   * Whether every topology proxy acknowledged a push newer than `mark`, with nothing sent unacknowledged.
   * `caughtUp`: instead of newer than the mark, each has the newest push any of them has. After the
   * topology is set up that is the question: a proxy that connected before the last services were made
   * holds a push that knows only some of them, while istiod's push of the rest may still wait in its queue
   * unsent (pilot/pkg/xds/pushqueue.go), invisible in syncz; a proxy that connected later has it. A setup
   * that changed no Service (a kept topology whose Deployment rolls) causes no full push at all, so the
   * mark cannot be asked to move.
   */
  async check(mark: PushMark, o: { caughtUp?: boolean } = {}): Promise<PushState> {
    const status = await this.read();
    if ('never' in status) return { state: 'unavailable', reason: status.never };
    if ('later' in status) return { state: 'pending', waiting: [status.later] };
    const waiting: string[] = [];
    let seen = 0;
    for (const [pod, rows] of status.rows) {
      // An istiod that was not there before the change has only pushes made after it.
      const before = mark.counters.get(pod) ?? -1;
      const ours = rows.filter((r) => this.ours(r));
      // caughtUp: the newest push any topology proxy has, instead of the mark: all of them must have it.
      const newer = o.caughtUp ? Math.max(-1, ...ours.map(newestAcked)) - 1 : before;
      for (const row of ours) {
        seen++;
        if (!proxySynced(row, newer)) waiting.push(row.proxy!);
      }
    }
    if (seen === 0) {
      const never = this.give(`istiod lists none of the topology's proxies in /debug/syncz`);
      return { state: 'unavailable', reason: never.never };
    }
    return waiting.length ? { state: 'pending', waiting: waiting.sort() } : { state: 'acked' };
  }

  private ours(row: SyncStatus): boolean {
    const ns = row.proxy?.slice(row.proxy.indexOf('.') + 1);
    return !!ns && this.namespaces.includes(ns);
  }

  private give(reason: string): { never: string } {
    if (this.unavailable === undefined) {
      this.unavailable = reason;
      this.onUnavailable(reason);
    }
    return { never: this.unavailable };
  }

  /**
   * Every Ready istiod pod's /debug/syncz rows; `later` when a read failed in a way that may pass (a
   * dropped stream); `never` when the signal cannot be had (forbidden, no istiod, no syncz).
   */
  private async read(): Promise<{ rows: Map<string, SyncStatus[]> } | { later: string } | { never: string }> {
    if (this.unavailable !== undefined) return { never: this.unavailable };
    // Asked first (SelfSubjectAccessReviews), so that an identity without the permission (a staging
    // identity that may exec only into its own namespaces) gets no refused request in the audit log.
    if (!this.allowed) {
      const ns = this.istiodNamespace;
      const may = await Promise.all([
        this.cluster.canI({ verb: 'list', group: '', resource: 'pods', namespace: ns }),
        this.cluster.canI({ verb: 'get', group: '', resource: 'pods/exec', namespace: ns }),
        this.cluster.canI({ verb: 'create', group: '', resource: 'pods/exec', namespace: ns }),
      ]).catch(() => undefined);
      if (!may) return { later: 'the permission checks failed' };
      if (!may.every(Boolean)) return this.give(`this identity may not list pods and exec into them in ${ns}`);
      this.allowed = true;
    }
    let pods;
    try {
      pods = (
        await this.cluster.list('v1', 'Pod', { namespace: this.istiodNamespace, labelSelector: ISTIOD_SELECTOR })
      ).filter(isReady);
    } catch (e) {
      if (e instanceof ClusterError && (e.status?.code === 403 || e.status?.code === 401))
        return this.give(`listing the istiod pods in ${this.istiodNamespace} is forbidden`);
      if (e instanceof ClusterError) return { later: e.message };
      throw e;
    }
    if (pods.length === 0) return this.give(`no Ready istiod pod (${ISTIOD_SELECTOR}) in ${this.istiodNamespace}`);
    const rows = new Map<string, SyncStatus[]>();
    for (const pod of pods) {
      const ref = { namespace: this.istiodNamespace, name: pod.metadata.name };
      let stdout: string;
      try {
        const r = await this.cluster.exec(ref, ISTIOD_CONTAINER, SYNCZ_COMMAND, { timeoutMs: 15_000 });
        if (r.exitCode !== 0)
          return this.give(`pilot-discovery request GET /debug/syncz in ${ref.name} exited ${r.exitCode}`);
        stdout = r.stdout;
      } catch (e) {
        // A dropped stream or a pod being replaced is no verdict on the signal: try again next time.
        if (e instanceof ExecError && (e.kind === 'transient' || e.kind === 'gone')) return { later: e.message };
        if (e instanceof ExecError)
          return this.give(`cannot exec into ${this.istiodNamespace}/${ref.name}: ${e.message}`);
        throw e;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        return this.give(`${ref.name}'s /debug/syncz did not answer JSON`);
      }
      if (!Array.isArray(parsed)) return this.give(`${ref.name}'s /debug/syncz is not a list of proxies`);
      rows.set(ref.name, parsed as SyncStatus[]);
    }
    return { rows };
  }
}

/**
 * Checks until every proxy has acknowledged the change (`published`: until istiod has begun to send it;
 * `caught-up`: and each has the newest push any of them has), the signal is found unavailable, or the time
 * is up.
 */
export async function waitForPush(
  tracker: PushTracker,
  mark: PushMark,
  o: {
    timeoutMs: number;
    intervalMs: number;
    clock?: Clock;
    signal?: AbortSignal;
    until?: 'acked' | 'published' | 'caught-up';
  },
): Promise<PushState> {
  const clock = o.clock ?? REAL_CLOCK;
  const start = clock.now();
  for (;;) {
    o.signal?.throwIfAborted();
    const state =
      o.until === 'published'
        ? await tracker.published(mark)
        : await tracker.check(mark, { caughtUp: o.until === 'caught-up' });
    const left = o.timeoutMs - (clock.now() - start);
    if (state.state !== 'pending' || left <= 0) return state;
    await clock.sleep(Math.min(o.intervalMs, left), o.signal);
  }
}
