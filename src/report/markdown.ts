// summary.md and the GitHub step summary: one line per scenario, then the cells that were not as
// expected. GitHub refuses a step summary over 1 MiB, so the text is capped well below that:
// long cell lists are cut with a count, and whole sections are dropped last-first with a note.
import {
  convergenceText,
  failingCount,
  headlineOf,
  httpText,
  ranCurl,
  isObserved,
  reproduce,
  shownOutcome,
  shownWord,
} from './cells.js';
import { scenarioCounts, type CellReport, type ReportDocument, type ScenarioReport } from './document.js';
import { incompleteLines } from './incomplete.js';

export interface MarkdownOptions {
  /** Upper bound on the UTF-8 size of the whole text. */
  maxBytes?: number;
  /** Cells listed per scenario before the list is cut with a count. */
  maxCells?: number;
}

/** A quarter of GitHub's limit: other steps of the job may write to the same summary. */
export const MAX_SUMMARY_BYTES = 256 * 1024;
export const MAX_LISTED_CELLS = 30;

const MARK = { pass: '✅', mismatch: '❌', error: '⚠️' } as const;

/** Text inside a table cell: a pipe would end the cell, a line break the row, `<` could open HTML. */
export const cell = (s: string): string =>
  s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/\r?\n/g, ' ');
/** Inline code that survives backticks inside it. */
export const code = (s: string): string => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function header(doc: ReportDocument): string {
  const m = doc.metadata;
  const s = doc.summary;
  const failing = failingCount(doc);
  const mark = doc.scenarios.some((sc) => sc.verdict === 'mismatch')
    ? MARK.mismatch
    : failing || doc.incomplete
      ? MARK.error
      : MARK.pass;
  const headline = headlineOf(doc);
  const where = m.cluster ? `context ${code(m.cluster.context)} (${m.cluster.server})` : 'no cluster (oracle only)';
  const lines = [
    `## ${mark} meshprobe ${m.command}: ${headline}`,
    '',
    `${where}, Istio ${m.flavor}, topology ${code(m.topology)}, ${m.generatedAt}, meshprobe ${m.meshprobeVersion}.`,
    `**${s.cells} cells: ${s.matched} as expected, ${s.mismatched} not${isObserved(doc) ? `, ${s.errors} probe error${s.errors === 1 ? '' : 's'}` : ''}.**`,
  ];
  return `${lines.join('\n')}\n`;
}

function scenarioRow(doc: ReportDocument, s: ScenarioReport): string {
  const n = scenarioCounts(s);
  const cols = [MARK[s.verdict], code(s.name), `${n.matched}/${n.cells}`, String(n.mismatched)];
  if (isObserved(doc)) cols.push(String(n.errors), cell(convergenceText(s) ?? '—'));
  return `| ${cols.join(' | ')} |`;
}

function scenarioTable(doc: ReportDocument, rows: string[]): string {
  const head = isObserved(doc)
    ? ['', 'scenario', 'as expected', 'not', 'probe errors', 'convergence']
    : ['', 'scenario', 'as expected', 'not'];
  const align = isObserved(doc) ? ['-', '-', '-:', '-:', '-:', '-'] : ['-', '-', '-:', '-:'];
  return [`| ${head.join(' | ')} |`, `|${align.join('|')}|`, ...rows].join('\n');
}

function cellRow(doc: ReportDocument, c: CellReport): string {
  const o = c.observed;
  const cols = [
    code(c.from),
    code(c.to),
    c.expected.outcome,
    o?.outcome === 'error' ? `error: ${cell(o.error ?? 'no detail')}` : shownOutcome(c),
  ];
  if (isObserved(doc))
    cols.push(o && ranCurl(o) ? httpText(o.httpCode) : '—', o && ranCurl(o) ? String(o.curlExit ?? 0) : '—');
  return `| ${cols.join(' | ')} |`;
}

function scenarioSection(doc: ReportDocument, s: ScenarioReport, maxCells: number): string {
  const bad = s.cells.filter((c) => !c.match);
  const listed = bad.slice(0, maxCells);
  const n = scenarioCounts(s);
  const counts = [
    n.mismatched ? `${n.mismatched} not as expected` : '',
    n.errors ? `${n.errors} could not be probed` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const head = isObserved(doc)
    ? ['from', 'to', 'expected', 'observed', 'HTTP', 'curl exit']
    : ['from', 'to', 'expected', shownWord(doc)];
  const lines = [
    `### ${MARK[s.verdict]} ${s.name}: ${counts}`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '-').join('|')}|`,
    ...listed.map((c) => cellRow(doc, c)),
  ];
  if (bad.length > listed.length)
    lines.push('', `… and ${bad.length - listed.length} more: see results.json or report.html.`);
  lines.push(
    '',
    '<details><summary>Reproduce</summary>',
    '',
    '```sh',
    ...listed.map((c) => `${reproduce(doc, s, c)}  # ${c.from} -> ${c.to}`),
    '```',
    '',
    '</details>',
  );
  return `${lines.join('\n')}\n`;
}

export function renderMarkdown(doc: ReportDocument, o: MarkdownOptions = {}): string {
  const maxBytes = o.maxBytes ?? MAX_SUMMARY_BYTES;
  const maxCells = o.maxCells ?? MAX_LISTED_CELLS;
  // Room kept for the closing note, so adding it never breaks the cap.
  const reserve = 200;
  let out = header(doc);
  // What the run left in the cluster comes first: it is what someone must act on. Capped, like the rest.
  const incomplete = incompleteLines(doc).map((l) => `> ${cell(l).slice(0, 4096)}`);
  if (incomplete.length) out += `\n> ${MARK.error} **Incomplete run**\n>\n${incomplete.join('\n>\n')}\n`;
  const rows = doc.scenarios.map((s) => scenarioRow(doc, s));
  let shownRows = rows.length;
  while (shownRows > 0 && bytes(out) + bytes(scenarioTable(doc, rows.slice(0, shownRows))) + reserve > maxBytes)
    shownRows--;
  out += `\n${scenarioTable(doc, rows.slice(0, shownRows))}\n`;
  const omitted: string[] = rows.length > shownRows ? [`${rows.length - shownRows} scenario lines`] : [];
  const sections = doc.scenarios.filter((s) => s.verdict !== 'pass').map((s) => scenarioSection(doc, s, maxCells));
  let shownSections = 0;
  for (const section of sections) {
    if (bytes(out) + bytes(section) + 1 + reserve > maxBytes) break;
    out += `\n${section}`;
    shownSections++;
  }
  if (sections.length > shownSections)
    omitted.push(
      `the cell lists of ${sections.length - shownSections} scenario${sections.length - shownSections === 1 ? '' : 's'}`,
    );
  if (omitted.length)
    out += `\n_Summary cut to stay under ${Math.floor(maxBytes / 1024)} KiB: ${omitted.join(' and ')} left out; see results.json or report.html._\n`;
  return out;
}
