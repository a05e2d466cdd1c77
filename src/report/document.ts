// The meshprobe/v1 document: one shape for `predict` and `run`, so tools can read either.
// Documented in the README ("The meshprobe/v1 document"); test/report/document.test.ts fails if a field disappears.
import type { KubeObject } from '../model/kube-object.js';
import type { Expectation, Outcome } from '../model/outcome.js';
import type { Flavor, Scenario } from '../model/scenario.js';
import type { Topology } from '../model/topology.js';
import type { Step } from '../oracle/decision.js';
import type { ExpectedCell } from '../oracle/expected.js';

export const API_VERSION = 'meshprobe/v1';

export interface ReportDocument {
  apiVersion: typeof API_VERSION;
  kind: 'MatrixReport';
  metadata: {
    command: 'predict' | 'run' | 'probe';
    generatedAt: string;
    meshprobeVersion: string;
    flavor: Flavor;
    topology: string;
    cluster?: { context: string; server: string };
  };
  summary: Summary;
  scenarios: ScenarioReport[];
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
  cells: CellReport[];
  /** Run only: how convergence went, with every round kept. */
  convergence?: { rounds: number; converged: boolean; seconds: number; history?: RoundSummary[] };
  certificates?: CertificateReport[];
}

export interface RoundSummary {
  round: number;
  /** Seconds since the scenario's objects were applied. */
  at: number;
  seconds: number;
  matched: number;
  mismatched: number;
  errors: number;
  execs: number;
  /** Cells whose outcome changed since the previous round: `from -> to: old => new`. */
  changed?: string[];
}

export interface CellReport {
  from: string;
  to: string;
  expected: { outcome: Expectation; reachable: boolean; mtls?: boolean; source: 'scenario' | 'oracle'; rule?: string };
  /** The oracle's prediction and the chain of objects that decided it. */
  reason: { summary: string; predicted: Outcome; client: Step[]; server: Step[]; tableRow?: number };
  observed?: ObservedCell;
  match: boolean;
}

export interface ObservedCell {
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

export interface CertificateReport {
  workload: string;
  pod: string;
  spiffe: string[];
  serial: string;
  notBefore: string;
  notAfter: string;
  daysLeft: number;
}

export function cellReport(cell: ExpectedCell): CellReport {
  const p = cell.prediction;
  return {
    from: cell.from,
    to: cell.to,
    expected: {
      outcome: cell.expect,
      reachable: cell.reachable,
      ...(cell.mtls === undefined ? {} : { mtls: cell.mtls }),
      source: cell.source,
      ...(cell.rule ? { rule: cell.rule } : {}),
    },
    reason: {
      summary: p.reason.summary,
      predicted: p.outcome,
      client: p.reason.client.chain,
      server: p.reason.server.chain,
      ...(p.reason.row ? { tableRow: p.reason.row } : {}),
    },
    match: cell.agrees,
  };
}

export function summarize(scenarios: ScenarioReport[]): Summary {
  const cells = scenarios.flatMap((s) => s.cells);
  const errors = cells.filter((c) => c.observed?.outcome === 'error').length;
  const matched = cells.filter((c) => c.match).length;
  return {
    scenarios: scenarios.length,
    cells: cells.length,
    matched,
    mismatched: cells.length - matched - errors,
    errors,
  };
}

export function scenarioHeader(s: Scenario, topology: Topology): Omit<ScenarioReport, 'verdict' | 'cells'> {
  return {
    name: s.name,
    description: s.description,
    sources: s.sources,
    file: s.file,
    objects: s.objects.map((o) => o.raw),
    clients: topology.clients.map((c) => c.id),
    targets: topology.targets.map((t) => t.id),
  };
}
