// `meshprobe diff` in a terminal: the changed cells in a table, worst first, then for each the two
// chains of objects that decided it, as `explain` prints them.
import Table from 'cli-table3';
import { cellName } from '../model/matrix.js';
import { worstFirst, type ChangeKind } from '../model/policy-diff.js';
import {
  CHANGE_TITLES,
  kindsText,
  sideText,
  type ChangeReport,
  type PolicyDiffDocument,
  type PredictionReport,
} from './diff-document.js';
import { label } from './labels.js';
import type { Style } from './style.js';

const tint = (kind: ChangeKind, st: Style): ((s: string) => string) =>
  kind === 'mtls-gained' ? st.green : kind === 'blocked' || kind === 'mtls-lost' ? st.red : st.yellow;

function reasonLines(name: string, p: PredictionReport, st: Style): string[] {
  return [
    `  ${name}: ${label(p.outcome)}: ${p.summary}`,
    ...[...p.client, ...p.server, ...(p.authorization ?? [])].map((s) => st.dim(`    ${s.by}: ${s.says}`)),
  ];
}

/**
 * One block per distinct pair of reasons: a mesh-wide change gives many cells the same two chains, and
 * one explanation under the list of its cells reads better than the same lines again and again.
 */
function explanations(changes: ChangeReport[], st: Style): string[] {
  const groups = new Map<string, ChangeReport[]>();
  for (const c of changes) {
    const key = JSON.stringify([c.change, c.base, c.head]);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((cells) => {
    const c = cells[0]!;
    const what = `${label(c.base.outcome)} → ${label(c.head.outcome)} (${tint(c.change, st)(CHANGE_TITLES[c.change])})`;
    const names = cells.map((x) => st.bold(cellName(x.from, x.to)));
    const head =
      cells.length === 1 ? [`${names[0]}: ${what}`] : [`${cells.length} cells: ${what}`, ...names.map((n) => `  ${n}`)];
    return [...head, ...reasonLines('base', c.base, st), ...reasonLines('head', c.head, st)].join('\n');
  });
}

export function renderDiffTable(doc: PolicyDiffDocument, st: Style): string {
  const m = doc.metadata;
  const s = doc.summary;
  const lines = [
    st.bold(
      `meshprobe diff: ${s.changed ? `${s.changed} of ${s.cells} cells change` : `no cell changes (${s.cells} cells)`}`,
    ) +
      st.dim(`   Istio ${m.flavor}, topology ${m.topology}${m.namespacePrefix ? `, prefix ${m.namespacePrefix}` : ''}`),
    `  base  ${doc.base.side}: ${sideText(doc.base)}`,
    `  head  ${doc.head.side}: ${sideText(doc.head)}`,
  ];
  if (s.changed === 0) return `${lines.join('\n')}\n`;

  const changes = worstFirst(doc.changes, (c) => c.change);
  const table = new Table({
    head: ['from', 'to', 'base', 'head', 'change'],
    style: { head: [], border: [], compact: true },
  });
  for (const c of changes)
    table.push([
      c.from,
      c.to,
      label(c.base.outcome),
      label(c.head.outcome),
      tint(c.change, st)(CHANGE_TITLES[c.change]),
    ]);
  const failing = m.failOn ? `; ${s.failing} of the kinds --fail-on ${m.failOn.join(',')} names` : '';
  return [
    ...lines,
    '',
    table.toString(),
    '',
    explanations(changes, st).join('\n\n'),
    '',
    `${s.changed} of ${s.cells} cells change: ${kindsText(s.kinds)}${failing}.`,
    '',
  ].join('\n');
}
