// A whole run on the in-memory FakeCluster: a two-namespace topology (a injected, b not), two
// scenarios, and a toy data plane behind exec that answers from the PeerAuthentication the cluster
// holds. Time for convergence is a fake clock that each exec moves on by half a second, so the
// number of rounds never depends on the machine's load.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecResult } from '../../src/kube/cluster.js';
import { ExecError } from '../../src/kube/errors.js';
import type { RunEvent } from '../../src/model/events.js';
import type { KubeObject } from '../../src/model/kube-object.js';
import { fromObject } from '../../src/model/istio-objects.js';
import type { RunResult } from '../../src/model/results.js';
import type { Scenario } from '../../src/model/scenario.js';
import type { Topology } from '../../src/model/topology.js';
import { runScenarios, type RunOptions } from '../../src/orchestrator/run.js';
import type { Clock } from '../../src/probe/converge.js';
import { FakeCluster, probeAnswers, withWorkloads, type CurlAnswer, type ExecCall } from './fake-cluster.js';

const port = { name: 'http', port: 8000, targetPort: 8080, protocol: 'http' as const };

/** a/sleep and b/sleep probe a/httpbin:8000 and b/httpbin:8000; a has sidecars, b does not. */
export const TOPOLOGY: Topology = withWorkloads({
  name: 'fake',
  namespaces: ['a', 'b'].map((name) => ({ name, injection: name === 'a', objects: [], secrets: [] })),
  workloads: ['a', 'b'].flatMap((namespace) =>
    ['sleep', 'httpbin'].map((name) => ({
      namespace,
      name,
      labels: { app: name },
      serviceAccount: name,
      sidecar: namespace === 'a',
    })),
  ),
  services: ['a', 'b'].map((namespace) => ({
    namespace,
    name: 'httpbin',
    selector: { app: 'httpbin' },
    ports: [port],
  })),
  clients: ['a', 'b'].map((namespace) => ({
    id: `${namespace}/sleep`,
    namespace,
    workload: 'sleep',
    container: 'sleep',
  })),
  targets: ['a', 'b'].map((namespace) => ({
    id: `${namespace}/httpbin:8000`,
    namespace,
    service: 'httpbin',
    port,
    scheme: 'http',
    method: 'GET',
    path: '/headers',
  })),
});

const peerAuthentication = (mode: string) =>
  fromObject(
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'a' },
      spec: { mtls: { mode } },
    },
    0,
  );

const scenario = (
  name: string,
  mode: string,
  expect: Scenario['expect']['all'],
  certificates: string[] = [],
): Scenario => ({
  name,
  description: `a/default ${mode}`,
  sources: [],
  file: `${name}.yaml`,
  objects: [peerAuthentication(mode)],
  expect: { all: expect, modern: [], legacy: [] },
  certificates,
});

/**
 * `strict-a` matches at once; in `permissive-a` the exec stream to b/sleep drops every time, so its
 * row is probe errors until the timeout, and a/httpbin's sidecar has no certificate to show.
 */
export const SCENARIOS: Scenario[] = [
  scenario('strict-a', 'STRICT', [
    { from: ['a/sleep'], to: ['a/*'], expect: 'mtls', where: 'strict-a.yaml:9:9' },
    { from: ['b/sleep'], to: ['a/*'], expect: 'reset', where: 'strict-a.yaml:10:9' },
    { from: ['*'], to: ['b/*'], expect: 'plaintext', where: 'strict-a.yaml:11:9' },
  ]),
  scenario(
    'permissive-a',
    'PERMISSIVE',
    [
      { from: ['*'], to: ['*'], expect: 'pass', where: 'permissive-a.yaml:9:9' },
      { from: ['a/sleep'], to: ['a/*'], expect: 'mtls', where: 'permissive-a.yaml:10:9' },
    ],
    ['a/httpbin'],
  ),
];

/**
 * An unrevisioned Istio as its Helm chart installs it, as far as a run reads it: the injector's
 * configuration (mutatingwebhook.yaml, istio.io/rev=default, selecting istio-injection=enabled) and the
 * mesh config ConfigMap `istio`.
 */
export const ISTIO_INSTALL: KubeObject[] = [
  {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'istio-sidecar-injector', labels: { app: 'sidecar-injector', 'istio.io/rev': 'default' } },
    webhooks: [
      {
        name: 'namespace.sidecar-injector.istio.io',
        clientConfig: { service: { name: 'istiod', namespace: 'istio-system', path: '/inject', port: 443 } },
        namespaceSelector: { matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }] },
      },
    ],
  } as KubeObject,
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'istiod', namespace: 'istio-system', labels: { app: 'istiod', 'istio.io/rev': 'default' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'istiod' } },
      template: { metadata: { labels: { app: 'istiod' } } },
    },
  },
  {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'istio', namespace: 'istio-system' },
    data: { mesh: 'enableAutoMtls: true\nrootNamespace: istio-system\ntrustDomain: cluster.local\n' },
  },
];

/**
 * `pilot-discovery request GET /debug/syncz` of the toy istiod (ISTIO_INSTALL's): every push reaches every
 * sidecar at once, so each has acknowledged push N, N being the number of Istio policy writes so far
 * (nonce: the push context version, then a 36-character UUID).
 */
function syncz(cluster: FakeCluster): ExecResult {
  const pushes = cluster.log.filter((l) => / (PeerAuthentication|DestinationRule) /.test(l)).length;
  const nonce = `2025-01-10T12:00:00Z/${pushes + 1}0f8fad5b-d9cb-469f-a165-70867728950e`;
  const types = ['cluster', 'listener', 'route', 'endpoint'];
  const rows = TOPOLOGY.workloads
    .filter((w) => w.sidecar)
    .map((w) => ({
      cluster_id: 'Kubernetes',
      proxy: `${w.name}-0.${w.namespace}`,
      proxy_type: 'sidecar',
      ...Object.fromEntries(
        types.flatMap((t) => [
          [`${t}_sent`, nonce],
          [`${t}_acked`, nonce],
        ]),
      ),
    }));
  return { stdout: JSON.stringify(rows), stderr: '', exitCode: 0 };
}

/** What curl sees from `client` to a/httpbin or b/httpbin, given a/default's mode. */
function dataPlane(client: string, url: string, modeOfA: string | undefined): CurlAnswer {
  const server = /^http:\/\/httpbin\.(\w+):/.exec(url)![1];
  if (server === 'a' && client === 'b' && modeOfA === 'STRICT')
    return { httpCode: 0, curlExit: 56, error: 'Recv failure: Connection reset by peer' };
  const xfcc =
    client === 'a' && server === 'a'
      ? { 'X-Forwarded-Client-Cert': 'By=x;URI=spiffe://cluster.local/ns/a/sa/sleep' }
      : {};
  return { httpCode: 200, body: JSON.stringify({ headers: { Host: `httpbin.${server}`, ...xfcc } }) };
}

export interface FakeRun {
  cluster: FakeCluster;
  options: RunOptions;
  events: RunEvent[];
  /** Every exec, in order. */
  execs: ExecCall[];
  /** Aborts the run, as the first SIGINT does. */
  abort: AbortController;
  /** The cluster's contents before the run (its Istio install): what a run must leave as it found. */
  installed: string[];
  run(): Promise<RunResult>;
}

/** The cluster, options and event log of a run of SCENARIOS; change any of them before `run`. */
export function fakeRun(overrides: Partial<RunOptions> = {}): FakeRun {
  let t = 0;
  const clock: Clock = { now: () => t, sleep: async (ms) => void (t += ms) };
  const events: RunEvent[] = [];
  const execs: ExecCall[] = [];
  const cluster = new FakeCluster({ objects: ISTIO_INSTALL });
  cluster.exec = async (pod, container, command) => {
    if (pod.namespace === 'istio-system') return syncz(cluster);
    execs.push({ pod, container, command });
    t += 500;
    const pa = await cluster.get({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      namespace: 'a',
      name: 'default',
    });
    const mode = (pa?.spec as { mtls?: { mode?: string } } | undefined)?.mtls?.mode;
    if (pod.namespace === 'b' && mode === 'PERMISSIVE')
      throw new ExecError('exec: websocket closed (1006)', 'transient');
    return probeAnswers((call, url) => dataPlane(call.pod.namespace, url, mode))({ pod, container, command });
  };
  const abort = new AbortController();
  const options: RunOptions = {
    command: 'run',
    topology: TOPOLOGY,
    scenarios: SCENARIOS,
    runId: 'run-1',
    keep: false,
    adopt: false,
    readyTimeoutMs: 5000,
    probe: { curlTimeoutSeconds: 1, concurrency: 4, execAttempts: 2, kubectl: { context: cluster.context } },
    converge: { consecutive: 2, timeoutMs: 3000, intervalMs: 1000, settleMs: 0, clock, signal: abort.signal },
    events: (e) => events.push(e),
    signal: abort.signal,
    allowClusterWide: false,
    isolation: 'none',
    journalDir: mkdtempSync(join(tmpdir(), 'meshprobe-fake-journal-')),
    ...overrides,
  };
  return {
    cluster,
    options,
    events,
    execs,
    abort,
    installed: cluster.contents(),
    run: () => runScenarios(cluster, options),
  };
}
