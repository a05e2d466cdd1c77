// The README's "Try it" section, run as written, so the README cannot drift from what meshprobe does:
// its first command (`make try`) in a copy of the clone, then every command of the second terminal in
// order, in one shell, each expected to exit as its `# exit N` comment says (0 without one).
// The copy links the clone's files and has its own out/, dist/ and node_modules/ (of links), so the
// section's files (my-policy.yaml, my-scenario.yaml), the build and the try cluster's kubeconfig never
// touch the clone.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/bin.js';

interface Command {
  text: string;
  exit: number;
}

/** The Markdown between `## Try it` and the next level-2 heading. */
function trySection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Try it\n');
  if (start === -1) throw new Error('README.md has no "## Try it" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** The fenced blocks of a language (`sh`, or '' for plain output), in order. */
function blocks(md: string, lang: string): string[] {
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang).map((m) => m[2]!);
}

/** A block's commands: one per line, a here-document with its body; `# exit N` gives the exit code. */
function commands(block: string): Command[] {
  const out: Command[] = [];
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const exit = Number(/#\s*exit (\d+)/.exec(line)?.[1] ?? 0);
    const heredoc = /<<'?(\w+)'?/.exec(line);
    if (!heredoc) {
      out.push({ text: line, exit });
      continue;
    }
    const body = [line];
    while (i + 1 < lines.length && lines[i + 1] !== heredoc[1]) body.push(lines[++i]!);
    body.push(lines[++i]!);
    out.push({ text: body.join('\n'), exit });
  }
  return out;
}

/** The command as meshprobe prints it: no `npx`, no comment. */
const printed = (c: Command) => c.text.replace(/^npx /, '').replace(/\s+#.*$/, '');

const section = trySection();
const [first, ...rest] = blocks(section, 'sh');
const tryCommand = commands(first ?? '')[0];
const walk = rest.flatMap(commands);

let scratch: string;
let tryProcess: ChildProcess;
let tryOut = '';
let tryErr = '';
let stateDir: string;

/**
 * A copy of the clone made of links to its files, with its own out/ and dist/ (built by `make try`).
 * node_modules is a directory of links to the clone's packages with a fresh .package-lock.json of its
 * own, so make's install rule finds it up to date: an `npm ci` here must never reach the clone's packages.
 */
function scratchClone(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshprobe-try-clone-'));
  for (const name of readdirSync(ROOT)) {
    if (['out', 'dist', '.git', '.meshprobe', 'node_modules'].includes(name) || name.startsWith('my-')) continue;
    symlinkSync(join(ROOT, name), join(dir, name));
  }
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name !== '.package-lock.json') symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  copyFileSync(join(ROOT, 'node_modules/.package-lock.json'), join(modules, '.package-lock.json'));
  return dir;
}

/** make (the job's leader) has exited, by itself or by a signal. */
const exited = () => tryProcess.exitCode !== null || tryProcess.signalCode !== null;

async function waitFor(what: () => boolean, ms: number, why: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (!what()) {
    if (Date.now() > until || exited()) throw new Error(why());
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  expect(printed(tryCommand!), 'the first command of "Try it"').toBe('make try');
  scratch = scratchClone();
  stateDir = mkdtempSync(join(tmpdir(), 'meshprobe-try-state-'));
  // Its own process group, as a terminal's foreground job: Ctrl-C reaches make and everything under it.
  tryProcess = spawn('bash', ['-c', tryCommand!.text], {
    cwd: scratch,
    detached: true,
    env: { ...process.env, KUBECONFIG: join(stateDir, 'none'), MESHPROBE_STATE_DIR: stateDir },
  });
  tryProcess.stdout!.on('data', (d: Buffer) => (tryOut += d.toString()));
  tryProcess.stderr!.on('data', (d: Buffer) => (tryErr += d.toString()));
  // Building (tsc) on a loaded 2-core machine takes most of this.
  await waitFor(
    () => tryOut.includes('  stop it:'),
    240_000,
    () => `make try did not print its "stop it" line:\n${tryOut}\n${tryErr}`,
  );
}, 260_000);

afterAll(async () => {
  if (tryProcess && !exited()) process.kill(-tryProcess.pid!, 'SIGKILL');
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the README's Try it section", () => {
  it('make try prints the kubeconfig to export and how to stop it, as the README shows', () => {
    const sample = blocks(section, '')[0]!.trimEnd().split('\n');
    const shown = tryOut.split('\n').filter((l) => l.startsWith('meshprobe try:') || l.startsWith('  '));
    expect(shown).toHaveLength(sample.length);
    // Same words; the port, pid and paths differ from run to run.
    const shape = (l: string) => l.replace(/\d+/g, 'N').replace(/\/\S*\/out\/try\//, '<clone>/out/try/');
    expect(shown.map(shape)).toEqual(sample.map(shape));
    expect(shown[1]).toBe(`  use it:   export KUBECONFIG=${join(scratch, 'out/try/kubeconfig')}`);
    expect(existsSync(join(scratch, 'out/try/kubeconfig'))).toBe(true);
  });

  it('runs every command of the second terminal, each with the exit code the README gives', () => {
    expect(walk.map((c) => c.text.split('\n')[0])).toEqual(
      expect.arrayContaining([
        'export KUBECONFIG=$PWD/out/try/kubeconfig',
        expect.stringMatching(/^npx meshprobe predict --scenario /),
        expect.stringMatching(/^npx meshprobe run --scenario /),
        'kubectl apply -f my-policy.yaml',
        'npx meshprobe probe',
        expect.stringMatching(/^npx meshprobe explain /),
        "cat > my-scenario.yaml <<'EOF'",
      ]),
    );
    const script = walk
      .map(
        (c, i) =>
          `{\n${c.text}\n} 2>&1; rc=$?; printf '\\n@@end %d %d\\n' ${i} "$rc"; [ "$rc" -eq ${c.exit} ] || exit 99`,
      )
      .join('\n');
    const r = spawnSync('bash', ['-c', script], {
      cwd: scratch,
      encoding: 'utf8',
      timeout: 300_000,
      // A new shell in the clone: the kubeconfig comes from the README's own export line. npx must find
      // meshprobe in the clone, never in the registry.
      env: {
        ...process.env,
        KUBECONFIG: join(stateDir, 'none'),
        MESHPROBE_STATE_DIR: stateDir,
        npm_config_offline: 'true',
      },
    });
    const outputs = new Map<number, string>();
    let from = 0;
    for (const m of r.stdout.matchAll(/\n@@end (\d+) (\d+)\n/g)) {
      outputs.set(Number(m[1]), r.stdout.slice(from, m.index));
      from = m.index! + m[0].length;
    }
    const ran = [...outputs.keys()].length;
    const failed = walk[ran - 1];
    expect(r.status, `${failed?.text} (want exit ${failed?.exit}):\n${outputs.get(ran - 1)}\n${r.stderr}`).toBe(0);
    expect(ran).toBe(walk.length);

    const out = (match: RegExp) => outputs.get(walk.findIndex((c) => match.test(c.text)))!;
    expect(out(/^npx meshprobe predict --scenario mesh-strict-dr-mutual/)).toContain(
      '= mesh-strict-dr-mutual: as expected',
    );
    expect(out(/^npx meshprobe run --scenario mesh-strict-dr-mutual/)).toContain(
      'mesh-strict-dr-mutual: 40/40 cells as expected',
    );
    // The policy applied by hand: 503 from test2's httpbin for every sidecar client, as predicted.
    const probe = out(/^npx meshprobe probe/);
    expect(probe).toContain('= cluster-policies: as expected');
    const row = probe.split('\n').find((l) => l.startsWith('│ test1/sleep'))!;
    expect(
      row
        .split('│')
        .map((c) => c.trim())
        .filter(Boolean)
        .slice(4, 6),
    ).toEqual(['✘ 503', '✘ 503']);
    expect(out(/^npx meshprobe explain --scenario mesh-strict-dr-mutual/)).toContain(
      'predicted ✘ reset: the STRICT server sidecar resets a plaintext connection (curl exit 56)  [docs/semantics.md#outcome-row-2]',
    );
    // The explain command the README shows is the one predict prints for the scenario of one's own.
    const explain = walk.find((c) => /^npx meshprobe explain --scenario my-/.test(c.text))!;
    expect(out(/^npx meshprobe predict -f my-scenario/)).toContain(`    ${printed(explain)}\n`);
    expect(out(/^npx meshprobe explain --scenario my-/)).toContain('≠ the scenario and the oracle disagree');
    // run's note, as the README quotes it (the list of cells it shortens with "...").
    const note = blocks(section, '')[1]!.trimEnd().split('\n');
    const run = out(/^npx meshprobe run -f my-scenario/);
    for (const line of note.filter((l) => !l.includes('...'))) expect(run).toContain(`${line}\n`);
  }, 320_000);

  it('Ctrl-C stops the cluster and removes its kubeconfig', async () => {
    process.kill(-tryProcess.pid!, 'SIGINT');
    await new Promise<void>((resolve) => {
      if (exited() && tryProcess.stdout!.closed) resolve();
      else tryProcess.once('close', () => resolve());
    });
    expect(tryErr).toContain('meshprobe try: stopped (SIGINT); the cluster and its kubeconfig are gone');
    expect(existsSync(join(scratch, 'out/try/kubeconfig'))).toBe(false);
    mkdirSync(join(scratch, 'out'), { recursive: true });
  }, 30_000);
});
