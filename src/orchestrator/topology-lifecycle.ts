// Setting up and tearing down the topology: idempotent, and never touching a namespace that is not ours.
import { ClusterError, ConfigError } from '../errors.js';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { waitForDeployments, waitUntilGone } from '../kube/wait.js';
import type { EventSink } from '../model/events.js';
import type { Topology } from '../model/topology.js';
import { isReady, labelSelector } from '../kube/pods.js';
import { isOurs, stamp } from './ownership.js';
import type { Journal } from './journal.js';
import { tlsSecret } from './tls-secret.js';

export interface SetupOptions {
  runId: string;
  /** Take over topology namespaces that exist but were not created by meshprobe. */
  adopt: boolean;
  readyTimeoutMs: number;
  events: EventSink;
  journal?: Journal;
}

const nsRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name });

export async function setupTopology(cluster: Cluster, topology: Topology, o: SetupOptions): Promise<void> {
  const started = performance.now();
  o.events({ type: 'setup-start', namespaces: topology.namespaces.map((n) => n.name) });
  await refuseForeignNamespaces(cluster, topology, o.adopt);

  for (const ns of topology.namespaces) {
    const existing = await cluster.get(nsRef(ns.name));
    if (existing?.metadata.deletionTimestamp) await waitUntilGone(cluster, [nsRef(ns.name)], o.readyTimeoutMs);
    if (!existing || existing.metadata.deletionTimestamp) await o.journal?.record('create', nsRef(ns.name));
    await cluster.apply(
      stamp(
        {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: ns.name, labels: { 'istio-injection': ns.injection ? 'enabled' : 'disabled' } },
        },
        o.runId,
      ),
    );
  }
  for (const ns of topology.namespaces) {
    for (const s of ns.secrets) {
      // Keep an existing certificate: a new one on every run would restart nothing but churn the Secret.
      if (!(await cluster.get({ apiVersion: 'v1', kind: 'Secret', namespace: ns.name, name: s.name })))
        await cluster.apply(stamp(tlsSecret(s), o.runId, ns.name));
    }
    for (const obj of ns.objects) await cluster.apply(stamp(obj, o.runId, ns.name));
  }
  const deployments = topology.namespaces.flatMap((ns) =>
    ns.objects.filter((x) => x.kind === 'Deployment').map((d) => ({ namespace: ns.name, name: d.metadata.name })),
  );
  await waitForDeployments(cluster, deployments, o.readyTimeoutMs);
  await checkInjection(cluster, topology);
  o.events({ type: 'preflight', check: 'sidecar injection', ok: true });
  o.events({ type: 'setup-done', seconds: (performance.now() - started) / 1000 });
}

/** Before any change: a topology namespace that exists and is not ours stops the run. */
export async function refuseForeignNamespaces(cluster: Cluster, topology: Topology, adopt: boolean): Promise<void> {
  const foreign: string[] = [];
  for (const ns of topology.namespaces) {
    const existing = await cluster.get(nsRef(ns.name));
    if (existing && !isOurs(existing)) foreign.push(ns.name);
  }
  if (foreign.length && !adopt) {
    throw new ConfigError(
      `namespace${foreign.length > 1 ? 's' : ''} ${foreign.join(', ')} already exist${foreign.length > 1 ? '' : 's'} and ${foreign.length > 1 ? 'are' : 'is'} not managed by meshprobe; meshprobe will not change or delete ${foreign.length > 1 ? 'them' : 'it'}`,
      'run in other namespaces with --namespace-prefix, or pass --adopt to let meshprobe take them over (teardown will then delete them)',
    );
  }
}

/** Pods of injected namespaces must have an istio-proxy, the others must not: otherwise every result would be wrong. */
export async function checkInjection(cluster: Cluster, topology: Topology): Promise<void> {
  for (const wl of topology.workloads) {
    const pods = (
      await cluster.list('v1', 'Pod', { namespace: wl.namespace, labelSelector: labelSelector(wl.labels) })
    ).filter(isReady);
    for (const pod of pods) {
      const containers = ((pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map(
        (c) => c.name,
      );
      const initContainers = (
        (pod.spec as { initContainers?: Array<{ name: string }> } | undefined)?.initContainers ?? []
      ).map((c) => c.name);
      const has = containers.includes('istio-proxy') || initContainers.includes('istio-proxy');
      if (has !== wl.sidecar) {
        throw new ClusterError(
          wl.sidecar
            ? `sidecar injection is not working: pod ${wl.namespace}/${pod.metadata.name} has no istio-proxy although namespace ${wl.namespace} is labelled istio-injection=enabled`
            : `pod ${wl.namespace}/${pod.metadata.name} has an istio-proxy although ${wl.namespace}/${wl.name} should run without a sidecar`,
          wl.sidecar
            ? 'check that istiod and its injection webhook are running (kubectl get mutatingwebhookconfigurations), then delete the pod so it is recreated'
            : 'check the namespace label and revision labels (istio.io/rev) of the namespace',
        );
      }
    }
  }
}

export async function teardownTopology(
  cluster: Cluster,
  topology: Topology,
  o: { timeoutMs: number; events: EventSink; journal?: Journal },
): Promise<void> {
  const started = performance.now();
  const names = topology.namespaces.map((n) => n.name);
  o.events({ type: 'teardown-start', namespaces: names });
  const ours: ObjectRef[] = [];
  for (const name of names) {
    const ns = await cluster.get(nsRef(name));
    if (!ns) continue;
    if (!isOurs(ns)) {
      o.events({ type: 'warning', message: `namespace ${name} is not managed by meshprobe: left in place` });
      continue;
    }
    await cluster.delete(nsRef(name));
    ours.push(nsRef(name));
  }
  await waitUntilGone(cluster, ours, o.timeoutMs);
  for (const e of o.journal?.pending() ?? [])
    if (e.ref.kind === 'Namespace' && names.includes(e.ref.name)) await o.journal!.undone(e.seq);
  o.events({ type: 'teardown-done', seconds: (performance.now() - started) / 1000 });
}
