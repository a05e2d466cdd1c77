// Every change meshprobe makes to a cluster is recorded before it is made, so that `meshprobe cleanup`
// can finish the job after a crash or a SIGKILL: in a local file always, and, when the run changes
// anything outside its own namespaces, in a ConfigMap of the meshprobe-system namespace too (a CI
// runner's disk may be gone by the time someone runs cleanup).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import type { KubeObject } from '../model/kube-object.js';
import { MANAGED_BY, MANAGER, RUN_ID } from './ownership.js';

export const JOURNAL_NAMESPACE = 'meshprobe-system';
export const JOURNAL_LABEL = 'meshprobe.dev/journal';

export interface JournalEntry {
  seq: number;
  at: string;
  /** `create`: the object did not exist; `replace`: it did, and `before` is what it was. */
  op: 'create' | 'replace';
  ref: ObjectRef;
  before?: KubeObject;
  undone?: boolean;
}

export interface JournalDoc {
  apiVersion: 'meshprobe/v1';
  kind: 'Journal';
  runId: string;
  context: string;
  server: string;
  startedAt: string;
  entries: JournalEntry[];
}

export function journalDir(env: Record<string, string | undefined>): string {
  return env.MESHPROBE_STATE_DIR ?? join(env.HOME ?? env.USERPROFILE ?? '.', '.meshprobe', 'journal');
}

const configMapRef = (runId: string): ObjectRef => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  namespace: JOURNAL_NAMESPACE,
  name: `journal-${runId}`,
});
const namespaceRef: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: JOURNAL_NAMESPACE };

export class Journal {
  private readonly doc: JournalDoc;
  private readonly file: string;

  private constructor(
    private readonly cluster: Cluster,
    runId: string,
    dir: string,
    /** Mirror the journal into the cluster. */
    private readonly mirror: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, `${runId}.json`);
    this.doc = {
      apiVersion: 'meshprobe/v1',
      kind: 'Journal',
      runId,
      context: cluster.context,
      server: cluster.server,
      startedAt: new Date().toISOString(),
      entries: [],
    };
  }

  static async open(cluster: Cluster, runId: string, dir: string, mirror: boolean): Promise<Journal> {
    const j = new Journal(cluster, runId, dir, mirror);
    j.writeLocal();
    if (mirror) {
      if (!(await cluster.get(namespaceRef))) {
        // Recorded locally only: the ConfigMap has nowhere to live until the namespace exists.
        j.doc.entries.push({ seq: 1, at: new Date().toISOString(), op: 'create', ref: namespaceRef });
        j.writeLocal();
        await cluster.apply({
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name: JOURNAL_NAMESPACE, labels: { [MANAGED_BY]: MANAGER } },
        });
      }
      await j.writeCluster();
    }
    return j;
  }

  get runId(): string {
    return this.doc.runId;
  }

  /** Records a change about to be made; returns its sequence number. */
  async record(op: JournalEntry['op'], ref: ObjectRef, before?: KubeObject): Promise<number> {
    const seq = this.doc.entries.length + 1;
    this.doc.entries.push({ seq, at: new Date().toISOString(), op, ref, ...(before ? { before } : {}) });
    this.writeLocal();
    if (this.mirror) await this.writeCluster();
    return seq;
  }

  async undone(seq: number): Promise<void> {
    const e = this.doc.entries.find((x) => x.seq === seq);
    if (!e || e.undone) return;
    e.undone = true;
    this.writeLocal();
    if (this.mirror) await this.writeCluster();
  }

  pending(): JournalEntry[] {
    return this.doc.entries.filter((e) => !e.undone);
  }

  /** The run finished its own clean-up: forget the journal, and the journal namespace if this run made it. */
  async close(): Promise<void> {
    if (this.mirror) {
      await this.cluster.delete(configMapRef(this.doc.runId));
      const ns = this.doc.entries.find(
        (e) => e.ref.kind === 'Namespace' && e.ref.name === JOURNAL_NAMESPACE && !e.undone,
      );
      if (ns && (await otherJournals(this.cluster, this.doc.runId)) === 0) await this.cluster.delete(namespaceRef);
    }
    rmSync(this.file, { force: true });
  }

  private writeLocal(): void {
    // Write-then-rename, so a kill mid-write leaves the previous complete journal.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.doc, null, 1));
    renameSync(`${this.file}.tmp`, this.file);
  }

  private async writeCluster(): Promise<void> {
    await this.cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        ...configMapRef(this.doc.runId),
        labels: { [MANAGED_BY]: MANAGER, [RUN_ID]: this.doc.runId, [JOURNAL_LABEL]: 'true' },
      },
      data: { 'journal.json': JSON.stringify(this.doc) },
    });
  }
}

async function otherJournals(cluster: Cluster, runId: string): Promise<number> {
  const list = await cluster.list('v1', 'ConfigMap', {
    namespace: JOURNAL_NAMESPACE,
    labelSelector: `${JOURNAL_LABEL}=true`,
  });
  return list.filter((c) => c.metadata.labels?.[RUN_ID] !== runId).length;
}

/** Every journal left for this cluster, local and in-cluster, merged by run. */
export async function readJournals(cluster: Cluster, dir: string): Promise<JournalDoc[]> {
  const byRun = new Map<string, JournalDoc>();
  const add = (doc: JournalDoc) => {
    const known = byRun.get(doc.runId);
    if (!known) return void byRun.set(doc.runId, doc);
    for (const e of doc.entries) {
      const k = known.entries.find((x) => x.seq === e.seq);
      if (!k) known.entries.push(e);
      else if (e.undone) k.undone = true;
    }
    known.entries.sort((a, b) => a.seq - b.seq);
  };
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    // no local journals
  }
  for (const f of files) {
    try {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as JournalDoc;
      if (doc.server === cluster.server) add(doc);
    } catch {
      // a journal cut mid-write never replaced the last good one (write-then-rename); skip debris
    }
  }
  if (await cluster.get(namespaceRef)) {
    for (const cm of await cluster.list('v1', 'ConfigMap', {
      namespace: JOURNAL_NAMESPACE,
      labelSelector: `${JOURNAL_LABEL}=true`,
    })) {
      const text = (cm.data as Record<string, string> | undefined)?.['journal.json'];
      if (text) add(JSON.parse(text) as JournalDoc);
    }
  }
  return [...byRun.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

export async function forgetJournal(cluster: Cluster, dir: string, runId: string): Promise<void> {
  rmSync(join(dir, `${runId}.json`), { force: true });
  if (await cluster.get(namespaceRef)) await cluster.delete(configMapRef(runId));
}
