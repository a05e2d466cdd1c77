// What a policy change does to a matrix: the cells whose predicted outcome differs between two sets of
// policies (`meshprobe diff`), and what kind of change each one is. A cell whose reason changes but
// whose outcome does not is no change: the reviewer's question is what traffic does differently.
import type { PolicySet } from './manifests.js';
import type { Matrix } from './matrix.js';
import { isReachable, type NetworkOutcome } from './outcome.js';
import type { Prediction } from './prediction.js';
import type { Flavor } from './scenario.js';

/**
 * The kinds of change, worst first (the order the text reports list them in): traffic that stops,
 * traffic that loses mutual TLS, traffic that starts, anything else, traffic that gains mutual TLS.
 * Exactly one kind per changed cell; the README ("meshprobe diff") defines each.
 */
export const CHANGE_KINDS = ['blocked', 'mtls-lost', 'reachable', 'other', 'mtls-gained'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * `--fail-on` takes the kinds, and `plaintext`: a change that leaves the cell reaching the app without
 * mutual TLS (an mTLS lost, or a newly reachable cell in plaintext), which is what a security review
 * most wants to stop.
 */
export const FAIL_ON = [...CHANGE_KINDS, 'plaintext'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export function changeKind(base: NetworkOutcome, head: NetworkOutcome): ChangeKind | undefined {
  if (base === head) return undefined;
  const before = isReachable(base);
  const after = isReachable(head);
  if (before && !after) return 'blocked';
  if (!before && after) return 'reachable';
  if (base === 'mtls' && head === 'plaintext') return 'mtls-lost';
  if (base === 'plaintext' && head === 'mtls') return 'mtls-gained';
  return 'other';
}

export interface CellChange {
  from: string;
  to: string;
  kind: ChangeKind;
  base: Prediction;
  head: Prediction;
}

/** The changed cells, rows first (the matrices' order). Both matrices must have the same clients and targets. */
export function diffPredictions(base: Matrix<Prediction>, head: Matrix<Prediction>): CellChange[] {
  const changes: CellChange[] = [];
  base.zip(head, (b, h, from, to) => {
    const kind = changeKind(b.outcome, h.outcome);
    if (kind) changes.push({ from, to, kind, base: b, head: h });
  });
  return changes;
}

export type ChangeCounts = Record<ChangeKind, number>;

export function countChanges(kinds: Iterable<ChangeKind>): ChangeCounts {
  const n = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as ChangeCounts;
  for (const k of kinds) n[k]++;
  return n;
}

/** The changes in order of kind, worst first; within a kind, the matrix's order (the sort is stable). */
export function worstFirst<T>(changes: readonly T[], kindOf: (change: T) => ChangeKind): T[] {
  const rank = (c: T) => CHANGE_KINDS.indexOf(kindOf(c));
  return [...changes].sort((a, b) => rank(a) - rank(b));
}

/** Whether a change is one `--fail-on` asked for. */
export function failsOn(
  change: { kind: ChangeKind; head: { outcome: NetworkOutcome } },
  on: readonly FailOn[],
): boolean {
  return on.some((f) =>
    f === 'plaintext'
      ? change.head.outcome === 'plaintext' && (change.kind === 'mtls-lost' || change.kind === 'reachable')
      : f === change.kind,
  );
}

/** Where a side's policies come from: files on disk, a git revision, or the cluster as it stands. */
export interface DiffSide {
  /** The side as given: a path, `REV:PATH` or `cluster`. */
  spec: string;
  source: 'files' | 'git' | 'cluster';
  /** git: the commit the revision named. */
  commit?: string;
  /** git: the path is not in that revision (added or removed by the change), so the side holds nothing. */
  absent?: boolean;
  set: PolicySet;
}

/** Everything `meshprobe diff` found, for the document and the exit code. */
export interface DiffResult {
  flavor: Flavor;
  topology: string;
  clients: number;
  targets: number;
  namespacePrefix?: string;
  cluster?: { context: string; server: string };
  base: DiffSide;
  head: DiffSide;
  /** Rows first. */
  changes: CellChange[];
  /** `--fail-on`, when given: only these changes make the exit code 1. */
  failOn?: FailOn[];
}
