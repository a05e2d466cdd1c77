// Kill figures (reliability-figures §2, re-measured): a run on a cluster where another team already has
// objects is SIGKILLed at a random request of one phase, then `meshprobe cleanup` runs; the whole cluster
// is compared with a snapshot taken before the run (left, gone, changed; each pre-existing object exact or
// not). Series `plain` (pre-existing PA and DR istio-system/default), `adopt` (also a namespace test1 of
// the user's, with a DR the scenarios replace and a ConfigMap; the runs pass --adopt), and `sigterm`
// (SIGTERM instead, no cleanup afterwards: time to exit, exit code, what is left; during setup with pods
// that become Ready only after 15 s, and with a pod that never does).
// Usage: npx tsx test/bench/kill-cleanup.ts [--series plain,adopt,sigterm] [--per-phase 3] [--seed 4242]
//        [--out test/artifacts/kill-cleanup.json]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { AuditEntry } from '../emulator/api/audit.js';
import type { Emulator } from '../emulator/index.js';
import { ROOT } from '../helpers/bin.js';
import { arg, clean, cluster, compare, fate, meshprobe, platformObjects, rng, snapshot } from './cluster-state.js';

const SERIES = arg('--series', 'plain,adopt,sigterm').split(',');
const PER_PHASE = Number(arg('--per-phase', '3'));
const SEED = Number(arg('--seed', '4242'));
const OUT = resolve(ROOT, arg('--out', 'test/artifacts/kill-cleanup.json'));

const RUN = [
  'run',
  '--allow-cluster-wide',
  '--scenario',
  'mesh-strict-dr-mutual',
  '--scenario',
  'permissive-httpbin-test1',
  '--scenario',
  'port-level-dr',
  '--scenario',
  'mesh-strict-no-dr',
  '--interval',
  '0.2',
  '--settle',
  '2',
  '--converge-timeout',
  '20',
];
const READY = ['--ready-timeout', '60'];
const ISTIO = new Set(['peerauthentications', 'destinationrules', 'policies', 'meshpolicies']);
const SETUP = new Set(['namespaces', 'serviceaccounts', 'services', 'secrets', 'deployments', 'configmaps']);

interface Phase {
  name: string;
  match: (e: AuditEntry) => boolean;
}
const PHASES: Phase[] = [
  { name: 'preflight', match: (e) => e.resource === 'selfsubjectaccessreviews' },
  {
    name: 'setup',
    match: (e) =>
      SETUP.has(e.resource) &&
      e.verb !== 'delete' &&
      e.namespace !== 'meshprobe-system' &&
      e.name !== 'meshprobe-system',
  },
  { name: 'apply', match: (e) => ISTIO.has(e.resource) && e.verb === 'patch' },
  { name: 'replace/restore', match: (e) => ISTIO.has(e.resource) && e.verb === 'update' },
  { name: 'restore (delete)', match: (e) => ISTIO.has(e.resource) && e.verb === 'delete' },
  { name: 'probe', match: (e) => e.subresource === 'exec' },
  { name: 'teardown', match: (e) => e.resource === 'namespaces' && e.verb === 'delete' },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const requests = (emu: Emulator) => emu.audit.entries();

/** How many requests of each phase an uninterrupted run makes, so kill points fall inside it. */
async function counts(emu: Emulator, home: string, args: string[]): Promise<{ counts: number[]; ms: number }> {
  const start = requests(emu).length;
  const r = await meshprobe(emu, home, ['-q', ...args]).done;
  // 1 is a mismatch, which the user's own DestinationRule may well cause: still a whole run.
  if (r.code !== 0 && r.code !== 1) throw new Error(`the uninterrupted run failed (${r.code}): ${r.stderr}`);
  const made = requests(emu).slice(start);
  return { counts: PHASES.map((p) => made.filter(p.match).length), ms: r.ms };
}

interface KillRow {
  series: string;
  phase: string;
  trigger: string;
  killedAtMs: number;
  lastRequest: string;
  writes: number;
  cleanupExit: number | null;
  ours: number;
  left: number;
  gone: number;
  changed: number;
  watched: Record<string, string>;
  detail: string[];
}

async function killSeries(series: 'plain' | 'adopt', random: () => number): Promise<KillRow[]> {
  const adopt = series === 'adopt';
  const { emu, k8s } = await cluster();
  const home = mkdtempSync(join(tmpdir(), 'meshprobe-kill-home-'));
  const args = [...RUN, ...READY, ...(adopt ? ['--adopt'] : [])];
  const watched = [
    'security.istio.io/peerauthentications/istio-system/default',
    'networking.istio.io/destinationrules/istio-system/default',
    ...(adopt
      ? [
          '/namespaces//test1',
          'networking.istio.io/destinationrules/test1/httpbin-ports',
          '/configmaps/test1/team-settings',
        ]
      : []),
  ];
  try {
    await platformObjects(k8s, { adopt });
    const before = snapshot(emu);
    const base = await counts(emu, home, args);
    const after = compare(before, snapshot(emu));
    console.error(
      `${series}: uninterrupted run ${(base.ms / 1000).toFixed(1)} s, requests per phase ${PHASES.map((p, i) => `${p.name} ${base.counts[i]}`).join(', ')}; cluster after it: ${clean(after) ? 'as before' : JSON.stringify(after)}`,
    );
    const rows: KillRow[] = [];
    const plan = [...PHASES.map((p) => p.name), 'random'];
    for (let k = 0; k < PER_PHASE; k++) {
      for (const phaseName of plan) {
        const phase = PHASES.find((p) => p.name === phaseName);
        const max = phase ? base.counts[PHASES.indexOf(phase)]! : 0;
        if (phase && max === 0) continue;
        const n = phase ? 1 + Math.floor(random() * max) : 0;
        const jitter = Math.floor(random() * 16);
        const atMs = phase ? 0 : 300 + Math.floor(random() * 11_700);
        const start = requests(emu).length;
        const run = meshprobe(emu, home, ['-q', ...args]);
        const t0 = performance.now();
        if (phase) {
          while (requests(emu).slice(start).filter(phase.match).length < n && run.child.exitCode === null)
            await sleep(2);
          await sleep(jitter);
        } else await sleep(atMs);
        const killedAtMs = Math.round(performance.now() - t0);
        run.child.kill('SIGKILL');
        const ended = await run.done;
        const made = requests(emu).slice(start);
        const last = made.at(-1);
        const c = await meshprobe(emu, home, ['-q', 'cleanup', '--timeout', '60']).done;
        const now = snapshot(emu);
        const d = compare(before, now);
        rows.push({
          series,
          phase: phaseName,
          trigger: phase ? `#${n} +${jitter} ms` : `${atMs} ms`,
          killedAtMs,
          lastRequest:
            ended.signal === 'SIGKILL'
              ? last
                ? `${last.verb} ${last.resource}${last.subresource ? `/${last.subresource}` : ''} ${last.namespace ?? ''}/${last.name ?? ''}`
                : 'none'
              : `(the run ended first, exit ${ended.code})`,
          writes: made.filter((e) => e.resource !== 'selfsubjectaccessreviews' && e.code < 300).length,
          cleanupExit: c.code,
          ours: d.ours,
          left: d.left.length,
          gone: d.gone.length,
          changed: d.changed.length,
          watched: Object.fromEntries(watched.map((w) => [w.split('/').slice(1).join('/'), fate(before, now, w)])),
          detail: [
            ...d.left.map((x) => `left ${x}`),
            ...d.gone.map((x) => `gone ${x}`),
            ...d.changed.map((x) => `changed ${x}`),
            ...(c.code ? [c.stderr.trim()] : []),
          ],
        });
        const r = rows.at(-1)!;
        console.error(
          `${series} ${phaseName} ${r.trigger}: killed at ${killedAtMs} ms after ${r.lastRequest}; cleanup exit ${c.code}; left ${r.left} (ours ${r.ours}), gone ${r.gone}, changed ${r.changed}`,
        );
        // A cleanup that left something makes the next kill's comparison meaningless: start from scratch.
        if (!clean(d)) throw new Error(`not as before after cleanup: ${r.detail.join('; ')}`);
      }
    }
    return rows;
  } finally {
    await emu.stop();
  }
}

interface SignalRow {
  case: string;
  exit: number | null;
  secondsToExit: number;
  writesAfterSignal: number;
  clean: boolean;
  stderr: string;
}

/** SIGTERM at a point, no cleanup afterwards: how long until the process is gone, and what it left. */
async function sigterm(): Promise<SignalRow[]> {
  const rows: SignalRow[] = [];
  const cases: Array<{ name: string; ready: number; topologyFault?: string; at: Phase; n: number; extra: string[] }> = [
    { name: 'preflight (SSAR #20)', ready: 100, at: PHASES[0]!, n: 20, extra: [] },
    { name: 'setup, pods Ready after 15 s (write #10)', ready: 15_000, at: PHASES[1]!, n: 10, extra: [] },
    {
      name: 'setup, ready timeout 300 s (pods Ready after 60 s)',
      ready: 60_000,
      at: PHASES[1]!,
      n: 25,
      extra: ['--ready-timeout', '300'],
    },
    { name: 'probe (exec #5)', ready: 100, at: PHASES[5]!, n: 5, extra: [] },
    { name: 'teardown (namespace delete #1)', ready: 100, at: PHASES[6]!, n: 1, extra: [] },
  ];
  for (const c of cases) {
    const { emu, k8s } = await cluster({ podReadyDelayMs: c.ready });
    try {
      await platformObjects(k8s);
      const before = snapshot(emu);
      const home = mkdtempSync(join(tmpdir(), 'meshprobe-term-home-'));
      const start = requests(emu).length;
      const run = meshprobe(emu, home, [...RUN, ...(c.extra.length ? c.extra : READY)]);
      while (requests(emu).slice(start).filter(c.at.match).length < c.n && run.child.exitCode === null) await sleep(2);
      const signalled = requests(emu).length;
      const t0 = performance.now();
      run.child.kill('SIGTERM');
      const ended = await run.done;
      const secondsToExit = (performance.now() - t0) / 1000;
      await sleep(1000);
      rows.push({
        case: c.name,
        exit: ended.code,
        secondsToExit: Math.round(secondsToExit * 10) / 10,
        writesAfterSignal: requests(emu)
          .slice(signalled)
          .filter(
            (e) =>
              e.resource !== 'selfsubjectaccessreviews' &&
              e.verb !== 'delete' &&
              e.code < 300 &&
              e.name?.startsWith('journal-') !== true,
          ).length,
        clean: clean(compare(before, snapshot(emu))),
        stderr: ended.stderr.trim().split('\n').slice(-2).join(' | '),
      });
      console.error(
        `sigterm ${c.name}: exit ${ended.code} after ${secondsToExit.toFixed(1)} s; clean ${rows.at(-1)!.clean}`,
      );
    } finally {
      await emu.stop();
    }
  }
  return rows;
}

const random = rng(SEED);
const result: { kills: KillRow[]; sigterm: SignalRow[] } = { kills: [], sigterm: [] };
for (const s of SERIES) {
  if (s === 'plain' || s === 'adopt') result.kills.push(...(await killSeries(s, random)));
  else if (s === 'sigterm') result.sigterm = await sigterm();
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(result, null, 1));

const lines: string[] = [];
if (result.kills.length) {
  lines.push(
    '| series | phase | trigger | killed at ms | last request | writes + execs | cleanup exit | left (ours) | gone | changed | pre-existing objects |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of result.kills)
    lines.push(
      `| ${r.series} | ${r.phase} | ${r.trigger} | ${r.killedAtMs} | ${r.lastRequest} | ${r.writes} | ${r.cleanupExit} | ${r.left} (${r.ours}) | ${r.gone} | ${r.changed} | ${Object.entries(
        r.watched,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')} |`,
    );
  const bad = result.kills.filter((r) => r.left + r.gone + r.changed > 0 || r.cleanupExit !== 0);
  lines.push('', `${result.kills.length} kills; after cleanup not as before: ${bad.length}.`);
}
if (result.sigterm.length) {
  lines.push(
    '',
    '| SIGTERM during | exit | s to exit | writes after the signal | cluster as before | last stderr |',
    '|---|---|---|---|---|---|',
  );
  for (const r of result.sigterm)
    lines.push(
      `| ${r.case} | ${r.exit} | ${r.secondsToExit} | ${r.writesAfterSignal} | ${r.clean ? 'yes' : 'NO'} | ${r.stderr} |`,
    );
}
console.log(lines.join('\n'));
