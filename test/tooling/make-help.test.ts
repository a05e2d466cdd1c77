// `make help` is how a newcomer finds the targets (README: "make help lists the others"): it must list
// every target the Makefile defines, each with its description.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The targets a user runs: rule names without a path or a dot (not node_modules/.package-lock.json). */
function makefileTargets(): string[] {
  const text = readFileSync(new URL('../../Makefile', import.meta.url), 'utf8');
  const rules = [...text.matchAll(/^([^\s:#=.][^\s:#=]*)\s*:(?!=)/gm)].map((m) => m[1]!);
  return rules.filter((t) => !t.includes('/') && !t.includes('.') && !t.includes('$'));
}

function helpListing(): Map<string, string> {
  const out = execFileSync('make', ['--no-print-directory', '-s', 'help'], { cwd: ROOT, encoding: 'utf8' });
  return new Map(
    out
      .trimEnd()
      .split('\n')
      .map((line) => {
        const m = /^ {2}(\S+)\s+(\S.*)$/.exec(line);
        if (!m)
          throw new Error(`make help printed a line that is not "  target  description": ${JSON.stringify(line)}`);
        return [m[1]!, m[2]!] as const;
      }),
  );
}

describe('make help', () => {
  it('lists every target of the Makefile, names with digits included, each with a description', () => {
    const targets = makefileTargets();
    expect(targets).toEqual(expect.arrayContaining(['help', 'test', 'e2e', 'shellcheck', 'chromium']));
    const listed = helpListing();
    expect([...listed.keys()].sort()).toEqual([...new Set(targets)].sort());
    for (const [target, description] of listed) expect(description.length, target).toBeGreaterThan(10);
  });

  it('is the default goal', () => {
    const out = execFileSync('make', ['--no-print-directory', '-s'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toContain('  e2e ');
  });
});
