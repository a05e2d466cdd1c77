// `meshprobe cleanup`: finishes what an interrupted or killed run left, for one topology (one
// --namespace-prefix) and never while that run is alive. Journals first (restore what was replaced,
// delete what was created, every step tried even when another fails), then a sweep for anything still
// labelled as meshprobe's in the topology's namespaces or from those runs, then the journals themselves.
import { ClusterError } from '../errors.js';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { refOf } from '../kube/cluster.js';
import { describeRef, objectId, type KubeObject } from '../model/kube-object.js';
import type { Topology } from '../model/topology.js';
import {
  forgetJournal,
  JOURNAL_LABEL,
  JOURNAL_NAMESPACE,
  liveness,
  readJournals,
  saveJournal,
  type JournalDoc,
} from './journal.js';
import { ADOPTED_LABELS, isOurs, KEEP, RUN_ID } from './ownership.js';
import { listPolicies } from './scenario-objects.js';
import { unadopt } from './topology-lifecycle.js';
import { undoAll, type LeftObject, type UndoStep } from './undo.js';

export interface CleanupOptions {
  topology: Topology;
  /** Leave the topology's namespaces (a run with --keep). */
  keepTopology: boolean;
  journalDir: string;
  timeoutMs: number;
  /** Undo runs whose journal says they are alive: for a run whose machine is gone. */
  force: boolean;
  retryDelaysMs?: number[];
}

export interface CleanupResult {
  journals: number;
  restored: string[];
  deleted: string[];
  /** What could not be removed or put back, after trying again. */
  left: string[];
}

const nsRef = (name: string): ObjectRef => ({ apiVersion: 'v1', kind: 'Namespace', name });

export async function cleanup(cluster: Cluster, o: CleanupOptions): Promise<CleanupResult> {
  const result: CleanupResult = { journals: 0, restored: [], deleted: [], left: [] };
  const topologyNs = new Set(o.topology.namespaces.map((n) => n.name));
  const seen = new Set<string>();
  const onDone = (s: UndoStep, what: 'restored' | 'deleted') => {
    const id = s.before ? objectId(s.before) : describeRef(s.ref);
    if (seen.has(`${what} ${id}`)) return;
    seen.add(`${what} ${id}`);
    (what === 'restored' ? result.restored : result.deleted).push(id);
  };
  // Tried and failed already, with retries: the sweep does not try again (nor report it twice).
  const failed = new Set<string>();
  const undo = async (steps: UndoStep[], journal?: { undone(seq: number): Promise<void> }) => {
    const left: LeftObject[] = await undoAll(cluster, steps, {
      journal,
      timeoutMs: o.timeoutMs,
      retryDelaysMs: o.retryDelaysMs,
      onDone,
    });
    result.left.push(...left.map((l) => l.description));
    for (const l of left) failed.add(describeRef(l.ref));
  };

  // Journals of older meshprobe versions name no namespaces: they are this topology's as far as anyone knows.
  const journals = (await readJournals(cluster, o.journalDir)).filter(
    (j) => !j.namespaces || (j.namespaces.length === topologyNs.size && j.namespaces.every((n) => topologyNs.has(n))),
  );
  if (!o.force) refuseLiveRuns(journals);
  result.journals = journals.length;
  const runIds = new Set(journals.map((j) => j.runId));

  for (const j of journals) {
    const steps = [...j.entries]
      .reverse()
      .filter(
        (e) =>
          !e.undone &&
          !(e.ref.kind === 'Namespace' && e.ref.name === JOURNAL_NAMESPACE) &&
          !(o.keepTopology && (e.purpose === 'topology' || (e.ref.kind === 'Namespace' && topologyNs.has(e.ref.name)))),
      )
      .map((e) => ({ op: e.op, ref: e.ref, before: e.before, seq: e.seq }));
    await undo(steps, {
      undone: async (seq) => {
        const e = j.entries.find((x) => x.seq === seq);
        if (e) e.undone = true;
      },
    });
    if (
      j.entries.some(
        (e) =>
          !e.undone &&
          e.purpose !== 'journal' &&
          e.ref.name !== JOURNAL_NAMESPACE &&
          !(o.keepTopology && e.purpose === 'topology'),
      )
    )
      await saveJournal(cluster, o.journalDir, { ...j, endedAt: j.endedAt ?? new Date().toISOString() });
    else await forgetJournal(cluster, o.journalDir, j.runId);
  }

  // What no journal names: scenario objects of these runs, and anything of ours in the topology's namespaces.
  const apis = await cluster.istioApis();
  const sweep: UndoStep[] = [];
  for (const obj of await listPolicies(cluster, apis.groupVersions)) {
    if (!isOurs(obj)) continue;
    const run = obj.metadata.labels?.[RUN_ID];
    if ((run && runIds.has(run)) || (obj.metadata.namespace && topologyNs.has(obj.metadata.namespace)))
      sweep.push({ op: 'create', ref: refOf(obj) });
  }
  const adopted: KubeObject[] = [];
  if (!o.keepTopology) {
    for (const ns of o.topology.namespaces) {
      const obj = await cluster.get(nsRef(ns.name));
      if (!obj || obj.metadata.deletionTimestamp) continue;
      if (isOurs(obj)) {
        // A topology made to stay (`setup`, `run --keep`) is teardown's to remove, not cleanup's.
        if (obj.metadata.annotations?.[KEEP] !== 'true') sweep.push({ op: 'create', ref: nsRef(ns.name) });
        continue;
      }
      // Someone else's namespace, adopted: only meshprobe's objects go, and the labels it changed come back.
      for (const x of ns.objects)
        sweep.push({
          op: 'create',
          ref: { apiVersion: x.apiVersion, kind: x.kind, namespace: ns.name, name: x.metadata.name },
        });
      for (const s of ns.secrets)
        sweep.push({ op: 'create', ref: { apiVersion: 'v1', kind: 'Secret', namespace: ns.name, name: s.name } });
      if (obj.metadata.annotations?.[ADOPTED_LABELS]) adopted.push(obj);
    }
  }
  await undo(sweep.filter((s) => !failed.has(describeRef(s.ref))));
  for (const ns of adopted) {
    try {
      await unadopt(cluster, ns);
      result.restored.push(`labels of Namespace ${ns.metadata.name}`);
    } catch (e) {
      result.left.push(`Namespace ${ns.metadata.name} (labels not put back: ${(e as Error).message})`);
    }
  }

  const journalNs = await cluster.get(nsRef(JOURNAL_NAMESPACE));
  if (journalNs && isOurs(journalNs) && !journalNs.metadata.deletionTimestamp) {
    const others = await cluster.list('v1', 'ConfigMap', {
      namespace: JOURNAL_NAMESPACE,
      labelSelector: `${JOURNAL_LABEL}=true`,
    });
    if (others.length === 0) await undo([{ op: 'create', ref: nsRef(JOURNAL_NAMESPACE) }]);
  }
  return result;
}

/** A run whose journal says it lives is left alone, and so is its topology: undoing it would break it. */
function refuseLiveRuns(journals: JournalDoc[]): void {
  const live = journals.map((j) => ({ j, l: liveness(j) })).filter((x) => x.l.alive);
  if (!live.length) return;
  const lines = live.map(
    ({ j, l }) => `run ${j.runId} (${j.command ?? 'run'}, started ${j.startedAt}) is still alive: ${l.why}`,
  );
  throw new ClusterError(
    `${lines.join('\n  ')}\n  meshprobe cleanup leaves it and its topology alone: undoing it now would break that run`,
    'wait until it ends (it removes what it made, or says what it left); if it is dead (its machine is gone), run the same cleanup with --force',
  );
}
