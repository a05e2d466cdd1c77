// A run that failed after its first scenario: every report says so, in the same words, with what is
// left in the cluster and the command that removes it (the scenarios that ran are reported as usual).
import type { ReportDocument } from './document.js';

/** Plain lines, no markup: each renderer frames them its own way. Empty when the run finished cleanly. */
export function incompleteLines(doc: ReportDocument): string[] {
  const x = doc.incomplete;
  if (!x) return [];
  return [
    `The run did not finish: ${x.failures.map((f) => `${f.stage}${f.scenario ? ` of ${f.scenario}` : ''}: ${f.message}`).join('; ')}.`,
    ...(x.notRun.length ? [`Not run: ${x.notRun.join(', ')}.`] : []),
    ...(x.left.length
      ? [`Left in the cluster: ${x.left.join(', ')}.`, ...(x.cleanup ? [`Remove it with: ${x.cleanup}`] : [])]
      : ['Nothing was left in the cluster.']),
  ];
}
