// What every controller of the emulated control plane is given.
import type { ContainerRuntime } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { Faults } from '../api/faults.js';
import type { ObjectService } from '../api/objects.js';
import type { ResourceRegistry, ResourceType } from '../api/resources.js';

export interface ClusterConfig {
  /** Ready this long after the runtime has started a pod (unless a fault says otherwise). */
  podReadyDelayMs: number;
  /** How long an app container takes to exit after SIGTERM (istio-proxy drains for 5 s, scaled). */
  podTerminationMs: number;
  /**
   * Multiplies the kubelet's own durations: the image pull back-off (10 s to 300 s), the pod worker's
   * retry after a failed sync (1 s, then 10-15 s) and the sidecar's termination drain (5 s). 1: real.
   */
  kubeletTimeScale: number;
  /** Seeds the kubelet's retry jitter. */
  seed: number;
  /** How often a crash-looping container restarts (its restartCount grows). */
  crashLoopIntervalMs: number;
  nodeName: string;
  hostIP: string;
  kubeVersion: string;
  /** The API server CA, published in every namespace as ConfigMap kube-root-ca.crt. */
  caPem: string;
}

export interface ControllerContext {
  store: MemoryStore;
  registry: ResourceRegistry;
  objects: ObjectService;
  faults: Faults;
  runtime: () => ContainerRuntime;
  config: ClusterConfig;
}

export interface Controller {
  stop(): void | Promise<void>;
}

/** Writes made by controllers are attributed like the kube-controller-manager's. */
export const CONTROLLER_WRITE = { manager: 'kube-controller-manager', version: 'v1' } as const;

export function builtIn(ctx: ControllerContext, group: string, resource: string): ResourceType {
  const type = ctx.registry.byGroupResource(group, resource);
  if (!type) throw new Error(`emulator: built-in type ${group}/${resource} is not registered`);
  return type;
}
