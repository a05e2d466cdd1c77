// The reproduce line of a cell (observed.command, the JUnit failure message, the Markdown "Reproduce"
// block) pasted as is into bash, from another directory and shell: it must reach the same cluster (the
// --kubeconfig and --context the user gave) and a pod that exists (deploy/NAME: teardown deleted the
// run's pods; a new `meshprobe setup` made new ones). newcomer-walkthrough.md §6.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportDocument } from '../../src/report/document.js';
import { cli } from '../helpers/cli.js';
import { REAL_KUBECONFIG, testCluster, type TestCluster } from './cluster.js';

// One wrong expectation, so that the cell shows in JUnit (a failure) and in summary.md (Reproduce).
const WRONG = `apiVersion: meshprobe/v1
kind: Scenario
metadata:
  name: wrong-belief
spec:
  description: Nothing applied; the author wrongly believes test3's plain client is refused by test1.
  objects: []
  expect:
    all:
      - {from: test3/sleep, to: test1/httpbin:8000, expect: reset}
`;

const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#10;/g, '\n')
    .replace(/&amp;/g, '&');

/** Runs a line in bash as a user would paste it: another directory, no KUBECONFIG, a fresh HOME. */
function paste(line: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const elsewhere = mkdtempSync(join(tmpdir(), 'meshprobe-paste-'));
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', line],
      { cwd: elsewhere, env: { PATH: process.env.PATH ?? '', HOME: elsewhere }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe.runIf(!REAL_KUBECONFIG)('a reproduce line pasted into bash', () => {
  let cluster: TestCluster;
  let dir: string;
  let doc: ReportDocument;
  let junit: string;
  let markdown: string;

  beforeAll(async () => {
    cluster = await testCluster('modern');
    dir = mkdtempSync(join(tmpdir(), 'meshprobe-reproduce-'));
    // A kubeconfig path relative to where meshprobe runs, with a space in it.
    mkdirSync(join(dir, 'my clusters'));
    copyFileSync(cluster.kubeconfig, join(dir, 'my clusters', 'emulated.yaml'));
    writeFileSync(join(dir, 'wrong.yaml'), WRONG);
    const global = ['--kubeconfig', 'my clusters/emulated.yaml', '--context', 'meshprobe-emulator', '-q'];
    const r = await cli([...global, 'run', '-f', 'wrong.yaml', '--report-dir', 'out', '-o', 'json', '--settle', '2'], {
      cwd: dir,
      env: { HOME: dir },
    });
    expect(r.code, r.stderr).toBe(1);
    doc = JSON.parse(r.stdout) as ReportDocument;
    junit = readFileSync(join(dir, 'out', 'junit.xml'), 'utf8');
    markdown = readFileSync(join(dir, 'out', 'summary.md'), 'utf8');
    // The run tore its topology down; the user sets it up again to dig into the failure.
    const setup = await cli([...global, 'setup'], { cwd: dir, env: { HOME: dir } });
    expect(setup.code, setup.stderr).toBe(0);
  }, 300_000);
  afterAll(() => cluster?.stop());

  it('is the same line in results.json, junit.xml and summary.md, naming the file, the context and deploy/sleep', () => {
    const cell = doc.scenarios[0]!.cells.find((c) => c.from === 'test3/sleep' && c.to === 'test1/httpbin:8000')!;
    const line = cell.observed!.command;
    expect(line).toBe(
      `kubectl --kubeconfig '${join(dir, 'my clusters', 'emulated.yaml')}' --context meshprobe-emulator exec -n test3 deploy/sleep -c sleep -- curl -sS --max-time 5 -w '\\nHTTP %{http_code}\\n' http://httpbin.test1:8000/headers`,
    );
    const failure = /<failure [^>]*message="([^"]*)"/.exec(junit)![1]!;
    expect(unescapeXml(failure)).toMatch(new RegExp(`; reproduce: ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(markdown).toContain(`${line}  # test3/sleep -> test1/httpbin:8000`);
  });

  it('runs, pasted as is, and shows what the cell observed', async () => {
    const line = doc.scenarios[0]!.cells.find((c) => c.from === 'test3/sleep' && c.to === 'test1/httpbin:8000')!
      .observed!.command;
    const r = await paste(line);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nHTTP 200\n$/);
    // The plain client reached the app: no client certificate was forwarded.
    expect(r.stdout).not.toContain('X-Forwarded-Client-Cert');
  }, 120_000);

  it('works for an HTTPS target too (-k survives the quoting)', async () => {
    const cell = doc.scenarios[0]!.cells.find((c) => c.from === 'test3/sleep' && c.to === 'ngtest/my-nginx:443')!;
    const r = await paste(cell.observed!.command);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\nHTTP 200\n$/);
  }, 120_000);
});
