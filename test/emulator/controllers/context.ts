// What every controller of the emulated control plane is given.
import type { ContainerRuntime } from '../contracts.js';
import type { MemoryStore } from '../store.js';
import type { Faults } from '../api/faults.js';
import type { ObjectService } from '../api/objects.js';
import type { ResourceRegistry, ResourceType } from '../api/resources.js';

export interface ClusterConfig {
  /** Ready this long after the runtime has started a pod (unless a fault says otherwise). */
  podReadyDelayMs: number;
  /** How long a gracefully deleted pod stays Terminating once its runtime has stopped it. */
  podTerminationMs: number;
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
