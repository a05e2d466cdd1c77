// Fault injection. Every fault surfaces the way the real thing would: an overloaded API server's 429
// with Retry-After, a 500 InternalError Status, an exec upgrade refused before the 101, an exec stream
// cut without a close frame, pods that are slow or never Ready, and a container in CrashLoopBackOff.
// Faults are chosen per run (options, CLI flags), changed at runtime (emu.faults.set / clear), and per
// pod through the `emulator.meshprobe.dev/fault` annotation on a pod or its Deployment's template.
// Rates draw from a seeded generator per fault, so a given seed and request order repeat exactly.
import type { KubeObject } from '../contracts.js';
import { seededRng } from '../rng.js';
import { EXEC_STATUS_PRESETS, reasonless, type ExecStatusFault, type ExecStatusPreset } from './exec-status.js';
import { parseLabelSelector } from './selectors.js';
import { ApiError, internalError, serviceUnavailable, timeout, tooManyRequests, type Status } from './status.js';

export const FAULT_ANNOTATION = 'emulator.meshprobe.dev/fault';

export interface FaultMatch {
  /** API verbs: get, list, watch, create, update, patch, delete, deletecollection. */
  verbs?: string[];
  /** Plurals, `plural/subresource` or `plural.group`. */
  resources?: string[];
  namespaces?: string[];
  /** Object (pod) names; `*` matches any run of characters. */
  names?: string[];
  /** For pod faults: a label selector on the pod. */
  labelSelector?: string;
}

interface Rated {
  /** Probability (0..1) that a matching request is hit; default 1. */
  rate?: number;
  /** Stop after this many hits. */
  times?: number;
}

export type FaultSpec =
  | ({ kind: 'api-error'; code?: number; retryAfterSeconds?: number; message?: string } & FaultMatch & Rated)
  | ({ kind: 'exec-reject'; code?: number } & FaultMatch & Rated)
  | ({ kind: 'exec-drop'; afterMs?: number; afterBytes?: number } & FaultMatch & Rated)
  | ({ kind: 'exec-status' } & ExecStatusFault & FaultMatch & Rated)
  | ({ kind: 'never-ready' } & FaultMatch)
  | ({ kind: 'slow-ready'; delayMs: number } & FaultMatch)
  | ({ kind: 'crash-loop'; exitCode?: number } & FaultMatch);

export type PodFault =
  { kind: 'never-ready' } | { kind: 'slow-ready'; delayMs: number } | { kind: 'crash-loop'; exitCode: number };

export interface ExecDrop {
  afterMs?: number;
  afterBytes?: number;
}

interface Armed {
  spec: FaultSpec;
  random: () => number;
  hits: number;
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

export class Faults {
  private armed: Armed[] = [];

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
  }

  add(spec: FaultSpec): void {
    validateSpec(spec);
    this.armed.push({ spec, random: seededRng(this.seed * 7919 + this.armed.length + 1), hits: 0 });
  }

  clear(): void {
    this.armed = [];
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

  /** The pod's readiness fault: its own (or its template's) annotation first, then the active faults. */
  podFault(pod: KubeObject): PodFault | undefined {
    const annotation = pod.metadata.annotations?.[FAULT_ANNOTATION];
    if (annotation) return parsePodFaultAnnotation(annotation);
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

  private fire(a: Armed): boolean {
    const spec = a.spec as Rated;
    if (spec.times !== undefined && a.hits >= spec.times) return false;
    const rate = spec.rate ?? 1;
    if (rate < 1 && a.random() >= rate) return false;
    a.hits += 1;
    return true;
  }
}

function validateSpec(spec: FaultSpec): void {
  const rate = (spec as Rated).rate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1))
    throw new Error(`fault ${spec.kind}: rate must be between 0 and 1, got ${rate}`);
  if (spec.kind === 'slow-ready' && !(spec.delayMs >= 0))
    throw new Error('fault slow-ready: delayMs must be a non-negative number');
  if (spec.kind === 'exec-status') {
    if (spec.preset !== undefined && !EXEC_STATUS_PRESETS.includes(spec.preset))
      throw new Error(`fault exec-status: unknown preset "${spec.preset}": use ${EXEC_STATUS_PRESETS.join(', ')}`);
    if (
      spec.preset !== undefined &&
      (spec.code !== undefined || spec.reason !== undefined || spec.message !== undefined)
    )
      throw new Error('fault exec-status: give either a preset or code/reason/message, not both');
    if (spec.preset === undefined && spec.message === undefined)
      throw new Error(`fault exec-status: give a preset (${EXEC_STATUS_PRESETS.join(', ')}) or a message`);
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

/** `never-ready`, `slow-ready=5s` (or `=500ms`), `crash-loop` (or `crash-loop=2` for the exit code). */
export function parsePodFaultAnnotation(value: string): PodFault {
  const [kind, arg] = value.trim().split('=', 2) as [string, string | undefined];
  if (kind === 'never-ready') return { kind: 'never-ready' };
  if (kind === 'slow-ready') return { kind: 'slow-ready', delayMs: parseDuration(arg ?? '5s') };
  if (kind === 'crash-loop') return { kind: 'crash-loop', exitCode: arg ? Number(arg) : 1 };
  throw new Error(
    `unknown ${FAULT_ANNOTATION} value "${value}": use never-ready, slow-ready=<duration> or crash-loop[=<exit code>]`,
  );
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: "${text}" (use 500ms, 5s or 1m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
}

/**
 * Parses a fault written on the command line: the kind, then space-separated key=value pairs, e.g.
 * `api-error code=429 rate=0.3 retry-after=2 verbs=get,list resources=pods namespaces=test1 times=5`,
 * `exec-drop after=200ms`, `slow-ready delay=5s namespaces=test1 selector=app=httpbin`.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const [kind, ...pairs] = tokenize(text);
  const opts = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`fault "${text}": expected key=value, got "${pair}"`);
    opts.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const list = (key: string): string[] | undefined =>
    opts
      .get(key)
      ?.split(',')
      .filter((s) => s.length > 0);
  const num = (key: string): number | undefined => {
    const v = opts.get(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`fault "${text}": ${key} must be a number, got "${v}"`);
    return n;
  };
  const match: FaultMatch & Rated = {};
  const verbs = list('verbs');
  const resources = list('resources');
  const namespaces = list('namespaces') ?? list('namespace');
  const names = list('names') ?? list('name');
  const selector = opts.get('selector');
  const rate = num('rate');
  const times = num('times');
  if (verbs) match.verbs = verbs;
  if (resources) match.resources = resources;
  if (namespaces) match.namespaces = namespaces;
  if (names) match.names = names;
  if (selector) match.labelSelector = selector;
  if (rate !== undefined) match.rate = rate;
  if (times !== undefined) match.times = times;
  const known = new Set([
    'verbs',
    'resources',
    'namespaces',
    'namespace',
    'names',
    'name',
    'selector',
    'rate',
    'times',
    'code',
    'retry-after',
    'message',
    'after',
    'after-bytes',
    'delay',
    'exit-code',
    'preset',
    'reason',
  ]);
  for (const key of opts.keys()) if (!known.has(key)) throw new Error(`fault "${text}": unknown option "${key}"`);
  let spec: FaultSpec;
  switch (kind) {
    case 'api-error': {
      const s: FaultSpec = { kind, ...match, code: num('code') ?? 500 };
      const retry = num('retry-after');
      if (retry !== undefined) s.retryAfterSeconds = retry;
      const message = opts.get('message');
      if (message) s.message = message;
      spec = s;
      break;
    }
    case 'exec-reject':
      spec = { kind, ...match, code: num('code') ?? 500 };
      break;
    case 'exec-status': {
      const s: FaultSpec = { kind, ...match };
      const preset = opts.get('preset');
      if (preset) s.preset = preset as ExecStatusPreset;
      const code = num('code');
      if (code !== undefined) s.code = code;
      const reason = opts.get('reason');
      if (reason) s.reason = reason;
      const message = opts.get('message');
      if (message) s.message = message;
      const delay = opts.get('delay');
      if (delay) s.delayMs = parseDuration(delay);
      spec = s;
      break;
    }
    case 'exec-drop': {
      const s: FaultSpec = { kind, ...match };
      const after = opts.get('after');
      if (after) s.afterMs = parseDuration(after);
      const bytes = num('after-bytes');
      if (bytes !== undefined) s.afterBytes = bytes;
      spec = s;
      break;
    }
    case 'never-ready':
      spec = { kind, ...match };
      break;
    case 'slow-ready':
      spec = { kind, ...match, delayMs: parseDuration(opts.get('delay') ?? '5s') };
      break;
    case 'crash-loop':
      spec = { kind, ...match, exitCode: num('exit-code') ?? 1 };
      break;
    default:
      throw new Error(
        `unknown fault kind "${kind ?? ''}": use api-error, exec-reject, exec-status, exec-drop, never-ready, slow-ready or crash-loop`,
      );
  }
  validateSpec(spec);
  return spec;
}

/** Splits a CLI fault on spaces, keeping `key="a value with spaces"` (or single quotes) as one word. */
function tokenize(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (const c of text.trim()) {
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (/\s/.test(c)) {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (quote) throw new Error(`fault "${text}": unclosed ${quote}`);
  if (started) words.push(word);
  return words;
}
