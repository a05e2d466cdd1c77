// The cluster an end-to-end test runs against: the emulated one, or a real one when
// MESHPROBE_E2E_KUBECONFIG names a kubeconfig (its context must have Istio installed).
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/index.js';
import { meshRuntimeFactory } from '../emulator/mesh/index.js';

export const REAL_KUBECONFIG = process.env.MESHPROBE_E2E_KUBECONFIG;

export interface TestCluster {
  kubeconfig: string;
  /** The emulator, when the cluster is emulated. */
  emulator?: Emulator;
  stop(): Promise<void>;
}

export async function testCluster(
  flavor: 'modern' | 'legacy' | 'none',
  options: EmulatorOptions = {},
): Promise<TestCluster> {
  if (REAL_KUBECONFIG) return { kubeconfig: REAL_KUBECONFIG, stop: async () => {} };
  // A propagation delay long enough that the first round after an apply sees the old behaviour.
  const emulator = await startEmulator({
    istio: flavor,
    runtime: meshRuntimeFactory({ propagationDelayMs: { min: 600, max: 1500 } }),
    podReadyDelayMs: 100,
    // The kubelet's own durations at a tenth (istio-proxy drains 0.5 s, not 5 s, when a pod is deleted).
    kubeletTimeScale: 0.1,
    ...options,
  });
  return { kubeconfig: emulator.kubeconfigPath, emulator, stop: () => emulator.stop() };
}
