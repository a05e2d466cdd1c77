// The fault matrix: meshprobe against each failure mode of the emulated cluster at two rates or counts,
// beside a fault-free run. One fresh emulated cluster per case; meshprobe runs in its own process (the
// built CLI, or `--main FILE`) with `run --allow-cluster-wide` on two scenarios (56 cells) and writes
// every report into a directory; then, with the fault cleared as an operator would after the incident,
// `meshprobe cleanup`. Per case:
// - misreported: cells observed as a network outcome other than the fault-free run's (a fault taken for
//   policy: must be 0);
// - error cells: cells reported as probe errors (allowed: the fault is named, never taken for "blocked");
// - reports lost: scenarios that were applied but are missing from results.json, or report files missing
//   after such a scenario (must be 0);
// - left after the run, and after `cleanup` (must be 0): topology and journal namespaces, scenario
//   objects outside them;
// - exit code, and the run time against the fault-free run.
// Writes a table and test/artifacts/faults.json.
// Usage: tsx test/bench/faults.ts [--main FILE] [--only NAME]...
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ReportDocument } from '../../src/report/document.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { ensureBuilt, ROOT } from '../helpers/bin.js';

const args = process.argv.slice(2);
const all = (flag: string) => args.flatMap((a, i) => (a === flag && args[i + 1] ? [args[i + 1]!] : []));
const main = all('--main').at(-1) ? resolve(all('--main').at(-1)!) : ensureBuilt();
const only = all('--only');
const SCENARIOS = ['baseline', 'mesh-strict-dr-mutual'];
const REPORTS = ['results.json', 'junit.xml', 'summary.md', 'report.html'];

interface Case {
  name: string;
  /** The rate or count, as the table shows it. */
  level: string;
  options: EmulatorOptions;
  argv?: string[];
}

type FaultList = NonNullable<EmulatorOptions['faults']>;
const faults = (...f: FaultList): EmulatorOptions => ({ faults: f });
const CASES: Case[] = [
  { name: 'none', level: '-', options: {} },
  ...[0.05, 0.2].map((rate) => ({
    name: 'api-error 500',
    level: `rate ${rate}`,
    options: faults({ kind: 'api-error', code: 500, rate }),
  })),
  ...[0.05, 0.2].map((rate) => ({
    name: 'api-error 429 retry-after=1',
    level: `rate ${rate}`,
    options: faults({ kind: 'api-error', code: 429, retryAfterSeconds: 1, rate }),
  })),
  ...[0.1, 0.3].map((rate) => ({
    name: 'exec-drop afterMs=20',
    level: `rate ${rate}`,
    options: faults({ kind: 'exec-drop', afterMs: 20, rate }),
  })),
  ...[0.1, 0.3].map((rate) => ({
    name: 'exec-reject 500',
    level: `rate ${rate}`,
    options: faults({ kind: 'exec-reject', code: 500, rate }),
  })),
  ...(['backend-refused', 'container-not-found'] as const).flatMap((preset) =>
    [0.1, 0.3].map((rate) => ({
      name: `exec-status ${preset}`,
      level: `rate ${rate}`,
      options: faults({ kind: 'exec-status', preset, rate }),
    })),
  ),
  ...[2, 8].map((times) => ({
    name: 'exec-status pod-not-found',
    level: `times ${times}`,
    options: faults({ kind: 'exec-status', preset: 'pod-not-found', times }),
  })),
  ...[0.05, 0.15].map((rate) => ({
    name: 'exec-status backend-timeout delay=2s',
    level: `rate ${rate}`,
    options: faults({ kind: 'exec-status', preset: 'backend-timeout', delayMs: 2000, rate }),
  })),
  ...[2, 6].map((times) => ({
    name: 'image-pull toomanyrequests',
    level: `times ${times}`,
    options: faults({ kind: 'image-pull', message: 'toomanyrequests', times }),
  })),
  ...[['*/go-httpbin:*'], ['*']].map((images) => ({
    name: 'image-pull permanent (not found)',
    level: `images ${images.join(',')}`,
    options: faults({ kind: 'image-pull', permanent: true, images }),
  })),
  ...(['baseline', 'restricted'] as const).map((level) => ({
    name: 'pod-security',
    level,
    options: { podSecurity: level },
  })),
  ...[0.5, 1].map((rate) => ({
    name: 'webhook-down',
    level: `rate ${rate}`,
    options: faults({ kind: 'webhook-down', rate }),
  })),
  ...(['content', 'finalizer'] as const).map((cause) => ({
    name: 'namespace-stuck test3',
    level: cause,
    options: faults({ kind: 'namespace-stuck', names: ['test3'], cause }),
    argv: ['--ready-timeout', '20'],
  })),
  ...[
    { min: 5000, max: 10_000 },
    { min: 15_000, max: 25_000 },
  ].map((range) => ({
    name: 'propagation',
    level: `${range.min / 1000}-${range.max / 1000} s`,
    options: { propagationDelayMs: range },
  })),
];

function spawnMeshprobe(argv: string[], env: NodeJS.ProcessEnv) {
  const t0 = performance.now();
  return new Promise<{ stdout: string; stderr: string; code: number; seconds: number }>((done) => {
    const child = spawn(process.execPath, [main, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ stdout, stderr, code: code ?? 1, seconds: (performance.now() - t0) / 1000 }));
  });
}

/** What of the run is in the cluster: topology and journal namespaces, scenario objects in istio-system. */
function leftovers(emu: Emulator): string[] {
  const ns = emu.store
    .list('', 'namespaces')
    .map((n) => n.metadata.name)
    .filter((n) => /^(test\d|ngtest|meshprobe-system)$/.test(n))
    .map((n) => `Namespace ${n}`);
  const wide = [
    ['security.istio.io', 'peerauthentications', 'PeerAuthentication'],
    ['networking.istio.io', 'destinationrules', 'DestinationRule'],
  ].flatMap(([group, resource, kind]) =>
    emu.store.list(group!, resource!, 'istio-system').map((o) => `${kind} istio-system/${o.metadata.name}`),
  );
  return [...ns, ...wide];
}

interface Row {
  fault: string;
  level: string;
  exit: number;
  seconds: number;
  scenariosApplied: number;
  scenariosReported: number;
  cells: number;
  misreported: number;
  errors: number;
  reportsLost: number;
  leftAfterRun: string[];
  leftAfterCleanup: string[];
  message: string;
}

const rows: Row[] = [];
let truth: Map<string, string> | undefined;
for (const c of CASES) {
  if (only.length && !only.includes(c.name) && c.name !== 'none') continue;
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-faults-'));
  const emu = await startEmulator({
    istio: 'modern',
    seed: 7,
    podReadyDelayMs: 100,
    kubeletTimeScale: 0.1,
    crashLoopIntervalMs: 200,
    propagationDelayMs: { min: 600, max: 1500 },
    ...c.options,
  });
  const env = {
    ...process.env,
    HOME: dir,
    KUBECONFIG: emu.kubeconfigPath,
    CI: '1',
    MESHPROBE_JOURNAL_DIR: join(dir, 'journal'),
  };
  const reports = join(dir, 'reports');
  const r = await spawnMeshprobe(
    [
      'run',
      '--allow-cluster-wide',
      '-o',
      'json',
      '--report-dir',
      reports,
      '--settle',
      '3',
      ...SCENARIOS.flatMap((s) => ['--scenario', s]),
      ...(c.argv ?? []),
    ],
    env,
  );
  const leftAfterRun = leftovers(emu);
  emu.faults.clear();
  const clean = await spawnMeshprobe(['cleanup', '--timeout', '60'], env);
  if (clean.code !== 0)
    console.error(`${c.name} ${c.level}: cleanup exited ${clean.code}: ${clean.stderr.slice(-500)}`);
  const leftAfterCleanup = leftovers(emu);
  await emu.stop();

  const applied = new Set([...r.stderr.matchAll(/^\[\d+\/\d+\] (\S+): applied /gm)].map((m) => m[1]!));
  let doc: ReportDocument | undefined;
  try {
    doc = JSON.parse(readFileSync(join(reports, 'results.json'), 'utf8')) as ReportDocument;
  } catch {
    doc = undefined;
  }
  const reported = new Set(doc?.scenarios.map((s) => s.name) ?? []);
  const missingFiles = applied.size ? REPORTS.filter((f) => !existsSync(join(reports, f))).length : 0;
  const cells = doc?.scenarios.flatMap((s) => s.cells.map((x) => ({ key: `${s.name} ${x.from} ${x.to}`, x }))) ?? [];
  if (c.name === 'none') truth = new Map(cells.map(({ key, x }) => [key, x.observed?.outcome ?? '']));
  const misreported = cells.filter(
    ({ key, x }) => x.observed && x.observed.outcome !== 'error' && x.observed.outcome !== truth?.get(key),
  ).length;
  const row: Row = {
    fault: c.name,
    level: c.level,
    exit: r.code,
    seconds: r.seconds,
    scenariosApplied: applied.size,
    scenariosReported: reported.size,
    cells: cells.length,
    misreported,
    errors: cells.filter(({ x }) => x.observed?.outcome === 'error').length,
    reportsLost: [...applied].filter((s) => !reported.has(s)).length + missingFiles,
    leftAfterRun,
    leftAfterCleanup,
    message: (/^meshprobe: error: (.*)$/m.exec(r.stderr)?.[1] ?? '').slice(0, 160),
  };
  rows.push(row);
  console.error(
    `${c.name} ${c.level}: exit ${row.exit} in ${row.seconds.toFixed(1)} s; ${row.cells} cells, ${row.misreported} misreported, ${row.errors} errors, ${row.reportsLost} reports lost, left ${row.leftAfterRun.length} then ${row.leftAfterCleanup.length}${row.message ? `; ${row.message}` : ''}`,
  );
}

const base = rows.find((r) => r.fault === 'none')?.seconds ?? NaN;
const header = [
  'fault',
  'rate/count',
  'exit',
  'cells',
  'misreported',
  'error cells',
  'reports lost',
  'left after run',
  'left after cleanup',
  'run time (s)',
  'vs fault-free',
];
const lines = rows.map((r) =>
  [
    r.fault,
    r.level,
    r.exit,
    r.cells,
    r.misreported,
    r.errors,
    r.reportsLost,
    r.leftAfterRun.length,
    r.leftAfterCleanup.length,
    r.seconds.toFixed(1),
    `${(r.seconds / base).toFixed(2)}×`,
  ].map(String),
);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]) => `| ${cells.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
console.log([fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n'));
console.log(`meshprobe: ${main}; scenarios ${SCENARIOS.join(', ')}; ${cpus().length} CPUs, Node ${process.version}`);
mkdirSync(join(ROOT, 'test/artifacts'), { recursive: true });
writeFileSync(
  join(ROOT, 'test/artifacts/faults.json'),
  JSON.stringify({ generatedAt: new Date().toISOString(), main, scenarios: SCENARIOS, rows }, null, 2),
);
console.log('wrote test/artifacts/faults.json');
