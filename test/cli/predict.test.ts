import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bin.js';
import { cli } from '../helpers/cli.js';

describe('meshprobe predict', () => {
  it('with a topology of its own and no -f, says in one message that the shipped scenarios do not fit it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-topology-'));
    const file = join(dir, 'mine.yaml');
    writeFileSync(
      file,
      readFileSync(join(ROOT, 'manifests/topology/default.yaml'), 'utf8')
        .replace('name: article', 'name: mine')
        .replace('- name: test3', '- name: other3')
        .replaceAll('../workloads/', `${join(ROOT, 'manifests/workloads')}/`),
    );
    const r = await cli(['predict', '--topology', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^meshprobe: error: the shipped scenarios are written for the article's topology \(test1, test2, test3, ngtest\) and do not fit topology mine: \d+ errors, the first: scenarios\/.*matches no/,
    );
    expect(lines[1]).toBe('meshprobe: fix: pass scenarios written for your topology with -f FILE|DIR');
  });

  it('-o json: a meshprobe/v1 document with every scenario and, per cell, from, to, expected and reason', async () => {
    const r = await cli(['predict', '-o', 'json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'meshprobe/v1',
      kind: 'MatrixReport',
      metadata: { command: 'predict', flavor: 'modern', topology: 'article' },
    });
    expect(doc.scenarios).toHaveLength(24);
    const strict = doc.scenarios.find((s: { name: string }) => s.name === 'mesh-strict-dr-mutual');
    expect(strict.cells).toHaveLength(40);
    expect(
      strict.cells.find((c: { from: string; to: string }) => c.from === 'test3/sleep' && c.to === 'test1/httpbin:8000'),
    ).toMatchObject({
      expected: { outcome: 'reset', reachable: false, source: 'scenario' },
      reason: {
        predicted: 'reset',
        tableRow: 2,
        server: [
          { by: 'PeerAuthentication istio-system/default (from MeshPolicy default)', says: 'mesh-wide: STRICT' },
        ],
      },
      match: true,
    });
    expect(
      strict.cells.find((c: { from: string; to: string }) => c.from === 'test1/sleep' && c.to === 'test2/httpbin:9080')
        .expected,
    ).toEqual({
      outcome: 'mtls',
      reachable: true,
      mtls: true,
      source: 'scenario',
      rule: expect.stringMatching(/02-mesh-strict-dr-mutual\.yaml:\d+:\d+$/),
    });
    expect(doc.summary).toEqual({ scenarios: 24, cells: 960, matched: 960, mismatched: 0, errors: 0 });
  });

  it('prints one matrix per scenario: clients as rows, server ports as columns, pass/fail and mTLS in the cells', async () => {
    const r = await cli(['predict', '--scenario', 'mesh-strict-no-dr', '--istio', 'legacy']);
    expect(r.code).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.includes('│ test1/sleep'))!;
    expect(
      row
        .split('│')
        .map((c) => c.trim())
        .filter(Boolean),
    ).toEqual(['test1/sleep', '✘ 503', '✘ 503', '✘ 503', '✘ 503', '✘ 503', '✔ plain', '✔ plain', '✔ tls-app']);
    expect(r.stdout).toContain('test2/httpbin');
    expect(r.stdout).toContain('mesh-strict-no-dr: 40/40 cells as expected');
    expect(r.stdout).not.toMatch(/\u001b\[/); // not a TTY: no colour
  });

  it('marks cells where a scenario expects what the oracle does not predict, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-predict-'));
    writeFileSync(
      join(dir, 'wrong.yaml'),
      `apiVersion: meshprobe/v1
kind: Scenario
metadata: {name: wrong}
spec:
  description: expects mTLS from a client without sidecar
  expect:
    all:
      - {from: test3/sleep, to: test1/httpbin:9080, expect: mtls}
`,
    );
    const r = await cli(['predict', '-f', dir]);
    expect(r.code).toBe(1);
    // The cell shows what the oracle predicts, and what the scenario wanted; the note under the matrix says
    // so in words and gives the explain command for the cell, with the file it is in.
    expect(r.stdout).toContain('≠ ✔ plain');
    expect(r.stdout).toContain('want ✔ mTLS');
    expect(r.stdout).toContain('1 where the scenario and the oracle disagree');
    expect(r.stdout).toContain(
      `≠ test3/sleep -> test1/httpbin:9080: the oracle predicts ✔ plain, expected ✔ mTLS (${join(dir, 'wrong.yaml')}:8:9)`,
    );
    expect(r.stdout).toContain(
      `    meshprobe explain --scenario wrong --from test3/sleep --to test1/httpbin:9080 -f ${join(dir, 'wrong.yaml')}\n`,
    );
    // predict probes nothing: no probe errors to count, no legend line for them.
    expect(r.stdout).not.toMatch(/probe error|probe itself/);
  });

  it('Istio 1.4: skips the AuthorizationPolicy scenarios saying what 1.4 had, and refuses a set of only those', async () => {
    const r = await cli(['predict', '--istio', 'legacy', '-o', 'json']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { scenarios: unknown[] }).scenarios).toHaveLength(11);
    expect(r.stderr.match(/^meshprobe: skipped scenario authz-/gm)).toHaveLength(13);
    // Three of them also use PeerAuthentication, which 1.4 does not serve either: that is said first.
    expect(r.stderr.match(/^meshprobe: skipped scenario authz-[a-z-]+: it uses AuthorizationPolicy: /gm)).toHaveLength(
      10,
    );
    expect(r.stderr).toContain(
      'Istio 1.4 served security.istio.io/v1beta1 AuthorizationPolicy with ALLOW rules only (no action, no not- fields)',
    );
    const only = await cli(['predict', '--istio', 'legacy', '--scenario', 'authz-deny-all']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain(
      'meshprobe: error: no scenario can be predicted for Istio 1.4: authz-deny-all (it uses AuthorizationPolicy',
    );
  });

  it('colours only a terminal, and never with NO_COLOR or --no-color', async () => {
    expect((await cli(['predict', '--scenario', 'baseline'], { tty: true })).stdout).toMatch(/\u001b\[/);
    expect(
      (await cli(['predict', '--scenario', 'baseline'], { tty: true, env: { NO_COLOR: '1' } })).stdout,
    ).not.toMatch(/\u001b\[/);
    expect((await cli(['--no-color', 'predict', '--scenario', 'baseline'], { tty: true })).stdout).not.toMatch(
      /\u001b\[/,
    );
  });
});

describe('meshprobe explain', () => {
  it('prints the chain of objects that decided a cell', async () => {
    const r = await cli([
      'explain',
      '--scenario',
      'mesh-strict-dr-disable-test3',
      '--from',
      'test1/sleep',
      '--to',
      'test3/httpbin:8000',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'DestinationRule test3/httpbin: tls.mode DISABLE (host httpbin.test3.svc.cluster.local, service namespace)',
    );
    expect(r.stdout).toContain('server has no sidecar');
    // The outcome-table row it follows, as a path and anchor in the repository (test/docs checks it exists).
    expect(r.stdout).toContain(
      'predicted ✔ plain: plaintext to a server without sidecar  [docs/semantics.md#outcome-row-6]',
    );
  });

  it('accepts NAMESPACE/SERVICE when the service has one probed port, and names the choices otherwise', async () => {
    expect(
      (await cli(['explain', '--scenario', 'baseline', '--from', 'test1/sleep', '--to', 'ngtest/my-nginx'])).code,
    ).toBe(0);
    const r = await cli(['explain', '--scenario', 'baseline', '--from', 'test1/sleep', '--to', 'test1/httpbin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('meshprobe: error: --to test1/httpbin has several ports; name one');
    expect(r.stderr).toContain('meshprobe: fix: choose from: test1/httpbin:8000, test1/httpbin:9080');
  });
});

describe('usage errors', () => {
  it('an unknown flag: the usage hint and exit 2', async () => {
    const r = await cli(['predict', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("meshprobe: error: unknown option '--bogus'");
    expect(r.stderr).toContain('(add --help for usage)');
  });

  it('an invalid value: exit 2 naming the allowed ones', async () => {
    const r = await cli(['predict', '--istio', 'ambient']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--istio must be "modern"');
    expect((await cli(['predict', '-o', 'xml'])).stderr).toContain('Allowed choices are table, wide, json');
  });

  it('an unknown scenario: exit 2 listing the known ones', async () => {
    const r = await cli(['predict', '--scenario', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/meshprobe: error: unknown scenario "nope"\nmeshprobe: fix: choose from: baseline, /);
  });

  it('--help on every command exits 0', async () => {
    for (const argv of [['--help'], ['predict', '--help'], ['explain', '--help']]) {
      const r = await cli(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage:');
    }
  });
});
