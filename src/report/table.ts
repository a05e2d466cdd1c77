// The terminal matrix: rows are clients, columns are server ports.
import Table from 'cli-table3';
import { convergenceText, httpText } from './cells.js';
import { cellMatrix, scenarioCounts, type CellReport, type ReportDocument, type ScenarioReport } from './document.js';
import { incompleteLines } from './incomplete.js';
import { label, LEGEND } from './labels.js';
import type { Style } from './style.js';

export interface TableOptions {
  style: Style;
  /** `wide` adds the HTTP code and curl exit code of observed cells, and the scenario's description. */
  wide?: boolean;
}

function cellText(c: CellReport, o: TableOptions): string {
  const s = o.style;
  if (!c.observed) {
    const text = label(c.expected.outcome);
    return c.match ? text : `${s.red(`≠ ${text}`)}\n${s.dim(`oracle: ${label(c.reason.predicted)}`)}`;
  }
  const obs = c.observed;
  let text = label(obs.outcome, obs.httpCode);
  if (o.wide && obs.outcome !== 'error') text += s.dim(` (${httpText(obs.httpCode)}/${obs.curlExit ?? 0})`);
  if (obs.outcome === 'error') return s.yellow(text);
  if (c.match) return isPass(c) ? s.green(text) : text;
  return `${s.red(`≠ ${text}`)}\n${s.dim(`want ${label(c.expected.outcome)}`)}`;
}

const isPass = (c: CellReport) => c.expected.reachable;

function renderScenarioTable(scenario: ScenarioReport, o: TableOptions): string {
  const cells = cellMatrix(scenario);
  const table = new Table({
    head: ['from \\ to', ...scenario.targets.map((t) => t.replace(':', '\n:'))],
    style: { head: [], border: [], compact: true },
  });
  for (const from of scenario.clients) {
    table.push([from, ...scenario.targets.map((to) => cellText(cells.get(from, to), o))]);
  }
  const certs = (scenario.certificates ?? []).map(
    (c) =>
      `certificate of ${c.workload} (${c.pod}): ${c.spiffe.join(', ')}, serial ${c.serial}, valid ${c.notBefore} to ${c.notAfter} (${c.daysLeft} days left)`,
  );
  const lines = [
    o.style.bold(`${verdictMark(scenario, o.style)} ${scenario.name}`),
    ...(o.wide ? [o.style.dim(scenario.description)] : []),
    table.toString(),
    verdictLine(scenario, o.style),
    ...certs,
  ];
  return lines.join('\n');
}

function verdictMark(s: ScenarioReport, st: Style): string {
  return s.verdict === 'pass' ? st.green('✔') : s.verdict === 'error' ? st.yellow('⚠') : st.red('✘');
}

function verdictLine(s: ScenarioReport, st: Style): string {
  const n = scenarioCounts(s);
  const observed = s.cells.some((c) => c.observed);
  const parts = [`${s.name}: ${n.matched}/${n.cells} cells as expected`];
  if (n.mismatched)
    parts.push(
      st.red(`${n.mismatched} ${observed ? 'not as expected' : 'where the scenario and the oracle disagree'}`),
    );
  if (n.errors) parts.push(st.yellow(`${n.errors} could not be probed`));
  const convergence = convergenceText(s);
  if (convergence) parts.push(convergence);
  return parts.join('; ');
}

export function renderTables(doc: ReportDocument, o: TableOptions): string {
  const sections = doc.scenarios.map((s) => renderScenarioTable(s, o));
  const { summary } = doc;
  const tail = [
    LEGEND,
    `${doc.metadata.command === 'predict' ? 'Predicted' : 'Probed'} ${summary.scenarios} scenario${summary.scenarios === 1 ? '' : 's'} (Istio ${doc.metadata.flavor}), ${summary.cells} cells: ${summary.matched} as expected, ${summary.mismatched} not, ${summary.errors} probe error${summary.errors === 1 ? '' : 's'}.`,
    ...incompleteLines(doc).map((l) => o.style.yellow(l)),
  ];
  return `${sections.join('\n\n')}\n\n${tail.join('\n')}\n`;
}
