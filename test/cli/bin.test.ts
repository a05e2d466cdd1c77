// The installed shapes of the CLI: the compiled bin, and kubectl's plugin mechanism.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, MAIN as main } from '../helpers/bin.js';

beforeAll(() => {
  ensureBuilt();
}, 120_000);

describe('the meshprobe bin', () => {
  it("runs from dist and exits with the command's code", () => {
    const r = spawnSync(main, ['predict', '--scenario', 'baseline', '-o', 'json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).scenarios[0].name).toBe('baseline');
    expect(spawnSync(main, ['predict', '--nope'], { encoding: 'utf8' }).status).toBe(2);
  });

  it('is a kubectl plugin: `kubectl meshprobe` runs it and its usage says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-plugin-'));
    symlinkSync(main, join(dir, 'kubectl-meshprobe'));
    const r = spawnSync('kubectl', ['meshprobe', '--help'], {
      encoding: 'utf8',
      cwd: tmpdir(),
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, KUBECONFIG: join(dir, 'none') },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: kubectl meshprobe [options] [command]');
  });
});
