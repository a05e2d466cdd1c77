// Golden files for every output format, from the fixed documents in fixture.ts.
// After an intended change, regenerate them and review the diff:
//   npx vitest run test/report -u
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS, renderOutput, type OutputFormat } from '../../src/report/formats.js';
import { style } from '../../src/report/style.js';
import { articleRunDocument, predictDocument, runDocument } from './fixture.js';

const EXTENSION: Record<OutputFormat, string> = {
  table: 'txt',
  wide: 'txt',
  json: 'json',
  yaml: 'yaml',
  junit: 'xml',
  markdown: 'md',
  html: 'html',
};

describe('report goldens', () => {
  for (const format of OUTPUT_FORMATS) {
    it(`run -o ${format}`, async () => {
      await expect(renderOutput(runDocument(), format, style(false))).toMatchFileSnapshot(
        `golden/run.${format}.${EXTENSION[format]}`,
      );
    });
    it(`predict -o ${format}`, async () => {
      await expect(renderOutput(predictDocument(), format, style(false))).toMatchFileSnapshot(
        `golden/predict.${format}.${EXTENSION[format]}`,
      );
    });
  }

  // The article's 4 × 7 matrix: the full table is about 130 columns wide, so 120 columns get the table with a
  // letter per server port, and 80 one block per client; without a width (not a terminal) the full table.
  for (const width of [80, 120]) {
    it(`-o table at ${width} columns fits them`, async () => {
      const text = renderOutput(articleRunDocument(), 'table', style(false), { width, cwd: '/work/clone' });
      for (const line of text.split('\n').filter((l) => !l.includes('meshprobe explain') && !l.includes('reproduce:')))
        expect([...line].length, line).toBeLessThanOrEqual(width);
      await expect(text).toMatchFileSnapshot(`golden/article.table.${width}.txt`);
    });
  }
  it('-o table without a width, and -o wide at any width, print the full table', async () => {
    const full = renderOutput(articleRunDocument(), 'table', style(false), { cwd: '/work/clone' });
    expect(full).toContain('│ from \\ to    │ test1/httpbin │');
    await expect(full).toMatchFileSnapshot('golden/article.table.txt');
    const wide = renderOutput(articleRunDocument(), 'wide', style(false), { cwd: '/work/clone' });
    expect(renderOutput(articleRunDocument(), 'wide', style(false), { width: 80, cwd: '/work/clone' })).toBe(wide);
  });

  it('colours the terminal table only when asked', async () => {
    await expect(renderOutput(runDocument(), 'table', style(true))).toMatchFileSnapshot('golden/run.table.color.txt');
    for (const format of OUTPUT_FORMATS.filter((f) => f !== 'table' && f !== 'wide')) {
      expect(renderOutput(runDocument(), format, style(true)), format).toBe(
        renderOutput(runDocument(), format, style(false)),
      );
    }
  });
});
