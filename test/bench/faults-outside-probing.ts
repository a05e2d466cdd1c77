// Fault figures for API failures outside probing (reliability-figures §1, re-measured): each row is a fresh
// emulated cluster with the platform team's PeerAuthentication and DestinationRule in istio-system, the
// fault armed, and `meshprobe run --allow-cluster-wide` of all shipped scenarios with -o json and
// --report-dir. Then the fault is cleared and the cluster compared with its snapshot; when anything is
// left, the `meshprobe cleanup` command the run printed is run, and the cluster compared again.
// Per row: exit code, time, fault hits, scenarios finished (from the progress lines) and scenarios in the
// reports (stdout and results.json), reports lost, state after the run and after cleanup.
// Usage: npx tsx test/bench/faults-outside-probing.ts [--only name,name] [--out test/artifacts/faults-outside-probing.json]
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ReportDocument } from '../../src/report/document.js';
import type { FaultSpec } from '../emulator/api/fault-spec.js';
import { ROOT } from '../helpers/bin.js';
import { arg, clean, cluster, compare, fate, meshprobe, platformObjects, snapshot } from './cluster-state.js';

const OUT = resolve(ROOT, arg('--out', 'test/artifacts/faults-outside-probing.json'));
const ONLY = arg('--only', '').split(',').filter(Boolean);

interface Row {
  name: string;
  faults: FaultSpec[];
  seed?: number;
  extra?: string[];
}

const ROWS: Row[] = [
  { name: 'none', faults: [] },
  { name: 'a500-20', seed: 7, faults: [{ kind: 'api-error', code: 500, rate: 0.2 }] },
  {
    name: 't-istio500-50',
    seed: 7,
    faults: [{ kind: 'api-error', code: 500, rate: 0.5, resources: ['peerauthentications', 'destinationrules'] }],
  },
  { name: 't-cm500-50', seed: 7, faults: [{ kind: 'api-error', code: 500, rate: 0.5, resources: ['configmaps'] }] },
  { name: 't-write500-50', seed: 7, faults: [{ kind: 'api-error', code: 500, rate: 0.5, verbs: ['patch', 'update'] }] },
  {
    name: 't-paupdate500-80',
    seed: 7,
    faults: [{ kind: 'api-error', code: 500, rate: 0.8, verbs: ['update'], resources: ['peerauthentications'] }],
  },
  {
    name: 't-drdelete-burst6',
    faults: [{ kind: 'api-error', code: 500, verbs: ['delete'], resources: ['destinationrules'], times: 6 }],
  },
  {
    name: 't-drdelete-always',
    faults: [{ kind: 'api-error', code: 500, verbs: ['delete'], resources: ['destinationrules'] }],
  },
  { name: 'ns-stuck-test3', faults: [{ kind: 'namespace-stuck', names: ['test3'] }], extra: ['--ready-timeout', '20'] },
  {
    name: 'ns-stuck-ngtest-finalizer',
    faults: [{ kind: 'namespace-stuck', names: ['ngtest'], cause: 'finalizer' }],
    extra: ['--ready-timeout', '20'],
  },
  { name: 'p-reject-test3', faults: [{ kind: 'exec-reject', code: 500, namespaces: ['test3'] }] },
  {
    name: 'p-status-test3',
    faults: [{ kind: 'exec-status', preset: 'backend-refused', namespaces: ['test3'] } as FaultSpec],
  },
];

interface Result {
  name: string;
  fault: string;
  exit: number | null;
  seconds: number;
  hits: number[];
  finished: number;
  inStdout: number;
  inReportDir: number;
  reportsLost: number;
  incomplete?: ReportDocument['incomplete'];
  afterRun: string;
  cleanupExit?: number | null;
  afterCleanup: string;
  platformPolicy: string;
  lastError: string;
}

const results: Result[] = [];
for (const row of ROWS.filter((r) => !ONLY.length || ONLY.includes(r.name))) {
  const { emu, k8s } = await cluster({ seed: row.seed ?? 1 });
  try {
    await platformObjects(k8s, { destinationRule: 'team-a' });
    const before = snapshot(emu);
    const home = mkdtempSync(join(tmpdir(), 'meshprobe-fault-home-'));
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-fault-out-'));
    emu.faults.set(row.faults);
    const r = await meshprobe(emu, home, [
      'run',
      '--allow-cluster-wide',
      '-o',
      'json',
      '--report-dir',
      join(dir, 'out'),
      ...(row.extra ?? []),
    ]).done;
    const hits = emu.faults.hits();
    emu.faults.clear();
    // Scenarios the run finished, from its plain progress lines (CI=1): "[i/n] name: <verdict> after ...".
    const finished = r.stderr.split('\n').filter((l) => /^\[\d+\/\d+\] \S+: .* after \d+ rounds?/.test(l)).length;
    let doc: ReportDocument | undefined;
    try {
      doc = JSON.parse(r.stdout) as ReportDocument;
    } catch {
      doc = undefined;
    }
    const file = join(dir, 'out', 'results.json');
    const onDisk = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ReportDocument) : undefined;
    const inStdout = doc?.scenarios.length ?? 0;
    const inReportDir = onDisk?.scenarios.length ?? 0;
    await new Promise((res) => setTimeout(res, 1000));
    const afterRunDiff = compare(before, snapshot(emu));
    let cleanupExit: number | null | undefined;
    let afterCleanup = 'not needed';
    if (!clean(afterRunDiff)) {
      const command = doc?.incomplete?.cleanup ?? /meshprobe: to remove it: (.*)/.exec(r.stderr)?.[1];
      const argv = command ? command.split(' ').slice(1) : ['--kubeconfig', emu.kubeconfigPath, 'cleanup'];
      const c = await meshprobe(emu, home, ['-q', ...argv.slice(2)]).done;
      cleanupExit = c.code;
      const d = compare(before, snapshot(emu));
      afterCleanup = clean(d) ? 'clean' : `DIRTY: ${[...d.left, ...d.gone, ...d.changed].join(', ')}`;
    }
    const describe = (d: ReturnType<typeof compare>) =>
      clean(d)
        ? 'clean'
        : `left ${d.left.length} (ours ${d.ours}), gone ${d.gone.length}, changed ${d.changed.length}: ${[...d.left, ...d.changed].slice(0, 4).join(', ')}`;
    results.push({
      name: row.name,
      fault: JSON.stringify(row.faults),
      exit: r.code,
      seconds: Math.round(r.ms / 100) / 10,
      hits,
      finished,
      inStdout,
      inReportDir,
      reportsLost: Math.max(0, finished - Math.min(inStdout, inReportDir)),
      ...(doc?.incomplete ? { incomplete: doc.incomplete } : {}),
      afterRun: describe(afterRunDiff),
      ...(cleanupExit !== undefined ? { cleanupExit } : {}),
      afterCleanup,
      platformPolicy: fate(before, snapshot(emu), 'security.istio.io/peerauthentications/istio-system/default'),
      lastError: r.stderr
        .split('\n')
        .filter((l) => l.startsWith('meshprobe: ') && !l.startsWith('meshprobe: wrote '))
        .slice(0, 3)
        .join(' | '),
    });
    const x = results.at(-1)!;
    console.error(
      `${x.name}: exit ${x.exit} in ${x.seconds} s; finished ${x.finished}, reported ${x.inStdout}/${x.inReportDir}; after run ${x.afterRun}; after cleanup ${x.afterCleanup}`,
    );
  } finally {
    await emu.stop();
  }
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(results, null, 1));
console.log(
  [
    '| run | exit | time s | fault hits | scenarios finished | in stdout / results.json | reports lost | cluster after run | after `meshprobe cleanup` | PA istio-system/default | message |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (x) =>
        `| ${x.name} | ${x.exit} | ${x.seconds} | ${x.hits.join('+') || '–'} | ${x.finished} | ${x.inStdout} / ${x.inReportDir} | ${x.reportsLost} | ${x.afterRun} | ${x.cleanupExit === undefined ? 'not needed' : `exit ${x.cleanupExit}, ${x.afterCleanup}`} | ${x.platformPolicy} | ${x.lastError.slice(0, 160)} |`,
    ),
    '',
    `reports lost: ${results.reduce((n, x) => n + x.reportsLost, 0)}; dirty after cleanup: ${results.filter((x) => x.afterCleanup.startsWith('DIRTY')).length}`,
  ].join('\n'),
);
