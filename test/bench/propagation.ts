// Time to verdict per scenario under slow configuration pushes, on the emulated cluster: for each
// propagation range (`--propagation 0.5s-2s 15s-25s`, per-proxy delays staggered over the range), one
// meshprobe run of the scenarios in its own process (`--main` picks another build, e.g. an older commit's
// dist/cli/main.js, to compare), and per scenario: the seconds from its apply to its verdict, its rounds,
// whether it converged, on what (istiod's acknowledgement or the settle time), and how many cells were
// reported as mismatches. Every shipped scenario's expectation holds on the emulated mesh, so each
// mismatch is stale configuration believed too early. Writes a table and test/artifacts/propagation.json.
// Usage: tsx test/bench/propagation.ts [--propagation R]... [--main FILE] [--scenario S]... [--seed N] [--no-syncz]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PERMISSIONS } from '../../src/kube/permissions.js';
import type { ReportDocument } from '../../src/report/document.js';
import { startEmulator } from '../emulator/index.js';
import { parsePropagation } from '../emulator/mesh/propagation.js';
import { ensureBuilt, ROOT } from '../helpers/bin.js';

const args = process.argv.slice(2);
const all = (flag: string) => args.flatMap((a, i) => (a === flag && args[i + 1] ? [args[i + 1]!] : []));
const one = (flag: string) => all(flag).at(-1);
const ranges = all('--propagation').length ? all('--propagation') : ['0.5s-2s', '15s-25s'];
const main = one('--main') ? resolve(one('--main')!) : ensureBuilt();
const scenarios = all('--scenario').length
  ? all('--scenario')
  : [
      'baseline',
      'mesh-strict-dr-mutual',
      'mesh-strict-dr-disable-test3',
      'permissive-httpbin-test1',
      'namespace-policy',
    ];
const seed = Number(one('--seed') ?? 5);
// Runs as a user who may not exec into istio-system: the fallback without istiod's sync status.
const noSyncz = args.includes('--no-syncz');

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  return new Promise<{ stdout: string; stderr: string; code: number; seconds: number }>((done) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ stdout, stderr, code: code ?? 1, seconds: (performance.now() - t0) / 1000 }));
  });
}

/**
 * Seconds from each scenario's start (before it waits for the previous removal and applies its objects)
 * to its verdict, from the scenario-done progress lines (src/cli/progress/lines.ts, CI plain lines):
 * `[2/5] NAME: ✔ as expected after 4 rounds, converged (3.8 s)` or `(1m 04s)`.
 */
function verdictSeconds(stderr: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of stderr.matchAll(
    /^\[\d+\/\d+\] (\S+): .* after \d+ rounds?, (?:converged|did not converge) \((?:([\d.]+) s|(\d+)m (\d+)s)\)$/gm,
  ))
    out.set(m[1]!, m[2] !== undefined ? Number(m[2]) : Number(m[3]) * 60 + Number(m[4]));
  return out;
}

interface Row {
  propagation: string;
  scenario: string;
  seconds: number;
  rounds: number;
  converged: boolean;
  basis: string;
  mismatched: number;
  errors: number;
}

const rows: Row[] = [];
const runs: Array<{ propagation: string; seconds: number; code: number }> = [];
for (const range of ranges) {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-propagation-'));
  const emu = await startEmulator({
    istio: 'modern',
    propagationDelayMs: parsePropagation(range),
    seed,
    podReadyDelayMs: 100,
    kubeletTimeScale: 0.1,
    ...(noSyncz
      ? {
          users: [
            {
              name: 'no-istiod-exec',
              token: 'no-istiod-exec-token',
              rules: [
                ...PERMISSIONS.filter((p) => p.resource !== 'pods/exec').map((p) => ({
                  verbs: p.verbs,
                  apiGroups: [p.group],
                  resources: [p.resource],
                })),
                {
                  verbs: ['*'],
                  apiGroups: [''],
                  resources: ['pods/exec'],
                  namespaces: ['test1', 'test2', 'test3', 'ngtest'],
                },
              ],
            },
          ],
        }
      : {}),
  });
  let kubeconfig = emu.kubeconfigPath;
  if (noSyncz) {
    kubeconfig = join(dir, 'kubeconfig');
    await emu.writeKubeconfig(kubeconfig, { user: 'no-istiod-exec' });
  }
  const env = { ...process.env, HOME: dir, KUBECONFIG: kubeconfig, CI: '1' };
  const argv = [main, 'run', '--allow-cluster-wide', '-o', 'json', ...scenarios.flatMap((s) => ['--scenario', s])];
  console.error(`propagation ${range}: meshprobe ${argv.slice(1).join(' ')}`);
  const r = await run(process.execPath, argv, env);
  await emu.stop();
  runs.push({ propagation: range, seconds: r.seconds, code: r.code });
  if (!r.stdout) throw new Error(`meshprobe exited ${r.code} without a document: ${r.stderr.slice(-2000)}`);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  const verdictAt = verdictSeconds(r.stderr);
  for (const s of doc.scenarios) {
    const c = s.convergence!;
    const cells = s.cells;
    rows.push({
      propagation: range,
      scenario: s.name,
      seconds: verdictAt.get(s.name) ?? NaN,
      rounds: c.rounds,
      converged: c.converged,
      basis: c.push
        ? c.push.acknowledgedAt === null
          ? 'not acked'
          : `acked at ${c.push.acknowledgedAt.toFixed(1)} s`
        : 'settle',
      mismatched: cells.filter((x) => x.observed && x.observed.outcome !== 'error' && !x.match).length,
      errors: cells.filter((x) => x.observed?.outcome === 'error').length,
    });
  }
  console.error(`  exit ${r.code} in ${r.seconds.toFixed(1)} s`);
}

const header = [
  'propagation',
  'scenario',
  'time to verdict (s)',
  'rounds',
  'converged',
  'believed by',
  'mismatched cells',
  'error cells',
];
const lines = rows.map((r) =>
  [
    r.propagation,
    r.scenario,
    r.seconds.toFixed(1),
    r.rounds,
    r.converged ? 'yes' : 'no',
    r.basis,
    r.mismatched,
    r.errors,
  ].map(String),
);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log([fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n'));
for (const r of runs) console.log(`propagation ${r.propagation}: whole run ${r.seconds.toFixed(1)} s, exit ${r.code}`);
console.log(
  `meshprobe: ${main}; seed ${seed}${noSyncz ? '; no exec into istio-system' : ''}; ${cpus().length} CPUs, Node ${process.version}`,
);
mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
const out = join(ROOT, 'test/artifacts', `propagation${noSyncz ? '-no-syncz' : ''}.json`);
writeFileSync(out, JSON.stringify({ generatedAt: new Date().toISOString(), main, seed, noSyncz, runs, rows }, null, 2));
console.log(`wrote ${out}`);
