// The meshprobe/v1 document: one shape for `predict`, `run` and `probe`, so tools can read either, and
// the one place a RunResult becomes it. Documented in the README ("The meshprobe/v1 document");
// test/report/document.test.ts fails if a field disappears. The fields that follow from an outcome
// (reachable, mtls) are written here, derived, and nowhere stored.
import type { ExpectedCell, ObservedCell } from '../model/cell.js';
import type { KubeObject } from '../model/kube-object.js';
import { Matrix } from '../model/matrix.js';
import { isReachable, mtlsOf, type Expectation, type Outcome } from '../model/outcome.js';
import type { AuthorizationDecision, Step } from '../model/prediction.js';
import {
  verdicts,
  type CertificateReport,
  type RoundSummary,
  type RunResult,
  type ScenarioResult,
} from '../model/results.js';
import type { Flavor } from '../model/scenario.js';
import { count, scenarioVerdict, type Counts, type Verdict } from '../model/verdict.js';

export const API_VERSION = 'meshprobe/v1';

export interface ReportDocument {
  apiVersion: typeof API_VERSION;
  kind: 'MatrixReport';
  metadata: {
    command: RunResult['command'];
    generatedAt: string;
    meshprobeVersion: string;
    flavor: Flavor;
    topology: string;
    cluster?: { context: string; server: string };
  };
  summary: Summary;
  scenarios: ScenarioReport[];
  /** Run only: present when the run failed after its first scenario was applied. */
  incomplete?: IncompleteReport;
}

/** What failed, which scenarios did not run, what is left in the cluster and the command that removes it. */
export interface IncompleteReport {
  failures: Array<{ stage: string; scenario?: string; message: string }>;
  notRun: string[];
  left: string[];
  /** `meshprobe ... cleanup ...`, when something is left. */
  cleanup?: string;
}

export interface Summary {
  scenarios: number;
  cells: number;
  /** Cells whose observation (run) or prediction (predict) satisfies the expectation. */
  matched: number;
  mismatched: number;
  /** Cells that could not be probed (run only). */
  errors: number;
}

export interface ScenarioReport {
  name: string;
  description: string;
  sources: string[];
  file: string;
  /** The scenario's objects as written. */
  objects: KubeObject[];
  clients: string[];
  targets: string[];
  verdict: 'pass' | 'mismatch' | 'error';
  /** Row-major, as `clients` × `targets`. */
  cells: CellReport[];
  /**
   * Run only: how convergence went, with every round kept. `push`: istiod's push status decided which
   * rounds count (seconds after the apply at which every proxy had acknowledged the change, null if never);
   * absent, the settle time did.
   */
  convergence?: {
    rounds: number;
    converged: boolean;
    seconds: number;
    push?: { acknowledgedAt: number | null };
    history?: RoundSummary[];
  };
  certificates?: CertificateReport[];
}

export interface CellReport {
  from: string;
  to: string;
  expected: { outcome: Expectation; reachable: boolean; mtls?: boolean; source: 'scenario' | 'oracle'; rule?: string };
  /** The oracle's prediction and the chain of objects that decided it. */
  reason: {
    summary: string;
    predicted: Outcome;
    client: Step[];
    server: Step[];
    tableRow?: number;
    /** Modern flavor: what the server sidecar's AuthorizationPolicies did, after mutual TLS. */
    authorization?: AuthorizationReport;
  };
  /** A run's: "observed satisfies expected". A prediction's: "the scenario and the oracle agree". */
  match: boolean;
  observed?: ObservedReport;
}

export interface AuthorizationReport {
  effect: AuthorizationDecision['effect'];
  /** Envoy's name of the deciding rule (`ns[NS]-policy[NAME]-rule[N]`), or `none` when no ALLOW rule matched. */
  matchedPolicy?: string;
  /** `AuthorizationPolicy NS/NAME rule N`. */
  decidedBy?: string;
  steps: Step[];
  /** What the prediction leaves out (a CUSTOM policy's external decision). */
  notes?: string[];
}

/** An ObservedCell as the document writes it. */
export interface ObservedReport {
  outcome: Outcome;
  reachable: boolean;
  mtls?: boolean;
  httpCode?: number;
  curlExit?: number;
  /** The client's SPIFFE identity as the server's sidecar saw it (X-Forwarded-Client-Cert URI). */
  peer?: string;
  attempts: number;
  /** Why the probe failed, for outcome `error`. */
  error?: string;
  /** curl's error message, or the start of an error response's body (an Envoy 503). */
  detail?: string;
  /** A command that reproduces the probe by hand. */
  command: string;
}

export function buildDocument(
  result: RunResult,
  meta: { generatedAt: string; meshprobeVersion: string; cleanupCommand?: string },
): ReportDocument {
  const scenarios = result.scenarios.map(scenarioReport);
  return {
    apiVersion: API_VERSION,
    kind: 'MatrixReport',
    metadata: {
      command: result.command,
      generatedAt: meta.generatedAt,
      meshprobeVersion: meta.meshprobeVersion,
      flavor: result.flavor,
      topology: result.topology,
      ...(result.cluster ? { cluster: result.cluster } : {}),
    },
    summary: summarize(scenarios),
    scenarios,
    ...(result.incomplete
      ? {
          incomplete: {
            failures: result.incomplete.failures.map((f) => ({ ...f })),
            notRun: result.incomplete.notRun,
            left: result.incomplete.left,
            ...(result.incomplete.left.length && meta.cleanupCommand ? { cleanup: meta.cleanupCommand } : {}),
          },
        }
      : {}),
  };
}

function scenarioReport(r: ScenarioResult): ScenarioReport {
  const s = r.scenario;
  const v = verdicts(r);
  const observed = r.observation;
  const cells = r.expected
    .zip(v, (expected, verdict, from, to) => cellReport(from, to, expected, verdict, observed?.cells.get(from, to)))
    .values();
  return {
    name: s.name,
    description: s.description,
    sources: s.sources,
    file: s.file,
    objects: s.objects.map((o) => o.raw),
    clients: [...r.expected.clients],
    targets: [...r.expected.targets],
    verdict: scenarioVerdict(count(v)),
    cells,
    ...(observed
      ? {
          convergence: {
            rounds: observed.convergence.history.length,
            converged: observed.convergence.converged,
            seconds: observed.convergence.seconds,
            ...(observed.convergence.push ? { push: observed.convergence.push } : {}),
            history: observed.convergence.history,
          },
        }
      : {}),
    ...(observed?.certificates.length ? { certificates: observed.certificates } : {}),
  };
}

export function cellReport(
  from: string,
  to: string,
  e: ExpectedCell,
  verdict: Verdict,
  observed?: ObservedCell,
): CellReport {
  const p = e.prediction;
  const mtls = mtlsOf(e.expect);
  return {
    from,
    to,
    expected: {
      outcome: e.expect,
      reachable: isReachable(e.expect),
      ...(mtls === undefined ? {} : { mtls }),
      source: e.source,
      ...(e.source === 'scenario' ? { rule: e.rule } : {}),
    },
    reason: {
      summary: p.reason.summary,
      predicted: p.outcome,
      client: p.reason.client.chain,
      server: p.reason.server.chain,
      ...(p.reason.row ? { tableRow: p.reason.row } : {}),
      ...(p.reason.authorization ? { authorization: authorizationReport(p.reason.authorization) } : {}),
    },
    match: verdict === 'match',
    ...(observed ? { observed: observedReport(observed) } : {}),
  };
}

function authorizationReport(a: AuthorizationDecision): AuthorizationReport {
  return {
    effect: a.effect,
    ...(a.matchedPolicy ? { matchedPolicy: a.matchedPolicy } : {}),
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    steps: a.chain,
    ...(a.notes.length ? { notes: a.notes } : {}),
  };
}

function observedReport(o: ObservedCell): ObservedReport {
  const mtls = mtlsOf(o.outcome);
  return {
    outcome: o.outcome,
    reachable: isReachable(o.outcome),
    ...(mtls === undefined ? {} : { mtls }),
    ...(o.httpCode === undefined ? {} : { httpCode: o.httpCode }),
    ...(o.curlExit === undefined ? {} : { curlExit: o.curlExit }),
    ...(o.outcome !== 'error' && o.peer !== undefined ? { peer: o.peer } : {}),
    attempts: o.attempts,
    ...(o.outcome === 'error' ? { error: o.error } : {}),
    ...(o.outcome !== 'error' && o.detail !== undefined ? { detail: o.detail } : {}),
    command: o.command,
  };
}

/** How the document counts a cell: a probe error apart from a mismatch. */
function cellVerdict(c: CellReport): Verdict {
  return c.observed?.outcome === 'error' ? 'error' : c.match ? 'match' : 'mismatch';
}

export function scenarioCounts(s: ScenarioReport): Counts {
  return count(s.cells.map(cellVerdict));
}

export function summarize(scenarios: ScenarioReport[]): Summary {
  return { scenarios: scenarios.length, ...count(scenarios.flatMap((s) => s.cells.map(cellVerdict))) };
}

/** A scenario's cells laid out as its matrix, each with its place in `cells` (the HTML panels are numbered by it). */
export function cellMatrix(s: ScenarioReport): Matrix<CellReport & { index: number }> {
  return Matrix.fromCells(
    s.clients,
    s.targets,
    s.cells.map((c, index) => ({ ...c, index })),
  );
}
