// Fault specs: their types, the checks every spec passes, and the two textual forms (the CLI's
// `kind key=value ...` and the `emulator.meshprobe.dev/fault` pod annotation). faults.ts arms them.
import { EXEC_STATUS_PRESETS, type ExecStatusFault, type ExecStatusPreset } from './exec-status.js';

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

export interface Rated {
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
  | ({ kind: 'api-stall'; phase?: StallPhase } & FaultMatch & Rated)
  | ({ kind: 'namespace-stuck'; cause?: NamespaceStuckCause; finalizer?: string } & FaultMatch & Rated)
  | ({ kind: 'never-ready' } & FaultMatch)
  | ({ kind: 'slow-ready'; delayMs: number } & FaultMatch)
  | ({ kind: 'crash-loop'; exitCode?: number } & FaultMatch)
  | ({ kind: 'image-pull'; permanent?: boolean; message?: string; images?: string[] } & FaultMatch & Rated)
  | ({ kind: 'webhook-down'; webhooks?: string[]; message?: string } & FaultMatch & Rated);

/**
 * An image pull that fails: `message` is what the container runtime answers (a preset name such as
 * `toomanyrequests` or `not-found`, or the text itself); the kubelet side (controllers/image-pull.ts)
 * turns presets into containerd's wording for the image.
 */
export interface ImagePullFailure {
  permanent: boolean;
  message: string;
}

/** Where a stalled connection stops: before the TLS handshake, or after the request was read. */
export type StallPhase = 'tls' | 'request';

/**
 * Why a namespace never finishes terminating: an object inside keeps a finalizer nobody removes
 * (`content`), or the namespace itself carries the finalizer token of a controller that is gone (`finalizer`).
 */
export type NamespaceStuckCause = 'content' | 'finalizer';
export const STUCK_FINALIZER = 'emulator.meshprobe.dev/never-cleared';

export interface NamespaceStuck {
  cause: NamespaceStuckCause;
  finalizer: string;
  /** For `content`: the plurals whose objects keep the finalizer (default configmaps). */
  resources: string[];
}

export type PodFault =
  { kind: 'never-ready' } | { kind: 'slow-ready'; delayMs: number } | { kind: 'crash-loop'; exitCode: number };

export function validateSpec(spec: FaultSpec): void {
  const rate = (spec as Rated).rate;
  if (rate !== undefined && !(rate >= 0 && rate <= 1))
    throw new Error(`fault ${spec.kind}: rate must be between 0 and 1, got ${rate}`);
  if (spec.kind === 'slow-ready' && !(spec.delayMs >= 0))
    throw new Error('fault slow-ready: delayMs must be a non-negative number');
  if (spec.kind === 'image-pull' && spec.permanent && spec.times !== undefined)
    throw new Error('fault image-pull: a permanent failure has no times=N; use one or the other');
  if (spec.kind === 'api-stall') {
    if (spec.phase !== undefined && spec.phase !== 'tls' && spec.phase !== 'request')
      throw new Error(`fault api-stall: phase must be tls or request, got "${String(spec.phase)}"`);
    const scoped = ['verbs', 'resources', 'namespaces', 'names'] as const;
    if ((spec.phase ?? 'tls') === 'tls' && scoped.some((k) => (spec[k] ?? []).length > 0))
      throw new Error(
        'fault api-stall: phase tls stalls a connection before any request is known; verbs, resources, namespaces and names need phase=request',
      );
  }
  if (spec.kind === 'namespace-stuck') {
    if (spec.cause !== undefined && spec.cause !== 'content' && spec.cause !== 'finalizer')
      throw new Error(`fault namespace-stuck: cause must be content or finalizer, got "${String(spec.cause)}"`);
    if (!spec.names || spec.names.length === 0)
      throw new Error('fault namespace-stuck: name the namespaces (names=test1,test2)');
  }
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

/** `never-ready`, `slow-ready=5s` (or `=500ms`), `crash-loop` (or `crash-loop=2` for the exit code). */
export function parsePodFaultAnnotation(value: string): PodFault {
  const [kind, arg] = value.trim().split('=', 2) as [string, string | undefined];
  if (kind === 'never-ready') return { kind: 'never-ready' };
  if (kind === 'slow-ready') return { kind: 'slow-ready', delayMs: parseDuration(arg ?? '5s') };
  if (kind === 'crash-loop') return { kind: 'crash-loop', exitCode: arg ? Number(arg) : 1 };
  throw new Error(
    `unknown ${FAULT_ANNOTATION} value "${value}": use never-ready, slow-ready=<duration>, crash-loop[=<exit code>] or image-pull [times=N] [permanent] [message=...]`,
  );
}

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: "${text}" (use 500ms, 5s or 1m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
}

/** Options written without a value. */
const FLAGS = new Set(['permanent']);

/**
 * Parses a fault written on the command line: the kind, then space-separated key=value pairs, e.g.
 * `api-error code=429 rate=0.3 retry-after=2 verbs=get,list resources=pods namespaces=test1 times=5`,
 * `exec-drop after=200ms`, `slow-ready delay=5s namespaces=test1 selector=app=httpbin`.
 */
export function parseFaultSpec(text: string): FaultSpec {
  const [kind, ...pairs] = tokenize(text);
  const opts = new Map<string, string>();
  for (const pair of pairs) {
    if (FLAGS.has(pair)) {
      opts.set(pair, 'true');
      continue;
    }
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
    'cause',
    'finalizer',
    'phase',
    'images',
    'permanent',
    'webhooks',
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
    case 'api-stall': {
      const s: FaultSpec = { kind, ...match };
      const phase = opts.get('phase');
      if (phase) s.phase = phase as StallPhase;
      spec = s;
      break;
    }
    case 'namespace-stuck': {
      const s: FaultSpec = { kind, ...match };
      const cause = opts.get('cause');
      if (cause) s.cause = cause as NamespaceStuckCause;
      const finalizer = opts.get('finalizer');
      if (finalizer) s.finalizer = finalizer;
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
    case 'image-pull': {
      const s: FaultSpec = { kind, ...match };
      if (opts.has('permanent')) s.permanent = true;
      const message = opts.get('message');
      if (message) s.message = message;
      const images = list('images');
      if (images) s.images = images;
      spec = s;
      break;
    }
    case 'webhook-down': {
      const s: FaultSpec = { kind, ...match };
      const message = opts.get('message');
      if (message) s.message = message;
      const webhooks = list('webhooks');
      if (webhooks) s.webhooks = webhooks;
      spec = s;
      break;
    }
    default:
      throw new Error(
        `unknown fault kind "${kind ?? ''}": use api-error, api-stall, exec-reject, exec-status, exec-drop, namespace-stuck, never-ready, slow-ready, crash-loop, image-pull or webhook-down`,
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
