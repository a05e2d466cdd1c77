// meshprobe/v1 is a contract: tools read results.json. Every field listed here must stay in the
// documents meshprobe writes (a field that disappears fails this test), every field written must
// be listed (so it gets documented), and the README's schema section must describe each of them.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderJson } from '../../src/report/json.js';
import { renderYaml } from '../../src/report/yaml.js';
import { cli } from '../helpers/cli.js';
import { runDocument } from './fixture.js';

/**
/**
 * `run`: only in documents of `run` (and `probe`); `incomplete`: only in those of a run that failed after
 * its first scenario; `provider`: only where a CUSTOM policy names an ext_authz provider the mesh config
 * declares, which no shipped scenario can (providers are mesh config, not scenario objects; the run
 * fixture has one); the rest are in `predict` documents too.
 */
const FIELDS: Array<[path: string, only?: 'run' | 'incomplete' | 'provider']> = [
  ['apiVersion'],
  ['kind'],
  ['metadata.command'],
  ['metadata.generatedAt'],
  ['metadata.meshprobeVersion'],
  ['metadata.flavor'],
  ['metadata.topology'],
  ['metadata.cluster.context', 'run'],
  ['metadata.cluster.server', 'run'],
  ['summary.scenarios'],
  ['summary.cells'],
  ['summary.matched'],
  ['summary.mismatched'],
  ['summary.errors'],
  ['scenarios[].name'],
  ['scenarios[].description'],
  ['scenarios[].sources[]'],
  ['scenarios[].file'],
  ['scenarios[].objects[]'],
  ['scenarios[].clients[]'],
  ['scenarios[].targets[]'],
  ['scenarios[].verdict'],
  ['scenarios[].convergence.rounds', 'run'],
  ['scenarios[].convergence.converged', 'run'],
  ['scenarios[].convergence.seconds', 'run'],
  ['scenarios[].convergence.push.acknowledgedAt', 'run'],
  ['scenarios[].convergence.history[].round', 'run'],
  ['scenarios[].convergence.history[].at', 'run'],
  ['scenarios[].convergence.history[].seconds', 'run'],
  ['scenarios[].convergence.history[].matched', 'run'],
  ['scenarios[].convergence.history[].mismatched', 'run'],
  ['scenarios[].convergence.history[].errors', 'run'],
  ['scenarios[].convergence.history[].execs', 'run'],
  ['scenarios[].convergence.history[].changed[]', 'run'],
  ['scenarios[].certificates[].workload', 'run'],
  ['scenarios[].certificates[].pod', 'run'],
  ['scenarios[].certificates[].spiffe[]', 'run'],
  ['scenarios[].certificates[].serial', 'run'],
  ['scenarios[].certificates[].notBefore', 'run'],
  ['scenarios[].certificates[].notAfter', 'run'],
  ['scenarios[].certificates[].daysLeft', 'run'],
  ['scenarios[].cells[].from'],
  ['scenarios[].cells[].to'],
  ['scenarios[].cells[].expected.outcome'],
  ['scenarios[].cells[].expected.reachable'],
  ['scenarios[].cells[].expected.mtls'],
  ['scenarios[].cells[].expected.source'],
  ['scenarios[].cells[].expected.rule'],
  ['scenarios[].cells[].reason.summary'],
  ['scenarios[].cells[].reason.predicted'],
  ['scenarios[].cells[].reason.client[].by'],
  ['scenarios[].cells[].reason.client[].says'],
  ['scenarios[].cells[].reason.server[].by'],
  ['scenarios[].cells[].reason.server[].says'],
  ['scenarios[].cells[].reason.tableRow'],
  ['scenarios[].cells[].reason.authorization.effect'],
  ['scenarios[].cells[].reason.authorization.matchedPolicy'],
  ['scenarios[].cells[].reason.authorization.decidedBy'],
  ['scenarios[].cells[].reason.authorization.steps[].by'],
  ['scenarios[].cells[].reason.authorization.steps[].says'],
  ['scenarios[].cells[].reason.authorization.notes[]', 'provider'],
  ['scenarios[].cells[].observed.outcome', 'run'],
  ['scenarios[].cells[].observed.reachable', 'run'],
  ['scenarios[].cells[].observed.mtls', 'run'],
  ['scenarios[].cells[].observed.httpCode', 'run'],
  ['scenarios[].cells[].observed.curlExit', 'run'],
  ['scenarios[].cells[].observed.peer', 'run'],
  ['scenarios[].cells[].observed.attempts', 'run'],
  ['scenarios[].cells[].observed.error', 'run'],
  ['scenarios[].cells[].observed.detail', 'run'],
  ['scenarios[].cells[].observed.command', 'run'],
  ['scenarios[].cells[].match'],
  ['incomplete.failures[].stage', 'incomplete'],
  ['incomplete.failures[].scenario', 'incomplete'],
  ['incomplete.failures[].message', 'incomplete'],
  ['incomplete.notRun[]', 'incomplete'],
  ['incomplete.left[]', 'incomplete'],
  ['incomplete.cleanup', 'incomplete'],
];

/** Kubernetes objects as written: their fields belong to their own APIs, not to meshprobe/v1. */
const OPAQUE = new Set(['scenarios[].objects[]']);

function fieldPaths(value: unknown, path = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    out.add(`${path}[]`);
    if (!OPAQUE.has(`${path}[]`)) for (const item of value) fieldPaths(item, `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = path ? `${path}.${k}` : k;
      if (!Array.isArray(v)) out.add(p);
      fieldPaths(v, p, out);
    }
  }
  return out;
}

/** Leaves and arrays only: `metadata` is implied by `metadata.command`. */
const leaves = (paths: Set<string>): string[] =>
  [...paths].filter((p) => ![...paths].some((q) => q.startsWith(`${p}.`)));

describe('the meshprobe/v1 document', () => {
  it('predict writes every field that is not run-only, and nothing unlisted', async () => {
    const r = await cli(['predict', '-o', 'json']);
    const paths = fieldPaths(JSON.parse(r.stdout));
    for (const [p, only] of FIELDS) if (!only) expect(paths, p).toContain(p);
    expect(leaves(paths).filter((p) => !FIELDS.some(([f]) => f === p))).toEqual([]);
  });

  it('a run document has every listed field, and nothing unlisted', () => {
    const doc = runDocument();
    // The fixture's scenarios were believed by the settle time (its golden renders stay as they are); a
    // run whose istiod's push status was read has this too.
    doc.scenarios[0]!.convergence!.push = { acknowledgedAt: 4.2 };
    const paths = fieldPaths(JSON.parse(renderJson(doc)));
    for (const [p, only] of FIELDS) if (only !== 'incomplete') expect(paths, p).toContain(p);
    expect(leaves(paths).filter((p) => !FIELDS.some(([f]) => f === p))).toEqual([]);
  });

  it('the document of a run that failed half-way has the incomplete fields too, and nothing unlisted', () => {
    const doc = {
      ...runDocument(),
      incomplete: {
        failures: [
          { stage: 'undo', scenario: 'mesh-strict', message: 'could not remove DestinationRule istio-system/default' },
        ],
        notRun: ['permissive'],
        left: ['DestinationRule istio-system/default (not deleted: 500)'],
        cleanup: 'meshprobe cleanup',
      },
    };
    doc.scenarios[0]!.convergence!.push = { acknowledgedAt: 4.2 };
    const paths = fieldPaths(JSON.parse(renderJson(doc)));
    for (const [p] of FIELDS) expect(paths, p).toContain(p);
    expect(leaves(paths).filter((p) => !FIELDS.some(([f]) => f === p))).toEqual([]);
  });

  it('is documented field by field in the README', () => {
    const docs =
      readFileSync(new URL('../../README.md', import.meta.url), 'utf8').split('## The meshprobe/v1 document')[1] ?? '';
    const undocumented = FIELDS.map(([p]) => p).filter((p) => !docs.includes(`\`${p}\``));
    expect(undocumented).toEqual([]);
  });

  it('reads the same as YAML as as JSON', () => {
    const doc = runDocument();
    expect(parse(renderYaml(doc))).toEqual(JSON.parse(renderJson(doc)));
  });
});
