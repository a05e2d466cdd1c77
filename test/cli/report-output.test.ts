import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const temp = () => mkdtempSync(join(tmpdir(), 'meshprobe-reports-'));

describe('predict -o and --report-dir', () => {
  it('prints each -o format on stdout', async () => {
    const args = ['predict', '--scenario', 'baseline', '-o'];
    expect(parse((await cli([...args, 'yaml'])).stdout)).toMatchObject({
      apiVersion: 'meshprobe/v1',
      summary: { cells: 40 },
    });
    expect((await cli([...args, 'junit'])).stdout).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="meshprobe predict" tests="40" failures="0" errors="0"/,
    );
    expect((await cli([...args, 'markdown'])).stdout).toMatch(/^## ✅ meshprobe predict: 1 scenario as expected\n/);
    expect((await cli([...args, 'html'])).stdout).toMatch(
      /^<!doctype html>[\s\S]*<section class="card scenario" id="s0" data-scenario="baseline" data-verdict="pass">/,
    );
    const wrong = await cli([...args, 'xml']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      "argument 'xml' is invalid. Allowed choices are table, wide, json, yaml, junit, markdown, html.",
    );
  });

  it('--report-dir writes the four machine formats while the terminal shows the table', async () => {
    const cwd = temp();
    const r = await cli(
      ['predict', '--scenario', 'baseline', '--scenario', 'mesh-strict-no-dr', '--report-dir', 'out/nightly'],
      { cwd },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('│ test1/sleep');
    const dir = join(cwd, 'out/nightly');
    expect(readdirSync(dir).sort()).toEqual(['junit.xml', 'report.html', 'results.json', 'summary.md']);
    expect(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).summary).toEqual({
      scenarios: 2,
      cells: 80,
      matched: 80,
      mismatched: 0,
      errors: 0,
    });
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('<testsuite name="mesh-strict-no-dr" tests="40"');
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('| ✅ | `mesh-strict-no-dr` | 40/40 | 0 |');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('data-scenario="mesh-strict-no-dr"');
    const sizes = ['results.json', 'junit.xml', 'summary.md', 'report.html'].map(
      (f) =>
        `out/nightly/${f} \\(${(statSync(join(dir, f)).size / 1024).toFixed(1)} KiB|${statSync(join(dir, f)).size} B\\)`,
    );
    expect(r.stderr).toMatch(new RegExp(`^meshprobe: wrote ${sizes.join(', ')}\\n$`));
    expect(
      (await cli(['-q', 'predict', '--scenario', 'baseline', '--report-dir', 'out/nightly'], { cwd })).stderr,
    ).toBe('');
  });

  it('--report-dir that cannot be written is a usage error naming the directory', async () => {
    const cwd = temp();
    writeFileSync(join(cwd, 'file'), '');
    const r = await cli(['predict', '--scenario', 'baseline', '--report-dir', 'file/sub'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`meshprobe: error: --report-dir ${join(cwd, 'file/sub')} cannot be used:`);
    expect(r.stderr).toContain('meshprobe: fix: choose a --report-dir that can be created and written to');
    expect(r.stdout).toBe('');
  });

  it('appends the markdown summary to $GITHUB_STEP_SUMMARY when it is set', async () => {
    const summary = join(temp(), 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = await cli(['predict', '--scenario', 'baseline', '-o', 'json'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(r.code).toBe(0);
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('# earlier step\n## ✅ meshprobe predict: 1 scenario as expected\n')).toBe(true);
    expect(text).toContain('| ✅ | `baseline` | 40/40 | 0 |');
    await cli(['predict', '--scenario', 'baseline'], { env: { GITHUB_STEP_SUMMARY: summary } });
    expect(readFileSync(summary, 'utf8').match(/meshprobe predict/g)).toHaveLength(2);
  });
});
