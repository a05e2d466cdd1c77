// `-o json` and results.json: the meshprobe/v1 document as is (README, "The meshprobe/v1 document").
import type { ReportDocument } from './document.js';

export function renderJson(doc: ReportDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
