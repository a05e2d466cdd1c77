// Fault injection. Every fault surfaces the way the real thing would: an overloaded API server's 429
// with Retry-After, a 500 InternalError Status, an exec upgrade refused before the 101, a kubelet-side exec
// failure after it, an exec stream cut without a close frame, a namespace that never finishes terminating,
// pods that are slow or never Ready, and a container in CrashLoopBackOff. The specs are in fault-spec.ts.
// Faults are chosen per run (options, CLI flags), changed at runtime (emu.faults.set / clear), and per
// pod through the `emulator.meshprobe.dev/fault` annotation on a pod or its Deployment's template.
// Rates draw from a seeded generator per fault, so a given seed and request order repeat exactly.
import type { KubeObject } from '../contracts.js';
import { seededRng } from '../rng.js';
import { reasonless, type ExecStatusFault } from './exec-status.js';
import {
  FAULT_ANNOTATION,
  parseFaultSpec,
  parsePodFaultAnnotation,
  STUCK_FINALIZER,
  validateSpec,
  type ImagePullFailure,
  type FaultMatch,
  type FaultSpec,
  type NamespaceStuck,
  type PodFault,
  type Rated,
  type StallPhase,
} from './fault-spec.js';
import { parseLabelSelector } from './selectors.js';
import { ApiError, internalError, serviceUnavailable, timeout, tooManyRequests, type Status } from './status.js';

export {
  FAULT_ANNOTATION,
  parseDuration,
  parseFaultSpec,
  parsePodFaultAnnotation,
  STUCK_FINALIZER,
  type FaultMatch,
  type FaultSpec,
  type ImagePullFailure,
  type NamespaceStuck,
  type NamespaceStuckCause,
  type PodFault,
  type StallPhase,
} from './fault-spec.js';

export interface ExecDrop {
  afterMs?: number;
  afterBytes?: number;
}

interface Armed {
  spec: FaultSpec;
  random: () => number;
  hits: number;
  /** Namespaces (by uid) a namespace-stuck fault already decided on: each is drawn once. */
  decided?: Map<string, boolean>;
}

export interface RequestFaultTarget {
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

function globMatch(patterns: string[] | undefined, value: string): boolean {
  if (!patterns || patterns.length === 0) return true;
  return patterns.some((p) =>
    new RegExp(
      `^${p
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(value),
  );
}

type ImagePullSpec = Extract<FaultSpec, { kind: 'image-pull' }>;

const CONTROL_PLANE_NAMESPACES = new Set(['kube-system', 'istio-system']);

function pullFailure(spec: { permanent?: boolean; message?: string }): ImagePullFailure {
  const permanent = spec.permanent === true;
  return { permanent, message: spec.message ?? (permanent ? 'not-found' : 'toomanyrequests') };
}

export class Faults {
  private armed: Armed[] = [];
  private readonly listeners = new Set<() => void>();
  /** Image pulls failed per pod, for `image-pull times=N` annotations. */
  private readonly podHits = new Map<string, number>();

  constructor(
    private readonly seed: number,
    initial: FaultSpec[] = [],
  ) {
    this.set(initial);
  }

  /** Replaces the active faults; hit counters and random sequences start over. */
  set(specs: FaultSpec[]): void {
    specs.forEach(validateSpec);
    this.armed = specs.map((spec, i) => ({ spec, random: seededRng(this.seed * 7919 + i + 1), hits: 0 }));
    this.changed();
  }

  add(spec: FaultSpec): void {
    validateSpec(spec);
    this.armed.push({ spec, random: seededRng(this.seed * 7919 + this.armed.length + 1), hits: 0 });
    this.changed();
  }

  clear(): void {
    this.armed = [];
    this.changed();
  }

  /** Called after every set / add / clear (a controller releases what a removed fault held). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.podHits.clear();
    for (const listener of this.listeners) listener();
  }

  list(): FaultSpec[] {
    return this.armed.map((a) => a.spec);
  }

  /** How many times each active fault has fired, in list order. */
  hits(): number[] {
    return this.armed.map((a) => a.hits);
  }

  /** An injected API failure for this request, if a fault fires. */
  apiError(target: RequestFaultTarget): ApiError | undefined {
    for (const a of this.armed) {
      if (a.spec.kind !== 'api-error') continue;
      if (!matchesRequest(a.spec, target) || !this.fire(a)) continue;
      return apiErrorFor(a.spec);
    }
    return undefined;
  }

  /**
   * Whether an api-stall fault holds this connection (phase tls: every accepted connection is a candidate)
   * or this request (phase request, matched like api-error).
   */
  apiStall(phase: StallPhase, target?: RequestFaultTarget): boolean {
    for (const a of this.armed) {
      if (a.spec.kind !== 'api-stall' || (a.spec.phase ?? 'tls') !== phase) continue;
      if (phase === 'request' && (!target || !matchesRequest(a.spec, target))) continue;
      if (this.fire(a)) return true;
    }
    return false;
  }

  /** The error an exec upgrade is refused with, if an exec-reject fault fires. */
  execReject(pod: KubeObject): ApiError | undefined {
    for (const a of this.armed) {
      if (a.spec.kind !== 'exec-reject' || !matchesPod(a.spec, pod) || !this.fire(a)) continue;
      const code = a.spec.code ?? 500;
      // The upgrade-aware proxy's dial error is a plain error: a 500 Status without a reason
      // (apimachinery/pkg/util/proxy/upgradeaware.go `dial`, "error dialing backend: %v").
      if (code === 500)
        return reasonless('error dialing backend: dial tcp 172.18.0.2:10250: connect: connection refused');
      return apiErrorFor({ code });
    }
    return undefined;
  }

  /** The kubelet-side failure this exec meets, if an exec-status fault fires (see exec-status.ts). */
  execStatus(pod: KubeObject): ExecStatusFault | undefined {
    for (const a of this.armed) {
      if (a.spec.kind !== 'exec-status' || !matchesPod(a.spec, pod) || !this.fire(a)) continue;
      const { preset, code, reason, message, delayMs } = a.spec;
      return {
        ...(preset !== undefined ? { preset } : {}),
        ...(code !== undefined ? { code } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(message !== undefined ? { message } : {}),
        ...(delayMs !== undefined ? { delayMs } : {}),
      };
    }
    return undefined;
  }

  /** When to cut this exec stream, if an exec-drop fault fires. */
  execDrop(pod: KubeObject): ExecDrop | undefined {
    for (const a of this.armed) {
      if (a.spec.kind !== 'exec-drop' || !matchesPod(a.spec, pod) || !this.fire(a)) continue;
      const drop: ExecDrop = {};
      if (a.spec.afterMs !== undefined) drop.afterMs = a.spec.afterMs;
      if (a.spec.afterBytes !== undefined) drop.afterBytes = a.spec.afterBytes;
      if (drop.afterMs === undefined && drop.afterBytes === undefined) drop.afterMs = 0;
      return drop;
    }
    return undefined;
  }

  /**
   * Whether this terminating namespace gets stuck, and how. Each namespace is drawn once (rate, times)
   * and keeps its answer while the fault is armed.
   */
  namespaceStuck(ns: KubeObject): NamespaceStuck | undefined {
    const uid = ns.metadata.uid ?? ns.metadata.name;
    for (const a of this.armed) {
      if (a.spec.kind !== 'namespace-stuck' || !globMatch(a.spec.names, ns.metadata.name)) continue;
      a.decided ??= new Map();
      let stuck = a.decided.get(uid);
      if (stuck === undefined) {
        stuck = this.fire(a);
        a.decided.set(uid, stuck);
      }
      if (!stuck) continue;
      return {
        cause: a.spec.cause ?? 'content',
        finalizer: a.spec.finalizer ?? STUCK_FINALIZER,
        resources: a.spec.resources && a.spec.resources.length > 0 ? a.spec.resources : ['configmaps'],
      };
    }
    return undefined;
  }

  /** The pod's readiness fault: its own (or its template's) annotation first, then the active faults. */
  podFault(pod: KubeObject): PodFault | undefined {
    const annotation = pod.metadata.annotations?.[FAULT_ANNOTATION];
    if (annotation && !annotation.trim().startsWith('image-pull')) return parsePodFaultAnnotation(annotation);
    for (const a of this.armed) {
      const s = a.spec;
      if (s.kind !== 'never-ready' && s.kind !== 'slow-ready' && s.kind !== 'crash-loop') continue;
      if (!matchesPod(s, pod)) continue;
      a.hits += 1;
      if (s.kind === 'never-ready') return { kind: 'never-ready' };
      if (s.kind === 'slow-ready') return { kind: 'slow-ready', delayMs: s.delayMs };
      return { kind: 'crash-loop', exitCode: s.exitCode ?? 1 };
    }
    return undefined;
  }

  /**
   * Whether an `image-pull` fault concerns this pod's image, so that the node does not have it until a
   * pull succeeds. The pod's (or its template's) annotation comes first, then the active faults.
   * Without `namespaces`, a fault spares kube-system and istio-system: their images were pulled when
   * the control plane was installed.
   */
  imagePullApplies(pod: KubeObject, image: string): boolean {
    return this.imagePullSource(pod, image) !== undefined;
  }

  /**
   * Whether this pull fails, and how. `times` counts per pod for an annotation, per fault otherwise:
   * the first N pulls fail, as a registry's rate limit lets the next one through.
   */
  imagePull(pod: KubeObject, image: string): ImagePullFailure | undefined {
    const source = this.imagePullSource(pod, image);
    if (!source) return undefined;
    if ('armed' in source) return this.fire(source.armed) ? pullFailure(source.spec) : undefined;
    const key = pod.metadata.uid ?? `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
    const hits = this.podHits.get(key) ?? 0;
    if (source.spec.times !== undefined && hits >= source.spec.times) return undefined;
    this.podHits.set(key, hits + 1);
    return pullFailure(source.spec);
  }

  private imagePullSource(
    pod: KubeObject,
    image: string,
  ): { spec: ImagePullSpec } | { spec: ImagePullSpec; armed: Armed } | undefined {
    const annotation = pod.metadata.annotations?.[FAULT_ANNOTATION]?.trim();
    if (annotation?.startsWith('image-pull')) {
      const spec = parseFaultSpec(annotation) as ImagePullSpec;
      return globMatch(spec.images, image) ? { spec } : undefined;
    }
    for (const a of this.armed) {
      const s = a.spec;
      if (s.kind !== 'image-pull' || !matchesPod(s, pod) || !globMatch(s.images, image)) continue;
      if (!s.namespaces?.length && CONTROL_PLANE_NAMESPACES.has(pod.metadata.namespace ?? '')) continue;
      return { spec: s, armed: a };
    }
    return undefined;
  }

  /** Whether the API server's call to this mutating webhook for this pod fails (its service unreachable). */
  webhookDown(pod: KubeObject, webhook: string): { message?: string } | undefined {
    for (const a of this.armed) {
      const s = a.spec;
      if (s.kind !== 'webhook-down' || !matchesPod(s, pod) || !globMatch(s.webhooks, webhook)) continue;
      if (!this.fire(a)) continue;
      return s.message ? { message: s.message } : {};
    }
    return undefined;
  }

  private fire(a: Armed): boolean {
    const spec = a.spec as Rated;
    if (spec.times !== undefined && a.hits >= spec.times) return false;
    const rate = spec.rate ?? 1;
    if (rate < 1 && a.random() >= rate) return false;
    a.hits += 1;
    return true;
  }
}

function matchesRequest(spec: FaultMatch, t: RequestFaultTarget): boolean {
  if (spec.verbs && spec.verbs.length > 0 && !spec.verbs.includes(t.verb)) return false;
  if (spec.resources && spec.resources.length > 0) {
    const names = [
      t.resource,
      t.subresource ? `${t.resource}/${t.subresource}` : '',
      t.apiGroup ? `${t.resource}.${t.apiGroup}` : '',
    ];
    if (!spec.resources.some((r) => names.includes(r))) return false;
  }
  if (spec.namespaces && spec.namespaces.length > 0 && !spec.namespaces.includes(t.namespace)) return false;
  if (spec.names && spec.names.length > 0 && !globMatch(spec.names, t.name)) return false;
  return true;
}

function matchesPod(spec: FaultMatch, pod: KubeObject): boolean {
  if (spec.namespaces && spec.namespaces.length > 0 && !spec.namespaces.includes(pod.metadata.namespace ?? ''))
    return false;
  if (!globMatch(spec.names, pod.metadata.name)) return false;
  if (spec.labelSelector && !parseLabelSelector(spec.labelSelector)(pod.metadata.labels)) return false;
  return true;
}

function apiErrorFor(spec: { code?: number; retryAfterSeconds?: number; message?: string }): ApiError {
  const code = spec.code ?? 500;
  const message = spec.message ?? 'injected fault';
  switch (code) {
    case 429:
      return tooManyRequests(spec.retryAfterSeconds ?? 1);
    case 500:
      return internalError(message);
    case 503: {
      const error = serviceUnavailable(spec.message ?? 'the server is currently unable to handle the request');
      return spec.retryAfterSeconds
        ? new ApiError(error.status, { 'Retry-After': String(spec.retryAfterSeconds) })
        : error;
    }
    case 504:
      return timeout(
        spec.message ??
          'the server was unable to return a response in the time allotted, but may still be processing the request',
      );
    default: {
      const status: Status = {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message,
        reason: 'InternalError',
        code,
      };
      return new ApiError(status);
    }
  }
}
