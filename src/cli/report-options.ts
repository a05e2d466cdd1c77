// `-o` and `--report-dir` for the commands that produce a meshprobe/v1 document, and where
// their output goes: the chosen format on stdout, the files in the directory, the step summary.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.js';
import type { ReportDocument } from '../report/document.js';
import { OUTPUT_FORMATS, REPORT_FILES, renderOutput, type OutputFormat } from '../report/formats.js';
import { renderMarkdown } from '../report/markdown.js';
import type { CommandContext } from './program.js';
import { checkReportDir, makeDirs } from './report-dir.js';

export interface ReportOptions {
  output: OutputFormat;
  reportDir?: string;
}

export function addReportOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'what to print on stdout').choices(OUTPUT_FORMATS).default('table'))
    .option('--report-dir <dir>', 'also write results.json, junit.xml, summary.md and report.html into DIR');
}

/** Before any work: a --report-dir that cannot be created or written stops the command (exit 2). */
export function checkReportOptions(ctx: CommandContext, o: ReportOptions): void {
  if (o.reportDir !== undefined) checkReportDir(resolve(ctx.io.cwd, o.reportDir));
}

/** Prints the document, writes the report directory, and appends the step summary on GitHub Actions. */
export function emitReports(ctx: CommandContext, doc: ReportDocument, o: ReportOptions): void {
  ctx.io.stdout.write(
    renderOutput(doc, o.output, ctx.style, {
      ...(ctx.io.stdout.columns ? { width: ctx.io.stdout.columns } : {}),
      cwd: ctx.io.cwd,
    }),
  );
  const quiet = ctx.globals().quiet === true;
  if (o.reportDir) {
    const dir = resolve(ctx.io.cwd, o.reportDir);
    const files = guard(
      () => writeReportDir(dir, doc),
      `cannot write the reports into ${dir}`,
      'choose a writable --report-dir',
    );
    if (!quiet) {
      const list = files.map((f) => `${shortPath(ctx.io.cwd, f.path)} (${kib(f.bytes)})`).join(', ');
      ctx.io.stderr.write(`meshprobe: wrote ${list}\n`);
    }
  }
  guard(
    () => appendStepSummary(doc, ctx.io.env),
    'cannot append to $GITHUB_STEP_SUMMARY',
    'unset GITHUB_STEP_SUMMARY or point it at a writable file',
  );
}

interface WrittenFile {
  path: string;
  bytes: number;
}

/** Writes results.json, junit.xml, summary.md and report.html into `dir`, creating it; replaces earlier files. */
function writeReportDir(dir: string, doc: ReportDocument): WrittenFile[] {
  makeDirs(dir);
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
function appendStepSummary(doc: ReportDocument, env: Record<string, string | undefined>): string | undefined {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return undefined;
  appendFileSync(file, `${renderMarkdown(doc)}\n`);
  return file;
}

function shortPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

const kib = (bytes: number): string => (bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`);

function guard<T>(write: () => T, what: string, fix: string): T {
  try {
    return write();
  } catch (e) {
    throw new ConfigError(`${what}: ${(e as Error).message}`, fix);
  }
}
