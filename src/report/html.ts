// report.html: one self-contained page, a heat-map matrix per scenario. Every cell carries a
// symbol and a word as well as a colour, so it reads in greyscale; hover shows its facts, a
// click opens them in a panel under the matrix (CSS :target, so it works without script).
import { stringify } from 'yaml';
import { incompleteLines } from './incomplete.js';
import { label, VERDICT_MARK } from './labels.js';
import {
  CELL_KINDS,
  cellFacts,
  cellKind,
  convergenceText,
  failingCount,
  headlineOf,
  isObserved,
  shownOutcome,
  shownWord,
  verdictText,
  type CellKind,
} from './cells.js';
import type { CertificateReport } from '../model/results.js';
import { cellMatrix, scenarioCounts, type CellReport, type ReportDocument, type ScenarioReport } from './document.js';
import { escapeHtml as h } from './escape.js';
import { CSS, SCRIPT } from './html-style.js';

// A scenario's verdict: = and ≠ as in the cells' "not as expected"; ✔ and ✘ are for cells alone (reached, blocked).
const VERDICT = {
  pass: { mark: VERDICT_MARK.pass, words: 'as expected' },
  mismatch: { mark: VERDICT_MARK.mismatch, words: 'not as expected' },
  error: { mark: VERDICT_MARK.error, words: 'probe errors' },
} as const;

/** Certificates this close to expiry are flagged. */
const EXPIRY_WARNING_DAYS = 7;

const LEGEND_SAMPLE: Record<CellKind, string> = {
  mtls: '✔ mTLS',
  plain: '✔ plain',
  'app-tls': '✔ tls-app',
  blocked: '✘ reset',
  unexpected: '≠ ✘ 503',
  error: '⚠ ERROR',
};

function cellContent(c: CellReport): string {
  const o = c.observed;
  const kind = cellKind(c);
  if (kind === 'error') return '⚠ ERROR<small>probe failed</small>';
  const text = h(label(shownOutcome(c), o?.httpCode));
  if (kind !== 'unexpected') return text;
  return `≠ ${text}<small>want ${h(label(c.expected.outcome))}</small>`;
}

/** The hover text: the verdict and why, short; the panel has every fact. */
function tooltip(doc: ReportDocument, c: CellReport): string {
  const o = c.observed;
  const lines = [`${c.from} → ${c.to}`, verdictText(doc, c)];
  if (o?.peer) lines.push(`peer ${o.peer}`);
  if (o && o.attempts > 1) lines.push(`${o.attempts} attempts`);
  lines.push(`oracle: ${c.reason.summary}`, 'click for the details and the command to reproduce');
  return lines.join('\n');
}

function matrix(doc: ReportDocument, s: ScenarioReport, si: number): string {
  const cells = cellMatrix(s);
  const head = s.targets
    .map((t) => {
      const [svc = t, rest] = t.split(':');
      // A further request to a port, `test1/httpbin:8000 POST /anything`, shows its request on a line of its own.
      const [port, ...request] = (rest ?? '').split(' ');
      return `<th scope="col">${h(svc)}${rest ? `<span class="port">:${h(port!)}</span>` : ''}${request.length ? `<br><span class="port">${h(request.join(' '))}</span>` : ''}</th>`;
    })
    .join('');
  const rows = s.clients.map((from) => {
    const row = s.targets.map((to) => {
      const c = cells.get(from, to);
      const tip = tooltip(doc, c);
      return `<td data-from="${h(c.from)}" data-to="${h(c.to)}" data-kind="${cellKind(c)}"><a class="c k-${cellKind(c)}" href="#c${si}-${c.index}" title="${h(tip)}">${cellContent(c)}</a></td>`;
    });
    return `<tr><th scope="row">${h(from)}</th>${row.join('')}</tr>`;
  });
  return `<div class="scroll"><table class="matrix" id="m${si}"><thead><tr><th class="corner" scope="col">from \\ to</th>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table></div>`;
}

function panel(doc: ReportDocument, s: ScenarioReport, si: number, c: CellReport, i: number): string {
  const facts = cellFacts(doc, s, c);
  const command = facts.find(([k]) => k === 'reproduce')![1];
  const dl = facts
    .filter(([k]) => k !== 'reproduce')
    .map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`)
    .join('');
  return `<div class="detail" id="c${si}-${i}"><h3><span>${h(c.from)} → ${h(c.to)}: ${h(verdictText(doc, c))}</span><a href="#m${si}">close</a></h3><dl class="facts">${dl}</dl><pre><code>${h(command)}</code></pre></div>`;
}

function certificates(certs: CertificateReport[]): string {
  const rows = certs.map(
    (c) =>
      `<tr><td>${h(c.workload)}</td><td class="mono">${h(c.pod)}</td><td class="mono">${c.spiffe.map(h).join('<br>')}</td><td class="mono">${h(c.serial)}</td><td>${h(c.notBefore)}</td><td>${h(c.notAfter)}</td><td${c.daysLeft < EXPIRY_WARNING_DAYS ? ' class="soon"' : ''}>${c.daysLeft}</td></tr>`,
  );
  return `<details open><summary>Certificates (${certs.length})</summary><div class="scroll"><table class="grid"><thead><tr><th>workload</th><th>pod</th><th>SPIFFE identity</th><th>serial</th><th>not before</th><th>not after</th><th>days left</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

function rounds(s: ScenarioReport): string {
  const history = s.convergence?.history ?? [];
  if (history.length === 0) return '';
  const rows = history.map(
    (r) =>
      `<tr><td>${r.round}</td><td>${r.at.toFixed(1)} s</td><td>${r.seconds.toFixed(1)} s</td><td>${r.matched}</td><td>${r.mismatched}</td><td>${r.errors}</td><td>${r.execs}</td><td>${(r.changed ?? []).map(h).join('<br>')}</td></tr>`,
  );
  return `<details><summary>Rounds (${history.length})</summary><div class="scroll"><table class="grid"><thead><tr><th>round</th><th>at</th><th>took</th><th>as expected</th><th>not</th><th>probe errors</th><th>execs</th><th>changed since the round before</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></details>`;
}

function objects(s: ScenarioReport): string {
  if (s.objects.length === 0) return '<p class="muted">No policy objects: the mesh as installed.</p>';
  const yaml = s.objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
  return `<details><summary>Policy objects (${s.objects.length})</summary><pre><code>${h(yaml)}</code></pre></details>`;
}

const link = (source: string): string =>
  /^https?:\/\//.test(source) ? `<a href="${h(source)}" rel="noreferrer">${h(source)}</a>` : h(source);

function scenario(doc: ReportDocument, s: ScenarioReport, si: number): string {
  const v = VERDICT[s.verdict];
  const n = scenarioCounts(s);
  const counts = [
    `${n.matched}/${n.cells} cells as expected`,
    n.mismatched ? `${n.mismatched} not` : '',
    n.errors ? `${n.errors} could not be probed` : '',
    convergenceText(s) ?? '',
  ]
    .filter(Boolean)
    .join('; ');
  const bad = s.cells.map((c, i) => ({ c, i })).filter(({ c }) => !c.match);
  const issues = bad.length
    ? `<ul class="issues">${bad.map(({ c, i }) => `<li><a href="#c${si}-${i}">${h(c.from)} → ${h(c.to)}</a>: ${h(verdictText(doc, c))}</li>`).join('')}</ul>`
    : '';
  return [
    `<section class="card scenario" id="s${si}" data-scenario="${h(s.name)}" data-verdict="${s.verdict}">`,
    `<h2><span class="v-${s.verdict}" title="${v.words}">${v.mark}</span> ${h(s.name)} <span class="muted">· ${v.words}</span></h2>`,
    `<p>${h(s.description)}</p>`,
    s.sources.length ? `<p class="muted">Sources: ${s.sources.map(link).join(' · ')}</p>` : '',
    matrix(doc, s, si),
    `<p class="verdict-line">${h(counts)}</p>`,
    issues,
    ...s.cells.map((c, i) => panel(doc, s, si, c, i)),
    objects(s),
    rounds(s),
    s.certificates?.length ? certificates(s.certificates) : '',
    '</section>',
  ]
    .filter(Boolean)
    .join('\n');
}

function header(doc: ReportDocument): string {
  const m = doc.metadata;
  const s = doc.summary;
  const failing = failingCount(doc);
  const headline = headlineOf(doc);
  const meta: Array<[string, string]> = [
    ...(m.cluster
      ? ([['context', `${m.cluster.context} (${m.cluster.server})`]] as Array<[string, string]>)
      : ([['cluster', 'none: predicted by the oracle']] as Array<[string, string]>)),
    ['Istio', m.flavor],
    ['topology', m.topology],
    ['generated', m.generatedAt],
    ['meshprobe', m.meshprobeVersion],
  ];
  const counts: Array<[number, string, string]> = [
    [s.cells, 'cells', ''],
    [s.matched, 'as expected', ''],
    [s.mismatched, 'not as expected', s.mismatched ? 'bad' : ''],
    ...(isObserved(doc)
      ? ([[s.errors, s.errors === 1 ? 'probe error' : 'probe errors', s.errors ? 'warn' : '']] as Array<
          [number, string, string]
        >)
      : []),
  ];
  const toc = doc.scenarios.map(
    (sc, i) =>
      `<li><a href="#s${i}"><span class="v-${sc.verdict}">${VERDICT[sc.verdict].mark}</span> ${h(sc.name)}</a> <span class="muted">${h(scenarioCounts(sc).matched.toString())}/${sc.cells.length}</span></li>`,
  );
  return [
    `<header class="card">`,
    `<h1>meshprobe <span class="cmd">${m.command}</span></h1>`,
    `<p class="headline"><span class="v-${failing ? 'mismatch' : 'pass'}">${failing ? VERDICT_MARK.mismatch : VERDICT_MARK.pass}</span> ${h(headline)}</p>`,
    `<dl class="meta">${meta.map(([k, v]) => `<div><dt>${h(k)}</dt><dd>${h(v)}</dd></div>`).join('')}</dl>`,
    `<ul class="counts">${counts.map(([n, w, c]) => `<li${c ? ` class="${c}"` : ''}><b>${n}</b> ${w}</li>`).join('')}</ul>`,
    `<ul class="toc">${toc.join('')}</ul>`,
    `</header>`,
  ].join('\n');
}

function legend(doc: ReportDocument): string {
  const items = CELL_KINDS.filter((k) => isObserved(doc) || k.kind !== 'error').map(
    (k) =>
      `<li><span class="swatch k-${k.kind}">${h(LEGEND_SAMPLE[k.kind])}</span><span><b>${h(k.title)}</b>: ${h(k.meaning)}</span></li>`,
  );
  const how = `Rows are clients, columns are server ports; each cell shows what was ${shownWord(doc)}. Hover a cell for its facts, click it for the panel with the command that reproduces it.`;
  return `<section class="card"><h2>Legend</h2><p class="muted">${h(how)}</p><ul class="legend">${items.join('')}</ul></section>`;
}

/** A run that failed half-way: a banner before the matrices (styled inline, so a clean run's page is unchanged). */
function incomplete(doc: ReportDocument): string {
  const lines = incompleteLines(doc);
  if (!lines.length) return '';
  return `<section class="card incomplete" role="alert" style="border: 2px solid var(--warn)"><h2 style="color: var(--warn)">⚠ Incomplete run</h2>${lines.map((l) => `<p>${h(l)}</p>`).join('')}</section>\n`;
}

export function renderHtml(doc: ReportDocument): string {
  const m = doc.metadata;
  const title = `meshprobe ${m.command}: ${headlineOf(doc)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="meshprobe ${h(m.meshprobeVersion)}">
<title>${h(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${header(doc)}
${incomplete(doc)}${legend(doc)}
${doc.scenarios.map((s, i) => scenario(doc, s, i)).join('\n')}
<footer>${h(`${doc.apiVersion} ${doc.kind}`)} · the same data as results.json · meshprobe ${h(m.meshprobeVersion)}</footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
