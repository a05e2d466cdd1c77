// The matrix every command produces: laid out by a topology's clients and targets, and nothing else.
import { describe, expect, it } from 'vitest';
import { Matrix } from '../../src/model/matrix.js';
import { compare, count, scenarioVerdict } from '../../src/model/verdict.js';
import type { ExpectedCell } from '../../src/model/cell.js';
import type { Outcome, Expectation } from '../../src/model/outcome.js';
import type { Prediction } from '../../src/model/prediction.js';

const axes = {
  clients: [{ id: 'a/sleep' }, { id: 'b/sleep' }],
  targets: [{ id: 'a/httpbin:8000' }, { id: 'b/httpbin:8000' }, { id: 'c/nginx:443' }],
};
const names = Matrix.of(axes, (c, t) => `${c.id} ${t.id}`);

describe('Matrix', () => {
  it('has one cell per client and target, row-major, found by the two ids', () => {
    expect(names.size).toBe(6);
    expect(names.clients).toEqual(['a/sleep', 'b/sleep']);
    expect(names.targets).toEqual(['a/httpbin:8000', 'b/httpbin:8000', 'c/nginx:443']);
    expect(names.values()[3]).toBe('b/sleep a/httpbin:8000');
    expect(names.get('b/sleep', 'c/nginx:443')).toBe('b/sleep c/nginx:443');
    expect([...names.entries()][4]).toEqual(['b/sleep', 'b/httpbin:8000', 'b/sleep b/httpbin:8000']);
  });

  it('refuses a key that is not one of its clients or targets', () => {
    expect(() => names.get('c/sleep', 'a/httpbin:8000')).toThrow(/c\/sleep -> a\/httpbin:8000 is not a cell/);
    expect(() => names.get('a/sleep', 'a/httpbin')).toThrow(/a\/httpbin unknown/);
  });

  it('zips only with a matrix of the same layout', () => {
    const lengths = names.map((v) => v.length);
    expect(names.zip(lengths, (v, n, from) => v.length === n && v.startsWith(from)).values()).toEqual(
      Array(6).fill(true),
    );
    const other = Matrix.of({ clients: axes.clients.slice(0, 1), targets: axes.targets }, () => 0);
    expect(() => names.zip(other, () => 0)).toThrow(/different clients or targets/);
  });

  it('reads a document back only when every cell is there once', () => {
    const cells = [...names.entries()].map(([from, to]) => ({ from, to }));
    const back = Matrix.fromCells(names.clients, names.targets, [...cells].reverse());
    expect(back.get('a/sleep', 'b/httpbin:8000')).toEqual({ from: 'a/sleep', to: 'b/httpbin:8000' });
    expect(() => Matrix.fromCells(names.clients, names.targets, cells.slice(1))).toThrow(
      /a\/sleep -> a\/httpbin:8000 is missing/,
    );
    expect(() => Matrix.fromCells(names.clients, names.targets, [...cells, cells[0]!])).toThrow(/appears twice/);
  });

  it('refuses a topology that names a client twice', () => {
    expect(() => Matrix.of({ clients: [{ id: 'a' }, { id: 'a' }], targets: [{ id: 't' }] }, () => 0)).toThrow(
      /client a appears twice/,
    );
  });
});

describe('compare and count', () => {
  const prediction = (outcome: Prediction['outcome']): Prediction => ({
    outcome,
    reason: {
      summary: '',
      why: '',
      protocol: 'http',
      client: { sidecar: false, origination: 'plaintext', chain: [] },
      server: { sidecar: false, chain: [] },
    },
  });
  const cellExpecting = (e: Expectation): ExpectedCell => ({
    source: 'oracle',
    expect: e,
    prediction: prediction('mtls'),
  });
  const expected = Matrix.of(axes, (c, t) =>
    cellExpecting(c.id === 'a/sleep' ? 'pass' : t.id === 'c/nginx:443' ? 'reset' : 'mtls'),
  );

  it('an error cell is neither a match nor a mismatch, and makes the scenario an error', () => {
    const seen: Outcome[] = ['plaintext', 'mtls', 'error', 'mtls', 'plaintext', 'tls-error'];
    let i = 0;
    const observed = Matrix.of(axes, () => ({ outcome: seen[i++]! }));
    const v = compare(expected, observed);
    expect(v.values()).toEqual(['match', 'match', 'error', 'match', 'mismatch', 'mismatch']);
    expect(count(v)).toEqual({ cells: 6, matched: 3, mismatched: 2, errors: 1 });
    expect(scenarioVerdict(count(v))).toBe('error');
    expect(scenarioVerdict({ cells: 6, matched: 5, mismatched: 1, errors: 0 })).toBe('mismatch');
    expect(scenarioVerdict({ cells: 6, matched: 6, mismatched: 0, errors: 0 })).toBe('pass');
  });
});
