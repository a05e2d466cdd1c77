// `--report-dir`: checked before the run (a run whose reports cannot be written is work thrown away),
// and created one level at a time. Node 20's mkdirSync(..., { recursive: true }) never returns for a
// path under /proc (it retries the ENOENT that procfs answers for ever, synchronously, so not even
// SIGTERM stops it); a plain mkdirSync gets the ENOENT and says so.
import { mkdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';

const FIX = 'choose a --report-dir that can be created and written to';

/** The missing directories from the nearest existing ancestor down to `dir`, outermost first. */
function missingDirs(dir: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  for (let cur = dir; ;) {
    try {
      statSync(cur);
      return { existing: cur, missing };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent is a file, found one level up.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    }
    missing.unshift(cur);
    const parent = dirname(cur);
    if (parent === cur) return { existing: cur, missing };
    cur = parent;
  }
}

/** Creates `dir` and its missing parents one level at a time; returns the directories it created. */
export function makeDirs(dir: string): string[] {
  const { existing, missing } = missingDirs(dir);
  if (!statSync(existing).isDirectory()) throw new Error(`${existing} is not a directory`);
  const created: string[] = [];
  for (const d of missing) {
    mkdirSync(d);
    created.push(d);
  }
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
  return created;
}

/**
 * Proves that `dir` can be created and written to by doing it, then puts things back as they were: the
 * directories it made and its test file are removed.
 */
export function checkReportDir(dir: string): void {
  let created: string[] = [];
  try {
    created = makeDirs(dir);
    const probe = join(dir, `.meshprobe-write-test-${process.pid}`);
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    throw new ConfigError(`--report-dir ${dir} cannot be used: ${(e as Error).message}`, FIX);
  } finally {
    for (const d of created.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        // Something else wrote into it meanwhile: leave it.
      }
    }
  }
}
