// `make demo`: start the emulated cluster (API server + Istio mesh with a real-TLS data plane), run the
// built meshprobe against it exactly as against any cluster (a kubeconfig, nothing else), stop it.
// Usage: tsx test/emulator/demo.ts [modern|legacy ...] [-- meshprobe run flags]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator } from './index.js';
import { meshRuntimeFactory } from './mesh/index.js';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const flavors = (split === -1 ? args : args.slice(0, split)).filter(Boolean);
const extra = split === -1 ? [] : args.slice(split + 1);
const meshprobe = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

let worst = 0;
for (const flavor of flavors.length ? flavors : ['modern']) {
  if (flavor !== 'modern' && flavor !== 'legacy') throw new Error(`unknown Istio flavor ${flavor}: modern or legacy`);
  const started = Date.now();
  const emu = await startEmulator({ istio: flavor, runtime: meshRuntimeFactory() });
  console.log(
    `\n=== emulated cluster with Istio ${emu.istioVersion} (${flavor}) at ${emu.server}, started in ${Date.now() - started} ms; kubeconfig ${emu.kubeconfigPath}\n`,
  );
  const stop = () => void emu.stop().then(() => process.exit(130));
  process.once('SIGINT', stop);
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [meshprobe, '--kubeconfig', emu.kubeconfigPath, 'run', '--allow-cluster-wide', ...extra],
      { stdio: 'inherit' },
    );
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
  });
  process.off('SIGINT', stop);
  await emu.stop();
  console.log(`\n=== ${flavor}: meshprobe exited ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  worst = Math.max(worst, code);
}
process.exit(worst);
