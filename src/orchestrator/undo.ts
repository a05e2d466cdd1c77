// Undoing what meshprobe changed, for a scenario, a topology or a journal left by a dead run: every step
// is tried even when one before it fails (a failed delete must not leave a mesh-wide policy STRICT),
// the failed ones are tried again a few times, and what still stands is returned, not thrown, so the
// caller can report it with the command that removes it.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, ObjectRef } from '../kube/cluster.js';
import { stillPresent } from '../kube/wait.js';
import type { EventSink } from '../model/events.js';
import { describeRef, type KubeObject } from '../model/kube-object.js';
import { isOurs } from './ownership.js';
import { restore } from './restore.js';

export interface UndoStep {
  /** `create`: delete it (if it is still meshprobe's); `replace`: put `before` back. */
  op: 'create' | 'replace';
  ref: ObjectRef;
  before?: KubeObject;
  /** Its journal entry, marked undone once the step is done (a delete: once the object is gone). */
  seq?: number;
}

export interface LeftObject {
  ref: ObjectRef;
  /** `Kind ns/name`, with what holds it or why the step failed. */
  description: string;
}

export interface UndoOptions {
  journal?: { undone(seq: number): Promise<void> };
  /** How long deleted objects may take to go (namespaces pass through Terminating). */
  timeoutMs: number;
  /** Pauses before each new pass over the steps that failed. */
  retryDelaysMs?: number[];
  events?: EventSink;
  /** Told of each step that changed something: an object put back, or deleted and gone. */
  onDone?(step: UndoStep, what: 'restored' | 'deleted'): void;
}

export const UNDO_RETRY_DELAYS_MS = [1_000, 2_000, 4_000];

/** Undoes `steps` in the order given (newest change first); returns what is left. */
export async function undoAll(cluster: Cluster, steps: UndoStep[], o: UndoOptions): Promise<LeftObject[]> {
  const delays = o.retryDelaysMs ?? UNDO_RETRY_DELAYS_MS;
  const deleted: UndoStep[] = [];
  const errors = new Map<UndoStep, string>();
  const done = async (s: UndoStep) => {
    if (s.seq !== undefined) await o.journal?.undone(s.seq);
  };
  let todo = steps;
  for (let pass = 0; todo.length; pass++) {
    const failed: UndoStep[] = [];
    for (const s of todo) {
      try {
        if (s.op === 'replace' && s.before) {
          await restore(cluster, s.before);
          await done(s);
          o.onDone?.(s, 'restored');
        } else {
          const now = await cluster.get(s.ref);
          // Gone already, or someone else's by now (same name, not labelled as meshprobe's): nothing to delete.
          if (now && isOurs(now)) {
            await cluster.delete(s.ref);
            deleted.push(s);
          } else await done(s);
        }
        errors.delete(s);
      } catch (e) {
        errors.set(s, (e as Error).message);
        failed.push(s);
      }
    }
    todo = failed;
    if (!todo.length || pass >= delays.length) break;
    o.events?.({
      type: 'warning',
      message: `could not undo ${todo.map((s) => describeRef(s.ref)).join(', ')} (${errors.get(todo[0]!)}); trying again in ${delays[pass]! / 1000} s`,
    });
    await sleep(delays[pass]!);
  }

  const stuck = await stillPresent(
    cluster,
    deleted.map((s) => s.ref),
    o.timeoutMs,
  ).catch(() => deleted.map((s) => ({ ref: s.ref, description: `${describeRef(s.ref)} (deleted; not seen gone)` })));
  const stuckKeys = new Set(stuck.map((x) => describeRef(x.ref)));
  for (const s of deleted) {
    if (stuckKeys.has(describeRef(s.ref))) continue;
    await done(s).catch(() => {});
    o.onDone?.(s, 'deleted');
  }
  return [
    ...todo.map((s) => ({
      ref: s.ref,
      description: `${describeRef(s.ref)} (${s.op === 'replace' ? 'not restored' : 'not deleted'}: ${errors.get(s)})`,
    })),
    ...stuck,
  ];
}
