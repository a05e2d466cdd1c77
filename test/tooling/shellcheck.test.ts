// Every shell script shipped in the repository passes shellcheck (Debian's package; `make test` and
// .ci/run install it): the scripts users run (make e2e, .ci/run, the workflow's steps) and the tests'
// stand-ins for real tools.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readWorkflow, substitute, WORKFLOW_PATHS } from '../helpers/workflow.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SKIP = new Set(['node_modules', '.git', 'dist', 'out', 'artifacts', 'coverage']);

function shellcheckPath(): string {
  const r = spawnSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      'shellcheck is not installed: run `make shellcheck` (as root), or `sudo apt-get update && sudo apt-get install -y shellcheck`',
    );
  return r.stdout.trim();
}

/** Files named *.sh or starting with a sh/bash shebang, outside build output and dependencies. */
function shellScripts(dir = ROOT): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) found.push(...shellScripts(path));
    else if (st.isFile() && st.size < 1_000_000) {
      const head = readFileSync(path, 'utf8').slice(0, 64);
      if (name.endsWith('.sh') || /^#!\s*(\/usr)?\/bin\/(env\s+)?(ba|da)?sh\b/.test(head)) found.push(path);
    }
  }
  return found;
}

function check(files: string[], args: string[] = []) {
  const r = spawnSync(shellcheckPath(), ['--format=gcc', ...args, ...files], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, out: (r.stdout + r.stderr).trim() };
}

describe('shell scripts pass shellcheck', () => {
  const scripts = shellScripts();

  it('finds the scripts users run and the stand-ins', () => {
    const rel = scripts.map((f) => relative(ROOT, f));
    expect(rel).toEqual(expect.arrayContaining(['.ci/run', 'test/e2e/kind/e2e.sh']));
    expect(rel.filter((f) => f.startsWith('test/e2e/kind/stand-ins/')).sort()).toEqual(
      ['docker', 'helm', 'istioctl', 'kind', 'kubectl'].map((t) => `test/e2e/kind/stand-ins/${t}`),
    );
  });

  it('every script in the repository', () => {
    const { code, out } = check(scripts);
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  it("every `run:` block of the example workflows, as bash (the runner's default shell on Linux)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshprobe-shellcheck-'));
    expect(WORKFLOW_PATHS.length).toBeGreaterThanOrEqual(2);
    const files = WORKFLOW_PATHS.flatMap((p) => Object.values(readWorkflow(p).jobs))
      .flatMap((j) => j.steps)
      .filter((s) => s.run !== undefined)
      .map((s, i) => {
        const file = join(dir, `step-${i}.sh`);
        // Expressions are replaced before bash sees the script; any sample value does for shellcheck.
        writeFileSync(file, substitute(s.run!, new Proxy({}, { get: () => 'sample' })));
        return file;
      });
    expect(files.length).toBeGreaterThanOrEqual(6);
    const { code, out } = check(files, ['--shell=bash']);
    expect(out).toBe('');
    expect(code).toBe(0);
  });

  it('the check catches a bad script', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'meshprobe-shellcheck-')), 'bad.sh');
    writeFileSync(file, '#!/usr/bin/env bash\nrm -rf $DIR/*\n');
    const { code, out } = check([file]);
    expect(code).not.toBe(0);
    expect(out).toContain('SC2086');
    expect(execFileSync(shellcheckPath(), ['--version'], { encoding: 'utf8' })).toMatch(/version: \d+\.\d+/);
  });
});
