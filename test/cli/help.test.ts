// Help that tells all: every command's --help shows the global options (they work after the
// subcommand), every exit code, and defaults in words; the options of one command used on another
// say why they do not apply.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

/** Every command, as `meshprobe --help` lists them (so that a command added later is held to this too). */
async function commands(): Promise<string[]> {
  const help = (await cli(['--help'])).stdout;
  const list = help.slice(help.indexOf('\nCommands:\n')).split('\n\n')[0]!;
  return [...list.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
}

/** The option terms (`--kubeconfig <file>`, `-q, --quiet` ...) of a help section. */
function optionsIn(help: string, heading: string): string[] {
  const start = help.indexOf(`\n${heading}\n`);
  if (start === -1) return [];
  const body = help.slice(start + heading.length + 2).split('\n\n')[0]!;
  return body
    .split('\n')
    .filter((l) => /^ {2}-/.test(l))
    .map((l) => l.trim().split(/ {2,}/)[0]!);
}

describe('meshprobe --help and COMMAND --help', () => {
  it('lists every global option in the help of every command', async () => {
    expect(await commands()).toEqual(
      expect.arrayContaining(['predict', 'explain', 'run', 'probe', 'setup', 'teardown', 'cleanup']),
    );
    const top = (await cli(['--help'])).stdout;
    const globals = optionsIn(top, 'Options:').filter((o) => o !== '-h, --help');
    expect(globals).toEqual(
      expect.arrayContaining(['--kubeconfig <file>', '--context <name>', '--no-color', '-q, --quiet']),
    );
    for (const command of await commands()) {
      const help = (await cli([command, '--help'])).stdout;
      expect(optionsIn(help, 'Global Options:'), command).toEqual(expect.arrayContaining(globals));
    }
  });

  it('gives the exit codes 0, 1, 2, 3 and 130 in every help, with what 0 and 1 mean for that command', async () => {
    const codes = (help: string) => [...help.matchAll(/^ {2}(\d+) +\S/gm)].map((m) => m[1]);
    const top = (await cli(['--help'])).stdout;
    expect(top).toContain('\nExit codes:\n');
    expect(codes(top.slice(top.indexOf('Exit codes:')))).toEqual(['0', '1', '2', '3', '130']);
    for (const command of await commands()) {
      const help = (await cli([command, '--help'])).stdout;
      expect(codes(help.slice(help.indexOf('\nExit codes:\n'))), command).toEqual(['0', '1', '2', '3', '130']);
    }
    expect((await cli(['run', '--help'])).stdout).toContain('  1    a cell is not\n');
    expect((await cli(['predict', '--help'])).stdout).toContain(
      "  0    every scenario's expectations agree with the prediction\n",
    );
    expect((await cli(['setup', '--help'])).stdout).toContain('  1    not used\n');
  });

  it('shows defaults in words, never "(default: [])"', async () => {
    for (const command of ['', ...(await commands())]) {
      const help = (await cli(command ? [command, '--help'] : ['--help'])).stdout;
      expect(help, command).not.toContain('(default: [])');
    }
    const run = (await cli(['run', '--help'])).stdout;
    expect(run).toMatch(/--scenario <name> +a scenario to run \(repeatable\) \(default: all\)/);
    expect(run).toMatch(
      /-f, --file <path> +a scenario file or directory \(repeatable\)\s+\(default: the shipped\s+scenarios\)/,
    );
  });

  it('says in run and probe that they detect the Istio generation, and refuses --istio with the reason', async () => {
    for (const command of ['run', 'probe']) {
      expect((await cli([command, '--help'])).stdout).toContain('the API generation is detected from the cluster');
      const r = await cli([command, '--istio', 'legacy']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `meshprobe: error: ${command} detects the Istio generation from the cluster: modern when it serves security.istio.io (PeerAuthentication), legacy (Istio 1.4) when it serves only authentication.istio.io (MeshPolicy, Policy)\nmeshprobe: fix: drop --istio; it is for predict and explain, which use no cluster\n`,
      );
    }
  });

  it('describes probe as what it does: it sets up the topology where missing, and removes only that', async () => {
    const help = (await cli(['probe', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain('set up the topology where it is missing, apply no scenario objects');
    expect(help).toContain('remove only what it set up (--keep leaves that too)');
  });

  it('names `make try` when there is no kubeconfig', async () => {
    const r = await cli(['predict', '--scenario', 'baseline'], { env: { HOME: mkdtempSync(join(tmpdir(), 'mp-')) } });
    expect(r.code).toBe(0); // predict needs no cluster
    const run = await cli(['run'], { env: { HOME: mkdtempSync(join(tmpdir(), 'mp-')) } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('for a cluster to try, run `make try` in a clone of meshprobe');
  });
});
