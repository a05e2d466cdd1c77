// Setting up and tearing down the topology: idempotent, and never touching a namespace that is not ours
// beyond what --adopt allows. What a run finds in place stays in place: a namespace it did not create
// is not deleted, an object it did not create is not removed, labels it changed are put back.
import { ClusterError, ConfigError } from '../errors.js';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { refOf } from '../kube/cluster.js';
import { stillPresent, waitForDeployments } from '../kube/wait.js';
import type { EventSink } from '../model/events.js';
import { describeRef, type KubeObject } from '../model/kube-object.js';
import type { Topology, TopologyNamespace } from '../model/topology.js';
import { isReady, labelSelector } from '../kube/pods.js';
import { ADOPTED_LABELS, isOurs, KEEP, RUN_ID, stamp } from './ownership.js';
import type { Journal } from './journal.js';
import { tlsSecret } from './tls-secret.js';
import { assumedControlPlane, INJECTION_LABEL, type ControlPlane } from './control-plane-select.js';
import { undoAll, type LeftObject } from './undo.js';

const nsRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name });

/**
 * The labels a topology namespace must carry for its sidecar injection: the chosen control plane's label
 * (istio-injection=enabled, or istio.io/rev=REV where there is no default) where it has sidecars, and
 * istio-injection=disabled, which every injector webhook's selector excludes, where it has none.
 */
export function injectionLabels(
  ns: TopologyNamespace,
  inject: { key: string; value: string } = assumedControlPlane().label,
): Record<string, string> {
  return ns.injection ? { [inject.key]: inject.value } : { [INJECTION_LABEL]: 'disabled' };
}

/** What setup will do with one topology namespace, decided before anything is written. */
export interface NamespacePlan {
  name: string;
  /** `create`: absent (or going away): meshprobe makes it. `ours`: meshprobe's, kept from an earlier `setup` or `--keep`. `adopted`: someone else's, used with --adopt. */
  state: 'create' | 'ours' | 'adopted';
  existing?: KubeObject;
  /** Labels of an existing namespace that must change (empty: none). */
  relabel: Record<string, string>;
}

/** The objects setup puts in a namespace: its manifests and its generated TLS Secrets. */
function topologyObjects(ns: TopologyNamespace): ObjectRef[] {
  return [
    ...ns.objects.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, namespace: ns.name, name: o.metadata.name })),
    ...ns.secrets.map((s) => ({ apiVersion: 'v1', kind: 'Secret', namespace: ns.name, name: s.name })),
  ];
}

/**
 * Before any change: a topology namespace that exists and is not ours stops the run, unless --adopt;
 * an adopted (or kept) namespace holding an object of the topology's names that is not meshprobe's
 * stops it too, since setup would overwrite it.
 */
export async function planNamespaces(
  cluster: Cluster,
  topology: Topology,
  adopt: boolean,
  controlPlane?: ControlPlane,
): Promise<NamespacePlan[]> {
  const plans: NamespacePlan[] = [];
  const foreign: string[] = [];
  for (const ns of topology.namespaces) {
    const existing = await cluster.get(nsRef(ns.name));
    if (!existing || (existing.metadata.deletionTimestamp && isOurs(existing))) {
      plans.push({ name: ns.name, state: 'create', existing, relabel: {} });
      continue;
    }
    if (!isOurs(existing)) {
      foreign.push(ns.name);
      if (existing.metadata.deletionTimestamp)
        throw new ClusterError(
          `namespace ${ns.name} is being deleted and is not meshprobe's; meshprobe cannot use it`,
          `wait until it is gone (kubectl get namespace ${ns.name}), or run in other namespaces with --namespace-prefix`,
        );
    }
    const want = injectionLabels(ns, controlPlane?.label);
    const have = existing.metadata.labels ?? {};
    // No label means no injection, as `disabled` does: an adopted namespace need not be written for it.
    const relabel = Object.fromEntries(
      Object.entries(want).filter(([k, v]) => (have[k] ?? (v === 'disabled' ? 'disabled' : undefined)) !== v),
    );
    plans.push({ name: ns.name, state: isOurs(existing) ? 'ours' : 'adopted', existing, relabel });
  }
  if (foreign.length && !adopt) {
    const many = foreign.length > 1;
    throw new ConfigError(
      `namespace${many ? 's' : ''} ${foreign.join(', ')} already exist${many ? '' : 's'} and ${many ? 'are' : 'is'} not managed by meshprobe; meshprobe will not change or delete ${many ? 'them' : 'it'}`,
      'run in other namespaces with --namespace-prefix, or pass --adopt to let meshprobe use them: it then deletes only what it creates there and puts their labels back',
    );
  }
  const clashes: string[] = [];
  for (const p of plans.filter((x) => x.state !== 'create')) {
    const ns = topology.namespaces.find((n) => n.name === p.name)!;
    for (const ref of topologyObjects(ns)) {
      const obj = await cluster.get(ref);
      if (obj && !isOurs(obj)) clashes.push(describeRef(ref));
    }
  }
  if (clashes.length)
    throw new ConfigError(
      `the topology would overwrite objects meshprobe did not create: ${clashes.join(', ')}`,
      'rename or remove them, or run in other namespaces with --namespace-prefix',
    );
  return plans;
}

export interface SetupOptions {
  runId: string;
  /** Take over topology namespaces that exist but were not created by meshprobe. */
  adopt: boolean;
  /**
   * The topology is meant to stay (`setup`, `run --keep`): the namespaces it creates are marked so that a
   * later cleanup's sweep leaves them. (A journal still undoes them if the command dies half-way.)
   */
  keep: boolean;
  readyTimeoutMs: number;
  events: EventSink;
  journal?: Journal;
  /** Decided earlier (the RBAC preflight needs it); made here when absent. */
  plan?: NamespacePlan[];
  /** SIGINT/SIGTERM: stop between writes and while waiting; the caller removes what was made. */
  signal?: AbortSignal;
  /** The Istio control plane whose label the namespaces with sidecars get; default: istio-injection=enabled. */
  controlPlane?: ControlPlane;
}

/**
 * Creates what is missing of the topology and waits for it. Resolves to whether it wrote anything: a
 * namespace, a label, an object created or changed (what the proxies then get pushed).
 */
export async function setupTopology(cluster: Cluster, topology: Topology, o: SetupOptions): Promise<boolean> {
  const started = performance.now();
  let wrote = false;
  o.signal?.throwIfAborted();
  const plans = o.plan ?? (await planNamespaces(cluster, topology, o.adopt, o.controlPlane));
  const inject = (o.controlPlane ?? assumedControlPlane()).label;
  o.events({ type: 'setup-start', namespaces: topology.namespaces.map((n) => n.name) });
  const purpose = { purpose: 'topology' as const };

  for (const ns of topology.namespaces) {
    o.signal?.throwIfAborted();
    const plan = plans.find((p) => p.name === ns.name)!;
    if (plan.state === 'create') {
      if (plan.existing) {
        const left = await stillPresent(cluster, [nsRef(ns.name)], o.readyTimeoutMs, 250, o.signal);
        if (left.length)
          throw new ClusterError(
            `namespace ${ns.name} from an earlier run is still being deleted after ${Math.round(o.readyTimeoutMs / 1000)} s: ${left[0]!.description}`,
            `wait until it is gone (kubectl get namespace ${ns.name}), or look for finalizers that hold it`,
          );
      }
      await o.journal?.record('create', nsRef(ns.name), undefined, purpose);
      wrote = true;
      await cluster.apply(
        stamp(
          {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: {
              name: ns.name,
              labels: injectionLabels(ns, inject),
              ...(o.keep ? { annotations: { [KEEP]: 'true' } } : {}),
            },
          },
          o.runId,
        ),
      );
    } else if (Object.keys(plan.relabel).length) {
      await o.journal?.record('replace', nsRef(ns.name), plan.existing, purpose);
      wrote = true;
      await cluster.apply(relabelled(plan));
    }
  }
  for (const ns of topology.namespaces) {
    const plan = plans.find((p) => p.name === ns.name)!;
    const fresh = plan.state === 'create';
    // Objects of a namespace meshprobe creates go with it; in one it found, each is recorded to be removed alone.
    const put = async (ref: ObjectRef, obj: () => KubeObject, onlyIfAbsent = false) => {
      o.signal?.throwIfAborted();
      const existing = fresh ? undefined : await cluster.get(ref);
      if (existing && onlyIfAbsent) return;
      if (!fresh && !existing) await o.journal?.record('create', ref, undefined, purpose);
      // An object that is there keeps the run id it was made with, so that re-applying it changes nothing.
      const applied = await cluster.apply(stamp(obj(), existing?.metadata.labels?.[RUN_ID] ?? o.runId, ns.name));
      if (applied.metadata.resourceVersion !== existing?.metadata.resourceVersion) wrote = true;
    };
    for (const s of ns.secrets)
      // Keep an existing certificate: a new one on every run would restart nothing but churn the Secret.
      await put({ apiVersion: 'v1', kind: 'Secret', namespace: ns.name, name: s.name }, () => tlsSecret(s), true);
    for (const obj of ns.objects)
      await put({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: ns.name, name: obj.metadata.name }, () => obj);
  }
  const deployments = topology.namespaces.flatMap((ns) =>
    ns.objects.filter((x) => x.kind === 'Deployment').map((d) => ({ namespace: ns.name, name: d.metadata.name })),
  );
  await waitForDeployments(cluster, deployments, o.readyTimeoutMs, { signal: o.signal });
  await checkInjection(cluster, topology, inject);
  o.events({ type: 'preflight', check: 'sidecar injection', ok: true });
  o.events({ type: 'setup-done', seconds: (performance.now() - started) / 1000 });
  return wrote;
}

/**
 * An existing namespace with the labels setup needs. Its own labels and annotations are sent along:
 * server-side apply would keep them anyway, and a plain update must not lose them.
 */
function relabelled(plan: NamespacePlan): KubeObject {
  const have = plan.existing!.metadata;
  const annotations = { ...have.annotations };
  // The labels as they were, for a `teardown` after `--keep` (the journal has them for everything else).
  if (plan.state === 'adopted' && !annotations[ADOPTED_LABELS])
    annotations[ADOPTED_LABELS] = JSON.stringify(
      Object.fromEntries(Object.keys(plan.relabel).map((k) => [k, have.labels?.[k] ?? null])),
    );
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: plan.name,
      labels: { ...have.labels, ...plan.relabel },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
  };
}

/** Pods of injected namespaces must have an istio-proxy, the others must not: otherwise every result would be wrong. */
export async function checkInjection(
  cluster: Cluster,
  topology: Topology,
  label: { key: string; value: string } = assumedControlPlane().label,
): Promise<void> {
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
            ? `sidecar injection is not working: pod ${wl.namespace}/${pod.metadata.name} has no istio-proxy although namespace ${wl.namespace} is labelled ${label.key}=${label.value}`
            : `pod ${wl.namespace}/${pod.metadata.name} has an istio-proxy although ${wl.namespace}/${wl.name} should run without a sidecar`,
          wl.sidecar
            ? label.key === INJECTION_LABEL
              ? 'check that istiod and its injection webhook are running (kubectl get mutatingwebhookconfigurations), then delete the pod so it is recreated'
              : `check that the revision's istiod and its injection webhook are running (kubectl get mutatingwebhookconfigurations), and that namespace ${wl.namespace} has no istio-injection label (it wins over istio.io/rev); then delete the pod so it is recreated`
            : 'check the namespace label and revision labels (istio.io/rev) of the namespace',
        );
      }
    }
  }
}

/**
 * A run's own teardown: undoes, newest first, what its journal says it did to the topology (namespaces
 * it created, objects it created in namespaces it found, labels it changed), and nothing else.
 */
export async function undoSetup(
  cluster: Cluster,
  topology: Topology,
  o: { journal: Journal; timeoutMs: number; events: EventSink; retryDelaysMs?: number[] },
): Promise<LeftObject[]> {
  const started = performance.now();
  const steps = o.journal
    .pending()
    .filter((e) => e.purpose === 'topology')
    .reverse()
    .map((e) => ({ op: e.op, ref: e.ref, before: e.before, seq: e.seq }));
  // A topology that was there before the run stays, and there is no teardown to report.
  if (!steps.length) return [];
  o.events({ type: 'teardown-start', namespaces: topology.namespaces.map((n) => n.name) });
  const left = await undoAll(cluster, steps, {
    journal: o.journal,
    timeoutMs: o.timeoutMs,
    events: o.events,
    retryDelaysMs: o.retryDelaysMs,
  });
  o.events({ type: 'teardown-done', seconds: (performance.now() - started) / 1000 });
  return left;
}

/**
 * `meshprobe teardown`: deletes the topology namespaces that are meshprobe's; in one that is not (adopted),
 * deletes the topology's objects that are meshprobe's and puts back the labels it changed. Returns what is left.
 */
export async function teardownTopology(
  cluster: Cluster,
  topology: Topology,
  o: { timeoutMs: number; events: EventSink; retryDelaysMs?: number[] },
): Promise<LeftObject[]> {
  const started = performance.now();
  o.events({ type: 'teardown-start', namespaces: topology.namespaces.map((n) => n.name) });
  const steps = [];
  const adopted: KubeObject[] = [];
  for (const ns of topology.namespaces) {
    const obj = await cluster.get(nsRef(ns.name));
    if (!obj) continue;
    if (isOurs(obj)) {
      steps.push({ op: 'create' as const, ref: nsRef(ns.name) });
      continue;
    }
    o.events({
      type: 'warning',
      message: `namespace ${ns.name} is not managed by meshprobe: only meshprobe's objects are removed from it`,
    });
    for (const ref of topologyObjects(ns)) steps.push({ op: 'create' as const, ref });
    if (obj.metadata.annotations?.[ADOPTED_LABELS]) adopted.push(obj);
  }
  const left = await undoAll(cluster, steps, {
    timeoutMs: o.timeoutMs,
    events: o.events,
    retryDelaysMs: o.retryDelaysMs,
  });
  for (const ns of adopted) {
    try {
      await unadopt(cluster, ns);
    } catch (e) {
      left.push({
        ref: refOf(ns),
        description: `${describeRef(refOf(ns))} (labels not put back: ${(e as Error).message})`,
      });
    }
  }
  o.events({ type: 'teardown-done', seconds: (performance.now() - started) / 1000 });
  return left;
}

/** Puts back the labels an adopted namespace had before meshprobe changed them, from its annotation. */
export async function unadopt(cluster: Cluster, ns: KubeObject): Promise<void> {
  const now = (await cluster.get(refOf(ns))) ?? ns;
  const was = JSON.parse(now.metadata.annotations?.[ADOPTED_LABELS] ?? '{}') as Record<string, string | null>;
  const labels = { ...now.metadata.labels };
  for (const [k, v] of Object.entries(was)) {
    if (v === null) delete labels[k];
    else labels[k] = v;
  }
  const annotations = { ...now.metadata.annotations };
  delete annotations[ADOPTED_LABELS];
  const { managedFields: _m, annotations: _a, ...metadata } = now.metadata as Record<string, unknown>;
  // A namespace that had no annotations gets none back, not an empty map.
  await cluster.replace({
    ...now,
    metadata: {
      ...(metadata as KubeObject['metadata']),
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
  });
}
