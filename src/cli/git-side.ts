// A diff side `REV:PATH`, read from git's object database with plumbing commands (rev-parse, ls-tree,
// cat-file --batch): no checkout and no work tree, so it works in a bare clone and in CI's shallow one,
// and the user's files stay as they are.
import { spawnSync } from 'node:child_process';
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import { isManifestName, MAX_MANIFEST_FILES, policiesOf, tooManyFiles, type PolicySet } from '../model/manifests.js';
import { MAX_FILE_BYTES, parseYaml } from '../model/yaml-source.js';

export interface GitSpec {
  rev: string;
  path: string;
}

/** `REV:PATH` as git reads it (gitrevisions(7), `<rev>:<path>`): a ref name cannot hold a colon, so the first one splits. */
export function parseGitSide(side: string): GitSpec | undefined {
  const at = side.indexOf(':');
  if (at < 0) return undefined;
  return { rev: side.slice(0, at), path: side.slice(at + 1) };
}

/** A git side's policies, or `absent` when the revision exists and the path is not in it. */
export type GitRead = { kind: 'read'; set: PolicySet; commit: string } | { kind: 'absent'; commit: string };

interface Entry {
  mode: string;
  type: string;
  oid: string;
  size: number;
  /** Relative to the side's tree. */
  path: string;
}

export function readGitSide(
  spec: GitSpec,
  side: string,
  o: { cwd: string; env: Record<string, string | undefined> },
): GitRead {
  const fix = 'name a commit, branch or tag the repository has, e.g. HEAD~1:policies or origin/main:policies';
  if (spec.rev === '' || spec.rev.startsWith('-'))
    throw new ConfigError(
      `${side}: "${spec.rev}" is not a revision${spec.rev === '' ? ' (an empty one names the index in git)' : ''}`,
      fix,
    );
  const git: Git = (args, input) => run(args, o, input, 'utf8');
  const repo = git(['rev-parse', '--git-dir']);
  if (repo.status !== 0)
    throw new ConfigError(
      `${side}: ${o.cwd} is not in a git repository (${repo.stderr.trim().split('\n')[0]})`,
      'run meshprobe inside the repository (a bare clone will do), or set GIT_DIR',
    );
  const commit = git(['rev-parse', '--verify', '--quiet', `${spec.rev}^{commit}`]);
  if (commit.status !== 0) {
    // rev-parse --quiet says nothing; ask again without it for git's own reason (not a repository ...).
    const why = git(['rev-parse', '--verify', `${spec.rev}^{commit}`])
      .stderr.trim()
      .split('\n')[0];
    throw new ConfigError(`${side}: git knows no revision "${spec.rev}"${why ? ` (${why})` : ''}`, fix);
  }
  const sha = commit.stdout.trim();
  const object = git(['rev-parse', '--verify', '--quiet', `${sha}:${spec.path}`]);
  if (object.status !== 0) return { kind: 'absent', commit: sha };
  const oid = object.stdout.trim();
  const type = git(['cat-file', '-t', oid]).stdout.trim();
  const base = spec.path.replace(/\/+$/, '');
  const name = (rel: string) => (rel === '' ? side : `${spec.rev}:${base === '' ? rel : `${base}/${rel}`}`);

  let entries: Entry[];
  if (type === 'blob') {
    const size = Number(git(['cat-file', '-s', oid]).stdout.trim());
    entries = [{ mode: '100644', type, oid, size, path: '' }];
  } else if (type === 'tree') {
    entries = listTree(git(['ls-tree', '-r', '-l', '-z', oid]).stdout).filter(
      (e) => e.type === 'blob' && isManifestName(e.path),
    );
    if (entries.length > MAX_MANIFEST_FILES) throw tooManyFiles(side);
    entries = entries.map((e) => (e.mode === '120000' ? followLink(e, entries, name, git) : e));
    // The order `kubectl apply -R -f` reads a checkout in (filepath.Walk: each directory's names sorted),
    // which is not git's tree order ("a.yaml" sorts before "a/" there): policies are created in it.
    entries.sort((a, b) => walkOrder(a.path, b.path));
  } else throw new ConfigError(`${side}: is a ${type}, not a file or directory`, fix);

  for (const e of entries)
    if (e.size > MAX_FILE_BYTES)
      throw new ConfigError(
        `${name(e.path)}: file is ${e.size} bytes, more than the ${MAX_FILE_BYTES}-byte limit for meshprobe files`,
        'policy files are a few KiB: check that the side names the right directory',
      );
  const texts = readBlobs(
    entries.map((e) => e.oid),
    o,
  );
  return {
    kind: 'read',
    commit: sha,
    set: policiesOf(entries.map((e, i) => () => parseYaml(name(e.path), texts[i]!))),
  };
}

type Where = { cwd: string; env: Record<string, string | undefined> };
type Git = (args: string[], input?: string) => { status: number; stdout: string; stderr: string };

function run(args: string[], o: Where, input: string | undefined, encoding: 'utf8'): ReturnType<Git>;
function run(
  args: string[],
  o: Where,
  input: string | undefined,
  encoding: 'buffer',
): { status: number; stdout: Buffer; stderr: string };
function run(
  args: string[],
  o: Where,
  input: string | undefined,
  encoding: 'utf8' | 'buffer',
): { status: number; stdout: string | Buffer; stderr: string } {
  const r = spawnSync('git', args, {
    cwd: o.cwd,
    // git may not prompt (no terminal in CI); nothing else of the environment is changed (GIT_DIR is honoured).
    env: { ...o.env, GIT_TERMINAL_PROMPT: '0' },
    input,
    ...(encoding === 'utf8' ? { encoding } : {}),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? 'git is not installed, and a side of the form REV:PATH is read with it'
        : `git: ${r.error.message}`,
      code === 'ENOENT' ? 'install git, or give the side as a file or directory' : undefined,
    );
  }
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** `git ls-tree -r -l -z`: `<mode> SP <type> SP <object> SP+ <size> TAB <path> NUL` (git-ls-tree(1), OUTPUT FORMAT). */
function listTree(out: string): Entry[] {
  return out
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode, type, oid, size] = line.slice(0, tab).split(/ +/);
      return { mode: mode!, type: type!, oid: oid!, size: Number(size), path: line.slice(tab + 1) };
    });
}

/**
 * A symbolic link's blob holds its target. A checkout would follow it, so it is read as the file it
 * names when that file is in the same tree; beyond it git has nothing to read without a work tree.
 */
function followLink(link: Entry, entries: Entry[], name: (rel: string) => string, git: Git): Entry {
  const target = git(['cat-file', 'blob', link.oid]).stdout;
  const resolved = posix.normalize(posix.join(posix.dirname(link.path), target));
  const found = entries.find((e) => e.path === resolved && e.mode !== '120000');
  if (!found)
    throw new ConfigError(
      `${name(link.path)}: is a symbolic link to ${target}, which is not a file of this tree`,
      'give the side as the directory the link points into, or replace the link with the file',
    );
  return { ...found, path: link.path };
}

function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/** Every blob in one `git cat-file --batch`: `<oid> SP blob SP <size> LF <contents> LF` each (git-cat-file(1), BATCH OUTPUT). */
function readBlobs(oids: string[], o: Where): string[] {
  if (oids.length === 0) return [];
  // As bytes: the sizes in the headers count bytes.
  const out = run(['cat-file', '--batch'], o, `${oids.join('\n')}\n`, 'buffer').stdout;
  const texts: string[] = [];
  let at = 0;
  for (const _ of oids) {
    const nl = out.indexOf(10, at);
    const [, , size] = out.toString('utf8', at, nl).split(' ');
    const start = nl + 1;
    const end = start + Number(size);
    texts.push(out.toString('utf8', start, end));
    at = end + 1;
  }
  return texts;
}
