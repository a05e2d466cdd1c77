// The terminal matrix: rows are clients, columns are server ports. The legend comes first, and only
// with what the tables show. A terminal narrower than the full table gets a compact layout: short
// column keys when they fit, else one block per client; `-o wide` always prints the full table.
// Under each matrix, one note per cell not as expected (what the oracle says of it, and the
// `meshprobe explain` command for it) or not probed.
import Table from 'cli-table3';
import type { Expectation, Outcome } from '../model/outcome.js';
import { convergenceText, explainCommand, httpText, oracleVerdict, scenarioNotes } from './cells.js';
import { cellMatrix, scenarioCounts, type CellReport, type ReportDocument, type ScenarioReport } from './document.js';
import { incompleteLines } from './incomplete.js';
import { label, legendLines, VERDICT_MARK } from './labels.js';
import type { Style } from './style.js';

export interface TableOptions {
  style: Style;
  /** `wide` adds the HTTP code and curl exit code of observed cells, and keeps the full table at any width. */
  wide?: boolean;
  /** The terminal's width in columns; unset (not a terminal), the full table. */
  width?: number;
  /** Where the command ran: the `explain` commands name scenario files as seen from there. */
  cwd?: string;
}

type Layout = 'full' | 'keyed' | 'blocks';

/** The label of what happened to the cell: observed in a run, predicted by the oracle otherwise. */
function shownLabel(c: CellReport): string {
  return c.observed ? label(c.observed.outcome, c.observed.httpCode) : label(c.reason.predicted);
}

const isError = (c: CellReport) => c.observed?.outcome === 'error';

/** The cell's text; in the compact layouts one line, the expectation being in the note under the matrix. */
function cellText(c: CellReport, o: TableOptions, layout: Layout): string {
  const s = o.style;
  let text = shownLabel(c);
  const obs = c.observed;
  if (o.wide && obs && obs.outcome !== 'error') text += s.dim(` (${httpText(obs.httpCode)}/${obs.curlExit ?? 0})`);
  if (isError(c)) return s.yellow(text);
  if (c.match) return c.expected.reachable ? s.green(text) : text;
  if (layout !== 'full') return s.red(`≠ ${text}`);
  return `${s.red(`≠ ${text}`)}\n${s.dim(`want ${label(c.expected.outcome)}`)}`;
}

const ANSI = /\u001b\[[0-9;]*m/g;
/** Columns a line takes: every symbol the tables use is one column wide. */
const columns = (line: string): number => [...line.replace(ANSI, '')].length;
const widest = (text: string): number => Math.max(0, ...text.split('\n').map(columns));

function grid(head: string[], rows: string[][]): string {
  const table = new Table({ head, style: { head: [], border: [], compact: true } });
  for (const row of rows) table.push(row);
  return table.toString();
}

/** `test1/httpbin:8000 POST /anything` as three short lines: service, port, request. */
const header = (target: string) => target.replace(':', '\n:').replace(' ', '\n');

function fullTable(s: ScenarioReport, o: TableOptions): string {
  const cells = cellMatrix(s);
  return grid(
    ['from \\ to', ...s.targets.map(header)],
    s.clients.map((from) => [from, ...s.targets.map((to) => cellText(cells.get(from, to), o, 'full'))]),
  );
}

/** A, B, ... Z, then AA, AB ...: a key per server port. */
function key(i: number): string {
  const letter = String.fromCharCode(65 + (i % 26));
  return i < 26 ? letter : key(Math.floor(i / 26) - 1) + letter;
}

/** Words packed into lines no wider than `width`, `gap` apart. */
function pack(words: string[], width: number, gap = '   ', indent = ''): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && columns(indent + line + gap + w) > width) {
      lines.push(indent + line);
      line = w;
    } else line = line ? line + gap + w : w;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** The table with a letter per server port, and the keys above it. */
function keyedTable(s: ScenarioReport, o: TableOptions, width: number): string {
  const cells = cellMatrix(s);
  const keys = s.targets.map((t, i) => `${key(i)} ${t}`);
  const table = grid(
    ['from \\ to', ...s.targets.map((_, i) => key(i))],
    s.clients.map((from) => [from, ...s.targets.map((to) => cellText(cells.get(from, to), o, 'keyed'))]),
  );
  return [...pack(keys, width), table].join('\n');
}

/** One block per client: a line per server, its ports side by side, wrapped to the width. */
function clientBlocks(s: ScenarioReport, o: TableOptions, width: number): string {
  const cells = cellMatrix(s);
  const services: Array<{ name: string; targets: string[] }> = [];
  for (const t of s.targets) {
    const name = t.slice(0, t.lastIndexOf(':'));
    const group = services.find((g) => g.name === name);
    if (group) group.targets.push(t);
    else services.push({ name, targets: [t] });
  }
  const nameWidth = Math.max(...services.map((g) => g.name.length));
  const portWidth = Math.max(...s.targets.map((t) => t.length - t.lastIndexOf(':')));
  const texts = s.clients.flatMap((from) => s.targets.map((to) => cellText(cells.get(from, to), o, 'blocks')));
  const cellWidth = Math.max(...texts.map(columns));
  const indent = `    ${' '.repeat(nameWidth)}  `;
  const lines: string[] = [];
  for (const from of s.clients) {
    lines.push(`  ${from} ->`);
    for (const g of services) {
      const entries = g.targets.map((to) => {
        const text = cellText(cells.get(from, to), o, 'blocks');
        return `${to.slice(to.lastIndexOf(':')).padEnd(portWidth)} ${text}${' '.repeat(cellWidth - columns(text))}`;
      });
      const packed = pack(entries, width, '   ', indent);
      lines.push(`    ${g.name.padEnd(nameWidth)}  ${packed[0]!.slice(indent.length)}`.trimEnd(), ...packed.slice(1));
    }
  }
  return lines.map((l) => l.trimEnd()).join('\n');
}

/** The matrix in the widest layout that fits. */
function matrix(s: ScenarioReport, o: TableOptions): string {
  const full = fullTable(s, o);
  if (o.wide || o.width === undefined || widest(full) <= o.width) return full;
  const keyed = keyedTable(s, o, o.width);
  if (widest(keyed) <= o.width) return keyed;
  return clientBlocks(s, o, o.width);
}

/** Text wrapped at word boundaries (or between `units`) to `width`, continuation lines indented two more. */
function wrap(text: string | string[], indent: string, width?: number): string[] {
  const units = typeof text === 'string' ? text.split(' ') : text;
  if (width === undefined) return [indent + units.join(' ')];
  return pack(units, width, ' ', indent).map((l, i) => (i === 0 ? l : `  ${l}`));
}

/**
 * Notes under the matrix: one per probe error, and one per group of cells not as expected in the same
 * way (same expectation and rule, same result, same prediction): what was expected, what the oracle
 * says of it, and the `meshprobe explain` command for the (first) cell.
 */
function cellNotes(doc: ReportDocument, s: ScenarioReport, o: TableOptions): string[] {
  const st = o.style;
  const notes: string[] = [];
  const name = (c: CellReport) => `${c.from} -> ${c.to}`;
  const groups = new Map<string, CellReport[]>();
  for (const c of s.cells.filter((c) => !c.match && !isError(c))) {
    const k = [c.expected.outcome, c.expected.rule, shownLabel(c), c.reason.predicted, c.expected.source].join('|');
    groups.set(k, [...(groups.get(k) ?? []), c]);
  }
  for (const cells of groups.values()) {
    const c = cells[0]!;
    const shown = c.observed ? `observed ${shownLabel(c)}` : `the oracle predicts ${shownLabel(c)}`;
    const rule = c.expected.rule ? ` (${c.expected.rule})` : '';
    const what = `${shown}, expected ${label(c.expected.outcome)}${rule}`;
    if (cells.length === 1) notes.push(...wrap(`${st.red('≠')} ${name(c)}: ${what}`, '', o.width));
    else
      notes.push(
        ...wrap(`${st.red('≠')} ${cells.length} cells: ${what}`, '', o.width),
        ...wrap(
          cells.map((x, i) => name(x) + (i < cells.length - 1 ? ',' : '')),
          '    ',
          o.width,
        ),
      );
    notes.push(
      ...wrap(
        oracleVerdict(doc, c, (x) => label(x)),
        '    ',
        o.width,
      ),
    );
    const explain = explainCommand(doc, s, c, o.cwd);
    notes.push(...wrap(explain ?? `reproduce: ${c.observed!.command}`, '    '));
  }
  for (const c of s.cells.filter(isError)) {
    const obs = c.observed!;
    notes.push(
      ...wrap(
        `${st.yellow('⚠')} ${name(c)}: the probe itself failed after ${obs.attempts} attempt${obs.attempts === 1 ? '' : 's'}: ${obs.error ?? 'no detail'}`,
        '',
        o.width,
      ),
      ...wrap(`reproduce: ${obs.command}`, '    '),
    );
  }
  return notes;
}

function heading(s: ScenarioReport, st: Style): string {
  const n = scenarioCounts(s);
  const observed = s.cells.some((c) => c.observed);
  const cells = (k: number) => `${k} cell${k === 1 ? '' : 's'}`;
  if (s.verdict === 'pass') return st.bold(st.green(`${VERDICT_MARK.pass} ${s.name}: as expected`));
  const parts: string[] = [];
  if (n.mismatched)
    parts.push(`${cells(n.mismatched)} ${observed ? 'not as expected' : 'where the scenario and the oracle disagree'}`);
  if (n.errors) parts.push(`${parts.length ? n.errors : cells(n.errors)} could not be probed`);
  const colour = s.verdict === 'error' ? st.yellow : st.red;
  return st.bold(colour(`${VERDICT_MARK[s.verdict]} ${s.name}: ${parts.join(', ')}`));
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

/** The description's first sentence: the default table's one-line reminder of what the scenario shows. */
function firstSentence(text: string): string {
  const end = text.search(/[.!?](\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

function renderScenario(doc: ReportDocument, s: ScenarioReport, o: TableOptions): string {
  const certs = (s.certificates ?? []).map(
    (c) =>
      `certificate of ${c.workload} (${c.pod}): ${c.spiffe.join(', ')}, serial ${c.serial}, valid ${c.notBefore} to ${c.notAfter} (${c.daysLeft} days left)`,
  );
  return [
    heading(s, o.style),
    ...wrap(o.wide ? s.description : firstSentence(s.description), '', o.width).map((l) => o.style.dim(l)),
    matrix(s, o),
    ...wrap(verdictLine(s, o.style), '', o.width),
    ...cellNotes(doc, s, o),
    // What the oracle left out (a CUSTOM policy's external decision), said once per scenario.
    ...scenarioNotes(s).flatMap((n) => wrap(o.style.yellow(`note: ${n}`), '', o.width)),
    ...certs,
  ].join('\n');
}

function legend(doc: ReportDocument): string[] {
  const words = new Set<Outcome | Expectation>();
  let mismatch = false;
  let error = false;
  for (const s of doc.scenarios)
    for (const c of s.cells) {
      words.add(c.observed?.outcome ?? c.reason.predicted);
      if (isError(c)) error = true;
      else if (!c.match) {
        mismatch = true;
        words.add(c.expected.outcome);
      }
    }
  return legendLines({ words, mismatch, error });
}

export function renderTables(doc: ReportDocument, o: TableOptions): string {
  // `-o wide` is the full table and whole lines at any width: for a log, or a terminal that scrolls sideways.
  if (o.wide) o = { ...o, width: undefined };
  const sections = doc.scenarios.map((s) => renderScenario(doc, s, o));
  const { summary } = doc;
  const n = summary.scenarios;
  const predicted = doc.metadata.command === 'predict';
  const counts = [`${summary.matched} as expected`, `${summary.mismatched} not`];
  if (!predicted) counts.push(`${summary.errors} probe error${summary.errors === 1 ? '' : 's'}`);
  const total = `${predicted ? 'Predicted' : 'Probed'} ${n} scenario${n === 1 ? '' : 's'} (Istio ${doc.metadata.flavor}), ${summary.cells} cells: ${counts.join(', ')}.`;
  const head = doc.scenarios.length ? [...legend(doc).map((l) => o.style.dim(l)), ''] : [];
  const tail = [
    ...wrap(total, '', o.width),
    ...incompleteLines(doc)
      .flatMap((l) => wrap(l, '', o.width))
      .map((l) => o.style.yellow(l)),
  ];
  return `${[...head, sections.join('\n\n')].join('\n')}\n\n${tail.join('\n')}\n`;
}
