// The step summary stays well under GitHub's 1 MiB limit however large the run, and says so when cut.
import { describe, expect, it } from 'vitest';
import { summarize, type ReportDocument } from '../../src/report/document.js';
import { MAX_SUMMARY_BYTES, renderMarkdown } from '../../src/report/markdown.js';
import { runDocument } from './fixture.js';

/** The fixture's mismatching scenario, copied `n` times with every cell made a mismatch. */
function hugeRun(n: number): ReportDocument {
  const doc = runDocument();
  const template = doc.scenarios[1]!;
  doc.scenarios = Array.from({ length: n }, (_, i) => ({
    ...template,
    name: `scenario-${String(i).padStart(4, '0')}`,
    cells: Array.from({ length: 200 }, (_, j) => ({ ...template.cells[0]!, from: `ns${j}/sleep`, match: false })),
  }));
  doc.summary = summarize(doc.scenarios);
  return doc;
}

const bytes = (s: string) => Buffer.byteLength(s);

describe('markdown summary', () => {
  it('has one line per scenario with ✅, ❌ or ⚠️ and lists the cells not as expected', () => {
    const md = renderMarkdown(runDocument());
    expect(md.split('\n').filter((l) => /^\| (✅|❌|⚠️) \| `/.test(l))).toEqual([
      '| ✅ | `mesh-strict` | 6/6 | 0 | 0 | converged after 2 rounds (6.4 s) |',
      '| ❌ | `dr-disable-test1` | 4/6 | 2 | 0 | did not converge after 3 rounds (12.3 s) |',
      '| ⚠️ | `port-level` | 5/6 | 0 | 1 | converged after 1 round (3.1 s) |',
      '| ❌ | `authz-deny-other` | 5/6 | 1 | 0 | converged after 2 rounds (4.2 s) |',
    ]);
    expect(md).toContain('| `test3/sleep` | `test1/httpbin:8000` | plaintext | denied | 403 | 0 |');
    expect(md).toContain('| `test3/sleep` | `test1/httpbin:8000` | plaintext | reset | 000 | 56 |');
    expect(md).not.toContain('### ✅');
  });

  it('cuts long cell lists with a count', () => {
    const md = renderMarkdown(hugeRun(1), { maxCells: 5 });
    expect(md.match(/^\| `ns\d+\/sleep` /gm)).toHaveLength(5);
    expect(md).toContain('… and 195 more: see results.json or report.html.');
  });

  it('stays under the cap for thousands of mismatching cells, and says what it left out', () => {
    const doc = hugeRun(400);
    expect(bytes(JSON.stringify(doc))).toBeGreaterThan(10 * 1024 * 1024);
    const md = renderMarkdown(doc);
    expect(bytes(md)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    expect(MAX_SUMMARY_BYTES).toBeLessThanOrEqual((1024 * 1024) / 2);
    expect(md).toMatch(
      /_Summary cut to stay under 256 KiB: the cell lists of \d+ scenarios left out; see results.json or report.html._\n$/,
    );
    expect(md.match(/^\| ❌ \| `scenario-\d+` /gm)).toHaveLength(400); // every scenario keeps its line
    const tiny = renderMarkdown(doc, { maxBytes: 4096 });
    expect(bytes(tiny)).toBeLessThanOrEqual(4096);
    expect(tiny).toMatch(/scenario lines and the cell lists of 400 scenarios left out/);
  });

  it('keeps table cells intact when text holds pipes or markup', () => {
    const doc = runDocument();
    doc.scenarios[2]!.cells[0]!.observed!.error = 'exec | failed <b>\nnext line';
    const md = renderMarkdown(doc);
    expect(md).toContain('| error: exec \\| failed &lt;b> next line | — | — |');
  });
});
