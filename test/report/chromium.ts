// Debian's Chromium, headless, as the HTML report's real browser. Missing Chromium is a failure,
// not a skip: the HTML test is the only proof that the report renders.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.MESHPROBE_CHROMIUM;
  const found = explicit ? (existsSync(explicit) ? explicit : undefined) : CANDIDATES.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(
    `Chromium not found (${explicit ? `MESHPROBE_CHROMIUM=${explicit}` : CANDIDATES.join(', ')}). The HTML report test needs a real browser: ` +
      'install it with `sudo apt-get install -y chromium` (Debian/Ubuntu; `make test` does this when run as root), or set MESHPROBE_CHROMIUM to a Chromium binary.',
  );
}

export interface BrowserRun {
  stdout: string;
  stderr: string;
}

/** Runs headless Chromium on a local file with `args` (--dump-dom, --screenshot=...), in a fresh profile. */
export function chromium(binary: string, file: string, args: string[]): Promise<BrowserRun> {
  const profile = mkdtempSync(join(tmpdir(), 'meshprobe-chromium-'));
  const flags = [
    '--headless',
    '--no-sandbox', // root in CI containers
    '--disable-gpu',
    '--disable-dev-shm-usage', // containers have a tiny /dev/shm
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...args,
    pathToFileURL(file).href,
  ];
  return new Promise((resolve, reject) => {
    execFile(binary, flags, { timeout: 45_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (error) reject(new Error(`${binary} ${flags.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}
