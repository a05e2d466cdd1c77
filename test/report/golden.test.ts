// Golden files for every output format, from the fixed documents in fixture.ts.
// After an intended change, regenerate them and review the diff:
//   npx vitest run test/report -u
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS, renderOutput, type OutputFormat } from '../../src/report/formats.js';
import { style } from '../../src/report/style.js';
import { predictDocument, runDocument } from './fixture.js';

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

  it('colours the terminal table only when asked', async () => {
    await expect(renderOutput(runDocument(), 'table', style(true))).toMatchFileSnapshot('golden/run.table.color.txt');
    for (const format of OUTPUT_FORMATS.filter((f) => f !== 'table' && f !== 'wide')) {
      expect(renderOutput(runDocument(), format, style(true)), format).toBe(
        renderOutput(runDocument(), format, style(false)),
      );
    }
  });
});
