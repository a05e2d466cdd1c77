// What the machine formats say about one cell, in one place, so JUnit, Markdown and HTML agree.
import { satisfies, type Outcome } from '../model/outcome.js';
import { isShippedScenario } from '../model/scenario-file.js';
import { semanticsRef } from './references.js';
import type { CellReport, ObservedReport, ReportDocument, ScenarioReport } from './document.js';

/** The heat-map classes: five the issue names, plus the app's own TLS, which is neither mTLS nor plaintext. */
export type CellKind = 'mtls' | 'plain' | 'app-tls' | 'blocked' | 'unexpected' | 'error';

export const CELL_KINDS: ReadonlyArray<{ kind: CellKind; title: string; meaning: string }> = [
  {
    kind: 'mtls',
    title: 'pass, mutual TLS',
    meaning: "reached the app as expected; the server's sidecar saw a client certificate",
  },
  { kind: 'plain', title: 'pass, plaintext', meaning: 'reached the app as expected, without mutual TLS' },
  {
    kind: 'app-tls',
    title: "pass, the app's own TLS",
    meaning: "reached the app's own TLS as expected (mutual TLS between sidecars cannot be seen)",
  },
  {
    kind: 'blocked',
    title: 'expected failure',
    meaning: 'did not reach the app, as expected (reset, 503, TLS failure, or denied by an AuthorizationPolicy)',
  },
  { kind: 'unexpected', title: 'not as expected', meaning: 'the result differs from the expectation' },
  {
    kind: 'error',
    title: 'probe error',
    meaning: 'the probe itself failed (exec, pod or API error): neither a pass nor blocked',
  },
];

/** What happened to the cell: observed in a run, predicted by the oracle otherwise. */
export function shownOutcome(c: CellReport): Outcome {
  return c.observed?.outcome ?? c.reason.predicted;
}

export function cellKind(c: CellReport): CellKind {
  const outcome = shownOutcome(c);
  if (outcome === 'error') return 'error';
  if (!c.match) return 'unexpected';
  if (outcome === 'mtls') return 'mtls';
  if (outcome === 'plaintext') return 'plain';
  if (outcome === 'reached') return 'app-tls';
  return 'blocked';
}

export const isObserved = (doc: ReportDocument): boolean => doc.metadata.command !== 'predict';

/** The word for the other side of the comparison: a run observes, predict asks the oracle. */
export const shownWord = (doc: ReportDocument): string => (isObserved(doc) ? 'observed' : 'predicted');

/**
 * A command that reproduces the cell by hand: the probe's own `kubectl exec` line in a run, and
 * `meshprobe explain` for a prediction, which has no probe to repeat.
 */
export function reproduce(doc: ReportDocument, s: ScenarioReport, c: CellReport, cwd?: string): string {
  if (c.observed) return c.observed.command;
  return explainCommand(doc, s, c, cwd) ?? '';
}

/**
 * The `meshprobe explain` command for a cell, as the user would type it where the command ran (`cwd`):
 * `-f FILE` when the scenario is not a shipped one, `--istio legacy` for Istio 1.4. None for `probe`,
 * whose expectations come from the cluster's policies rather than a scenario file.
 */
export function explainCommand(
  doc: ReportDocument,
  s: ScenarioReport,
  c: CellReport,
  cwd?: string,
): string | undefined {
  if (doc.metadata.command === 'probe') return undefined;
  const parts = [
    'meshprobe explain',
    `--scenario ${shellWord(s.name)}`,
    `--from ${shellWord(c.from)}`,
    `--to ${shellWord(c.to)}`,
  ];
  if (!isShippedScenario(s.file, cwd)) parts.push(`-f ${shellWord(s.file)}`);
  if (doc.metadata.flavor === 'legacy') parts.push('--istio legacy');
  return parts.join(' ');
}

/**
 * What the oracle's prediction says about a cell that is not as expected: whether it predicted what
 * was observed (then the expectation may be what is wrong) or what was expected (then the cluster
 * did not do what its policies say). `name` writes an outcome (a terminal label, say).
 */
export function oracleVerdict(doc: ReportDocument, c: CellReport, name: (o: Outcome) => string = (o) => o): string {
  const predicted = c.reason.predicted;
  const o = c.observed;
  if (!o) return 'the scenario and the oracle disagree: the expectation may be wrong, or the oracle';
  if (c.expected.source === 'oracle')
    return `no scenario rule names this cell, so the oracle's prediction is the expectation: the cluster did not do what its policies say (or their configuration had not reached every proxy)`;
  if (predicted === o.outcome)
    return `the oracle predicted ${name(predicted)} too: the expectation may be what is wrong`;
  if (satisfies(predicted, c.expected.outcome))
    return `the oracle predicted ${name(predicted)}, as expected: the cluster did not do what its policies say (or their configuration had not reached every proxy)`;
  return `the oracle predicted ${name(predicted)}: neither what was expected nor what was ${shownWord(doc)}`;
}

/** A word for a POSIX shell: as is when it is plain, single-quoted otherwise (as src/probe/command.ts quotes). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** HTTP code as curl prints it: 000 when no response came back. */
export const httpText = (code: number | undefined): string => String(code ?? 0).padStart(3, '0');

/** Whether curl ran and left codes to show. */
export const ranCurl = (o: ObservedReport): boolean =>
  o.outcome !== 'error' || o.httpCode !== undefined || o.curlExit !== undefined;

/** One line: expected vs what happened, with the codes, for a JUnit message or a tooltip. */
export function verdictText(doc: ReportDocument, c: CellReport): string {
  const o = c.observed;
  if (o?.outcome === 'error')
    return `probe error after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}: ${o.error ?? 'no detail'}`;
  const head = `expected ${c.expected.outcome}, ${shownWord(doc)} ${shownOutcome(c)}`;
  return o ? `${head} (HTTP ${httpText(o.httpCode)}, curl exit ${o.curlExit ?? 0})` : head;
}

/** Label/value pairs describing a cell, for the JUnit body, the HTML panel and its tooltip. */
export function cellFacts(doc: ReportDocument, s: ScenarioReport, c: CellReport): Array<[string, string]> {
  const facts: Array<[string, string]> = [];
  const where =
    c.expected.source === 'scenario'
      ? `scenario rule ${c.expected.rule ?? s.file}`
      : "no scenario rule: the oracle's prediction";
  facts.push(['expected', `${c.expected.outcome} (${where})`]);
  const o = c.observed;
  if (o) {
    facts.push(['observed', o.outcome]);
    if (o.error) facts.push(['probe error', o.error]);
    // A probe that failed before curl ran has no codes; 000 and 0 would read as a curl result.
    if (ranCurl(o)) facts.push(['HTTP code', httpText(o.httpCode)], ['curl exit', String(o.curlExit ?? 0)]);
    if (o.mtls !== undefined) facts.push(['mutual TLS', o.mtls ? 'yes' : 'no']);
    if (o.peer) facts.push(['peer identity', o.peer]);
    facts.push(['attempts', String(o.attempts)]);
  }
  facts.push([
    'oracle',
    `${c.reason.predicted}: ${c.reason.summary}${c.reason.tableRow ? ` (${semanticsRef(c.reason.tableRow)})` : ''}`,
  ]);
  for (const step of c.reason.client) facts.push(['client side', `${step.by}: ${step.says}`]);
  for (const step of c.reason.server) facts.push(['server side', `${step.by}: ${step.says}`]);
  for (const step of c.reason.authorization?.steps ?? []) facts.push(['authorization', `${step.by}: ${step.says}`]);
  for (const note of c.reason.authorization?.notes ?? []) facts.push(['note', note]);
  facts.push(['reproduce', reproduce(doc, s, c)]);
  return facts;
}

/** The facts as aligned text lines. */
export function factLines(facts: Array<[string, string]>): string {
  const width = Math.max(...facts.map(([k]) => k.length)) + 1;
  return facts.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`).join('\n');
}

export function convergenceText(s: ScenarioReport): string | undefined {
  const c = s.convergence;
  if (!c) return undefined;
  const push =
    c.push === undefined
      ? ''
      : c.push.acknowledgedAt === null
        ? '; the push was never acknowledged by every proxy'
        : `; every proxy had the push after ${c.push.acknowledgedAt.toFixed(1)} s`;
  return `${c.converged ? 'converged' : 'did not converge'} after ${c.rounds} round${c.rounds === 1 ? '' : 's'} (${c.seconds.toFixed(1)} s${push})`;
}

/** What the oracle left out of a scenario's predictions (a CUSTOM policy's decision), once each. */
export function scenarioNotes(s: ScenarioReport): string[] {
  return [...new Set(s.cells.flatMap((c) => c.reason.authorization?.notes ?? []))];
}

/** Scenarios with a cell not as expected or not probed. */
export const failingCount = (doc: ReportDocument): number => doc.scenarios.filter((s) => s.verdict !== 'pass').length;

/** "2 of 11 scenarios not as expected", "all 11 scenarios as expected", "1 scenario as expected". */
export function headlineOf(doc: ReportDocument): string {
  const n = doc.scenarios.length;
  const failing = failingCount(doc);
  if (failing) return `${failing} of ${n} scenario${n === 1 ? '' : 's'} not as expected`;
  return n === 1 ? '1 scenario as expected' : `all ${n} scenarios as expected`;
}
