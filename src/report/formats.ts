// The `-o` formats and the `--report-dir` files, shared by `predict` and `run`: text only; the CLI
// writes it (src/cli/report-options.ts).
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

/** What the terminal tables adapt to: its width, and where the command ran (for the commands they print). */
export interface TerminalOptions {
  width?: number;
  cwd?: string;
}

/** What `-o FORMAT` prints. Only the terminal tables use colour and the terminal's width. */
export function renderOutput(
  doc: ReportDocument,
  format: OutputFormat,
  style: Style,
  terminal: TerminalOptions = {},
): string {
  switch (format) {
    case 'table':
    case 'wide':
      return renderTables(doc, { style, wide: format === 'wide', ...terminal });
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
