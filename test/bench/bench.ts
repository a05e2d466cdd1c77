// make bench: meshprobe against the istio.io kubectl loop on N×N matrices, on the emulated cluster.
// For each N: N namespaces (N-1 with sidecars, one without), each with httpbin and sleep, and a
// mesh-wide STRICT PeerAuthentication so the matrix holds passes (200) and resets (000). Alternating,
// REPEATS times: (a) one meshprobe probe round in its own process, (b) the kubectl loop of the istio.io
// authentication tasks with the real kubectl. At N >= 20 the loop runs on two whole rows and is
// extrapolated per cell. Writes a table and test/artifacts/bench.json.
// Usage: tsx test/bench/bench.ts [N ...] [--repeats R]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { startEmulator } from '../emulator/index.js';
import { meshRuntimeFactory } from '../emulator/mesh/index.js';
import { ensureBuilt, ROOT } from '../helpers/bin.js';

const args = process.argv.slice(2);
const ri = args.indexOf('--repeats');
const REPEATS = ri >= 0 ? Number(args[ri + 1]) : 3;
const SIZES = (ri >= 0 ? args.filter((_, i) => i !== ri && i !== ri + 1) : args).map(Number).filter((n) => n > 0);
const sizes = SIZES.length ? SIZES : [3, 10, 20, 30];
const SAMPLE_ROWS_FROM = 20;

const main = ensureBuilt();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function run(
  cmd: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string; code: number; seconds: number }> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ stdout, stderr, code: code ?? 1, seconds: (performance.now() - t0) / 1000 }));
  });
}

function namespaces(n: number): { name: string; injection: boolean }[] {
  return [
    ...Array.from({ length: n - 1 }, (_, i) => ({ name: `bench-${String(i + 1).padStart(2, '0')}`, injection: true })),
    { name: 'bench-plain', injection: false },
  ];
}

function topologyFile(dir: string, n: number): string {
  const ns = namespaces(n)
    .map((x) => `    - {name: ${x.name}, injection: ${x.injection}, workloads: [httpbin, sleep]}`)
    .join('\n');
  const file = join(dir, `bench-${n}.yaml`);
  writeFileSync(
    file,
    `apiVersion: meshprobe/v1\nkind: Topology\nmetadata: {name: bench-${n}}\nspec:\n  namespaces:\n${ns}\n  workloads:\n    httpbin:\n      manifest: ${join(ROOT, 'manifests/workloads/httpbin.yaml')}\n      serve: [{ports: [http], path: /headers}]\n    sleep:\n      manifest: ${join(ROOT, 'manifests/workloads/sleep.yaml')}\n      client: {container: sleep}\n`,
  );
  return file;
}

interface Row {
  n: number;
  cells: number;
  meshprobeRoundSeconds: number;
  meshprobeProcessSeconds: number;
  meshprobeExecs: number;
  meshprobePeakRssMiB: number;
  kubectlLoopSeconds: number;
  kubectlLoopSampled: boolean;
  kubectlLoopPerCellSeconds: number;
  ratio: number;
  sameMatrix: boolean;
  samples: { meshprobe: number[]; kubectl: number[] };
}

const rows: Row[] = [];
for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), `meshprobe-bench-${n}-`));
  const emu = await startEmulator({
    istio: 'modern',
    runtime: meshRuntimeFactory({ propagationDelayMs: { min: 50, max: 200 } }),
    podReadyDelayMs: 50,
  });
  const env = { ...process.env, HOME: dir, KUBECONFIG: emu.kubeconfigPath, CI: '1' };
  const topo = topologyFile(dir, n);
  const t0 = performance.now();
  const setup = await run(process.execPath, [main, '-q', 'setup', '--topology', topo], env);
  if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  writeFileSync(
    join(dir, 'strict.yaml'),
    'apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n',
  );
  // Asynchronously: the emulated API server shares this process's event loop.
  const applied = await run('kubectl', ['apply', '-f', join(dir, 'strict.yaml')], env);
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
  await new Promise((r) => setTimeout(r, 1000)); // past the propagation delay
  console.error(`N=${n}: ${n * 2} pods ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const ns = namespaces(n).map((x) => x.name);
  const sampled = n >= SAMPLE_ROWS_FROM;
  const froms = sampled ? ['bench-plain', ns[0]!] : ns;
  // The loop from the istio.io authentication tasks, verbatim but for the namespace lists.
  const loop = `for from in ${froms.join(' ')}; do for to in ${ns.join(' ')}; do kubectl exec "$(kubectl get pod -l app=sleep -n $from -o jsonpath={.items..metadata.name})" -c sleep -n $from -- curl http://httpbin.$to:8000/ip -s -o /dev/null -w "sleep.$from to httpbin.$to: %{http_code}\\n"; done; done`;

  const mp: Array<{
    roundSeconds: number;
    processSeconds: number;
    execs: number;
    maxRssMiB: number;
    codes: Record<string, string>;
  }> = [];
  const kl: Array<{ seconds: number; codes: Map<string, string> }> = [];
  for (let r = 0; r < REPEATS; r++) {
    const a = await run(process.execPath, [resolve(import.meta.dirname, 'round.mjs'), emu.kubeconfigPath, topo], env);
    if (a.code !== 0) throw new Error(`meshprobe round failed: ${a.stderr}`);
    mp.push(JSON.parse(a.stdout));
    const b = await run('bash', ['-c', loop], env);
    const codes = new Map<string, string>();
    for (const m of b.stdout.matchAll(/^sleep\.(\S+) to httpbin\.(\S+): (\d{3})$/gm))
      codes.set(`${m[1]}/sleep ${m[2]}/httpbin:8000`, m[3]!);
    if (codes.size !== froms.length * ns.length)
      throw new Error(
        `kubectl loop printed ${codes.size} of ${froms.length * ns.length} cells: ${b.stderr.slice(0, 500)}`,
      );
    kl.push({ seconds: b.seconds, codes });
    console.error(
      `N=${n} repeat ${r + 1}: meshprobe round ${mp.at(-1)!.roundSeconds.toFixed(3)} s (${mp.at(-1)!.execs} execs), kubectl loop ${b.seconds.toFixed(1)} s for ${codes.size} cells`,
    );
  }
  const same = kl.every((k) => [...k.codes].every(([key, code]) => mp.every((m) => m.codes[key] === code)));
  const loopCells = froms.length * ns.length;
  const perCell = median(kl.map((k) => k.seconds)) / loopCells;
  const loopSeconds = perCell * n * n;
  const round = median(mp.map((m) => m.roundSeconds));
  rows.push({
    n,
    cells: n * n,
    meshprobeRoundSeconds: round,
    meshprobeProcessSeconds: median(mp.map((m) => m.processSeconds)),
    meshprobeExecs: median(mp.map((m) => m.execs)),
    meshprobePeakRssMiB: Math.max(...mp.map((m) => m.maxRssMiB)),
    kubectlLoopSeconds: loopSeconds,
    kubectlLoopSampled: sampled,
    kubectlLoopPerCellSeconds: perCell,
    ratio: loopSeconds / round,
    sameMatrix: same,
    samples: { meshprobe: mp.map((m) => m.roundSeconds), kubectl: kl.map((k) => k.seconds) },
  });
  await emu.stop();
}

const header = [
  'N×N',
  'cells',
  'meshprobe round (s)',
  'process (s)',
  'execs',
  'peak RSS (MiB)',
  'kubectl loop (s)',
  'ratio loop/meshprobe',
  'same matrix',
];
const lines = rows.map((r) =>
  [
    `${r.n}×${r.n}`,
    r.cells,
    r.meshprobeRoundSeconds.toFixed(3),
    r.meshprobeProcessSeconds.toFixed(2),
    r.meshprobeExecs,
    r.meshprobePeakRssMiB.toFixed(0),
    `${r.kubectlLoopSeconds.toFixed(1)}${r.kubectlLoopSampled ? ' *' : ''}`,
    r.ratio.toFixed(0),
    r.sameMatrix ? 'yes' : 'NO',
  ].map(String),
);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log([fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n'));
console.log(
  `medians of ${REPEATS}; * kubectl loop timed on 2 whole rows and extrapolated per cell; machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
);
mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
writeFileSync(
  join(ROOT, 'test/artifacts/bench.json'),
  JSON.stringify(
    {
      generatedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: totalmem() / 2 ** 30, node: process.version },
      repeats: REPEATS,
      rows,
    },
    null,
    2,
  ),
);
console.log('wrote test/artifacts/bench.json');
