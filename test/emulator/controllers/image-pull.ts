// The kubelet's image manager on the one emulated node (kubernetes/kubernetes v1.32
// pkg/kubelet/images/image_manager.go EnsureImageExists): an image already on the node is "already
// present on machine"; one that must be pulled records Pulling, then either Pulled ("Successfully
// pulled image ... in ...") or Failed ("Failed to pull image ...: <the runtime's error>") and starts a
// back-off for that pod and image (flowcontrol.Backoff: 10 s doubling to 300 s, the kubelet's
// backOffPeriod and MaxContainerBackOff in pkg/kubelet/kubelet.go, scaled by kubeletTimeScale).
// While the back-off lasts, a sync answers ImagePullBackOff "Back-off pulling image ..." with a
// BackOff event instead of pulling. Which pulls fail comes from the `image-pull` fault; its message
// presets are containerd 2.0's wording, as kind nodes run it, after the CRI client strips the
// "rpc error: code = Unknown desc = " of Unknown errors (staging/src/k8s.io/cri-client/pkg/remote_image.go).
import { createHash } from 'node:crypto';
import type { KubeObject } from '../contracts.js';
import type { Faults, ImagePullFailure } from '../api/faults.js';

type Any = Record<string, any>; // loosely typed Kubernetes objects

/** pkg/kubelet/kubelet.go backOffPeriod and MaxContainerBackOff (the image back-off's bounds in 1.32). */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;

export type PullResult =
  | { ok: true; imageRef: string }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull'; message: string };

export interface PullEvents {
  normal(reason: string, message: string): void;
  warning(reason: string, message: string): void;
}

/** The reference containerd resolves: a short Docker Hub name gets docker.io/library/ and :latest. */
export function normalizedImage(image: string): string {
  const firstSlash = image.indexOf('/');
  const first = firstSlash < 0 ? '' : image.slice(0, firstSlash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  let ref = hasRegistry ? image : `docker.io/${firstSlash < 0 ? 'library/' : ''}${image}`;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  if (!lastPart.includes(':') && !ref.includes('@')) ref += ':latest';
  return ref;
}

function digestOf(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** What containerd answers for a failed pull, preset or verbatim. */
export function criPullError(image: string, failure: ImagePullFailure): string {
  const ref = normalizedImage(image);
  const at = ref.lastIndexOf('@') > 0 ? ref.lastIndexOf('@') : ref.lastIndexOf(':');
  const repo = ref.slice(0, at);
  const host = repo.slice(0, repo.indexOf('/'));
  const path = repo.slice(repo.indexOf('/') + 1);
  const registry = host === 'docker.io' ? 'registry-1.docker.io' : host;
  switch (failure.message) {
    case 'toomanyrequests':
      // containerd core/remotes/docker: a 429 on the manifest, with Docker Hub's error body.
      return `failed to pull and unpack image "${ref}": failed to copy: httpReadSeeker: failed open: unexpected status code https://${registry}/v2/${path}/manifests/${digestOf(ref)}: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit`;
    case 'not-found':
      // NotFound keeps its gRPC prefix: the CRI client strips only Unknown.
      return `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
    case 'unauthorized':
      return `failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`;
    case 'manifest-unknown':
      // What a node whose runtime is the Docker engine (cri-dockerd) reports for a missing tag.
      return `Error response from daemon: manifest for ${image} not found: manifest unknown: manifest unknown`;
    default:
      return failure.message;
  }
}

/** Go's time.Duration String() for a whole number of milliseconds: 0s, 12ms, 1.5s, 2m3.004s. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = (ms % 60_000) / 1000;
  const s = `${String(Number(seconds.toFixed(3)))}s`;
  return minutes > 0 ? `${minutes}m${s}` : s;
}

/** flowcontrol.Backoff (k8s.io/client-go/util/flowcontrol/backoff.go), without jitter as the kubelet uses it. */
class Backoff {
  private readonly entries = new Map<string, { backoff: number; lastUpdate: number }>();

  constructor(
    private readonly initial: number,
    private readonly max: number,
  ) {}

  inBackOffSinceUpdate(id: string, now: number): boolean {
    const e = this.entries.get(id);
    return e !== undefined && now - e.lastUpdate < e.backoff;
  }

  next(id: string, now: number): void {
    const e = this.entries.get(id);
    // hasExpired: an entry untouched for twice the maximum starts over.
    if (!e || now - e.lastUpdate > 2 * this.max) this.entries.set(id, { backoff: this.initial, lastUpdate: now });
    else this.entries.set(id, { backoff: Math.min(e.backoff * 2, this.max), lastUpdate: now });
  }

  forget(prefix: string): void {
    for (const id of this.entries.keys()) if (id.startsWith(prefix)) this.entries.delete(id);
  }
}

export class ImageManager {
  /** Images a fault kept off the node until a pull succeeded; every other image is taken as preloaded. */
  private readonly pulled = new Set<string>();
  private readonly backoff: Backoff;

  constructor(
    private readonly faults: Faults,
    timeScale: number,
  ) {
    this.backoff = new Backoff(IMAGE_BACKOFF_INITIAL_MS * timeScale, IMAGE_BACKOFF_MAX_MS * timeScale);
  }

  /** EnsureImageExists for one container of a pod. */
  ensure(pod: KubeObject, container: Any, events: PullEvents): PullResult {
    const image = String(container.image);
    const ref = normalizedImage(image);
    const imageRef = `${ref.replace(/:[^:/@]+$/, '')}@${digestOf(ref)}`;
    const policy = String(container.imagePullPolicy ?? 'IfNotPresent');
    let concerned = false;
    try {
      concerned = this.faults.imagePullApplies(pod, image);
    } catch (error) {
      console.error(`emulator: pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name}: ${String(error)}`);
    }
    const present = !concerned || this.pulled.has(ref);
    if (present && (policy !== 'Always' || !concerned)) {
      events.normal('Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageRef };
    }
    if (policy === 'Never') {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      events.warning('ErrImageNeverPull', message);
      return { ok: false, reason: 'ErrImageNeverPull', message };
    }
    const key = `${pod.metadata.uid ?? ''}_${image}`;
    const started = Date.now();
    if (this.backoff.inBackOffSinceUpdate(key, started)) {
      const message = `Back-off pulling image "${image}"`;
      events.normal('BackOff', message);
      return { ok: false, reason: 'ImagePullBackOff', message };
    }
    events.normal('Pulling', `Pulling image "${image}"`);
    const failure = this.faults.imagePull(pod, image);
    if (failure) {
      const error = criPullError(image, failure);
      events.warning('Failed', `Failed to pull image "${image}": ${error}`);
      this.backoff.next(key, started);
      return { ok: false, reason: 'ErrImagePull', message: error };
    }
    this.pulled.add(ref);
    const took = goDuration(Date.now() - started);
    const size = 10_000_000 + (parseInt(digestOf(ref).slice(7, 13), 16) % 90_000_000);
    events.normal(
      'Pulled',
      `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${size} bytes.`,
    );
    return { ok: true, imageRef };
  }

  /** The pod is gone: its back-off entries with it. */
  forget(pod: KubeObject): void {
    this.backoff.forget(`${pod.metadata.uid ?? ''}_`);
  }
}
