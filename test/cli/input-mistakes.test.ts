// Input mistakes are refused before any write (exit 2), and the API server hears nothing: an empty scenario
// set, a --report-dir that cannot be used, an empty --namespace-prefix, a DestinationRule host Istio's
// validation would refuse (reliability-figures.md D6, D10, D11, D12; newcomer-walkthrough.md §5).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { createPlainRuntime } from '../emulator/runtime/plain.js';
import { ensureBuilt } from '../helpers/bin.js';
import { cli } from '../helpers/cli.js';

let emu: Emulator;
let dir: string;

const SCENARIO = (host: string) => `apiVersion: meshprobe/v1
kind: Scenario
metadata:
  name: odd-host
spec:
  description: A DestinationRule whose host Istio refuses.
  objects:
    - apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: httpbin
        namespace: test1
      spec:
        host: ${JSON.stringify(host)}
        trafficPolicy:
          tls:
            mode: DISABLE
`;

beforeAll(async () => {
  emu = await startEmulator({ podReadyDelayMs: 20, runtime: createPlainRuntime });
  dir = mkdtempSync(join(tmpdir(), 'meshprobe-inputs-'));
  writeFileSync(join(dir, 'empty.yaml'), '');
  writeFileSync(join(dir, 'comments.yaml'), '# a scenario was meant to be here\n\n# and here\n');
  mkdirSync(join(dir, 'hollow'));
  writeFileSync(join(dir, 'hollow', 'a.yaml'), '');
  writeFileSync(join(dir, 'hollow', 'b.yaml'), '# nothing\n');
  writeFileSync(join(dir, 'a-file'), 'not a directory\n');
  writeFileSync(join(dir, 'semicolon.yaml'), SCENARIO('httpbin.test1;touch /tmp/x'));
  writeFileSync(join(dir, 'space.yaml'), SCENARIO('httpbin test1'));
});
afterAll(() => emu?.stop());

/** Runs meshprobe against the emulator; returns its result and how many requests the API server received. */
async function against(...args: string[]) {
  const before = emu.audit.entries().length;
  const r = await cli(['--kubeconfig', emu.kubeconfigPath, ...args], { cwd: dir, env: { HOME: dir } });
  return { ...r, requests: emu.audit.entries().length - before };
}

describe('an empty scenario set', () => {
  for (const file of ['empty.yaml', 'comments.yaml', 'hollow']) {
    it(`${file}: run and predict exit 2 and name the file; run sends no request`, async () => {
      const run = await against('run', '-f', file, '--allow-cluster-wide');
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`meshprobe: error: no scenario in ${file}:`);
      expect(run.stderr).toContain('meshprobe: fix: give a file with at least one `kind: Scenario` document');
      expect(run.requests).toBe(0);
      const predict = await cli(['predict', '-f', file], { cwd: dir });
      expect(predict.code).toBe(2);
      expect(predict.stderr).toContain(`no scenario in ${file}:`);
      expect(predict.stdout).toBe('');
    });
  }
});

describe('--report-dir is checked before the run', () => {
  it('under a file: exit 2 before any request', async () => {
    const r = await against('run', '--scenario', 'baseline', '--report-dir', 'a-file/reports');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^meshprobe: error: --report-dir \S+a-file\/reports cannot be used: .*not a directory/m);
    expect(r.requests).toBe(0);
  });

  it('predict refuses it before printing anything', async () => {
    const r = await cli(['predict', '--scenario', 'baseline', '--report-dir', 'a-file/reports'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
  });

  it('the check leaves nothing behind when the run then fails; the reports make the directory', async () => {
    // A cluster that refuses connections: the check passes, the run fails (exit 3) before any report.
    const refused = join(dir, 'refused.kubeconfig');
    writeFileSync(refused, readFileSync(emu.kubeconfigPath, 'utf8').replace(emu.server, 'https://127.0.0.1:1'));
    const r = await cli(['--kubeconfig', refused, 'run', '--scenario', 'baseline', '--report-dir', 'fresh/deeper'], {
      cwd: dir,
      env: { HOME: dir },
    });
    expect(r.code, r.stderr).toBe(3);
    expect(existsSync(join(dir, 'fresh'))).toBe(false);
    const ok = await cli(['predict', '--scenario', 'baseline', '--report-dir', 'made/deeper'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readdirSync(join(dir, 'made', 'deeper')).sort()).toEqual([
      'junit.xml',
      'report.html',
      'results.json',
      'summary.md',
    ]);
  });

  it('under /proc: exit 2 at once (Node 20 mkdirSync recursive never returns there)', async () => {
    const main = ensureBuilt();
    // Its own process: a synchronous loop would otherwise take the test worker with it.
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [main, 'predict', '--scenario', 'baseline', '--report-dir', '/proc/1/nope'],
        { timeout: 60_000, cwd: dir },
        (error, _stdout, stderr) => resolve({ code: error ? (error.code as number | null) : 0, stderr }),
      );
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('meshprobe: error: --report-dir /proc/1/nope cannot be used: ENOENT');
  }, 120_000);
});

describe("--namespace-prefix ''", () => {
  for (const command of ['run', 'probe', 'setup', 'teardown', 'cleanup']) {
    it(`${command}: refused, exit 2, no request`, async () => {
      const r = await against(command, '--namespace-prefix', '');
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("meshprobe: error: --namespace-prefix is empty: the run would use the topology's own");
      expect(r.requests).toBe(0);
    });
  }
});

describe('DestinationRule hosts as Istio validates them', () => {
  for (const [file, label] of [
    ['semicolon.yaml', 'test1;touch /tmp/x'],
    ['space.yaml', 'httpbin test1'],
  ] as const) {
    it(`${file}: refused with Istio's message, exit 2, no request`, async () => {
      const r = await against('run', '-f', file);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('spec.objects[0].spec.host: domain name');
      expect(r.stderr).toContain(`(label ${JSON.stringify(label)} invalid), as Istio's validation refuses it`);
      expect(r.requests).toBe(0);
    });
  }
});
