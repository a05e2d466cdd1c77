// `meshprobe cleanup`: finishes what an interrupted or killed run left. Journals first (restore what
// was replaced, delete what was created), then a sweep for anything still labelled as meshprobe's in
// the topology's namespaces or from those runs, then the journals themselves.
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { refOf } from '../kube/cluster.js';
import { waitUntilGone } from '../kube/wait.js';
import { objectId } from '../model/kube-object.js';
import type { Topology } from '../model/topology.js';
import { JOURNAL_LABEL, JOURNAL_NAMESPACE, forgetJournal, readJournals } from './journal.js';
import { isOurs, RUN_ID } from './ownership.js';
import { restore } from './restore.js';
import { listPolicies } from './scenario-objects.js';

export interface CleanupOptions {
  topology: Topology;
  /** Leave the topology's namespaces (a run with --keep). */
  keepTopology: boolean;
  journalDir: string;
  timeoutMs: number;
}

export interface CleanupResult {
  journals: number;
  restored: string[];
  deleted: string[];
}

export async function cleanup(cluster: Cluster, o: CleanupOptions): Promise<CleanupResult> {
  const result: CleanupResult = { journals: 0, restored: [], deleted: [] };
  const gone: ObjectRef[] = [];
  const topologyNs = new Set(o.topology.namespaces.map((n) => n.name));
  const del = async (ref: ObjectRef, what: string) => {
    if (await cluster.delete(ref)) {
      result.deleted.push(what);
      gone.push(ref);
    }
  };

  const journals = await readJournals(cluster, o.journalDir);
  result.journals = journals.length;
  const runIds = new Set(journals.map((j) => j.runId));
  for (const j of journals) {
    for (const e of [...j.entries].reverse()) {
      if (e.undone) continue;
      if (
        e.ref.kind === 'Namespace' &&
        (e.ref.name === JOURNAL_NAMESPACE || (o.keepTopology && topologyNs.has(e.ref.name)))
      )
        continue;
      if (e.op === 'replace' && e.before) {
        await restore(cluster, e.before);
        result.restored.push(objectId(e.before));
      } else if (e.op === 'create') {
        const obj = await cluster.get(e.ref);
        if (obj && isOurs(obj)) await del(e.ref, objectId(obj));
      }
    }
  }

  // What no journal names: scenario objects of these runs, and anything of ours in the topology's namespaces.
  const apis = await cluster.istioApis();
  for (const obj of await listPolicies(cluster, apis.groupVersions)) {
    if (!isOurs(obj)) continue;
    const run = obj.metadata.labels?.[RUN_ID];
    if ((run && runIds.has(run)) || (obj.metadata.namespace && topologyNs.has(obj.metadata.namespace)))
      await del(refOf(obj), objectId(obj));
  }
  if (!o.keepTopology) {
    for (const name of topologyNs) {
      const ns = await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name });
      if (ns && isOurs(ns) && !ns.metadata.deletionTimestamp)
        await del({ apiVersion: 'v1', kind: 'Namespace', name }, `Namespace ${name}`);
    }
  }
  await waitUntilGone(cluster, gone, o.timeoutMs);

  for (const j of journals) await forgetJournal(cluster, o.journalDir, j.runId);
  const journalNs = await cluster.get({ apiVersion: 'v1', kind: 'Namespace', name: JOURNAL_NAMESPACE });
  if (journalNs && isOurs(journalNs)) {
    const left = await cluster.list('v1', 'ConfigMap', {
      namespace: JOURNAL_NAMESPACE,
      labelSelector: `${JOURNAL_LABEL}=true`,
    });
    if (left.length === 0)
      await del({ apiVersion: 'v1', kind: 'Namespace', name: JOURNAL_NAMESPACE }, `Namespace ${JOURNAL_NAMESPACE}`);
    await waitUntilGone(cluster, gone, o.timeoutMs);
  }
  return result;
}
