// How long `meshprobe diff` takes: every ordered pair of the shipped scenarios' objects (11×11, each
// scenario's objects written out as the files a repository would hold), per flavor; and a 30×30 topology
// with a change that touches almost every cell, in each output format. Each case is timed in-process
// (the command as the CLI runs it: reading the files, validating, predicting both sides, rendering) and
// as its own process (node dist/cli/main.js, which adds Node's start and meshprobe's imports).
// Usage: tsx test/bench/diff.ts [--repeats R]. Writes a table and test/artifacts/diff-bench.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { runCli } from '../../src/cli/program.js';
import { loadScenarios, scenarioFiles, SCENARIO_DIR } from '../../src/model/scenario-file.js';
import { loadTopology } from '../../src/model/topology-file.js';
import { ensureBuilt, ROOT } from '../helpers/bin.js';
import { gridNamespace, writeGridTopology } from '../helpers/grid-topology.js';

const args = process.argv.slice(2);
const ri = args.indexOf('--repeats');
const REPEATS = ri >= 0 ? Number(args[ri + 1]) : 3;
const main = ensureBuilt();
const work = mkdtempSync(join(tmpdir(), 'meshprobe-diff-bench-'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;

async function inProcess(argv: string[]): Promise<{ seconds: number; code: number; bytes: number }> {
  let out = '';
  const t0 = performance.now();
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: () => true },
    env: {},
    cwd: work,
  });
  return { seconds: (performance.now() - t0) / 1000, code, bytes: Buffer.byteLength(out) };
}

function asProcess(argv: string[]): { seconds: number; code: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [main, ...argv], { cwd: work, stdio: ['ignore', 'ignore', 'ignore'] });
  return { seconds: (performance.now() - t0) / 1000, code: r.status ?? -1 };
}

// The shipped scenarios' objects, one directory each, as a policy repository would hold them.
const topology = loadTopology();
const scenarios = loadScenarios(scenarioFiles([SCENARIO_DIR]), topology);
const sides = scenarios.map((s) => {
  const d = join(work, s.name);
  mkdirSync(d);
  writeFileSync(join(d, 'policies.yaml'), s.objects.map((o) => stringify(o.raw)).join('---\n'));
  return d;
});

interface PairRow {
  flavor: string;
  pairs: number;
  changed: number;
  inProcessMedianS: number;
  inProcessP95S: number;
  inProcessTotalS: number;
  processMedianS: number;
  processTotalS: number;
  skipped: number;
}
const pairRows: PairRow[] = [];
for (const flavor of ['modern', 'legacy']) {
  const inp: number[] = [];
  const proc: number[] = [];
  let changed = 0;
  let skipped = 0;
  for (const base of sides)
    for (const head of sides) {
      const argv = ['diff', '--istio', flavor, '--base', base, '--head', head, '-o', 'json'];
      const samples = [];
      for (let i = 0; i < REPEATS; i++) samples.push(await inProcess(argv));
      if (samples[0]!.code === 2) {
        skipped++; // a PeerAuthentication on the legacy flavor: refused, as it should be
        continue;
      }
      if (samples[0]!.code === 1) changed++;
      inp.push(median(samples.map((s) => s.seconds)));
      proc.push(asProcess(argv).seconds);
    }
  pairRows.push({
    flavor,
    pairs: inp.length,
    changed,
    inProcessMedianS: median(inp),
    inProcessP95S: pct(inp, 0.95),
    inProcessTotalS: inp.reduce((a, b) => a + b, 0),
    processMedianS: median(proc),
    processTotalS: proc.reduce((a, b) => a + b, 0),
    skipped,
  });
}

// 30×30: no policy → mesh PERMISSIVE, DISABLE for *.local, STRICT in one namespace: 842 of 900 cells change.
const grid = writeGridTopology(work, 30);
const none = join(work, 'grid-none');
const worse = join(work, 'grid-worse');
mkdirSync(none);
mkdirSync(worse);
writeFileSync(
  join(worse, 'policies.yaml'),
  [
    { kind: 'PeerAuthentication', namespace: 'istio-system', mode: 'PERMISSIVE' },
    { kind: 'PeerAuthentication', namespace: gridNamespace(1), mode: 'STRICT' },
  ]
    .map((p) =>
      stringify({
        apiVersion: 'security.istio.io/v1',
        kind: p.kind,
        metadata: { name: 'default', namespace: p.namespace },
        spec: { mtls: { mode: p.mode } },
      }),
    )
    .concat(
      stringify({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'all', namespace: 'istio-system' },
        spec: { host: '*.local', trafficPolicy: { tls: { mode: 'DISABLE' } } },
      }),
    )
    .join('---\n'),
);
const gridRows: Array<{ output: string; changed: number; bytes: number; inProcessS: number; processS: number }> = [];
for (const output of ['table', 'json', 'markdown']) {
  const argv = ['diff', '--topology', grid, '--base', none, '--head', worse, '-o', output];
  const samples = [];
  for (let i = 0; i < REPEATS; i++) samples.push(await inProcess(argv));
  const procs = Array.from({ length: REPEATS }, () => asProcess(argv).seconds);
  const json = JSON.parse(
    await (async () => {
      let out = '';
      await runCli(['diff', '--topology', grid, '--base', none, '--head', worse, '-o', 'json'], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: () => true },
        env: {},
        cwd: work,
      });
      return out;
    })(),
  );
  gridRows.push({
    output,
    changed: json.summary.changed,
    bytes: samples[0]!.bytes,
    inProcessS: median(samples.map((s) => s.seconds)),
    processS: median(procs),
  });
}

// What every meshprobe process pays before any command runs: Node's start and the CLI's imports.
const startup = median(Array.from({ length: REPEATS }, () => asProcess(['--version']).seconds));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;
console.log(
  `meshprobe diff, ${machine}, medians of ${REPEATS}; \`meshprobe --version\` as a process: ${ms(startup)}\n`,
);
console.log(
  '| shipped scenarios pairwise | pairs | with changes | in-process median | p95 | all pairs | process median | all pairs |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of pairRows)
  console.log(
    `| ${r.flavor} | ${r.pairs}${r.skipped ? ` (+${r.skipped} refused)` : ''} | ${r.changed} | ${ms(r.inProcessMedianS)} | ${ms(r.inProcessP95S)} | ${r.inProcessTotalS.toFixed(2)} s | ${ms(r.processMedianS)} | ${r.processTotalS.toFixed(1)} s |`,
  );
console.log('\n| 30×30 (900 cells) | changed | output | in-process | process |');
console.log('|---|---|---|---|---|');
for (const r of gridRows)
  console.log(
    `| -o ${r.output} | ${r.changed} | ${(r.bytes / 1024).toFixed(1)} KiB | ${ms(r.inProcessS)} | ${ms(r.processS)} |`,
  );

const artifacts = resolve(ROOT, 'test/artifacts');
mkdirSync(artifacts, { recursive: true });
writeFileSync(
  join(artifacts, 'diff-bench.json'),
  `${JSON.stringify({ machine, repeats: REPEATS, startupS: startup, pairs: pairRows, grid30: gridRows }, null, 2)}\n`,
);
