// Configuration reaches each proxy after its own delay: right after an apply the old behaviour, later the new.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHarness as startHarness } from './api-harness.js';
import type { Harness } from './harness.js';

const STRICT_TEST1 =
  'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: test1\nspec:\n  mtls:\n    mode: STRICT\n';
// Wide enough that kubectl apply plus one probe fits in the minimum delay even on a loaded CI machine.
const DELAY = { min: 1200, max: 1500 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('propagation delay', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(
      'modern',
      [
        { ns: 'test1', injected: true, workloads: ['httpbin', 'sleep'] },
        { ns: 'test3', injected: false, workloads: ['sleep'] },
      ],
      { propagationDelayMs: DELAY, seed: 7 },
    );
  });
  afterAll(async () => h?.stop());

  it('a naked client keeps getting through for a while after STRICT is applied, then is reset; and back after delete', async () => {
    const probe = () => h.curl('test3', 'http://httpbin.test1:8000/headers');
    const applied = Date.now();
    await h.apply([STRICT_TEST1]);
    const early = await probe();
    expect(Date.now() - applied).toBeLessThan(DELAY.min);
    expect({ exit: early.exit, http: early.http }).toEqual({ exit: 0, http: '200' });
    await sleep(DELAY.max + 150);
    const late = await probe();
    expect({ exit: late.exit, http: late.http }).toEqual({ exit: 56, http: '000' });

    const removed = Date.now();
    await h.remove([STRICT_TEST1]);
    const stillStrict = await probe();
    expect(Date.now() - removed).toBeLessThan(DELAY.min);
    expect({ exit: stillStrict.exit, http: stillStrict.http }).toEqual({ exit: 56, http: '000' });
    await sleep(DELAY.max + 150);
    const open = await probe();
    expect({ exit: open.exit, http: open.http }).toEqual({ exit: 0, http: '200' });
  });
});

describe('--propagation on the command line', () => {
  it('refuses a reversed range with one line naming the fix, before starting anything', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = spawnSync(
      `${root}node_modules/.bin/tsx`,
      ['test/emulator/cli.ts', '--kubeconfig', '/tmp/never-written', '--propagation', '25s-15s'],
      { cwd: root },
    );
    expect(r.status).toBe(1);
    expect(r.stderr.toString().trim().split('\n')[0]).toBe(
      `error: option '--propagation <min-max>' argument '25s-15s' is invalid. --propagation "25s-15s": MIN is larger than MAX; write MIN-MAX with ms or s, e.g. "500ms-2s" or "15s-25s"`,
    );
  });
});
