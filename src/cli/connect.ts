import { ClientNodeCluster } from '../kube/client-node-cluster.js';
import type { Cluster } from '../kube/cluster.js';
import { loadKubeconfig } from '../kube/kubeconfig.js';
import type { CommandContext } from './program.js';

export function connect(ctx: CommandContext): Cluster {
  const g = ctx.globals();
  return new ClientNodeCluster(loadKubeconfig({ kubeconfig: g.kubeconfig, context: g.context, env: ctx.io.env }));
}
