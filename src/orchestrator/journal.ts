// Every change meshprobe makes to a cluster is recorded before it is made, so that `meshprobe cleanup`
// can finish the job after a crash or a SIGKILL: in a local file always, and, when the run changes
// anything outside its own namespaces, in a ConfigMap of the meshprobe-system namespace too (a CI
// runner's disk may be gone by the time someone runs cleanup).
//
// A journal also says whether its run is still alive: the run renews a heartbeat in it every few
// seconds and marks it ended when it exits, so that `meshprobe cleanup` never undoes a live run
// (the renew-or-expire idea of a coordination.k8s.io Lease, kept in the journal so that no other
// permission is needed). The holder (host, boot, pid namespace, pid) lets a cleanup on the same
// machine tell at once that a SIGKILLed run is dead.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ClusterError } from '../errors.js';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { stillPresent } from '../kube/wait.js';
import type { KubeObject } from '../model/kube-object.js';
import { MANAGED_BY, MANAGER, RUN_ID } from './ownership.js';

export const JOURNAL_NAMESPACE = 'meshprobe-system';
export const JOURNAL_LABEL = 'meshprobe.dev/journal';
/** How often a live run renews its heartbeat. */
export const HEARTBEAT_MS = 5_000;
/** A heartbeat older than this belongs to a dead run (six missed renewals). */
export const HEARTBEAT_EXPIRES_MS = 30_000;

export interface JournalEntry {
  seq: number;
  at: string;
  /** `create`: the object did not exist; `replace`: it did, and `before` is what it was. */
  op: 'create' | 'replace';
  ref: ObjectRef;
  before?: KubeObject;
  /** What the change is part of: the topology's set-up, a scenario's objects, or the journal's own namespace. */
  purpose?: 'topology' | 'scenario' | 'journal';
  undone?: boolean;
}

/** The process that keeps a journal: a cleanup on the same host, boot and pid namespace can ask the kernel. */
export interface Holder {
  host: string;
  /** /proc/sys/kernel/random/boot_id, where there is one. */
  boot?: string;
  /** The pid namespace (readlink /proc/self/ns/pid), where there is one: containers on one host differ. */
  pidns?: string;
  pid: number;
}

export interface JournalDoc {
  apiVersion: 'meshprobe/v1';
  kind: 'Journal';
  runId: string;
  /** `run`, `probe`, `setup`. */
  command?: string;
  context: string;
  server: string;
  /** The topology's namespaces: `meshprobe cleanup --namespace-prefix P` undoes only the runs of its own. */
  namespaces?: string[];
  startedAt: string;
  holder?: Holder;
  /** Renewed every HEARTBEAT_MS while the run lives. */
  heartbeat?: string;
  /** Set when the run exits, whatever it left: from then on the journal belongs to cleanup. */
  endedAt?: string;
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

export interface JournalOptions {
  runId: string;
  dir: string;
  /** Mirror the journal into the cluster. */
  mirror: boolean;
  command: string;
  namespaces: string[];
  /** How long to wait for a journal namespace still being deleted by an earlier run. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class Journal {
  private readonly doc: JournalDoc;
  private readonly file: string;
  private readonly mirror: boolean;
  /** Cluster writes one after the other, each with the journal as it is when it is sent. */
  private writes: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;

  private constructor(
    private readonly cluster: Cluster,
    o: JournalOptions,
  ) {
    this.mirror = o.mirror;
    this.timeoutMs = o.timeoutMs ?? 60_000;
    mkdirSync(o.dir, { recursive: true });
    this.file = join(o.dir, `${o.runId}.json`);
    const now = new Date().toISOString();
    this.doc = {
      apiVersion: 'meshprobe/v1',
      kind: 'Journal',
      runId: o.runId,
      command: o.command,
      context: cluster.context,
      server: cluster.server,
      namespaces: [...o.namespaces],
      startedAt: now,
      holder: thisHolder(),
      heartbeat: now,
      entries: [],
    };
  }

  static async open(cluster: Cluster, o: JournalOptions): Promise<Journal> {
    const j = new Journal(cluster, o);
    j.writeLocal();
    j.timer = setInterval(() => j.beat(), HEARTBEAT_MS);
    j.timer.unref();
    try {
      if (o.mirror) {
        let ns = await cluster.get(namespaceRef);
        if (ns?.metadata.deletionTimestamp) {
          // An earlier run removed it a moment ago: a write into it now would be refused as "being terminated".
          const timeoutMs = o.timeoutMs ?? 60_000;
          const left = await stillPresent(cluster, [namespaceRef], timeoutMs, 250, o.signal);
          if (left.length) throw journalNamespaceStuck(left[0]!.description, timeoutMs);
          ns = undefined;
        }
        if (!ns) {
          // Recorded locally only: the ConfigMap has nowhere to live until the namespace exists.
          j.doc.entries.push({
            seq: 1,
            at: new Date().toISOString(),
            op: 'create',
            ref: namespaceRef,
            purpose: 'journal',
          });
          j.writeLocal();
          await cluster.apply({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: JOURNAL_NAMESPACE, labels: { [MANAGED_BY]: MANAGER } },
          });
        }
        await j.writeCluster();
      }
    } catch (e) {
      // Nothing was changed yet unless the journal's namespace was being created: then cleanup needs it.
      if (j.doc.entries.length) await j.end();
      else {
        j.stop();
        rmSync(j.file, { force: true });
      }
      throw e;
    }
    return j;
  }

  get runId(): string {
    return this.doc.runId;
  }

  /** Records a change about to be made; returns its sequence number. */
  async record(
    op: JournalEntry['op'],
    ref: ObjectRef,
    before?: KubeObject,
    extra: Pick<JournalEntry, 'purpose'> = {},
  ): Promise<number> {
    const seq = this.doc.entries.length + 1;
    this.doc.entries.push({ seq, at: new Date().toISOString(), op, ref, ...(before ? { before } : {}), ...extra });
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

  /** What is still to undo, without the journal's own namespace (and the topology, when it is meant to stay). */
  left(keepTopology = false): JournalEntry[] {
    return this.pending().filter((e) => e.purpose !== 'journal' && !(keepTopology && e.purpose === 'topology'));
  }

  /**
   * The run finished its own clean-up: forget the journal, and the journal namespace if this run made it
   * and no other journal lives there.
   */
  async close(): Promise<void> {
    this.stop();
    if (this.mirror) {
      await this.writes.catch(() => {});
      await this.cluster.delete(configMapRef(this.doc.runId));
      const ns = this.doc.entries.find((e) => e.purpose === 'journal' && !e.undone);
      if (ns && (await otherJournals(this.cluster, this.doc.runId)) === 0) {
        await this.cluster.delete(namespaceRef);
        // Gone before the run ends, so that the cluster is as it was found; a namespace that takes longer is
        // waited for by the next run's open (a write into it would be refused as "being terminated").
        await stillPresent(this.cluster, [namespaceRef], this.timeoutMs);
      }
    }
    rmSync(this.file, { force: true });
  }

  /**
   * The run exits leaving something for `meshprobe cleanup`: the journal stays, marked ended, so that a
   * cleanup need not wait for the heartbeat to expire.
   */
  async end(): Promise<void> {
    this.stop();
    this.doc.endedAt = new Date().toISOString();
    this.writeLocal();
    if (this.mirror) await this.writeCluster().catch(() => {});
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private beat(): void {
    this.doc.heartbeat = new Date().toISOString();
    try {
      this.writeLocal();
    } catch {
      // a full disk must not stop the run; the next beat tries again
    }
    // An API outage must not stop the run either: the local heartbeat goes on, and cleanup reads both.
    if (this.mirror) this.writeCluster().catch(() => {});
  }

  private writeLocal(): void {
    // Write-then-rename, so a kill mid-write leaves the previous complete journal.
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.doc, null, 1));
    renameSync(`${this.file}.tmp`, this.file);
  }

  private writeCluster(): Promise<void> {
    const next = this.writes
      .catch(() => {})
      .then(async () => {
        await this.cluster.apply({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            ...configMapRef(this.doc.runId),
            labels: { [MANAGED_BY]: MANAGER, [RUN_ID]: this.doc.runId, [JOURNAL_LABEL]: 'true' },
          },
          data: { 'journal.json': JSON.stringify(this.doc) },
        });
      });
    this.writes = next;
    return next;
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
    // The freshest word on liveness wins, from either copy.
    if ((doc.heartbeat ?? '') > (known.heartbeat ?? '')) known.heartbeat = doc.heartbeat;
    known.endedAt ??= doc.endedAt;
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

/** Rewrites a journal after cleanup undid part of it, so that the next cleanup starts where this one stopped. */
export async function saveJournal(cluster: Cluster, dir: string, doc: JournalDoc): Promise<void> {
  const file = join(dir, `${doc.runId}.json`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(doc, null, 1));
  renameSync(`${file}.tmp`, file);
  if (await cluster.get(configMapRef(doc.runId)))
    await cluster.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        ...configMapRef(doc.runId),
        labels: { [MANAGED_BY]: MANAGER, [RUN_ID]: doc.runId, [JOURNAL_LABEL]: 'true' },
      },
      data: { 'journal.json': JSON.stringify(doc) },
    });
}

export async function forgetJournal(cluster: Cluster, dir: string, runId: string): Promise<void> {
  rmSync(join(dir, `${runId}.json`), { force: true });
  if (await cluster.get(namespaceRef)) await cluster.delete(configMapRef(runId));
}

/** Whether the run that keeps `doc` is still alive, and why meshprobe thinks so. */
export function liveness(
  doc: JournalDoc,
  now = Date.now(),
  me: Holder = thisHolder(),
): { alive: boolean; why: string } {
  if (doc.endedAt) return { alive: false, why: `it ended at ${doc.endedAt}` };
  // Journals of meshprobe versions before the heartbeat: nothing says they live.
  if (!doc.heartbeat) return { alive: false, why: 'its journal has no heartbeat' };
  const age = now - Date.parse(doc.heartbeat);
  const seconds = `${Math.max(0, Math.round(age / 1000))} s`;
  if (age > HEARTBEAT_EXPIRES_MS) return { alive: false, why: `its heartbeat is ${seconds} old` };
  const h = doc.holder;
  if (h && sameMachine(h, me)) {
    return processExists(h.pid)
      ? { alive: true, why: `process ${h.pid} on this machine is running, heartbeat ${seconds} ago` }
      : { alive: false, why: `process ${h.pid} on this machine is gone` };
  }
  return {
    alive: true,
    why: `its heartbeat is ${seconds} old${h ? ` (process ${h.pid} on ${h.host})` : ''}, younger than ${HEARTBEAT_EXPIRES_MS / 1000} s`,
  };
}

function sameMachine(a: Holder, b: Holder): boolean {
  return a.host === b.host && a.boot === b.boot && a.pidns === b.pidns;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function thisHolder(): Holder {
  const read = (f: () => string) => {
    try {
      return f().trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const boot = existsSync('/proc/sys/kernel/random/boot_id')
    ? read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))
    : undefined;
  const pidns = read(() => readlinkSync('/proc/self/ns/pid'));
  return { host: hostname(), ...(boot ? { boot } : {}), ...(pidns ? { pidns } : {}), pid: process.pid };
}

function journalNamespaceStuck(description: string, timeoutMs: number): ClusterError {
  return new ClusterError(
    `the journal's namespace is still being deleted after ${Math.round(timeoutMs / 1000)} s, so nothing can be written into it: ${description}`,
    `wait until \`kubectl get namespace ${JOURNAL_NAMESPACE}\` says NotFound; if it stays Terminating, look for finalizers that hold it (kubectl get namespace ${JOURNAL_NAMESPACE} -o yaml)`,
  );
}
