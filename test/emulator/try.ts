// `make try`: an emulated cluster to try meshprobe on, left running. It starts the emulated API server with
// Istio and its real-TLS mesh, sets up meshprobe's topology with the built meshprobe (`meshprobe setup`,
// as against any cluster: a kubeconfig, nothing else), writes the kubeconfig to out/try/kubeconfig in the
// directory it runs in, prints what to export and how to stop it, and serves until SIGINT/SIGTERM,
// when it stops the cluster and removes the kubeconfig. The README's "Try it" section walks on from here;
// test/e2e/try-walkthrough.test.ts runs that section as written.
// Usage: tsx test/emulator/try.ts [modern|legacy]
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startEmulator } from './index.js';
import { meshRuntimeFactory } from './mesh/index.js';

const flavor = process.argv[2] ?? 'modern';
if (flavor !== 'modern' && flavor !== 'legacy') {
  process.stderr.write(`meshprobe try: unknown Istio flavor "${flavor}": modern or legacy\n`);
  process.exit(2);
}
// Everything relative to where it runs (make runs it in the clone), so a copy of the clone has its own.
const meshprobe = resolve('dist/cli/main.js');
const dir = resolve('out/try');
const kubeconfig = join(dir, 'kubeconfig');
const pidFile = join(dir, 'pid');

/** The pid of a try cluster that is still running from this directory, if any. */
function running(): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

const other = running();
if (other) {
  process.stderr.write(
    `meshprobe try: a try cluster is already running here (pid ${other}): use it with export KUBECONFIG=${kubeconfig}, or stop it with kill ${other}\n`,
  );
  process.exit(2);
}

mkdirSync(dir, { recursive: true });
const emu = await startEmulator({ istio: flavor, runtime: meshRuntimeFactory(), kubeconfigPath: kubeconfig });
writeFileSync(pidFile, String(process.pid));

let stopping = false;
const stop = (signal: string, code = 0): void => {
  if (stopping) return;
  stopping = true;
  void emu.stop().finally(() => {
    rmSync(kubeconfig, { force: true });
    rmSync(pidFile, { force: true });
    process.stderr.write(`meshprobe try: stopped (${signal}); the cluster and its kubeconfig are gone\n`);
    process.exit(code);
  });
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));

// The topology, created the way a user would: meshprobe setup against the kubeconfig.
const setup = await new Promise<number>((done) => {
  const child = spawn(process.execPath, [meshprobe, '--kubeconfig', kubeconfig, 'setup'], { stdio: 'inherit' });
  child.on('exit', (c, signal) => done(c ?? (signal ? 130 : 1)));
});
if (setup !== 0) {
  process.stderr.write(`meshprobe try: meshprobe setup exited ${setup}; stopping the cluster\n`);
  stop('setup failed', setup);
} else {
  process.stdout.write(
    [
      `meshprobe try: an emulated cluster with Istio ${emu.istioVersion} (${flavor}) at ${emu.server}, with meshprobe's topology (test1, test2, test3, ngtest)`,
      `  use it:   export KUBECONFIG=${kubeconfig}`,
      `  stop it:  Ctrl-C here, or kill ${process.pid}; the cluster and its kubeconfig go away`,
      '',
    ].join('\n'),
  );
}
