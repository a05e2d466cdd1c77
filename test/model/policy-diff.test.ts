// The kinds of change the README defines, checked over every pair of outcomes the oracle can predict.
import { describe, expect, it } from 'vitest';
import { isReachable, OUTCOMES, type NetworkOutcome } from '../../src/model/outcome.js';
import { changeKind, failsOn, worstFirst, type ChangeKind } from '../../src/model/policy-diff.js';

const NETWORK = OUTCOMES.filter((o): o is NetworkOutcome => o !== 'error');
const pairs = NETWORK.flatMap((b) => NETWORK.map((h) => [b, h] as const));

describe('kinds of change', () => {
  it('no change when the outcome is the same; otherwise exactly the kind the README defines', () => {
    for (const [b, h] of pairs) {
      const expected: ChangeKind | undefined =
        b === h
          ? undefined
          : isReachable(b) && !isReachable(h)
            ? 'blocked'
            : !isReachable(b) && isReachable(h)
              ? 'reachable'
              : b === 'mtls' && h === 'plaintext'
                ? 'mtls-lost'
                : b === 'plaintext' && h === 'mtls'
                  ? 'mtls-gained'
                  : 'other';
      expect(changeKind(b, h), `${b} → ${h}`).toBe(expected);
    }
    expect(changeKind('plaintext', 'reset')).toBe('blocked');
    expect(changeKind('mtls', 'upstream-error')).toBe('blocked');
    expect(changeKind('reset', 'upstream-error')).toBe('other');
    expect(changeKind('mtls', 'reached')).toBe('other');
    expect(changeKind('tls-error', 'plaintext')).toBe('reachable');
  });

  it('--fail-on plaintext: an mTLS lost, or a newly reachable cell in plaintext, and nothing else', () => {
    const hits = pairs
      .filter(([b, h]) => changeKind(b, h))
      .filter(([b, h]) => failsOn({ kind: changeKind(b, h)!, head: { outcome: h } }, ['plaintext']))
      .map(([b, h]) => `${b}→${h}`);
    expect(hits).toEqual(
      NETWORK.filter((b) => b !== 'plaintext' && (b === 'mtls' || !isReachable(b))).map((b) => `${b}→plaintext`),
    );
  });

  it('worst first: blocked, mTLS lost, reachable, other, mTLS gained; the matrix order within a kind', () => {
    const cells = ['mtls-gained', 'blocked', 'other', 'blocked', 'reachable', 'mtls-lost'].map((kind, i) => ({
      kind: kind as ChangeKind,
      i,
    }));
    expect(worstFirst(cells, (c) => c.kind).map((c) => `${c.kind}${c.i}`)).toEqual([
      'blocked1',
      'blocked3',
      'mtls-lost5',
      'reachable4',
      'other2',
      'mtls-gained0',
    ]);
  });
});
