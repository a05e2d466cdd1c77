// `meshprobe diff -o markdown`: a pull-request comment. The worst changes come first (CHANGE_KINDS
// order), each with the objects that decide it on both sides; the text is capped so GitHub takes it,
// and what had to be left out is counted in a closing line.
import { CHANGE_KINDS, worstFirst, type ChangeKind } from '../model/policy-diff.js';
import type { Step } from '../model/prediction.js';
import {
  CHANGE_TITLES,
  kindsText,
  sideText,
  type ChangeReport,
  type PolicyDiffDocument,
  type SideReport,
} from './diff-document.js';
import { cell, code } from './markdown.js';

/**
 * GitHub refuses a comment body over 65,536 characters ("Body is too long (maximum is 65536
 * characters)", the REST API's 422; quoted in danger/danger#424). The cap counts UTF-8 bytes, which
 * are never fewer than characters however GitHub counts them (code points or UTF-16 units).
 */
export const MAX_COMMENT_BYTES = 65_536;

/** The first line: a workflow finds its earlier comment by it and updates that one instead of adding another. */
export const COMMENT_MARKER = '<!-- meshprobe diff -->';

const MARKS: Record<ChangeKind, string> = {
  blocked: '⛔',
  'mtls-lost': '🔓',
  reachable: '🚪',
  other: '🔀',
  'mtls-gained': '🔒',
};

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
// "mTLS" keeps its lower-case m.
const title = (k: ChangeKind) => CHANGE_TITLES[k].replace(/^(?!mTLS)./, (c) => c.toUpperCase());
const steps = (chain: Step[]) => chain.map((s) => cell(`${s.by}: ${s.says}`)).join('<br>');
const side = (s: SideReport) => `${code(s.side)} (${cell(sideText(s))})`;

function header(doc: PolicyDiffDocument): string {
  const m = doc.metadata;
  const s = doc.summary;
  const mark = s.failing > 0 ? '❌' : s.changed > 0 ? '⚠️' : '✅';
  const what = s.changed ? `${s.changed} of ${s.cells} cells change` : `no cell changes (${s.cells} cells)`;
  const lines = [
    COMMENT_MARKER,
    `## ${mark} meshprobe diff: ${what}`,
    '',
    `Base ${side(doc.base)} → head ${side(doc.head)}.`,
    `Predicted by the oracle (no cluster probed${m.cluster ? `; policies read from context ${code(m.cluster.context)}` : ''}), Istio ${m.flavor}, topology ${code(m.topology)}${m.namespacePrefix ? `, namespace prefix ${code(m.namespacePrefix)}` : ''}, meshprobe ${m.meshprobeVersion}.`,
  ];
  if (m.failOn) lines.push(`\`--fail-on ${m.failOn.join(',')}\`: **${s.failing}** of the changes fail the check.`);
  if (s.changed) {
    lines.push('', '| change | cells |', '|---|--:|');
    for (const k of CHANGE_KINDS) lines.push(`| ${MARKS[k]} ${CHANGE_TITLES[k]} | ${s.kinds[k]} |`);
  }
  return `${lines.join('\n')}\n`;
}

const row = (c: ChangeReport) =>
  `| ${code(c.from)} | ${code(c.to)} | ${c.base.outcome} → ${c.head.outcome} | ${steps([...c.base.client, ...c.base.server, ...(c.base.authorization ?? [])])} | ${steps([...c.head.client, ...c.head.server, ...(c.head.authorization ?? [])])} |`;

export function renderDiffMarkdown(doc: PolicyDiffDocument, o: { maxBytes?: number } = {}): string {
  const max = o.maxBytes ?? MAX_COMMENT_BYTES;
  // Room for the closing line, so adding it never breaks the cap.
  const reserve = 400;
  let out = header(doc);
  const changes = worstFirst(doc.changes, (c) => c.change);
  let shown = 0;
  for (const kind of CHANGE_KINDS) {
    const mine = changes.filter((c) => c.change === kind);
    if (mine.length === 0) continue;
    const head = (n: number) =>
      `\n### ${MARKS[kind]} ${title(kind)}: ${mine.length}${n < mine.length ? ` (${n} shown)` : ''}\n\n| from | to | base → head | base: decided by | head: decided by |\n|---|---|---|---|---|\n`;
    let rows = '';
    let n = 0;
    for (const c of mine) {
      const line = `${row(c)}\n`;
      if (bytes(out) + bytes(head(n + 1)) + bytes(rows) + bytes(line) + reserve > max) break;
      rows += line;
      n++;
    }
    if (n > 0) out += head(n) + rows;
    shown += n;
    if (n < mine.length) break;
  }
  const left = changes.slice(shown);
  if (left.length) {
    const counts = Object.fromEntries(CHANGE_KINDS.map((k) => [k, left.filter((c) => c.change === k).length]));
    out += `\n_${left.length} change${left.length === 1 ? '' : 's'} left out to stay under GitHub's ${max.toLocaleString('en-US')}-character comment limit (${kindsText(counts as Record<ChangeKind, number>)}); \`meshprobe diff … -o json\` lists them all._\n`;
  }
  return out;
}
