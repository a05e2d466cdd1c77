// `meshprobe cleanup` while another run is alive (reliability-figures D2): with another --namespace-prefix it
// touches nothing of that run; with the same one it names the live run and leaves it alone; the run
// finishes as if nobody had asked. The run is its own process, as on a CI runner.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { ensureBuilt } from '../helpers/bin.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

let cluster: TestCluster;
let main: string;
const home = mkdtempSync(join(tmpdir(), 'meshprobe-live-home-'));

beforeAll(async () => {
  main = ensureBuilt();
  cluster = await testCluster('modern');
}, 60_000);
afterAll(() => cluster?.stop());

describe.runIf(!REAL_KUBECONFIG)('cleanup while a run is alive (emulated cluster)', () => {
  it('another prefix: nothing touched; the same prefix: refused, naming the run; the run ends exit 0', async () => {
    const child = spawn(
      process.execPath,
      [
        main,
        '--kubeconfig',
        cluster.kubeconfig,
        '-q',
        'run',
        '--isolation',
        'namespaced',
        '--namespace-prefix',
        'a',
        '--scenario',
        'baseline',
        '--scenario',
        'mesh-strict-dr-mutual',
        '--scenario',
        'permissive-httpbin-test1',
        '-o',
        'json',
        '--settle',
        '3',
      ],
      { env: { ...process.env, HOME: home, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Until it probes.
    while (!cluster.emulator!.audit.entries().some((e) => e.subresource === 'exec') && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 20));
    expect(child.exitCode).toBeNull();

    const writesBefore = cluster.emulator!.audit.writes().length;
    const other = await cli(['--kubeconfig', cluster.kubeconfig, 'cleanup', '--namespace-prefix', 'b'], {
      env: { HOME: home },
    });
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout).toBe('meshprobe cleanup: 0 journals; restored 0; deleted 0\n');

    const same = await cli(['--kubeconfig', cluster.kubeconfig, 'cleanup', '--namespace-prefix', 'a'], {
      env: { HOME: home },
    });
    expect(same.code).toBe(3);
    expect(same.stderr).toMatch(
      new RegExp(`run \\S+ \\(run, started \\S+\\) is still alive: process ${child.pid} on this machine is running`),
    );
    expect(same.stderr).toMatch(/meshprobe: fix: .*--namespace-prefix a --force/);
    // Neither cleanup wrote anything (the run's own writes go on meanwhile, all in its namespaces).
    const theirs = cluster
      .emulator!.audit.writes()
      .slice(writesBefore)
      .filter((e) => !(e.namespace ?? e.name ?? '').startsWith('a-'));
    expect(theirs).toEqual([]);

    expect(await done, stderr).toBe(0);
    const doc = JSON.parse(stdout) as ReportDocument;
    expect(doc.summary).toMatchObject({ scenarios: 3, mismatched: 0, errors: 0 });
    expect(doc.incomplete).toBeUndefined();
  }, 240_000);
});
