// Self-contained docs: what a clone ships (the READMEs, docs/, the CLI's strings in src/, the report
// renderers, scenario and topology files) never names a file outside the repository, and every
// `docs/FILE.md#anchor` it cites, and every Markdown link, resolves in the clone. The CLI's own output
// (explain, reports, help) is held to the same rule.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { semanticsRef } from '../../src/report/references.js';
import { ROOT } from '../helpers/bin.js';
import { cli } from '../helpers/cli.js';

/** Files under `dir` (relative to the repository), recursively, whose names end in one of `exts`. */
function files(dir: string, exts: string[]): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => exts.some((e) => f.endsWith(e)) && statSync(join(ROOT, f)).isFile());
}

const SHIPPED = [
  'README.md',
  ...files('docs', ['.md']),
  ...files('test/emulator', ['README.md']),
  ...files('src', ['.ts']),
  ...files('scenarios', ['.yaml']),
  ...files('manifests', ['.yaml', '.yml']),
];

/** Documents a clone does not have, as earlier texts named them. */
const OUTSIDE = [
  /\.\.\/shared\b/,
  /\bshared\/(reference|DESIGN)/,
  /semantics reference/i,
  /mtls-article\.md/,
  /\/work\//,
];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const ids = [...text.matchAll(/<a (?:id|name)="([^"]+)"/g)].map((m) => m[1]!);
  const headings = [...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!));
  return new Set([...ids, ...headings]);
}

/** Where `target` (a path, maybe with #anchor) leads from `from`, and what is wrong with it, if anything. */
function broken(target: string, base: string): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined];
  const abs = path ? resolve(base, path) : undefined;
  if (abs && relative(ROOT, abs).startsWith('..')) return 'leads outside the repository';
  if (abs && !existsSync(abs)) return 'does not exist';
  if (anchor !== undefined && (!abs || abs.endsWith('.md')) && !anchors(abs ?? '').has(anchor))
    return `has no anchor #${anchor}`;
  return undefined;
}

/** The problems of one text: outside documents, `../` paths that leave the repository, dead citations. */
function problems(text: string, where: string, base: string): string[] {
  const found: string[] = [];
  for (const re of OUTSIDE) for (const m of text.matchAll(new RegExp(re, 'g'))) found.push(`${where}: names "${m[0]}"`);
  for (const m of text.matchAll(/(?:^|[\s`'"(])((?:\.\.\/)+[\w.@/-]*)/g)) {
    const abs = resolve(base, m[1]!);
    if (relative(ROOT, abs).startsWith('..')) found.push(`${where}: ${m[1]} leads outside the repository`);
  }
  for (const m of text.matchAll(/\bdocs\/[\w-]+\.md(?:#[\w-]+)?/g)) {
    const why = broken(m[0], ROOT);
    if (why) found.push(`${where}: ${m[0]} ${why}`);
  }
  return found;
}

describe('the docs a clone ships are self-contained', () => {
  it('no shipped file names a document outside the repository, and every docs/ citation resolves', () => {
    expect(SHIPPED).toEqual(expect.arrayContaining(['README.md', 'docs/semantics.md', 'docs/article.md']));
    const found = SHIPPED.flatMap((f) => problems(readFileSync(join(ROOT, f), 'utf8'), f, dirname(join(ROOT, f))));
    expect(found).toEqual([]);
  });

  it('every Markdown link resolves: the file exists in the clone, and so does the anchor', () => {
    const found: string[] = [];
    for (const f of SHIPPED.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        const why = broken(target.startsWith('#') ? `${f.split('/').pop()}${target}` : target, dirname(join(ROOT, f)));
        if (why) found.push(`${f}: (${target}) ${why}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the oracle cites a row of the outcome table that docs/semantics.md has, for every row it can give', () => {
    const combine = readFileSync(join(ROOT, 'src/oracle/combine.ts'), 'utf8');
    const rows = new Set(
      [...combine.matchAll(/\b(?:row: |row\()([\d, ]+)/g)].flatMap((m) =>
        m[1]!
          .split(',')
          .filter((x) => x.trim())
          .map(Number),
      ),
    );
    expect([...rows].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    for (const row of rows) expect(broken(semanticsRef(row)!, ROOT), `row ${row}`).toBeUndefined();
    expect(broken(semanticsRef(undefined, 'tls')!, ROOT)).toBeUndefined();
  });

  it("the CLI's output (help, explain, reports) names only what a clone has", async () => {
    const outputs = [
      (await cli(['--help'])).stdout,
      ...(await Promise.all(
        ['predict', 'explain', 'run', 'probe', 'setup', 'teardown', 'cleanup', 'diff'].map(
          async (c) => (await cli([c, '--help'])).stdout,
        ),
      )),
      (await cli(['predict', '-o', 'wide'])).stdout,
      (await cli(['predict', '-o', 'json'])).stdout,
      (await cli(['predict', '--istio', 'legacy', '-o', 'html'])).stdout,
      (await cli(['predict', '-o', 'junit'])).stdout,
      (
        await cli([
          'explain',
          '--scenario',
          'mesh-strict-no-dr',
          '--from',
          'test1/sleep',
          '--to',
          'test2/httpbin:8000',
          '--istio',
          'legacy',
        ])
      ).stdout,
      (await cli(['explain', '--scenario', 'https-nginx', '--from', 'test1/sleep', '--to', 'ngtest/my-nginx:443']))
        .stdout,
    ];
    const cited = outputs.join('\n').match(/docs\/semantics\.md#[\w-]+/g) ?? [];
    expect(cited).toEqual(
      expect.arrayContaining(['docs/semantics.md#outcome-row-10', 'docs/semantics.md#tls-and-tcp-ports']),
    );
    expect(outputs.flatMap((o, i) => problems(o, `output ${i}`, ROOT))).toEqual([]);
  });
});
