// The meshprobe/v1 PolicyDiff document: what `meshprobe diff` found, built in one place; the table and
// Markdown renderers read it, `-o json` prints it. Documented in the README ("The PolicyDiff document");
// test/report/diff-document.test.ts fails if a documented field disappears or an undocumented one appears.
import { isReachable, mtlsOf, type NetworkOutcome } from '../model/outcome.js';
import {
  CHANGE_KINDS,
  countChanges,
  failsOn,
  type ChangeCounts,
  type ChangeKind,
  type DiffResult,
  type DiffSide,
  type FailOn,
} from '../model/policy-diff.js';
import type { Prediction, Step } from '../model/prediction.js';
import type { Flavor } from '../model/scenario.js';
import { API_VERSION } from './document.js';

export interface PolicyDiffDocument {
  apiVersion: typeof API_VERSION;
  kind: 'PolicyDiff';
  metadata: {
    generatedAt: string;
    meshprobeVersion: string;
    flavor: Flavor;
    topology: string;
    namespacePrefix?: string;
    cluster?: { context: string; server: string };
    failOn?: FailOn[];
  };
  base: SideReport;
  head: SideReport;
  summary: {
    /** Cells of the matrix (clients × probed ports). */
    cells: number;
    /** Cells whose predicted outcome differs. */
    changed: number;
    /** The changes `--fail-on` picks (all of them without it): the exit code is 1 when this is not 0. */
    failing: number;
    kinds: ChangeCounts;
  };
  /** Rows first, as the matrix. */
  changes: ChangeReport[];
}

export interface SideReport {
  side: string;
  source: DiffSide['source'];
  commit?: string;
  absent?: boolean;
  files: number;
  policies: Array<{ kind: string; namespace?: string; name: string; where: string }>;
  ignored: Record<string, number>;
}

export interface ChangeReport {
  from: string;
  to: string;
  change: ChangeKind;
  base: PredictionReport;
  head: PredictionReport;
}

/** One side's prediction of a cell, and the chain of objects that decided it (as `explain` prints it). */
export interface PredictionReport {
  outcome: NetworkOutcome;
  reachable: boolean;
  mtls?: boolean;
  summary: string;
  client: Step[];
  server: Step[];
  /** The AuthorizationPolicies and rules that allowed or denied the request, when policies decided it. */
  authorization?: Step[];
  tableRow?: number;
}

/** How each kind of change reads, for people. */
export const CHANGE_TITLES: Record<ChangeKind, string> = {
  blocked: 'newly blocked',
  'mtls-lost': 'mTLS lost',
  reachable: 'newly reachable',
  other: 'changed otherwise',
  'mtls-gained': 'mTLS gained',
};

export function buildDiffDocument(
  r: DiffResult,
  meta: { generatedAt: string; meshprobeVersion: string },
): PolicyDiffDocument {
  const failing = r.failOn ? r.changes.filter((c) => failsOn(c, r.failOn!)).length : r.changes.length;
  return {
    apiVersion: API_VERSION,
    kind: 'PolicyDiff',
    metadata: {
      generatedAt: meta.generatedAt,
      meshprobeVersion: meta.meshprobeVersion,
      flavor: r.flavor,
      topology: r.topology,
      ...(r.namespacePrefix ? { namespacePrefix: r.namespacePrefix } : {}),
      ...(r.cluster ? { cluster: r.cluster } : {}),
      ...(r.failOn ? { failOn: r.failOn } : {}),
    },
    base: sideReport(r.base),
    head: sideReport(r.head),
    summary: {
      cells: r.clients * r.targets,
      changed: r.changes.length,
      failing,
      kinds: countChanges(r.changes.map((c) => c.kind)),
    },
    changes: r.changes.map((c) => ({
      from: c.from,
      to: c.to,
      change: c.kind,
      base: predictionReport(c.base),
      head: predictionReport(c.head),
    })),
  };
}

function sideReport(s: DiffSide): SideReport {
  return {
    side: s.spec,
    source: s.source,
    ...(s.commit ? { commit: s.commit } : {}),
    ...(s.absent ? { absent: true } : {}),
    files: s.set.files,
    policies: s.set.policies.map(({ policy: p, where }) => ({
      kind: p.kind,
      ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
      name: p.name,
      where,
    })),
    ignored: s.set.ignored,
  };
}

function predictionReport(p: Prediction): PredictionReport {
  const mtls = mtlsOf(p.outcome);
  return {
    outcome: p.outcome,
    reachable: isReachable(p.outcome),
    ...(mtls === undefined ? {} : { mtls }),
    summary: p.reason.summary,
    client: p.reason.client.chain,
    server: p.reason.server.chain,
    ...(decidedByPolicies(p) ? { authorization: p.reason.authorization!.chain } : {}),
    ...(p.reason.row ? { tableRow: p.reason.row } : {}),
  };
}

/** Whether AuthorizationPolicies, not mutual TLS or their absence, decided the cell's fate. */
const decidedByPolicies = (p: Prediction): boolean =>
  p.reason.authorization?.effect === 'allowed' || p.reason.authorization?.effect === 'denied';

/** "1 policy in 2 files; ignored: 3 Deployment.apps, 1 Service", or "absent in abc1234: nothing". */
export function sideText(s: SideReport): string {
  if (s.absent) return `not in commit ${s.commit?.slice(0, 12) ?? ''}: no objects`;
  const n = s.policies.length;
  const where = s.source === 'cluster' ? 'in the cluster' : `in ${s.files} file${s.files === 1 ? '' : 's'}`;
  const ignored = Object.entries(s.ignored)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const at = s.commit ? ` (commit ${s.commit.slice(0, 12)})` : '';
  return `${n} polic${n === 1 ? 'y' : 'ies'} ${where}${at}${ignored ? `; ignored: ${ignored}` : ''}`;
}

/** "4 newly blocked, 1 mTLS lost": the kinds that occur, worst first, or "no cell changes". */
export function kindsText(kinds: ChangeCounts): string {
  const parts = CHANGE_KINDS.filter((k) => kinds[k] > 0).map((k) => `${kinds[k]} ${CHANGE_TITLES[k]}`);
  return parts.length ? parts.join(', ') : 'no cell changes';
}
