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
  /** Each client's curl, once `curl --version` has been asked. */
  private readonly curls = new Map<string, CurlCheck>();

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

  /** What `curl --version` said in the client's container, once asked (round.ts asks when a probe wrote no trailer). */
  curl(client: Client): CurlCheck | undefined {
    return this.curls.get(client.id);
  }

  rememberCurl(client: Client, check: CurlCheck): void {
    this.curls.set(client.id, check);
  }
}

/**
 * A client's curl release: `old` (before 7.75) is probed one curl per target; otherwise the one-exec script
 * is right, and a probe without trailers failed for another reason.
 */
export interface CurlCheck {
  version: string;
  old: boolean;
}
