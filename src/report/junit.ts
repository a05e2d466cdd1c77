// junit.xml: one <testsuite> per scenario, one <testcase> per cell, in the subset of the JUnit
// format that GitLab, Jenkins (xunit's junit-10.xsd) and mikepenz/action-junit-report all read.
// A probe that could not run is an <error>, never a <failure>: it says nothing about the policy.
import {
  cellFacts,
  convergenceText,
  factLines,
  httpText,
  reproduce,
  shownOutcome,
  shownWord,
  verdictText,
} from './cells.js';
import { scenarioCounts, type CellReport, type ReportDocument, type ScenarioReport } from './document.js';
import { escapeXml, escapeXmlAttribute } from './escape.js';
import { incompleteLines } from './incomplete.js';

const attrs = (a: Record<string, string | number | undefined>): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXmlAttribute(String(v))}"`)
    .join('');

function testcase(doc: ReportDocument, s: ScenarioReport, c: CellReport): string {
  const open = `    <testcase${attrs({ classname: s.name, name: `${c.from} -> ${c.to}` })}>`;
  const body = escapeXml(factLines(cellFacts(doc, s, c)));
  const message = `${verdictText(doc, c)}; reproduce: ${reproduce(doc, s, c)}`;
  if (c.observed?.outcome === 'error')
    return `${open}\n      <error${attrs({ type: 'probe-error', message })}>${body}</error>\n    </testcase>`;
  if (!c.match)
    return `${open}\n      <failure${attrs({ type: c.observed ? 'mismatch' : 'prediction-mismatch', message })}>${body}</failure>\n    </testcase>`;
  const o = c.observed;
  const seen = o
    ? `${o.outcome} (HTTP ${httpText(o.httpCode)}, curl exit ${o.curlExit ?? 0})${o.peer ? `, peer ${o.peer}` : ''}`
    : shownOutcome(c);
  return `${open}\n      <system-out>${escapeXml(`${shownWord(doc)} ${seen}`)}</system-out>\n    </testcase>`;
}

function testsuite(doc: ReportDocument, s: ScenarioReport): string {
  const n = scenarioCounts(s);
  const head = attrs({
    name: s.name,
    tests: n.cells,
    failures: n.mismatched,
    errors: n.errors,
    skipped: 0,
    time: (s.convergence?.seconds ?? 0).toFixed(3),
    timestamp: timestamp(doc),
  });
  const props: Array<[string, string]> = [
    ['description', s.description],
    ['file', s.file],
    ['verdict', s.verdict],
    ...(s.convergence ? ([['convergence', convergenceText(s)!]] as Array<[string, string]>) : []),
  ];
  const properties = `    <properties>\n${props.map(([name, value]) => `      <property${attrs({ name, value })}/>`).join('\n')}\n    </properties>`;
  return [`  <testsuite${head}>`, properties, ...s.cells.map((c) => testcase(doc, s, c)), '  </testsuite>'].join('\n');
}

/** ISO 8601 without a zone: the Ant schema's pattern, which the strictest readers enforce. Always UTC. */
const timestamp = (doc: ReportDocument): string => doc.metadata.generatedAt.slice(0, 19);

/** A run that did not finish is one more testcase, an <error>: CI shows it beside the cells' results. */
function incompleteSuite(doc: ReportDocument): string[] {
  const lines = incompleteLines(doc);
  if (!lines.length) return [];
  const head = attrs({
    name: 'meshprobe',
    tests: 1,
    failures: 0,
    errors: 1,
    skipped: 0,
    time: '0.000',
    timestamp: timestamp(doc),
  });
  return [
    `  <testsuite${head}>`,
    `    <testcase${attrs({ classname: 'meshprobe', name: 'the run finished and left the cluster as it found it' })}>`,
    `      <error${attrs({ type: 'run-incomplete', message: lines[0] })}>${escapeXml(lines.join('\n'))}</error>`,
    '    </testcase>',
    '  </testsuite>',
  ];
}

export function renderJunit(doc: ReportDocument): string {
  const s = doc.summary;
  const extra = doc.incomplete ? 1 : 0;
  const time = doc.scenarios.reduce((t, sc) => t + (sc.convergence?.seconds ?? 0), 0);
  const root = attrs({
    name: `meshprobe ${doc.metadata.command}`,
    tests: s.cells + extra,
    failures: s.mismatched,
    errors: s.errors + extra,
    time: time.toFixed(3),
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${root}>`,
    ...doc.scenarios.map((sc) => testsuite(doc, sc)),
    ...incompleteSuite(doc),
    '</testsuites>',
    '',
  ].join('\n');
}
