// Waiting for the topology's Deployments, on scripted object states: kubectl's rollout rule (a rolling
// update is not done while the old pod is Ready), pods admission refuses (Pod Security at once, a webhook
// after its grace period), and image pulls (transient ones waited through, definite ones named at once).
import { describe, expect, it } from 'vitest';
import { ClusterError } from '../../src/errors.js';
import type { Cluster } from '../../src/kube/cluster.js';
import { isDefinitePullError } from '../../src/kube/pod-trouble.js';
import { rolloutStatus } from '../../src/kube/rollout.js';
import { waitForDeployments } from '../../src/kube/wait.js';
import type { KubeObject } from '../../src/model/kube-object.js';

type Status = Record<string, unknown>;

const deployment = (status: Status, o: { generation?: number; replicas?: number } = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'httpbin', namespace: 'test1', generation: o.generation ?? 2 },
  spec: { replicas: o.replicas ?? 1, selector: { matchLabels: { app: 'httpbin' } } },
  status,
});
const done = { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 };

const pod = (containerStatuses: Status[], phase = 'Pending'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'httpbin-6b9f8d7c4-x2x8q', namespace: 'test1', labels: { app: 'httpbin' } },
  status: { phase, containerStatuses },
});
const waiting = (reason: string, message: string) => ({
  name: 'httpbin',
  image: 'mccutchen/go-httpbin:v2.15.0',
  ready: false,
  state: { waiting: { reason, message } },
});

/** A cluster whose Deployment and pods are those of poll n (the last state stays). */
function scripted(states: Array<{ deployment: KubeObject; pods?: KubeObject[] }>) {
  let n = 0;
  const now = () => states[Math.min(n, states.length - 1)]!;
  const cluster = {
    get: async () => {
      const s = now();
      n++;
      return structuredClone(s.deployment);
    },
    list: async () => structuredClone(states[Math.min(Math.max(n - 1, 0), states.length - 1)]!.pods ?? []),
  } as unknown as Cluster;
  return { cluster, polls: () => n };
}

const wait = (cluster: Cluster, timeoutMs = 2000, graceMs = 200) =>
  waitForDeployments(cluster, [{ namespace: 'test1', name: 'httpbin' }], timeoutMs, {
    pollMs: 5,
    createFailureGraceMs: graceMs,
  }).then(
    () => undefined,
    (e: unknown) => e as ClusterError,
  );

describe('rolloutStatus (kubectl rollout status)', () => {
  it('is not done while the old pod still counts: a rolling update with one replica', () => {
    // The new pod has started (surge), the old one is still Ready and available.
    const surge = { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 };
    expect(rolloutStatus(deployment(surge))).toEqual({
      state: 'waiting',
      message: 'Waiting for deployment "httpbin" rollout to finish: 1 old replicas are pending termination...',
    });
    const before = { observedGeneration: 2, replicas: 1, updatedReplicas: 0, readyReplicas: 1, availableReplicas: 1 };
    expect(rolloutStatus(deployment(before))).toMatchObject({
      message: 'Waiting for deployment "httpbin" rollout to finish: 0 out of 1 new replicas have been updated...',
    });
    const unavailable = { ...done, availableReplicas: 0 };
    expect(rolloutStatus(deployment(unavailable))).toMatchObject({
      message: 'Waiting for deployment "httpbin" rollout to finish: 0 of 1 updated replicas are available...',
    });
    expect(rolloutStatus(deployment(done))).toEqual({ state: 'done' });
  });

  it('waits for the controller to observe the spec, and fails on ProgressDeadlineExceeded', () => {
    expect(rolloutStatus(deployment(done, { generation: 3 }))).toEqual({
      state: 'waiting',
      message: 'Waiting for deployment spec update to be observed...',
    });
    const stuck = {
      ...done,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    };
    expect(rolloutStatus(deployment(stuck))).toEqual({
      state: 'failed',
      message: 'deployment "httpbin" exceeded its progress deadline',
    });
  });
});

const psa =
  'pods "httpbin-6b9f8d7c4-" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "istio-init" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add)';
const webhook =
  'Internal error occurred: failed calling webhook "namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/inject?timeout=10s": dial tcp 10.96.0.11:443: connect: connection refused';
const refused = (message: string) =>
  deployment({
    observedGeneration: 2,
    conditions: [
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated' },
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
      { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message },
    ],
  });

describe('pods that are never created', () => {
  it('Pod Security refusing istio-init fails on the first look, with the message and the fix', async () => {
    const s = scripted([{ deployment: refused(psa) }]);
    const e = await wait(s.cluster);
    expect(e).toBeInstanceOf(ClusterError);
    expect(e!.message).toBe(`deployment test1/httpbin cannot create its pods (FailedCreate): ${psa}`);
    expect(e!.fix).toContain('pod-security.kubernetes.io/enforce=privileged');
    expect(e!.fix).toContain('istio-cni');
    expect(s.polls()).toBe(1);
  });

  it('a webhook that fails closed is given a grace period, then fails naming istiod', async () => {
    const s = scripted([{ deployment: refused(webhook) }]);
    const started = Date.now();
    const e = await wait(s.cluster, 5000, 150);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(e!.message).toContain('failed calling webhook "namespace.sidecar-injector.istio.io"');
    expect(e!.fix).toMatch(/^istiod is down or unreachable/);
  });

  it('a webhook that comes back within the grace period: the pods are created and the wait ends', async () => {
    const s = scripted([
      { deployment: refused(webhook) },
      { deployment: refused(webhook) },
      { deployment: deployment(done) },
    ]);
    expect(await wait(s.cluster, 5000, 10_000)).toBeUndefined();
  });
});

const tooMany =
  'failed to pull and unpack image "docker.io/mccutchen/go-httpbin:v2.15.0": failed to copy: httpReadSeeker: failed open: unexpected status code https://registry-1.docker.io/v2/mccutchen/go-httpbin/manifests/sha256:ab: 429 Too Many Requests - Server message: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit';
const notFound =
  'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/mccutchen/go-httpbin:v9": failed to resolve reference "docker.io/mccutchen/go-httpbin:v9": docker.io/mccutchen/go-httpbin:v9: not found';
const backOff = 'Back-off pulling image "mccutchen/go-httpbin:v2.15.0"';
const pulling = { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 };

describe('image pulls', () => {
  it('tells definite pull errors from transient ones', () => {
    expect(isDefinitePullError(tooMany)).toBe(false);
    expect(isDefinitePullError(notFound)).toBe(true);
    expect(
      isDefinitePullError(
        'failed to pull and unpack image "docker.io/library/nope:1": failed to resolve reference "docker.io/library/nope:1": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
      ),
    ).toBe(true);
    expect(
      isDefinitePullError(
        'Error response from daemon: manifest for nope:1 not found: manifest unknown: manifest unknown',
      ),
    ).toBe(true);
    expect(isDefinitePullError('failed to do request: Head "https://registry-1.docker.io/v2/": i/o timeout')).toBe(
      false,
    );
  });

  it("waits through the kubelet's back-off on a rate limit until the pull succeeds", async () => {
    const s = scripted([
      { deployment: deployment(pulling), pods: [pod([waiting('ErrImagePull', tooMany)])] },
      { deployment: deployment(pulling), pods: [pod([waiting('ImagePullBackOff', backOff)])] },
      { deployment: deployment(pulling), pods: [pod([waiting('ErrImagePull', tooMany)])] },
      { deployment: deployment(done) },
    ]);
    expect(await wait(s.cluster)).toBeUndefined();
  });

  it('an image that does not exist fails at once, naming the image and the reason', async () => {
    const s = scripted([{ deployment: deployment(pulling), pods: [pod([waiting('ErrImagePull', notFound)])] }]);
    const e = await wait(s.cluster);
    expect(e!.message).toBe(
      `pod test1/httpbin-6b9f8d7c4-x2x8q cannot pull image "mccutchen/go-httpbin:v2.15.0" for container httpbin: ${notFound}`,
    );
    expect(e!.fix).toMatch(/image name and tag/);
  });

  it('ImagePullBackOff after a definite error seen earlier fails too', async () => {
    const s = scripted([
      { deployment: deployment(pulling), pods: [pod([{ ...waiting('ContainerCreating', ''), state: {} }])] },
      { deployment: deployment(pulling), pods: [pod([waiting('ImagePullBackOff', backOff)])] },
    ]);
    // A back-off whose cause was never seen is waited through, to the timeout.
    expect((await wait(s.cluster, 100))!.message).toMatch(/^deployments not ready after 0 s: .*ImagePullBackOff\)$/);
    const t = scripted([
      { deployment: deployment(pulling), pods: [pod([waiting('ErrImagePull', notFound)])] },
      { deployment: deployment(pulling), pods: [pod([waiting('ImagePullBackOff', backOff)])] },
    ]);
    expect((await wait(t.cluster))!.message).toContain('not found');
  });

  it('a rate limit that outlasts --ready-timeout: the timeout names the last pull error', async () => {
    const s = scripted([
      { deployment: deployment(pulling), pods: [pod([waiting('ErrImagePull', tooMany)])] },
      { deployment: deployment(pulling), pods: [pod([waiting('ImagePullBackOff', backOff)])] },
    ]);
    const e = await wait(s.cluster, 100);
    expect(e!.message).toMatch(
      /^deployments not ready after 0 s: test1\/httpbin: pod httpbin-6b9f8d7c4-x2x8q Pending \(httpbin ImagePullBackOff; last pull error: failed to pull .* toomanyrequests/,
    );
    expect(e!.fix).toMatch(/registry kept refusing pulls/);
  });
});
