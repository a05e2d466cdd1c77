// The `-o` formats and the `--report-dir` files, shared by `predict` and `run`.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReportDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import type { Style } from './style.js';
import { renderTables } from './table.js';
import { renderYaml } from './yaml.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'junit', 'markdown', 'html'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What `-o FORMAT` prints. Only the terminal tables use colour. */
export function renderOutput(doc: ReportDocument, format: OutputFormat, style: Style): string {
  switch (format) {
    case 'table':
    case 'wide':
      return renderTables(doc, { style, wide: format === 'wide' });
    case 'json':
      return renderJson(doc);
    case 'yaml':
      return renderYaml(doc);
    case 'junit':
      return renderJunit(doc);
    case 'markdown':
      return renderMarkdown(doc);
    case 'html':
      return renderHtml(doc);
  }
}

/** The machine formats `--report-dir` writes, by file name. */
export const REPORT_FILES = {
  'results.json': renderJson,
  'junit.xml': renderJunit,
  'summary.md': (doc: ReportDocument) => renderMarkdown(doc),
  'report.html': renderHtml,
} as const;

export interface WrittenFile {
  path: string;
  bytes: number;
}

/** Writes results.json, junit.xml, summary.md and report.html into `dir`, creating it; replaces earlier files. */
export function writeReportDir(dir: string, doc: ReportDocument): WrittenFile[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(REPORT_FILES).map(([name, render]) => {
    const path = join(dir, name);
    const text = render(doc);
    writeFileSync(path, text);
    return { path, bytes: Buffer.byteLength(text) };
  });
}

/**
 * Appends the Markdown summary to the file GitHub Actions names in GITHUB_STEP_SUMMARY, if it does.
 * Returns the file appended to.
 */
export function appendStepSummary(doc: ReportDocument, env: Record<string, string | undefined>): string | undefined {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  appendFileSync(file, `${renderMarkdown(doc)}\n`);
  return file;
}
