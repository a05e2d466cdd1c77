// Which pod runs each client's probes.
import type { Cluster } from '../kube/cluster.js';
import { isReady, labelSelector } from '../kube/pods.js';
import { findWorkload, type Client, type Topology } from '../model/topology.js';

export interface PodRef {
  namespace: string;
  name: string;
}

/** Remembers each client's pod between rounds; forgets it when an exec says it is gone. */
export class ClientPods {
  private readonly cache = new Map<string, PodRef>();
  /** Clients whose curl is older than 7.75 (no per-transfer write-out variables): one curl per target. */
  private readonly oldCurl = new Set<string>();

  constructor(
    private readonly cluster: Cluster,
    private readonly topology: Topology,
  ) {}

  /** A ready pod of the client's workload, or the reason there is none. */
  async get(client: Client): Promise<PodRef | { error: string }> {
    const cached = this.cache.get(client.id);
    if (cached) return cached;
    const wl = findWorkload(this.topology, client.namespace, client.workload);
    const pods = await this.cluster.list('v1', 'Pod', {
      namespace: client.namespace,
      labelSelector: labelSelector(wl?.labels ?? {}),
    });
    const ready = pods.filter(isReady).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    if (!ready[0])
      return { error: `no ready pod of ${client.id} (${pods.length} pod${pods.length === 1 ? '' : 's'} found)` };
    const ref = { namespace: client.namespace, name: ready[0].metadata.name };
    this.cache.set(client.id, ref);
    return ref;
  }

  forget(client: Client): void {
    this.cache.delete(client.id);
  }

  hasOldCurl(client: Client): boolean {
    return this.oldCurl.has(client.id);
  }

  /** Its curl wrote no trailers: probe it one curl per target from now on. */
  markOldCurl(client: Client): void {
    this.oldCurl.add(client.id);
  }
}
