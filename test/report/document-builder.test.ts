// The one builder of the meshprobe/v1 document, for predict, run and probe alike: what it writes from
// a RunResult, and the fields it derives (reachable, mtls, match, verdict, counts) instead of copying.
import { describe, expect, it } from 'vitest';
import type { ObservedCell } from '../../src/model/cell.js';
import { Matrix } from '../../src/model/matrix.js';
import type { Scenario } from '../../src/model/scenario.js';
import { predictScenario } from '../../src/oracle/expected.js';
import { meshConfig } from '../../src/oracle/mesh.js';
import { buildDocument } from '../../src/report/document.js';
import { miniTopology } from '../helpers/mini-topology.js';

const topology = miniTopology({ clientSidecar: false, serverSidecar: true });
const scenario: Scenario = {
  name: 's',
  description: 'd',
  sources: [],
  file: 's.yaml',
  objects: [],
  expect: {
    all: [{ from: ['c/sleep'], to: ['s/app:9080'], expect: 'blocked', where: 's.yaml:9:9' }],
    modern: [],
    legacy: [],
  },
  certificates: [],
};
const expected = predictScenario(topology, scenario, meshConfig('modern'));
const meta = { generatedAt: '2026-01-01T00:00:00.000Z', meshprobeVersion: '9.9.9' };

describe('buildDocument', () => {
  it('predict: the oracle against the scenario rules, no observed cells, no convergence', () => {
    const doc = buildDocument(
      { command: 'predict', flavor: 'modern', topology: 'mini', scenarios: [{ scenario, expected }] },
      meta,
    );
    expect(doc.metadata).toEqual({ command: 'predict', ...meta, flavor: 'modern', topology: 'mini' });
    const [s] = doc.scenarios;
    expect(s!.clients).toEqual(['c/sleep']);
    expect(s!.targets).toEqual(['s/app:8000', 's/app:9080']);
    // PERMISSIVE by default: a client without a sidecar gets through, which the rule says it must not.
    expect(s!.cells.map((c) => [c.to, c.expected.outcome, c.reason.predicted, c.match])).toEqual([
      ['s/app:8000', 'plaintext', 'plaintext', true],
      ['s/app:9080', 'blocked', 'plaintext', false],
    ]);
    expect(s!.cells[0]!.expected).toEqual({ outcome: 'plaintext', reachable: true, mtls: false, source: 'oracle' });
    expect(s!.cells[1]!.expected).toEqual({
      outcome: 'blocked',
      reachable: false,
      source: 'scenario',
      rule: 's.yaml:9:9',
    });
    expect(s!.verdict).toBe('mismatch');
    expect(s).not.toHaveProperty('convergence');
    expect(doc.summary).toEqual({ scenarios: 1, cells: 2, matched: 1, mismatched: 1, errors: 0 });
  });

  it('run: observed cells with their derived fields, the rounds, and an error counted apart', () => {
    const seen: ObservedCell[] = [
      { outcome: 'plaintext', curlExit: 0, httpCode: 200, attempts: 1, command: 'kubectl exec a' },
      { outcome: 'error', error: 'exec: pod gone', attempts: 3, command: 'kubectl get pods -n c' },
    ];
    let i = 0;
    const cells = Matrix.of(topology, () => seen[i++]!);
    const history = [{ round: 1, at: 0, seconds: 1, matched: 1, mismatched: 0, errors: 1, execs: 1 }];
    const doc = buildDocument(
      {
        command: 'run',
        flavor: 'modern',
        topology: 'mini',
        cluster: { context: 'k', server: 'https://k' },
        scenarios: [
          {
            scenario,
            expected,
            observation: { cells, convergence: { converged: false, seconds: 2, history }, certificates: [] },
          },
        ],
      },
      meta,
    );
    const [s] = doc.scenarios;
    expect(s!.cells[0]!.observed).toEqual({
      outcome: 'plaintext',
      reachable: true,
      mtls: false,
      httpCode: 200,
      curlExit: 0,
      attempts: 1,
      command: 'kubectl exec a',
    });
    expect(Object.keys(s!.cells[0]!)).toEqual(['from', 'to', 'expected', 'reason', 'match', 'observed']);
    expect(s!.cells[1]!.observed).toEqual({
      outcome: 'error',
      reachable: false,
      attempts: 3,
      error: 'exec: pod gone',
      command: 'kubectl get pods -n c',
    });
    expect(s!.cells.map((c) => c.match)).toEqual([true, false]);
    expect(s!.verdict).toBe('error');
    expect(s!.convergence).toEqual({ rounds: 1, converged: false, seconds: 2, history });
    expect(s).not.toHaveProperty('certificates');
    expect(doc.metadata.cluster).toEqual({ context: 'k', server: 'https://k' });
    expect(doc.summary).toEqual({ scenarios: 1, cells: 2, matched: 1, mismatched: 0, errors: 1 });
  });
});
